package plumi

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"mi/plumi/plumitest"
	"mi/wire"
)

// TestNodeUnreachable: a node address where nothing listens answers the
// first PR with an ICMP port unreachable, and the request fails at once,
// at its first attempt, with node_unreachable. The retry interval is an
// hour: without the ICMP error the request would end only at the
// context's deadline.
func TestNodeUnreachable(t *testing.T) {
	c, err := NewClient(Config{Node: plumitest.ClosedPort(t), Attempts: 3, RetryInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // bounds a regression
	defer cancel()
	for i := range 2 { // and again: the socket stays usable
		err = c.Register(ctx, plumitest.Addr(t, "laura@bb.com"))
		if !errors.Is(err, ErrNodeUnreachable) || ReasonOf(err) != "node_unreachable" || !strings.Contains(err.Error(), "attempt 1 of 3") {
			t.Fatalf("request %d: err %v (reason %s), want node_unreachable at attempt 1 of 3", i+1, err, ReasonOf(err))
		}
	}
}

// TestSetNodeRedials: the connected socket follows SetNode, from the same
// local port when the client was given one, and takes the new node's
// replies.
func TestSetNodeRedials(t *testing.T) {
	for _, fixed := range []bool{false, true} {
		n1, n2 := plumitest.NewNode(t), plumitest.NewNode(t)
		cfg := Config{Node: n1.Addr(), Attempts: 3, RetryInterval: 2 * time.Second}
		if fixed {
			cfg.LocalPort = plumitest.ClosedPort(t).Port()
		}
		c, err := NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if fixed && c.LocalAddr().Port() != cfg.LocalPort {
			t.Fatalf("local port %d, want %d", c.LocalAddr().Port(), cfg.LocalPort)
		}
		before := c.LocalAddr()
		if err := c.SetNode(n2.Addr()); err != nil {
			t.Fatal(err)
		}
		if c.Node() != n2.Addr() {
			t.Fatalf("node %v, want %v", c.Node(), n2.Addr())
		}
		if fixed && c.LocalAddr() != before {
			t.Errorf("-port given: local address %v after SetNode, want %v", c.LocalAddr(), before)
		}
		errc := make(chan error, 1)
		go func() { errc <- c.Register(context.Background(), plumitest.Addr(t, "laura@bb.com")) }()
		dg, from := n2.Recv(time.Second)
		if dg.Tag != wire.TagRegister || from != c.LocalAddr() {
			t.Fatalf("new node got %s from %v, want PR from %v", dg.Tag, from, c.LocalAddr())
		}
		n2.Send(from, &wire.RegisterReply{Code: wire.RegisterOK})
		if err := <-errc; err != nil {
			t.Fatalf("fixed port %v: %v", fixed, err)
		}
		// A PL from the new node reaches Locates.
		n2.Send(c.LocalAddr(), &wire.Locate{From: plumitest.Addr(t, "pau@bb.com"), To: plumitest.Addr(t, "laura@bb.com")})
		select {
		case pl := <-c.Locates():
			if pl.From.User != "pau" {
				t.Errorf("locate %+v", pl)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("no locate from the new node")
		}
	}
}
