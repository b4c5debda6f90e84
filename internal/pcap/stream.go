package pcap

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"
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
	Index  int       // the packet's index in the file
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

// TCPStreams puts together the TCP payloads of pkts per direction (source
// and destination address and port), with gopacket's reassembly: segments
// are put in sequence order, so one captured out of order still lands in
// its place, and bytes repeated by a retransmission or an overlap are kept
// once. Each direction starts at its first captured segment (pkts carry no
// handshakes). Bytes the capture missed are not invented: the stream jumps
// over them and counts them in Gaps. Streams come in the order of their
// first segment.
func TCPStreams(pkts []Packet) []*Stream {
	f := &streamFactory{byDir: map[direction]*Stream{}}
	a := reassembly.NewAssembler(reassembly.NewStreamPool(f))
	for _, p := range pkts {
		if p.Proto != "tcp" || len(p.Payload) == 0 || p.Src.Addr().Is4() != p.Dst.Addr().Is4() {
			continue
		}
		endpoint := layers.EndpointIPv6
		if p.Src.Addr().Is4() {
			endpoint = layers.EndpointIPv4
		}
		net := gopacket.NewFlow(endpoint, p.Src.Addr().AsSlice(), p.Dst.Addr().AsSlice())
		tcp, err := tcpLayer(p)
		if err != nil {
			continue
		}
		a.AssembleWithContext(net, tcp, &segmentContext{index: p.Index, time: p.Time})
	}
	a.FlushAll() // what waits behind bytes the capture missed
	out := make([]*Stream, 0, len(f.byDir))
	for _, s := range f.byDir {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Stream) int { return a.Segments[0].Index - b.Segments[0].Index })
	return out
}

// tcpLayer makes the TCP layer the assembler reads of p: a header of
// ports and sequence number (the layer's flow is made of its decoded
// bytes) and the payload.
func tcpLayer(p Packet) (*layers.TCP, error) {
	b := make([]byte, 20, 20+len(p.Payload))
	binary.BigEndian.PutUint16(b[0:], p.Src.Port())
	binary.BigEndian.PutUint16(b[2:], p.Dst.Port())
	binary.BigEndian.PutUint32(b[4:], p.Seq)
	b[12] = 5 << 4 // data offset: no options
	b[13] = 0x10   // ACK
	tcp := &layers.TCP{}
	return tcp, tcp.DecodeFromBytes(append(b, p.Payload...), gopacket.NilDecodeFeedback)
}

// direction names one side of a connection.
type direction struct{ src, dst netip.AddrPort }

// streamFactory makes the reassembly's streams, which put what they are
// given in byDir.
type streamFactory struct {
	byDir map[direction]*Stream
}

func (f *streamFactory) New(net, transport gopacket.Flow, _ *layers.TCP, _ reassembly.AssemblerContext) reassembly.Stream {
	src := netip.AddrPortFrom(flowAddr(net.Src()), portOf(transport.Src()))
	dst := netip.AddrPortFrom(flowAddr(net.Dst()), portOf(transport.Dst()))
	return &connection{f: f, client: direction{src, dst}}
}

func flowAddr(e gopacket.Endpoint) netip.Addr {
	a, _ := netip.AddrFromSlice(e.Raw())
	return a
}

func portOf(e gopacket.Endpoint) uint16 {
	b := e.Raw()
	if len(b) != 2 {
		return 0
	}
	return uint16(b[0])<<8 | uint16(b[1])
}

// connection receives the reassembled bytes of both directions of one
// connection; client is the direction of its first packet.
type connection struct {
	f      *streamFactory
	client direction
}

// Accept takes every segment, and starts a direction at its first one:
// the capture may have begun after the handshake, and Read keeps no
// packet without payload anyway.
func (c *connection) Accept(_ *layers.TCP, _ gopacket.CaptureInfo, _ reassembly.TCPFlowDirection, _ reassembly.Sequence, start *bool, _ reassembly.AssemblerContext) bool {
	*start = true
	return true
}

func (c *connection) ReassembledSG(sg reassembly.ScatterGather, _ reassembly.AssemblerContext) {
	n, _ := sg.Lengths()
	if n == 0 {
		return
	}
	dir, _, _, skip := sg.Info()
	d := c.client
	if dir == reassembly.TCPDirServerToClient {
		d = direction{d.dst, d.src}
	}
	s := c.f.byDir[d]
	if s == nil {
		s = &Stream{Src: d.src, Dst: d.dst}
		c.f.byDir[d] = s
	}
	if skip > 0 {
		s.Gaps += skip
	}
	base := len(s.Data)
	s.Data = append(s.Data, sg.Fetch(n)...)
	// The bytes come in runs, one per packet: a Segment per run.
	for off := 0; off < n; {
		seg := segmentAt(sg, off)
		end := runEnd(sg, off, n, seg.Index)
		seg.Offset = base + off
		if k := len(s.Segments); k > 0 && s.Segments[k-1].Index == seg.Index {
			// the rest of the last run (a flush sends a packet's pages)
		} else {
			s.Segments = append(s.Segments, seg)
		}
		off = end
	}
}

func (c *connection) ReassemblyComplete(reassembly.AssemblerContext) bool { return true }

// segmentContext is the context of one packet given to the assembler: the
// ScatterGather returns it for each byte, so each byte knows its packet.
type segmentContext struct {
	index int
	time  time.Time
}

func (c *segmentContext) GetCaptureInfo() gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: c.time, AncillaryData: []any{c.index}}
}

// segmentAt returns the packet of byte off of sg.
func segmentAt(sg reassembly.ScatterGather, off int) Segment {
	ci := sg.CaptureInfo(off)
	seg := Segment{Index: -1, Time: ci.Timestamp}
	if len(ci.AncillaryData) > 0 {
		if i, ok := ci.AncillaryData[0].(int); ok {
			seg.Index = i
		}
	}
	return seg
}

// runEnd returns the end of the run of bytes of packet index that begins
// at off: it gallops, then halves, over the offsets, since a run may span
// pages of up to a few kilobytes each.
func runEnd(sg reassembly.ScatterGather, off, n, index int) int {
	in := func(o int) bool { return segmentAt(sg, o).Index == index }
	lo, step := off, 1 // lo is in the run
	for lo+step < n && in(lo+step) {
		lo += step
		step *= 2
	}
	hi := min(lo+step, n) // hi is past the run, or the end
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if in(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}
