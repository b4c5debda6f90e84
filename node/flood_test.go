package node

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"mi/lumi"
	"mi/wire"
)

// TestStaticPeerDuringDNSFlood: with every DNS lookup slot taken by
// locates for made-up domains whose DNS never answers, a locate for a
// domain given as a static peer is still forwarded, not answered RL2.
func TestStaticPeerDuringDNSFlood(t *testing.T) {
	blackHole, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blackHole.Close() })
	peer := dialAgent(t) // plays cc.test's node
	res, err := lumi.NewResolver(lumi.Config{
		Peers:     map[string]netip.AddrPort{"cc.test": peer.addr()},
		DNSServer: blackHole.LocalAddr().String(),
		HostsFile: "-",
		Timeout:   20 * time.Second, // the flood's lookups stay in flight
	})
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, "127.0.0.1:0", "bb.com", []string{"u1"}, func(o *Options) {
		o.Resolver = res
		// One agent floods: no per-source limit, so that the flood
		// reaches the total.
		o.Limits = Limits{AgentRate: -1, SourceLookups: -1, MaxLookups: 512}
	})
	a := newAgent(t)
	a.ask(n.Addr(), "PRu1@bb.com", "RR0")

	deadline := time.Now().Add(wait)
	for i := 0; n.resolving.Load() < n.maxResolving; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("only %d lookups in flight after %d PLs", n.resolving.Load(), i)
		}
		a.send(n.Addr(), fmt.Sprintf("PLu1@bb.com:x@d%d.test", i))
		if i%256 == 255 {
			time.Sleep(10 * time.Millisecond) // let the node keep up
		}
	}
	// Sent as an agent sends it, again until it gets through: the flood
	// may still fill the node's receive queue and the kernel drop it.
	want := "PLu1@bb.com:y@cc.test"
	buf := make([]byte, readBuf)
	var k int
	var src netip.AddrPort
	for attempt := 1; ; attempt++ {
		a.send(n.Addr(), want)
		peer.conn.SetReadDeadline(time.Now().Add(wire.RetryInterval))
		if k, src, err = peer.conn.ReadFromUDPAddrPort(buf); err == nil {
			break
		}
		if attempt == 2*wire.Attempts {
			t.Fatalf("the static peer got nothing in %d attempts: %v", attempt, err)
		}
	}
	if string(buf[:k]) != want || !n.isSource(src) {
		t.Fatalf("the static peer got %q from %v, want %q from a source port of %v", buf[:k], src, want, n.Addr())
	}
}

// TestLookupsPerSource: one agent's PLs hold at most SourceLookups DNS
// lookups; past that its PLs are answered RL2 at once, and another agent
// still gets a lookup.
func TestLookupsPerSource(t *testing.T) {
	blackHole, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blackHole.Close() })
	res, err := lumi.NewResolver(lumi.Config{DNSServer: blackHole.LocalAddr().String(), HostsFile: "-", Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, "127.0.0.1:0", "bb.com", []string{"u1", "u2"}, func(o *Options) {
		o.Resolver = res
		o.Limits = Limits{SourceLookups: 2}
	})
	a1, a2 := newAgent(t), newAgent(t)
	a1.ask(n.Addr(), "PRu1@bb.com", "RR0")
	a2.ask(n.Addr(), "PRu2@bb.com", "RR0")
	a1.send(n.Addr(), "PLu1@bb.com:x@d1.test")
	a1.send(n.Addr(), "PLu1@bb.com:x@d2.test")
	a1.ask(n.Addr(), "PLu1@bb.com:x@d3.test", "RL2u1@bb.com:x@d3.test")
	a2.send(n.Addr(), "PLu2@bb.com:x@d4.test")
	a2.quiet() // its lookup is in flight, not refused
	if got := n.resolving.Load(); got != 3 {
		t.Errorf("%d lookups in flight, want 3", got)
	}
}
