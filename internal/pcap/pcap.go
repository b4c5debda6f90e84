// Package pcap reads the UDP and TCP payloads of a capture file: classic
// pcap (tcpdump -w) or pcapng (tshark, dumpcap, Wireshark's default), told
// apart by their first bytes.
//
// The files are read by gopacket's pure-Go readers (pcapgo, no libpcap) and
// the packets decoded by its layers, those MI needs and no others: the
// link types Ethernet (with VLAN tags), Linux cooked capture v1 and v2
// (tcpdump -i any), BSD loopback and raw IP; IPv4 and IPv6 (with extension
// headers); UDP and TCP. In a pcapng file each interface has its own link
// type. Everything else (other link types, ARP, ICMP, IP fragments,
// packets without payload such as TCP handshakes and bare ACKs, and
// packets whose headers do not decode) is skipped: it is none of MI's.
//
// Reading never panics on bad input. A file that is not a capture, or whose
// framing is corrupt or cut short, gives an error that says where; the
// packets before it are returned with it.
package pcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Packet is the payload of one captured UDP datagram or TCP segment.
type Packet struct {
	Index   int       // the packet's index in the file, from 0 (Wireshark's frame number less 1)
	Time    time.Time // capture time, UTC
	Src     netip.AddrPort
	Dst     netip.AddrPort
	Proto   string // "udp" or "tcp"
	Seq     uint32 // TCP: sequence number of the first payload byte
	Payload []byte
	// Cut is true when the headers promise more payload than the capture
	// kept (its snap length was too small): Payload lacks its end.
	Cut bool
}

// Errors a Read error wraps; its message says which packet and why.
var (
	ErrFormat    = errors.New("not a pcap or pcapng file")
	ErrTruncated = errors.New("truncated")
	ErrMalformed = errors.New("malformed")
)

// Magic numbers of the first four bytes of a capture file.
const (
	magicMicro = 0xa1b2c3d4 // classic pcap, microseconds, in the file's byte order
	magicNano  = 0xa1b23c4d // classic pcap, nanoseconds
	magicNG    = 0x0a0d0d0a // pcapng section header block, either byte order
)

// ReadFile reads the packets of the capture file at path; see Read. Its
// errors begin with the path.
func ReadFile(path string) ([]Packet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pkts, err := Read(f)
	if err != nil {
		return pkts, fmt.Errorf("%s: %w", path, err)
	}
	return pkts, nil
}

// Read reads a whole capture, pcap or pcapng, and returns its UDP and TCP
// packets that carry a payload, in capture order. On an error it returns
// the packets read before it, so a capture cut short (tcpdump killed
// mid-write) still yields what it holds.
func Read(r io.Reader) ([]Packet, error) {
	cr := &countingReader{r: r}
	br := bufio.NewReader(cr)
	head, _ := br.Peek(4)
	if len(head) < 4 {
		if len(head) == 0 {
			return nil, fmt.Errorf("file header: %w: empty input", ErrTruncated)
		}
		return nil, fmt.Errorf("file header: %w: %d bytes", ErrTruncated, len(head))
	}
	le, be := binary.LittleEndian.Uint32(head), binary.BigEndian.Uint32(head)
	switch {
	case le == magicNG:
		return readNG(br)
	case le == magicMicro || le == magicNano || be == magicMicro || be == magicNano:
		return readClassic(br, cr)
	case head[0] == 0x1f && head[1] == 0x8b: // gzip: pcapgo unpacks a classic pcap
		return readClassic(br, nil)
	default:
		return nil, fmt.Errorf("file header: %w: magic %#08x", ErrFormat, be)
	}
}

const (
	classicHeaderLen = 24
	recordHeaderLen  = 16
)

// readClassic reads a classic pcap file. cr, when not nil, counts the
// file's bytes, so that bytes after the last whole record (a record cut
// inside its header or right after it) are an error, not the end.
func readClassic(r io.Reader, cr *countingReader) ([]Packet, error) {
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("file header: %w", fileError(err))
	}
	link := pr.LinkType()
	d := newDecoder()
	var pkts []Packet
	want := int64(classicHeaderLen) // the bytes of the records read so far
	for i := 0; ; i++ {
		data, ci, err := pr.ReadPacketData()
		if err == io.EOF {
			if cr != nil && cr.n > want {
				return pkts, fmt.Errorf("packet %d: %w: %d bytes of a record", i, ErrTruncated, cr.n-want)
			}
			return pkts, nil
		}
		if err != nil {
			return pkts, fmt.Errorf("packet %d: %w", i, fileError(err))
		}
		want += int64(recordHeaderLen + len(data))
		if p, ok := d.decode(i, data, ci, link); ok {
			pkts = append(pkts, p)
		}
	}
}

