package pcap

import (
	"net/netip"
	"sort"
	"time"
)

// Stream is the bytes one side of a TCP connection sent (Src to Dst), put
// together from the captured segments.
type Stream struct {
	Src, Dst netip.AddrPort
	Data     []byte
	Segments []Segment // the segments that contributed to Data, in order
	Gaps     int       // bytes the capture missed: sequence jumps forward
}

// Segment says where the new bytes of one captured segment begin in its
// Stream's Data.
type Segment struct {
	Offset int       // in Data
	Index  int       // the packet's record index
	Time   time.Time // the packet's capture time
}

// At returns the segment that holds byte off of Data: the segment that
// delivered it. off past the end gives the last segment.
func (s *Stream) At(off int) Segment {
	i := sort.Search(len(s.Segments), func(i int) bool { return s.Segments[i].Offset > off })
	if i == 0 {
		if len(s.Segments) == 0 {
			return Segment{}
		}
		return s.Segments[0]
	}
	return s.Segments[i-1]
}

// TCPStreams groups the TCP payloads of pkts by direction (source and
// destination address and port) and joins each direction's payloads in
// capture order. Sequence numbers drop retransmitted bytes: a segment that
// repeats bytes already seen is cut to its new part or skipped. Bytes the
// capture missed are not invented: the stream jumps over them and counts
// them in Gaps. Streams come in the order of their first segment.
func TCPStreams(pkts []Packet) []*Stream {
	type key struct{ src, dst netip.AddrPort }
	type state struct {
		s    *Stream
		next uint32 // sequence number of the next new byte
	}
	var out []*Stream
	byKey := map[key]*state{}
	for _, p := range pkts {
		if p.Proto != "tcp" || len(p.Payload) == 0 {
			continue
		}
		k := key{p.Src, p.Dst}
		st := byKey[k]
		if st == nil {
			st = &state{s: &Stream{Src: p.Src, Dst: p.Dst}, next: p.Seq}
			byKey[k] = st
			out = append(out, st.s)
		}
		data := p.Payload
		switch d := int64(int32(p.Seq - st.next)); {
		case d < 0: // starts before the next new byte: retransmission
			if -d >= int64(len(data)) {
				continue
			}
			data = data[-d:]
		case d > 0:
			st.s.Gaps += int(d)
		}
		st.s.Segments = append(st.s.Segments, Segment{Offset: len(st.s.Data), Index: p.Index, Time: p.Time})
		st.s.Data = append(st.s.Data, data...)
		st.next = p.Seq + uint32(len(p.Payload))
	}
	return out
}
