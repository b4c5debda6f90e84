// Package pcap reads the UDP and TCP payloads of a classic pcap capture file,
// the format tcpdump writes, without libpcap.
//
// It understands both byte orders, microsecond and nanosecond timestamps,
// and the link types Linux cooked capture (v1 and v2), Ethernet (with
// 802.1Q tags), raw IP and BSD loopback. Of the network layer it reads IPv4
// only; of the transport layer, UDP and TCP. Everything else (ARP, IPv6,
// ICMP, IPv4 fragments, packets without payload such as TCP handshakes and
// bare ACKs) is skipped. pcapng files are refused with an error that says so.
//
// Reading never panics on bad input: a malformed file or packet gives an
// error that names the record (0-based) and what was wrong.
package pcap

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"
)

// Packet is the payload of one captured UDP datagram or TCP segment.
type Packet struct {
	Index   int       // the record's index in the file, from 0
	Time    time.Time // capture time, UTC
	Src     netip.AddrPort
	Dst     netip.AddrPort
	Proto   string // "udp" or "tcp"
	Seq     uint32 // TCP: sequence number of the first payload byte
	Payload []byte
}

// Link types this package decodes (the LINKTYPE_* values of the pcap format).
const (
	LinkNull      = 0   // BSD loopback: 4-byte address family in the writer's byte order
	LinkEthernet  = 1   // Ethernet II
	LinkRaw       = 101 // raw IP, no link header
	LinkLinuxSLL  = 113 // Linux cooked capture v1 (tcpdump -i any)
	LinkIPv4      = 228 // raw IPv4
	LinkLinuxSLL2 = 276 // Linux cooked capture v2
)

// Magic numbers of a classic pcap file, as read in the file's byte order.
const (
	magicMicro = 0xa1b2c3d4
	magicNano  = 0xa1b23c4d
	magicNG    = 0x0a0d0d0a // pcapng section header block
)

const (
	fileHeaderLen   = 24
	recordHeaderLen = 16
	// maxRecord bounds the bytes of one record, whatever the file claims,
	// so a corrupt length cannot make Read allocate without limit.
	maxRecord = 1 << 18
)

// Errors the packet decoders wrap; a Read error names the record too.
var (
	ErrFormat    = errors.New("not a classic pcap file")
	ErrTruncated = errors.New("truncated")
	ErrMalformed = errors.New("malformed")
	ErrLinkType  = errors.New("unsupported link type")
)

// ReadFile reads the packets of the pcap file at path; see Read.
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

// Read reads a whole pcap stream and returns its UDP and TCP packets that
// carry a payload, in capture order. On an error it returns the packets
// read before it, so a capture cut short (tcpdump killed mid-write) still
// yields what it holds.
func Read(r io.Reader) ([]Packet, error) {
	var hdr [fileHeaderLen]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		if n == 0 && err == io.EOF {
			return nil, fmt.Errorf("file header: %w: empty input", ErrTruncated)
		}
		return nil, fmt.Errorf("file header: %w: %d of %d bytes", ErrTruncated, n, fileHeaderLen)
	}
	var order binary.ByteOrder
	var nano bool
	switch le, be := binary.LittleEndian.Uint32(hdr[:]), binary.BigEndian.Uint32(hdr[:]); {
	case le == magicMicro || le == magicNano:
		order, nano = binary.LittleEndian, le == magicNano
	case be == magicMicro || be == magicNano:
		order, nano = binary.BigEndian, be == magicNano
	case le == magicNG:
		return nil, fmt.Errorf("file header: %w: this is pcapng; convert it with editcap -F pcap", ErrFormat)
	default:
		return nil, fmt.Errorf("file header: %w: magic %#08x", ErrFormat, be)
	}
	if major := order.Uint16(hdr[4:]); major != 2 {
		return nil, fmt.Errorf("file header: %w: version %d.%d, want 2.x", ErrFormat, major, order.Uint16(hdr[6:]))
	}
	// The top bits of the link type field may carry FCS information.
	link := order.Uint32(hdr[20:]) & 0xffff
	switch link {
	case LinkNull, LinkEthernet, LinkRaw, LinkLinuxSLL, LinkIPv4, LinkLinuxSLL2:
	default:
		return nil, fmt.Errorf("file header: %w %d", ErrLinkType, link)
	}

	var pkts []Packet
	var rec [recordHeaderLen]byte
	buf := make([]byte, 0, 2048)
	for i := 0; ; i++ {
		n, err := io.ReadFull(r, rec[:])
		if err != nil {
			if n == 0 && err == io.EOF {
				return pkts, nil
			}
			if err == io.ErrUnexpectedEOF {
				return pkts, fmt.Errorf("record %d: header: %w: %d of %d bytes", i, ErrTruncated, n, recordHeaderLen)
			}
			return pkts, fmt.Errorf("record %d: %w", i, err)
		}
		sec, frac := order.Uint32(rec[0:]), order.Uint32(rec[4:])
		incl, orig := order.Uint32(rec[8:]), order.Uint32(rec[12:])
		if incl > maxRecord {
			return pkts, fmt.Errorf("record %d: %w: captured length %d over %d", i, ErrMalformed, incl, maxRecord)
		}
		if !nano {
			if frac >= 1e6 {
				return pkts, fmt.Errorf("record %d: %w: %d microseconds", i, ErrMalformed, frac)
			}
			frac *= 1000
		} else if frac >= 1e9 {
			return pkts, fmt.Errorf("record %d: %w: %d nanoseconds", i, ErrMalformed, frac)
		}
		if cap(buf) < int(incl) {
			buf = make([]byte, incl)
		}
		data := buf[:incl]
		if n, err := io.ReadFull(r, data); err != nil {
			if err == io.ErrUnexpectedEOF || err == io.EOF {
				return pkts, fmt.Errorf("record %d: data: %w: %d of %d bytes", i, ErrTruncated, n, incl)
			}
			return pkts, fmt.Errorf("record %d: %w", i, err)
		}
		p, ok, err := decodeLink(link, data)
		if err != nil {
			if incl < orig {
				err = fmt.Errorf("%w (the capture kept %d of %d bytes: snap length too small)", err, incl, orig)
			}
			return pkts, fmt.Errorf("record %d: %w", i, err)
		}
		if !ok || len(p.Payload) == 0 {
			continue
		}
		p.Index = i
		p.Time = time.Unix(int64(sec), int64(frac)).UTC()
		p.Payload = append([]byte(nil), p.Payload...) // data is reused
		pkts = append(pkts, p)
	}
}