// readNG reads a pcapng file, whose interfaces may differ in link type.
func readNG(r io.Reader) ([]Packet, error) {
	nr, err := pcapgo.NewNgReader(r, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err == io.EOF { // a section header and nothing else: no packets
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pcapng header: %w", fileError(err))
	}
	d := newDecoder()
	var pkts []Packet
	for i := 0; ; i++ {
		data, ci, err := nr.ReadPacketData()
		if err == io.EOF {
			return pkts, nil
		}
		if err != nil {
			return pkts, fmt.Errorf("packet %d: %w", i, fileError(err))
		}
		link := nr.LinkType()
		if len(ci.AncillaryData) > 0 {
			if l, ok := ci.AncillaryData[0].(layers.LinkType); ok {
				link = l
			}
		}
		if p, ok := d.decode(i, data, ci, link); ok {
			pkts = append(pkts, p)
		}
	}
}

// fileError classifies an error of pcapgo: the input ended early, or its
// framing is wrong.
func fileError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: the file ends early", ErrTruncated)
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// decoder decodes the layers of a packet that MI needs, and no others:
// link, IP, UDP or TCP. The payload of UDP and TCP is never decoded as
// another protocol (gopacket would read DNS, sFlow, ... by port), so no
// decoder of an application protocol runs on what a capture holds.
type decoder struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	sll     layers.LinuxSLL
	sll2    layers.LinuxSLL2
	loop    layers.Loopback
	ip4     layers.IPv4
	ip6     layers.IPv6
	ext     layers.IPv6ExtensionSkipper
	frag    layers.IPv6Fragment
	udp     layers.UDP
	tcp     layers.TCP
	parsers map[gopacket.LayerType]*gopacket.DecodingLayerParser // by first layer
	decoded []gopacket.LayerType
}

func newDecoder() *decoder {
	return &decoder{parsers: map[gopacket.LayerType]*gopacket.DecodingLayerParser{}}
}

// firstLayer returns the layer a packet of link type link begins with, or
// false for a link type this package does not read.
func firstLayer(link layers.LinkType, data []byte) (gopacket.LayerType, bool) {
	switch link {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet, true
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL, true
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2, true
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback, true
	case layers.LinkTypeIPv4:
		return layers.LayerTypeIPv4, true
	case layers.LinkTypeIPv6:
		return layers.LayerTypeIPv6, true
	case layers.LinkTypeRaw, 12, 14: // raw IP (12 and 14 on some BSDs)
		if len(data) > 0 && data[0]>>4 == 6 {
			return layers.LayerTypeIPv6, true
		}
		return layers.LayerTypeIPv4, true
	}
	return 0, false
}

// decode reads the addresses, ports and payload of one captured packet. ok
// is false for a packet this package skips.
func (d *decoder) decode(index int, data []byte, ci gopacket.CaptureInfo, link layers.LinkType) (p Packet, ok bool) {
	first, ok := firstLayer(link, data)
	if !ok {
		return Packet{}, false
	}
	parser := d.parsers[first]
	if parser == nil {
		// The IPv6 fragment header's decoder comes after the skipper of
		// extension headers, so that it is the one for fragments.
		parser = gopacket.NewDecodingLayerParser(first, &d.eth, &d.dot1q, &d.sll, &d.sll2, &d.loop,
			&d.ip4, &d.ip6, &d.ext, &d.frag, &d.udp, &d.tcp)
		parser.IgnoreUnsupported = true // what comes after the transport layer
		d.parsers[first] = parser
	}
	// A layer that fails ends the list; what it holds is what decoded.
	_ = parser.DecodeLayers(data, &d.decoded)
	var src, dst netip.Addr
	fragment := false
	// The addresses are those of the IP header right before the transport
	// layer: in IP in IP, the inner one (the layer decoded last).
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			src, dst = addr(d.ip4.SrcIP), addr(d.ip4.DstIP)
			// MI messages are far smaller than any MTU, so fragments are
			// none of ours: skip rather than guess.
			fragment = d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0
		case layers.LayerTypeIPv6:
			src, dst = addr(d.ip6.SrcIP), addr(d.ip6.DstIP)
			fragment = false
		case layers.LayerTypeIPv6Fragment:
			fragment = d.frag.MoreFragments || d.frag.FragmentOffset != 0
		case layers.LayerTypeUDP:
			p.Proto, p.Payload = "udp", d.udp.Payload
			p.Src = netip.AddrPortFrom(src, uint16(d.udp.SrcPort))
			p.Dst = netip.AddrPortFrom(dst, uint16(d.udp.DstPort))
		case layers.LayerTypeTCP:
			p.Proto, p.Payload, p.Seq = "tcp", d.tcp.Payload, d.tcp.Seq
			p.Src = netip.AddrPortFrom(src, uint16(d.tcp.SrcPort))
			p.Dst = netip.AddrPortFrom(dst, uint16(d.tcp.DstPort))
		}
	}
	if p.Proto == "" || fragment || !src.IsValid() || !dst.IsValid() || len(p.Payload) == 0 {
		return Packet{}, false
	}
	p.Index = index
	p.Time = ci.Timestamp.UTC()
	p.Cut = parser.Truncated
	return p, true
}

// addr converts an address of a decoded layer; an IPv4-mapped IPv6
// address stays IPv6, as the header said.
func addr(ip net.IP) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}
