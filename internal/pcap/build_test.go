package pcap

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Builders of capture bytes for the tests: each returns the wire bytes of
// one layer wrapped around the next.

// byteOrder is binary.LittleEndian or binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// Link types of the tests' captures (the LINKTYPE_* values).
const (
	linkNull      = uint32(layers.LinkTypeNull)      // BSD loopback
	linkEthernet  = uint32(layers.LinkTypeEthernet)  // Ethernet II
	linkRaw       = uint32(layers.LinkTypeRaw)       // raw IP, no link header
	linkLinuxSLL  = uint32(layers.LinkTypeLinuxSLL)  // Linux cooked capture v1 (tcpdump -i any)
	linkIPv4      = uint32(layers.LinkTypeIPv4)      // raw IPv4
	linkIPv6      = uint32(layers.LinkTypeIPv6)      // raw IPv6
	linkLinuxSLL2 = uint32(layers.LinkTypeLinuxSLL2) // Linux cooked capture v2
)

// file is a classic pcap file under construction, written byte by byte so
// that a test can also write what no writer would.
type file struct {
	order byteOrder
	nano  bool
	link  uint32
	buf   []byte
}

func newFile(order byteOrder, nano bool, link uint32) *file {
	f := &file{order: order, nano: nano, link: link}
	magic := uint32(magicMicro)
	if nano {
		magic = magicNano
	}
	f.buf = f.order.AppendUint32(f.buf, magic)
	f.buf = f.order.AppendUint16(f.buf, 2)
	f.buf = f.order.AppendUint16(f.buf, 4)
	f.buf = f.order.AppendUint32(f.buf, 0) // thiszone
	f.buf = f.order.AppendUint32(f.buf, 0) // sigfigs
	f.buf = f.order.AppendUint32(f.buf, 65535)
	f.buf = f.order.AppendUint32(f.buf, link)
	return f
}

// add appends a record holding data, captured at t.
func (f *file) add(t time.Time, data []byte) *file {
	return f.addCut(t, data, len(data))
}

// addCut appends a record of a packet of orig bytes of which data was kept.
func (f *file) addCut(t time.Time, data []byte, orig int) *file {
	frac := uint32(t.Nanosecond() / 1000)
	if f.nano {
		frac = uint32(t.Nanosecond())
	}
	f.buf = f.order.AppendUint32(f.buf, uint32(t.Unix()))
	f.buf = f.order.AppendUint32(f.buf, frac)
	f.buf = f.order.AppendUint32(f.buf, uint32(len(data)))
	f.buf = f.order.AppendUint32(f.buf, uint32(orig))
	f.buf = append(f.buf, data...)
	return f
}

func (f *file) bytes() []byte { return f.buf }

func sll(ethertype uint16, pkt []byte) []byte {
	b := []byte{0, 0, 0, 1, 0, 6, 8, 0, 0x27, 0x30, 0xb7, 0x0b, 0, 0}
	b = binary.BigEndian.AppendUint16(b, ethertype)
	return append(b, pkt...)
}

func sll2(ethertype uint16, pkt []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, ethertype)
	b = append(b, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 8, 0, 0x27, 0x30, 0xb7, 0x0b, 0, 0)
	return append(b, pkt...)
}

func ether(ethertype uint16, pkt []byte) []byte {
	b := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
	b = binary.BigEndian.AppendUint16(b, ethertype)
	return append(b, pkt...)
}

// ipOpts varies an IPv4 header.
type ipOpts struct {
	options []byte // IP options, a multiple of 4 bytes
	flags   uint16 // flags and fragment offset
	total   int    // total length to claim, if not 0
	version byte   // if not 0
	ihl     int    // header length in bytes to claim, if not 0
}

func ipv4(proto byte, src, dst string, payload []byte, o ipOpts) []byte {
	ihl := 20 + len(o.options)
	claimIHL := ihl
	if o.ihl != 0 {
		claimIHL = o.ihl
	}
	version := byte(4)
	if o.version != 0 {
		version = o.version
	}
	total := ihl + len(payload)
	if o.total != 0 {
		total = o.total
	}
	b := []byte{version<<4 | byte(claimIHL/4), 0}
	b = binary.BigEndian.AppendUint16(b, uint16(total))
	b = append(b, 0x12, 0x34)
	b = binary.BigEndian.AppendUint16(b, o.flags)
	b = append(b, 64, proto, 0, 0)
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	b = append(b, o.options...)
	return append(b, payload...)
}

func udp(sport, dport uint16, payload []byte) []byte {
	return udpLen(sport, dport, payload, 8+len(payload))
}

func udpLen(sport, dport uint16, payload []byte, length int) []byte {
	b := binary.BigEndian.AppendUint16(nil, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = binary.BigEndian.AppendUint16(b, uint16(length))
	b = append(b, 0, 0)
	return append(b, payload...)
}

func tcp(sport, dport uint16, seq uint32, payload []byte) []byte {
	return tcpOpts(sport, dport, seq, nil, payload)
}

// tcpOpts builds a TCP segment with options (a multiple of 4 bytes).
func tcpOpts(sport, dport uint16, seq uint32, options, payload []byte) []byte {
	return tcpOff(sport, dport, seq, (20+len(options))/4, options, payload)
}

// tcpOff builds a TCP segment claiming a data offset of off words.
func tcpOff(sport, dport uint16, seq uint32, off int, options, payload []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = binary.BigEndian.AppendUint32(b, seq)
	b = binary.BigEndian.AppendUint32(b, 1) // ack
	b = append(b, byte(off<<4), 0x18)       // PSH ACK
	b = append(b, 0xff, 0xff, 0, 0, 0, 0)
	b = append(b, options...)
	return append(b, payload...)
}

// ipv6 builds an IPv6 header; next is the protocol of payload (or of its
// first extension header).
func ipv6(next byte, src, dst string, payload []byte) []byte {
	b := []byte{0x60, 0, 0, 0}
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	b = append(b, next, 64)
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	return append(b, payload...)
}

// ngPacket is one packet of a pcapng file: the interface it was captured
// on and its bytes.
type ngPacket struct {
	iface int
	t     time.Time
	data  []byte
}

// ngFile writes a pcapng file with gopacket's writer: one interface per
// link type of links, then the packets.
func ngFile(t testing.TB, links []layers.LinkType, pkts ...ngPacket) []byte {
	t.Helper()
	var buf bytes.Buffer
	intf := pcapgo.DefaultNgInterface
	intf.LinkType = links[0]
	w, err := pcapgo.NewNgWriterInterface(&buf, intf, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links[1:] {
		intf.LinkType = l
		if _, err := w.AddInterface(intf); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: p.t, CaptureLength: len(p.data), Length: len(p.data), InterfaceIndex: p.iface}
		if err := w.WritePacket(ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
