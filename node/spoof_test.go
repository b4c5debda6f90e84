package node

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"mi/internal/spoof"
	"mi/wire"
)

// TestSpoofedRLsKeepNoDeadUserOnline: alice's agent is gone; an attacker
// sends RLs "from" her address (every port of her host would do; here the
// exact one) between the locates. Only an answer to a locate the node
// forwarded counts as life, so after five unanswered locates the caller is
// told she is offline. Before, each spoofed RL reset her count, and no
// caller ever got RL3.
func TestSpoofedRLsKeepNoDeadUserOnline(t *testing.T) {
	s := spoof.NewForTest(t)
	n := startNode(t, "127.0.45.1:0", "bb.test", []string{"alice", "bob"}, func(o *Options) {
		shortWait(o)
		o.Limits.RepeatGap = -1 // bob's locates follow each other closer than the gap
	})
	alice, bob := newAgentAt(t, net.IPv4(127, 0, 45, 2)), newAgentAt(t, net.IPv4(127, 0, 45, 3))
	alice.ask(n.Addr(), "PRalice@bb.test", "RR0")
	bob.ask(n.Addr(), "PRbob@bb.test", "RR0")
	dead := alice.addr()
	alice.conn.Close() // her agent dies without a PD
	spoofed := []string{"RL1bob@bb.test:alice@bb.test", "RL0x@bb.test:alice@bb.test:127.0.0.1:9", "RL3bob@bb.test:alice@bb.test"}
	for i := range wire.OfflineAfter {
		bob.send(n.Addr(), "PLbob@bb.test:alice@bb.test")
		received := func(k int) func() bool {
			return func() bool { return series(t, n.Collector())[`lumi_node_datagrams_received_total`] >= float64(k) }
		}
		eventually(t, "the PL read", received(2+i*(1+len(spoofed))+1))
		n.waitPendingEnd()
		// The attacker, blind to the locates, speaks for her between
		// them, as often as it likes.
		for _, d := range spoofed {
			if err := s.Send(dead, n.Addr(), []byte(d)); err != nil {
				t.Fatal(err)
			}
		}
		// Read by the node before the next locate, whichever worker.
		eventually(t, "the spoofed RLs read", received(2+(i+1)*(1+len(spoofed))))
	}
	bob.quiet() // nothing the attacker sent reached bob
	eventually(t, "alice marked offline", func() bool {
		online := true
		n.core.t.withUser([]byte("alice"), func(u *userState) { online = u.online })
		return !online
	})
	bob.ask(n.Addr(), "PLbob@bb.test:alice@bb.test", "RL3bob@bb.test:alice@bb.test")
}

// TestPortSweepFreezesRegistration: an attacker sends PDs for laura
// "from" every port around her agent's, hers among them. The first
// refused ones freeze her registration, so the one that carries her exact
// address is refused too, and so is the attacker's takeover after it.
// Before, the sweep took her offline and the attacker registered at once.
func TestPortSweepFreezesRegistration(t *testing.T) {
	s := spoof.NewForTest(t)
	n := startNode(t, "127.0.46.1:0", "bb.test", []string{"laura", "bob"}, nil)
	// laura alone on her host: the sweep's answers go to its ports.
	laura := newAgentAt(t, net.IPv4(127, 0, 46, 2))
	bob, attacker := newAgentAt(t, net.IPv4(127, 0, 46, 3)), newAgentAt(t, net.IPv4(127, 0, 46, 4))
	laura.ask(n.Addr(), "PRlaura@bb.test", "RR0")
	bob.ask(n.Addr(), "PRbob@bb.test", "RR0")
	her := laura.addr()
	lo := max(int(her.Port())-1000, 1024)
	sent := 0
	for p := lo; p < lo+2000 && p < 65536; p++ {
		from := netip.AddrPortFrom(her.Addr(), uint16(p))
		if err := s.Send(from, n.Addr(), []byte("PDlaura@bb.test")); err != nil {
			t.Fatal(err)
		}
		if sent++; sent%100 == 0 {
			time.Sleep(2 * time.Millisecond) // within the socket's buffer
		}
	}
	// Read, or dropped by a full socket buffer on a slow machine: wait
	// until the node's count stops moving.
	last, still := -1.0, 0
	eventually(t, "the sweep read", func() bool {
		got := series(t, n.Collector())[`lumi_node_datagrams_received_total`]
		if got == last {
			still++
		} else {
			last, still = got, 0
		}
		time.Sleep(20 * time.Millisecond)
		return got >= float64(2+sent) || still >= 10
	})
	// The PD "from" her address was answered to her: RD1, not RD0.
	for {
		buf := make([]byte, 2048)
		laura.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		k, err := laura.conn.Read(buf)
		if err != nil {
			break
		}
		if got := string(buf[:k]); got != "RD1" {
			t.Fatalf("laura's agent got %q: the sweep took her offline", got)
		}
	}
	attacker.ask(n.Addr(), "PRlaura@bb.test", "RR1")
	bob.send(n.Addr(), "PLbob@bb.test:laura@bb.test")
	laura.expect(n.Addr(), "PLbob@bb.test:laura@bb.test")
	if got := series(t, n.Collector())[`lumi_node_registrations_frozen_total`]; got != 1 {
		t.Errorf("%v freezes, want 1", got)
	}
}

// TestRefusalHoldsAgainstTheRefusedAddress: after a stranger's takeover
// was refused, laura's agent restarting from a new address is checked,
// not refused with the stranger: her old agent is gone, so it wins.
func TestRefusalHoldsAgainstTheRefusedAddress(t *testing.T) {
	n := startNode(t, "127.0.0.1:0", "bb.test", []string{"laura"}, func(o *Options) {
		o.Limits.ProbeWait = 200 * time.Millisecond
	})
	laura, stranger := newAgent(t), newAgent(t)
	laura.ask(n.Addr(), "PRlaura@bb.test", "RR0")
	stranger.send(n.Addr(), "PRlaura@bb.test")
	laura.expect(n.Addr(), "PLlaura@bb.test:laura@bb.test")
	laura.send(n.Addr(), "RL0laura@bb.test:laura@bb.test:127.0.0.1:7000")
	stranger.expect(n.Addr(), "RR1")
	stranger.ask(n.Addr(), "PRlaura@bb.test", "RR1") // still refused
	laura.conn.Close()                               // her agent dies
	restarted := newAgent(t)
	restarted.send(n.Addr(), "PRlaura@bb.test")
	restarted.expect(n.Addr(), "RR0") // after the check of the dead agent
}
