package pcap

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTCPStreams(t *testing.T) {
	const a, b = "10.0.0.1:5000", "10.0.0.2:43038"
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	pkts := []Packet{
		tcpPkt(3, at(0), a, b, 100, "N02u1"),
		tcpPkt(5, at(1), b, a, 900, "N02u2"),
		tcpPkt(7, at(2), a, b, 105, "L08Hola"),        // first part of a message
		tcpPkt(8, at(3), a, b, 105, "L08Hola"),        // retransmission: dropped
		tcpPkt(9, at(4), a, b, 110, "la u2!L00"),      // overlaps 2 bytes: trimmed
		udpPkt(10, at(5), a, b, "PRu1@PC-c"),          // not TCP: ignored
		tcpPkt(11, at(6), a, b, 123, "L01x"),          // 4 bytes missed before it
		tcpPkt(12, at(7), b, a, 905, "L03abc"),        // other direction goes on
		tcpPkt(13, at(8), "10.0.0.3:1", b, 0, "N01z"), // a third stream
	}
	want := []*Stream{
		{Src: ap(a), Dst: ap(b), Data: []byte("N02u1L08Hola u2!L00L01x"), Gaps: 4, Segments: []Segment{
			{Offset: 0, Index: 3, Time: at(0)},
			{Offset: 5, Index: 7, Time: at(2)},
			{Offset: 12, Index: 9, Time: at(4)},
			{Offset: 19, Index: 11, Time: at(6)},
		}},
		{Src: ap(b), Dst: ap(a), Data: []byte("N02u2L03abc"), Segments: []Segment{
			{Offset: 0, Index: 5, Time: at(1)},
			{Offset: 5, Index: 12, Time: at(7)},
		}},
		{Src: ap("10.0.0.3:1"), Dst: ap(b), Data: []byte("N01z"), Segments: []Segment{{Offset: 0, Index: 13, Time: at(8)}}},
	}
	got := TCPStreams(pkts)
	if diff := cmp.Diff(want, got, equateAddrs); diff != "" {
		t.Fatalf("streams differ (-want +got):\n%s", diff)
	}

	s := got[0]
	for _, c := range []struct{ off, index int }{{0, 3}, {4, 3}, {5, 7}, {11, 7}, {12, 9}, {18, 9}, {19, 11}, {22, 11}, {99, 11}, {-1, 3}} {
		if seg := s.At(c.off); seg.Index != c.index {
			t.Errorf("At(%d) is record %d, want %d", c.off, seg.Index, c.index)
		}
	}
	if seg := (&Stream{}).At(0); seg != (Segment{}) {
		t.Errorf("At on an empty stream: %+v", seg)
	}
}

// TestTCPStreamsWrap crosses the 32-bit sequence number wrap.
func TestTCPStreamsWrap(t *testing.T) {
	pkts := []Packet{
		tcpPkt(0, t0, "1.1.1.1:1", "2.2.2.2:2", 0xfffffffd, "N02u1"),
		tcpPkt(1, t0, "1.1.1.1:1", "2.2.2.2:2", 0xfffffffd, "N02u1"), // retransmitted
		tcpPkt(2, t0, "1.1.1.1:1", "2.2.2.2:2", 2, "L00"),
	}
	got := TCPStreams(pkts)
	if len(got) != 1 || string(got[0].Data) != "N02u1L00" || got[0].Gaps != 0 {
		t.Fatalf("got %+v, want one stream N02u1L00 without gaps", got)
	}
}

// TestTCPStreamsReordered: a segment captured before the one it follows
// still lands in its place, and a segment split over pages keeps one
// Segment.
func TestTCPStreamsReordered(t *testing.T) {
	const a, b = "[fd00::1]:5000", "[fd00::2]:43038"
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	big := strings.Repeat("x", 5000) // over two of the assembler's pages
	pkts := []Packet{
		tcpPkt(0, at(0), a, b, 100, "N02u1"),
		tcpPkt(1, at(1), a, b, 110, "lo"),    // ahead of its place
		tcpPkt(2, at(2), a, b, 105, "L02Ho"), // the bytes before it
		tcpPkt(3, at(3), a, b, 300, big),     // after bytes never captured
		tcpPkt(4, at(4), a, b, 5300, "L00"),
	}
	want := []*Stream{{Src: ap(a), Dst: ap(b), Data: []byte("N02u1L02Holo" + big + "L00"), Gaps: 300 - 112,
		Segments: []Segment{
			{Offset: 0, Index: 0, Time: at(0)},
			{Offset: 5, Index: 2, Time: at(2)},
			{Offset: 10, Index: 1, Time: at(1)},
			{Offset: 12, Index: 3, Time: at(3)},
			{Offset: 12 + len(big), Index: 4, Time: at(4)},
		}}}
	if diff := cmp.Diff(want, TCPStreams(pkts), equateAddrs); diff != "" {
		t.Fatalf("streams differ (-want +got):\n%s", diff)
	}
}
