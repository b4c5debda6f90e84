package agent

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"mi/wire"
)

// fakeNode is a UDP socket that plays a LUMI node in tests.
type fakeNode struct {
	t    *testing.T
	conn *net.UDPConn
}

func newFakeNode(t *testing.T) *fakeNode {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &fakeNode{t: t, conn: conn}
}

func (n *fakeNode) addr() netip.AddrPort { return n.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// recv returns the next datagram and its sender, failing after d.
func (n *fakeNode) recv(d time.Duration) (wire.PLUMIDatagram, netip.AddrPort) {
	n.t.Helper()
	dg, from, ok := n.tryRecv(d)
	if !ok {
		n.t.Fatalf("fake node: no datagram within %v", d)
	}
	return dg, from
}

// tryRecv is recv that reports a timeout instead of failing.
func (n *fakeNode) tryRecv(d time.Duration) (wire.PLUMIDatagram, netip.AddrPort, bool) {
	n.t.Helper()
	buf := make([]byte, 512)
	n.conn.SetReadDeadline(time.Now().Add(d))
	k, from, err := n.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return wire.PLUMIDatagram{}, netip.AddrPort{}, false
	}
	var dg wire.PLUMIDatagram
	if err := dg.Decode(buf[:k]); err != nil {
		n.t.Fatalf("fake node: agent sent %q: %v", buf[:k], err)
	}
	return dg, from, true
}

// send sends m to.
func (n *fakeNode) send(to netip.AddrPort, m wire.Message) {
	n.t.Helper()
	b, err := m.Append(nil)
	if err != nil {
		n.t.Fatal(err)
	}
	n.sendRaw(to, b)
}

func (n *fakeNode) sendRaw(to netip.AddrPort, b []byte) {
	n.t.Helper()
	if _, err := n.conn.WriteToUDPAddrPort(b, to); err != nil {
		n.t.Fatal(err)
	}
}

func addr(t *testing.T, s string) wire.Address {
	t.Helper()
	a, err := wire.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

const fastRetry = 60 * time.Millisecond

func newTestClient(t *testing.T, n *fakeNode, attempts int) *Client {
	t.Helper()
	c, err := NewClient(ClientConfig{Node: n.addr(), Attempts: attempts, RetryInterval: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// newTestAgent starts an agent for address s with the fake node n and
// registers it, answering the PR.
func newTestAgent(t *testing.T, n *fakeNode, s string, mod func(*Config)) *Agent {
	t.Helper()
	cfg := Config{
		Addr: addr(t, s), Node: n.addr(), Listen: "127.0.0.1:0",
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
	dg, from := n.recv(2 * time.Second)
	if dg.Tag != wire.TagRegister {
		t.Fatalf("first datagram %s, want PR", dg.Tag)
	}
	n.send(from, &wire.RegisterReply{Code: wire.RegisterOK})
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
func callVia(t *testing.T, n *fakeNode, caller, callee *Agent) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- caller.Call(context.Background(), callee.Addr().String()) }()
	dg, src := n.recv(2 * time.Second)
	if dg.Tag != wire.TagLocate {
		t.Fatalf("the caller sent %s, want PL", dg.Tag)
	}
	n.send(callee.Client().LocalAddr(), &dg.Locate)
	rl, _ := n.recv(2 * time.Second)
	if rl.Tag != wire.TagLocateReply {
		t.Fatalf("the callee answered %s, want RL", rl.Tag)
	}
	n.send(src, &rl.LocateReply)
	return <-errc
}

// dialRaw opens a TCP connection to a's chat socket and sends nothing.
func dialRaw(t *testing.T, a *Agent) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", a.ChatAddr().String())
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
