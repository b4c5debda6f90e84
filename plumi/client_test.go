package plumi

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"mi/plumi/plumitest"
	"mi/wire"
	"mi/wire/wiregen"
)

func TestRegisterRetransmitsUntilAnswered(t *testing.T) {
	n := plumitest.NewNode(t)
	c := newTestClient(t, n, 5)
	errc := make(chan error, 1)
	// Attempt i+1 is sent no sooner than i retry intervals after the start,
	// however late this goroutine reads it (timers never fire early).
	start := time.Now()
	go func() { errc <- c.Register(context.Background(), plumitest.Addr(t, "laura@bb.com")) }()
	var from netip.AddrPort
	for i := 0; i < 3; i++ { // ignore two, answer the third
		var dg wire.PLUMIDatagram
		dg, from = n.Recv(time.Second)
		if at := time.Since(start); at < time.Duration(i)*fastRetry {
			t.Errorf("attempt %d came %v after the start, want at least %v", i+1, at, time.Duration(i)*fastRetry)
		}
		if dg.Tag != wire.TagRegister || dg.Register.Addr.String() != "laura@bb.com" {
			t.Fatalf("attempt %d: got %+v", i+1, dg)
		}
	}
	n.Send(from, &wire.RegisterReply{Code: wire.RegisterOK})
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if _, _, ok := n.TryRecv(3 * fastRetry); ok {
		t.Error("client sent again after the reply")
	}
	if from != c.LocalAddr() {
		t.Errorf("node saw %v, client says %v", from, c.LocalAddr())
	}
}

func TestNodeTimeoutAfterAttempts(t *testing.T) {
	for _, attempts := range []int{1, 3, 5} {
		n := plumitest.NewNode(t)
		c := newTestClient(t, n, attempts)
		start := time.Now()
		err := c.Register(context.Background(), plumitest.Addr(t, "laura@bb.com"))
		if !errors.Is(err, ErrNodeTimeout) || ReasonOf(err) != "node_timeout" {
			t.Fatalf("attempts %d: err %v (%s), want node_timeout", attempts, err, ReasonOf(err))
		}
		if d := time.Since(start); d < time.Duration(attempts)*fastRetry {
			t.Errorf("attempts %d: gave up after %v", attempts, d)
		}
		got := 0
		for {
			if _, _, ok := n.TryRecv(20 * time.Millisecond); !ok {
				break
			}
			got++
		}
		if got != attempts {
			t.Errorf("node got %d requests, want %d", got, attempts)
		}
	}
}

func TestLocateTakesOnlyTheMatchingReply(t *testing.T) {
	n := plumitest.NewNode(t)
	c := newTestClient(t, n, 5)
	from, to := plumitest.Addr(t, "laura@bb.com"), plumitest.Addr(t, "pau@cc.org")
	type result struct {
		ap  netip.AddrPort
		err error
	}
	res := make(chan result, 1)
	go func() {
		ap, err := c.Locate(context.Background(), from, to)
		res <- result{ap, err}
	}()
	dg, src := n.Recv(time.Second)
	if dg.Tag != wire.TagLocate || dg.Locate.From != from || dg.Locate.To != to {
		t.Fatalf("got %+v", dg)
	}
	// A stranger's datagram: right bytes, wrong source.
	other, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	good := &wire.LocateReply{Code: wire.LocateFound, From: from, To: to, IP: netip.MustParseAddr("10.0.0.9"), Port: 4000}
	gb, _ := good.Append(nil)
	other.WriteToUDPAddrPort(gb, src)
	// From the node, but not the answer.
	n.Send(src, &wire.LocateReply{Code: wire.LocateFound, From: from, To: plumitest.Addr(t, "joan@cc.org"), IP: netip.MustParseAddr("10.0.0.1"), Port: 1})
	n.Send(src, &wire.LocateReply{Code: wire.LocateBusy, From: plumitest.Addr(t, "marc@bb.com"), To: to})
	n.Send(src, &wire.RegisterReply{Code: wire.RegisterOK})
	// From the node, but no PLUMI datagram: the spec's invalid inputs, and
	// one twice the largest datagram.
	for _, inv := range wiregen.Invalids {
		if inv.Proto == "PLUMI" {
			n.SendRaw(src, []byte(inv.Input))
		}
	}
	n.SendRaw(src, make([]byte, 2*wire.PLUMIMax))
	time.Sleep(fastRetry / 4)
	n.Send(src, good)
	r := <-res
	if r.err != nil || r.ap != netip.MustParseAddrPort("10.0.0.9:4000") {
		t.Fatalf("Locate = %v, %v; want 10.0.0.9:4000", r.ap, r.err)
	}
}

func TestReasons(t *testing.T) {
	from, to := plumitest.Addr(t, "laura@bb.com"), plumitest.Addr(t, "pau@cc.org")
	cases := []struct {
		name   string
		op     string       // the tag of the request
		reply  wire.Message // nil: no answer
		reason *Reason
	}{
		{"register refused", wire.TagRegister, &wire.RegisterReply{Code: wire.RegisterRefused}, ErrUserUnknown},
		{"deregister refused", wire.TagDeregister, &wire.DeregisterReply{Code: wire.DeregisterRefused}, ErrRefused},
		{"busy", wire.TagLocate, &wire.LocateReply{Code: wire.LocateBusy, From: from, To: to}, ErrBusy},
		{"unknown", wire.TagLocate, &wire.LocateReply{Code: wire.LocateUnknown, From: from, To: to}, ErrUserUnknown},
		{"offline", wire.TagLocate, &wire.LocateReply{Code: wire.LocateOffline, From: from, To: to}, ErrOffline},
		{"no answer", wire.TagLocate, nil, ErrNodeTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := plumitest.NewNode(t)
			c := newTestClient(t, n, 2)
			errc := make(chan error, 1)
			go func() {
				var err error
				switch tc.op {
				case wire.TagRegister:
					err = c.Register(context.Background(), from)
				case wire.TagDeregister:
					err = c.Deregister(context.Background(), from)
				case wire.TagLocate:
					_, err = c.Locate(context.Background(), from, to)
				}
				errc <- err
			}()
			dg, src := n.Recv(time.Second)
			if dg.Tag != tc.op {
				t.Fatalf("sent %s, want %s", dg.Tag, tc.op)
			}
			if tc.reply != nil {
				n.Send(src, tc.reply)
			}
			err := <-errc
			if !errors.Is(err, tc.reason) || ReasonOf(err) != tc.reason.Word() {
				t.Fatalf("err %v, reason %q; want %q", err, ReasonOf(err), tc.reason.Word())
			}
		})
	}
}

func TestClientCloseEndsRequest(t *testing.T) {
	n := plumitest.NewNode(t)
	c, err := NewClient(Config{Node: n.Addr(), RetryInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- c.Register(context.Background(), plumitest.Addr(t, "laura@bb.com")) }()
	n.Recv(time.Second)
	c.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("err %v, want closed", err)
	}
}

const fastRetry = 60 * time.Millisecond

func newTestClient(t *testing.T, n *plumitest.Node, attempts int) *Client {
	t.Helper()
	c, err := NewClient(Config{Node: n.Addr(), Attempts: attempts, RetryInterval: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
