package node

import (
	"net"
	"net/netip"
	"testing"
)

// TestDualStack: a node on [::] serves agents over IPv4 and IPv6 at once,
// and routes a locate from one to the other.
func TestDualStack(t *testing.T) {
	probe, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	probe.Close()
	n := startNode(t, "[::]:0", "bb.com", []string{"u1", "u2"}, func(o *Options) { o.Workers = 2 })
	port := n.Addr().Port()
	v4 := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	v6 := netip.AddrPortFrom(netip.IPv6Loopback(), port)
	a4 := newAgent(t)
	a6 := newAgent6(t)
	a4.ask(v4, "PRu1@bb.com", "RR0")
	a6.ask(v6, "PRu2@bb.com", "RR0")
	a4.send(v4, "PLu1@bb.com:u2@bb.com")
	a6.expect(v6, "PLu1@bb.com:u2@bb.com")
	a6.send(v6, "RL1u1@bb.com:u2@bb.com")
	a4.expect(v4, "RL1u1@bb.com:u2@bb.com")
	users := n.Users()
	if got := users[1].Agent; !got.Addr().Is6() || got.Addr().Is4In6() {
		t.Errorf("u2's agent %v, want an IPv6 address", got)
	}
	if got := users[0].Agent; !got.Addr().Is4() {
		t.Errorf("u1's agent %v, want an IPv4 address", got)
	}
}

// newAgent6 is newAgent on the IPv6 loopback.
func newAgent6(t *testing.T) *agent {
	conn, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &agent{t: t, conn: conn}
}
