package agent

import (
	"net"
	"net/netip"
	"testing"

	"mi/plumi/plumitest"
	"mi/wire"
)

// TestCallerNames: a name learnt from a PL, which anyone can have sent,
// goes only to a connection to the port its RL0 gave, as a claim: a
// connection to the chat port, which anyone can learn, is named after
// nobody, however soon after the PL it comes.
func TestCallerNames(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", func(c *Config) { c.CallerPorts = 3 })

	forged := askLocate(t, n, a, "boss@cc.org") // its RL0 goes to cc.org's node, not to whoever forged it
	if forged.Code != wire.LocateFound {
		t.Fatalf("%+v", forged)
	}
	conn, _ := dialPeer(t, a, "boss")
	if e := want(t, a, EventConnected); e.PeerAddr != "" || e.Claimed {
		t.Errorf("a connection to the chat port after a PL of boss@cc.org: %+v; want no peer address", e)
	}
	conn.Close()
	want(t, a, EventHangup)

	// The caller that read its RL0 comes to the port it gave: named, as a
	// claim. The port took that one connection only.
	rl := askLocate(t, n, a, "pau@cc.org")
	if again := askLocate(t, n, a, "pau@cc.org"); again.Port != rl.Port {
		t.Errorf("a retransmitted PL got port %d, the first %d", again.Port, rl.Port)
	}
	at := netip.AddrPortFrom(rl.IP, rl.Port)
	conn, _ = dialPeerAt(t, a, at, "pau")
	if e := want(t, a, EventConnected); e.PeerAddr != "pau@cc.org" || !e.Claimed {
		t.Errorf("the caller through its RL0's port: %+v; want pau@cc.org, claimed", e)
	}
	if p, ok := a.Peer(); !ok || p.Addr != "pau@cc.org" || !p.Claimed {
		t.Errorf("Peer: %+v", p)
	}
	conn.Close()
	want(t, a, EventHangup)
	if c, err := net.Dial("tcp", at.String()); err == nil {
		wantClosed(t, c, "a second connection to a caller port")
		c.Close()
	}

	// At most CallerPorts are open (boss's is still): then the chat port,
	// and the caller comes unnamed.
	x := askLocate(t, n, a, "x@cc.org")
	y := askLocate(t, n, a, "y@cc.org")
	z := askLocate(t, n, a, "z@cc.org")
	if x.Port == a.ChatAddr().Port() || y.Port == a.ChatAddr().Port() || x.Port == y.Port {
		t.Errorf("x %d and y %d, want caller ports of their own", x.Port, y.Port)
	}
	if z.Port != a.ChatAddr().Port() {
		t.Errorf("z got port %d with 3 caller ports open, want the chat port %d", z.Port, a.ChatAddr().Port())
	}
}

// TestNoCallerPortsOnAFixedPort: an agent listening on a fixed port (the
// one a firewall or a port forward lets in) gives callers that port only.
func TestNoCallerPortsOnAFixedPort(t *testing.T) {
	n := plumitest.NewNode(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fixed := l.Addr().String()
	l.Close()
	a := newTestAgent(t, n, "laura@bb.com", func(c *Config) { c.Listen = fixed })
	if rl := askLocate(t, n, a, "pau@cc.org"); rl.Port != a.ChatAddr().Port() {
		t.Errorf("RL0 gave port %d, want the fixed chat port %d", rl.Port, a.ChatAddr().Port())
	}
}
