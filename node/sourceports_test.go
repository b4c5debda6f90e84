package node

import (
	"net/netip"
	"testing"
)

// TestTakeReply: an RL takes its locate only from where the PL went and
// on the socket it left from, or with listen on the listening socket.
func TestTakeReply(t *testing.T) {
	peer, other := netip.MustParseAddrPort("10.0.1.1:3344"), netip.MustParseAddrPort("10.0.1.2:3344")
	tests := []struct {
		name   string
		via    uint16 // the PL left from
		src    netip.AddrPort
		in     uint16 // the RL came to
		listen bool
		found  bool
		taken  bool
	}{
		{"on its source port", 2, peer, 2, false, true, true},
		{"on another source port", 2, peer, 1, false, true, false},
		{"another source port, listen", 2, peer, 1, true, true, false},
		{"on the listening socket", 2, peer, 0, false, true, false},
		{"listening socket, listen", 2, peer, 0, true, true, true},
		{"from elsewhere", 2, other, 2, false, true, false},
		{"from elsewhere, listen", 2, other, 0, true, true, false},
		{"left from the listening socket", 0, peer, 0, false, true, true},
		{"left from the listening socket, on a source port", 0, peer, 1, false, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := newTable(0)
			k := tb.pendingKeyOf([]byte("pau@a.test\x00laura@b.test"))
			tb.admit(k, pendingLocate{forwardedTo: peer, expires: 100, via: tc.via, kind: toDomain}, 0, 0, 10)
			_, found, taken := tb.takeReply(k, tc.src, tc.in, tc.listen, 50)
			if found != tc.found || taken != tc.taken {
				t.Errorf("found %v taken %v, want %v %v", found, taken, tc.found, tc.taken)
			}
			if _, found, _ := tb.takeReply(k, peer, tc.via, false, 150); found {
				t.Errorf("found after it expired")
			}
		})
	}
}

// TestSourcePeers: a node is taken to answer on the source port from its
// first answer there until peerMemory after its last; a locate routed
// from the listening socket is shown forged by its node's RL on its
// source port, once, from that node, in time.
func TestSourcePeers(t *testing.T) {
	peer, other := netip.MustParseAddrPort("10.0.1.1:3344"), netip.MustParseAddrPort("10.0.1.2:3344")
	mem := int64(peerMemory)
	s := newSourcePeers()
	if s.answersOnSource(peer, 0) {
		t.Error("a node never heard answers on the source port")
	}
	if !s.sawOnSource(peer, 10) || s.sawOnSource(peer, 20) {
		t.Error("sawOnSource: want new once, then known")
	}
	if !s.answersOnSource(peer, 20+mem-1) || s.answersOnSource(peer, 20+mem) {
		t.Error("answersOnSource: want until peerMemory after the last answer")
	}
	if !s.sawOnSource(peer, 20+mem) {
		t.Error("sawOnSource after peerMemory: want new again")
	}

	s = newSourcePeers()
	k := newTable(0).pendingKeyOf([]byte("pau@a.test\x00laura@b.test"))
	s.routedOnListen(k, pendingLocate{forwardedTo: peer, via: 3, expires: 100}, 0)
	for _, tc := range []struct {
		name string
		src  netip.AddrPort
		in   uint16
		now  int64
	}{
		{"from elsewhere", other, 3, 50},
		{"on another source port", peer, 2, 50},
		{"too late", peer, 3, 100},
	} {
		if s.forged(k, tc.src, tc.in, tc.now) {
			t.Errorf("%s: taken as showing a forgery", tc.name)
		}
	}
	if s.answersOnSource(peer, 50) {
		t.Error("taken to answer on the source port before it did")
	}
	if !s.forged(k, peer, 3, 50) || !s.answersOnSource(peer, 50) {
		t.Error("its RL on the source port did not show the forgery")
	}
	if s.forged(k, peer, 3, 60) {
		t.Error("a forgery shown twice")
	}
}

// TestSourcePeersBounded: a full table records no new node until its
// entries expire.
func TestSourcePeersBounded(t *testing.T) {
	s := newSourcePeers()
	for i := range maxPeerRecords {
		s.sawOnSource(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 3344), 0)
	}
	late := netip.MustParseAddrPort("10.2.0.1:3344")
	if s.sawOnSource(late, 1) || s.answersOnSource(late, 1) {
		t.Error("recorded in a full table")
	}
	now := int64(peerMemory)
	if !s.sawOnSource(late, now) || !s.answersOnSource(late, now) || len(s.onSource) != 1 {
		t.Errorf("not recorded once the others expired (%d entries)", len(s.onSource))
	}
}