// decodeLink strips the link header. ok is false for a packet this package
// skips.
func decodeLink(link uint32, b []byte) (p Packet, ok bool, err error) {
	var proto uint16 // ethertype
	switch link {
	case LinkNull:
		if len(b) < 4 {
			return p, false, fmt.Errorf("loopback header: %w: %d bytes", ErrTruncated, len(b))
		}
		// AF_INET is 2 on every system; the writer's byte order is unknown.
		if le, be := binary.LittleEndian.Uint32(b), binary.BigEndian.Uint32(b); le != 2 && be != 2 {
			return p, false, nil
		}
		return decodeIPv4(b[4:])
	case LinkEthernet:
		if len(b) < 14 {
			return p, false, fmt.Errorf("ethernet header: %w: %d bytes", ErrTruncated, len(b))
		}
		proto, b = binary.BigEndian.Uint16(b[12:]), b[14:]
		for proto == 0x8100 || proto == 0x88a8 { // VLAN tags
			if len(b) < 4 {
				return p, false, fmt.Errorf("VLAN tag: %w: %d bytes", ErrTruncated, len(b))
			}
			proto, b = binary.BigEndian.Uint16(b[2:]), b[4:]
		}
	case LinkLinuxSLL:
		if len(b) < 16 {
			return p, false, fmt.Errorf("cooked header: %w: %d bytes", ErrTruncated, len(b))
		}
		proto, b = binary.BigEndian.Uint16(b[14:]), b[16:]
	case LinkLinuxSLL2:
		if len(b) < 20 {
			return p, false, fmt.Errorf("cooked v2 header: %w: %d bytes", ErrTruncated, len(b))
		}
		proto, b = binary.BigEndian.Uint16(b[0:]), b[20:]
	case LinkRaw, LinkIPv4:
		if len(b) == 0 || b[0]>>4 != 4 {
			return p, false, nil
		}
		return decodeIPv4(b)
	}
	if proto != 0x0800 {
		return p, false, nil
	}
	return decodeIPv4(b)
}

// decodeIPv4 reads an IPv4 packet and its UDP or TCP header.
func decodeIPv4(b []byte) (p Packet, ok bool, err error) {
	if len(b) < 20 {
		return p, false, fmt.Errorf("IPv4 header: %w: %d bytes", ErrTruncated, len(b))
	}
	if v := b[0] >> 4; v != 4 {
		return p, false, fmt.Errorf("IPv4 header: %w: version %d", ErrMalformed, v)
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	switch {
	case ihl < 20:
		return p, false, fmt.Errorf("IPv4 header: %w: header length %d", ErrMalformed, ihl)
	case total < ihl:
		return p, false, fmt.Errorf("IPv4 header: %w: total length %d under header length %d", ErrMalformed, total, ihl)
	case total > len(b):
		return p, false, fmt.Errorf("IPv4 packet: %w: total length %d, captured %d", ErrTruncated, total, len(b))
	}
	// Fragments: MF set or a non-zero offset. MI messages are far smaller
	// than any MTU, so fragments are none of ours; skip rather than guess.
	if flags := binary.BigEndian.Uint16(b[6:]); flags&0x2000 != 0 || flags&0x1fff != 0 {
		return p, false, nil
	}
	src := netip.AddrFrom4([4]byte(b[12:16]))
	dst := netip.AddrFrom4([4]byte(b[16:20]))
	proto := b[9]
	b = b[ihl:total] // total drops link-layer padding
	switch proto {
	case 17:
		if len(b) < 8 {
			return p, false, fmt.Errorf("UDP header: %w: %d bytes", ErrTruncated, len(b))
		}
		n := int(binary.BigEndian.Uint16(b[4:]))
		if n < 8 || n > len(b) {
			return p, false, fmt.Errorf("UDP header: %w: length %d, IP payload %d", ErrMalformed, n, len(b))
		}
		p.Proto, p.Payload = "udp", b[8:n]
	case 6:
		if len(b) < 20 {
			return p, false, fmt.Errorf("TCP header: %w: %d bytes", ErrTruncated, len(b))
		}
		off := int(b[12]>>4) * 4
		if off < 20 || off > len(b) {
			return p, false, fmt.Errorf("TCP header: %w: data offset %d, segment %d", ErrMalformed, off, len(b))
		}
		p.Proto, p.Seq, p.Payload = "tcp", binary.BigEndian.Uint32(b[4:]), b[off:]
	default:
		return p, false, nil
	}
	p.Src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[0:]))
	p.Dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:]))
	return p, true, nil
}
