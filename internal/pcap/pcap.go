// Package pcap reads the UDP and TCP payloads of a capture file: classic
// pcap (tcpdump -w) or pcapng (tshark, dumpcap, Wireshark's default), told
// apart by their first bytes.
//
// The files are read by gopacket's pure-Go readers (pcapgo, no libpcap) and
// the packets decoded by its layers: any link type gopacket decodes
// (Ethernet with VLAN tags, Linux cooked capture v1 and v2, BSD loopback,
// raw IP, ...), IPv4 and IPv6, UDP and TCP. In a pcapng file each
// interface has its own link type. Everything else (ARP, ICMP, IP
// fragments, packets without payload such as TCP handshakes and bare ACKs,
// and packets whose headers do not decode) is skipped: it is none of MI's.
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
		if p, ok := decode(i, data, ci, link); ok {
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
		if p, ok := decode(i, data, ci, link); ok {
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

// decode reads the addresses, ports and payload of one captured packet. ok
// is false for a packet this package skips.
func decode(index int, data []byte, ci gopacket.CaptureInfo, link layers.LinkType) (p Packet, ok bool) {
	var first gopacket.Decoder = link
	switch link { // link types gopacket reads only as layers
	case layers.LinkTypeIPv4:
		first = layers.LayerTypeIPv4
	case layers.LinkTypeIPv6:
		first = layers.LayerTypeIPv6
	}
	// data is the packet's own (ReadPacketData allocates it), so the
	// layers may point into it.
	pkt := gopacket.NewPacket(data, first, gopacket.DecodeOptions{NoCopy: true})
	var src, dst netip.Addr
	fragment := false
	// The transport layer's addresses are those of the IP header right
	// before it: in a tunnel, the inner one.
	for _, l := range pkt.Layers() {
		switch l := l.(type) {
		case *layers.IPv4:
			src, dst = addr(l.SrcIP), addr(l.DstIP)
			// MI messages are far smaller than any MTU, so fragments are
			// none of ours: skip rather than guess.
			fragment = l.Flags&layers.IPv4MoreFragments != 0 || l.FragOffset != 0
		case *layers.IPv6:
			src, dst = addr(l.SrcIP), addr(l.DstIP)
			fragment = false
		case *layers.IPv6Fragment:
			fragment = true
		case *layers.UDP:
			p.Proto, p.Payload = "udp", l.Payload
			p.Src = netip.AddrPortFrom(src, uint16(l.SrcPort))
			p.Dst = netip.AddrPortFrom(dst, uint16(l.DstPort))
		case *layers.TCP:
			p.Proto, p.Payload, p.Seq = "tcp", l.Payload, l.Seq
			p.Src = netip.AddrPortFrom(src, uint16(l.SrcPort))
			p.Dst = netip.AddrPortFrom(dst, uint16(l.DstPort))
		}
		if p.Proto != "" {
			break
		}
	}
	if p.Proto == "" || fragment || !src.IsValid() || !dst.IsValid() || len(p.Payload) == 0 {
		return Packet{}, false
	}
	p.Index = index
	p.Time = ci.Timestamp.UTC()
	p.Cut = pkt.Metadata().Truncated
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
