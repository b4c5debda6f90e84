package node

import (
	"testing"

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
	n := startNode(t, "127.0.0.1:0", "bb.test", []string{"alice", "bob"}, func(o *Options) {
		shortWait(o)
		o.Limits.RepeatGap = -1 // bob's locates follow each other closer than the gap
	})
	alice, bob := newAgent(t), newAgent(t)
	alice.ask(n.Addr(), "PRalice@bb.test", "RR0")
	bob.ask(n.Addr(), "PRbob@bb.test", "RR0")
	dead := alice.addr()
	alice.conn.Close() // her agent dies without a PD
	spoofed := []string{"RL1bob@bb.test:alice@bb.test", "RL0x@bb.test:alice@bb.test:127.0.0.1:9", "RL3bob@bb.test:alice@bb.test"}
	for i := range wire.OfflineAfter {
		bob.send(n.Addr(), "PLbob@bb.test:alice@bb.test")
		received := func(k int) func() bool {
			return func() bool { return series(t, n.Collector())[`lumi_node_datagrams_received_total`] == float64(k) }
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
