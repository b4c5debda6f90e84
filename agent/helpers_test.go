package agent

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"mi/plumi/plumitest"
	"mi/wire"
)

const fastRetry = 60 * time.Millisecond

// newTestAgent starts an agent for address s with the fake node n and
// registers it, answering the PR.
func newTestAgent(t *testing.T, n *plumitest.Node, s string, mod func(*Config)) *Agent {
	t.Helper()
	cfg := Config{
		Addr: plumitest.Addr(t, s), Node: n.Addr(), Listen: "127.0.0.1:0",
		Attempts: 3, RetryInterval: fastRetry, HandshakeTimeout: 300 * time.Millisecond,
		LogPath: t.TempDir() + "/p2p.log",
	}
	if mod != nil {
		mod(&cfg)
	}
	a, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close()
		for range a.Events() {
		}
	})
	errc := make(chan error, 1)
	go func() { errc <- a.Register(context.Background()) }()
	dg, from := n.Recv(2 * time.Second)
	if dg.Tag != wire.TagRegister {
		t.Fatalf("first datagram %s, want PR", dg.Tag)
	}
	n.Send(from, &wire.RegisterReply{Code: wire.RegisterOK})
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	want(t, a, EventRegistered)
	return a
}

// next returns a's next event.
func next(t *testing.T, a *Agent) Event {
	t.Helper()
	select {
	case e, ok := <-a.Events():
		if !ok {
			t.Fatalf("%s: events closed", a.Nick())
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no event within 5s", a.Nick())
	}
	panic("unreachable")
}

// want returns a's next event, which must be of kind k.
func want(t *testing.T, a *Agent, k Kind) Event {
	t.Helper()
	e := next(t, a)
	if e.Kind != k {
		t.Fatalf("%s: event %+v, want %s", a.Nick(), e, k)
	}
	return e
}

// callVia has caller Call callee, the fake node n forwarding the locate to
// callee and its answer back, and returns what Call returns.
func callVia(t *testing.T, n *plumitest.Node, caller, callee *Agent) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- caller.Call(context.Background(), callee.Addr().String()) }()
	dg, src := n.Recv(2 * time.Second)
	if dg.Tag != wire.TagLocate {
		t.Fatalf("the caller sent %s, want PL", dg.Tag)
	}
	n.Send(callee.Client().LocalAddr(), &dg.Locate)
	rl, _ := n.Recv(2 * time.Second)
	if rl.Tag != wire.TagLocateReply {
		t.Fatalf("the callee answered %s, want RL", rl.Tag)
	}
	n.Send(src, &rl.LocateReply)
	return <-errc
}

// dialRaw opens a TCP connection to a's chat socket and sends nothing.
func dialRaw(t *testing.T, a *Agent) net.Conn {
	t.Helper()
	return dialRawFrom(t, a, "127.0.0.1")
}

// dialRawFrom is dialRaw from the loopback address ip: another source.
func dialRawFrom(t *testing.T, a *Agent, ip string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	conn, err := d.Dial("tcp", a.ChatAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// wantClosed waits for the agent to close conn, failing if it is still open
// after 10 s (the tests that use it leave the agent's own deadlines longer).
func wantClosed(t *testing.T, conn net.Conn, what string) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("%s: the agent did not close the connection", what)
	}
}

// waitHandshakes waits until a has k incoming nickname exchanges going.
func waitHandshakes(t *testing.T, a *Agent, k int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got int
		if err := a.do(func() { got = len(a.pending) }); err != nil {
			t.Fatal(err)
		}
		if got == k {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d nickname exchanges in progress, want %d", got, k)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
