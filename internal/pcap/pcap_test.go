package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/gopacket/gopacket/layers"
)

var (
	le byteOrder = binary.LittleEndian
	be byteOrder = binary.BigEndian
	t0           = time.Date(2020, 12, 22, 20, 12, 54, 723876000, time.UTC)
	t1           = t0.Add(19 * time.Millisecond)

	equateAddrs = cmpopts.EquateComparable(netip.AddrPort{})
)

const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86dd
	etherARP  = 0x0806
	ipUDP     = 17
	ipTCP     = 6
	ipICMP    = 1
)

func udpPkt(i int, t time.Time, src, dst, payload string) Packet {
	return Packet{Index: i, Time: t, Src: ap(src), Dst: ap(dst), Proto: "udp", Payload: []byte(payload)}
}

func tcpPkt(i int, t time.Time, src, dst string, seq uint32, payload string) Packet {
	return Packet{Index: i, Time: t, Src: ap(src), Dst: ap(dst), Proto: "tcp", Seq: seq, Payload: []byte(payload)}
}

// register is the first datagram of agent1-node1.pcap, in a cooked capture.
var register = sll(etherIPv4, ipv4(ipUDP, "10.100.100.101", "10.100.100.103", udp(51189, 3344, []byte("PRu1@PC-c")), ipOpts{}))

func TestRead(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want []Packet
	}{
		{
			name: "little endian microseconds, cooked, UDP",
			in: newFile(le, false, linkLinuxSLL).add(t0, register).
				add(t1, sll(etherIPv4, ipv4(ipUDP, "10.100.100.103", "10.100.100.101", udp(3344, 51189, []byte("RR0")), ipOpts{}))).bytes(),
			want: []Packet{
				udpPkt(0, t0, "10.100.100.101:51189", "10.100.100.103:3344", "PRu1@PC-c"),
				udpPkt(1, t1, "10.100.100.103:3344", "10.100.100.101:51189", "RR0"),
			},
		},
		{
			name: "big endian nanoseconds, ethernet, TCP with options",
			in: newFile(be, true, linkEthernet).add(t0.Add(123), ether(etherIPv4, ipv4(ipTCP, "10.0.0.1", "10.0.0.2",
				tcpOpts(51875, 43038, 2039567717, []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, []byte("N02u1")), ipOpts{}))).bytes(),
			want: []Packet{tcpPkt(0, t0.Add(123), "10.0.0.1:51875", "10.0.0.2:43038", 2039567717, "N02u1")},
		},
		{
			name: "big endian microseconds",
			in:   newFile(be, false, linkLinuxSLL).add(t0, register).bytes(),
			want: []Packet{udpPkt(0, t0, "10.100.100.101:51189", "10.100.100.103:3344", "PRu1@PC-c")},
		},
		{
			name: "little endian nanoseconds",
			in:   newFile(le, true, linkLinuxSLL).add(t0.Add(1), register).bytes(),
			want: []Packet{udpPkt(0, t0.Add(1), "10.100.100.101:51189", "10.100.100.103:3344", "PRu1@PC-c")},
		},
		{
			name: "ethernet padding is not payload",
			in: newFile(le, false, linkEthernet).add(t0, append(ether(etherIPv4,
				ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(3344, 3344, []byte("RR0")), ipOpts{})), make([]byte, 15)...)).bytes(),
			want: []Packet{udpPkt(0, t0, "1.2.3.4:3344", "5.6.7.8:3344", "RR0")},
		},
		{
			name: "ethernet VLAN tag",
			in: newFile(le, false, linkEthernet).add(t0, ether(0x8100, append([]byte{0, 7, 8, 0},
				ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("RD0")), ipOpts{})...))).bytes(),
			want: []Packet{udpPkt(0, t0, "1.2.3.4:1", "5.6.7.8:2", "RD0")},
		},
		{
			name: "raw IPv4 with IP options",
			in: newFile(le, false, linkRaw).add(t0, ipv4(ipUDP, "1.2.3.4", "5.6.7.8",
				udp(1000, 3344, []byte("PDu1@PC-c")), ipOpts{options: []byte{1, 1, 1, 0}})).bytes(),
			want: []Packet{udpPkt(0, t0, "1.2.3.4:1000", "5.6.7.8:3344", "PDu1@PC-c")},
		},
		{
			name: "raw IP, version 6",
			in:   newFile(le, false, linkRaw).add(t0, ipv6(ipUDP, "fd00::1", "fd00::2", udp(1000, 3344, []byte("PDu1@PC-c")))).bytes(),
			want: []Packet{udpPkt(0, t0, "[fd00::1]:1000", "[fd00::2]:3344", "PDu1@PC-c")},
		},
		{
			name: "link type IPv4",
			in:   newFile(le, false, linkIPv4).add(t0, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("RR1")), ipOpts{})).bytes(),
			want: []Packet{udpPkt(0, t0, "1.2.3.4:1", "5.6.7.8:2", "RR1")},
		},
		{
			name: "link type IPv6",
			in:   newFile(le, false, linkIPv6).add(t0, ipv6(ipUDP, "::1", "::1", udp(1, 3344, []byte("RR1")))).bytes(),
			want: []Packet{udpPkt(0, t0, "[::1]:1", "[::1]:3344", "RR1")},
		},
		{
			name: "cooked v2",
			in:   newFile(le, false, linkLinuxSLL2).add(t0, sll2(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("RR1")), ipOpts{}))).bytes(),
			want: []Packet{udpPkt(0, t0, "1.2.3.4:1", "5.6.7.8:2", "RR1")},
		},
		{
			name: "BSD loopback, either byte order, IPv4 and IPv6",
			in: newFile(le, false, linkNull).
				add(t0, append([]byte{2, 0, 0, 0}, ipv4(ipUDP, "127.0.0.1", "127.0.0.1", udp(1, 2, []byte("a")), ipOpts{})...)).
				add(t0, append([]byte{0, 0, 0, 2}, ipv4(ipUDP, "127.0.0.1", "127.0.0.1", udp(1, 2, []byte("b")), ipOpts{})...)).
				add(t0, append([]byte{30, 0, 0, 0}, ipv6(ipUDP, "::1", "::1", udp(1, 2, []byte("c")))...)).bytes(), // AF_INET6 of macOS
			want: []Packet{udpPkt(0, t0, "127.0.0.1:1", "127.0.0.1:2", "a"), udpPkt(1, t0, "127.0.0.1:1", "127.0.0.1:2", "b"),
				udpPkt(2, t0, "[::1]:1", "[::1]:2", "c")},
		},
		{
			name: "IPv6 over ethernet: UDP after a hop-by-hop header, TCP",
			in: newFile(le, false, linkEthernet).
				add(t0, ether(etherIPv6, ipv6(0, "fd00::1", "fd00::2", append([]byte{ipUDP, 0, 1, 4, 0, 0, 0, 0}, udp(5000, 3344, []byte("PRu1@PC-c"))...)))).
				add(t1, ether(etherIPv6, ipv6(ipTCP, "fd00::1", "fd00::2", tcp(40000, 43038, 7, []byte("N02u1"))))).bytes(),
			want: []Packet{
				udpPkt(0, t0, "[fd00::1]:5000", "[fd00::2]:3344", "PRu1@PC-c"),
				tcpPkt(1, t1, "[fd00::1]:40000", "[fd00::2]:43038", 7, "N02u1"),
			},
		},
		{
			name: "UDP on any port, DNS's too: the caller tells MI apart",
			in: newFile(le, false, linkLinuxSLL).
				add(t0, sll(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(5353, 40000, []byte("\x12\x34\x81\x80\x00\x01")), ipOpts{}))).bytes(),
			want: []Packet{udpPkt(0, t0, "1.2.3.4:5353", "5.6.7.8:40000", "\x12\x34\x81\x80\x00\x01")},
		},
		{
			name: "skipped: empty payloads, other protocols, fragments, broken headers",
			in: newFile(le, false, linkLinuxSLL).
				add(t0, sll(etherIPv4, ipv4(ipTCP, "1.2.3.4", "5.6.7.8", tcp(1, 2, 100, nil), ipOpts{}))).
				add(t0, sll(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, nil), ipOpts{}))).
				add(t0, sll(etherARP, make([]byte, 28))).
				add(t0, sll(etherIPv4, ipv4(ipICMP, "1.2.3.4", "5.6.7.8", []byte{3, 3, 0, 0, 0, 0, 0, 0}, ipOpts{}))).
				add(t0, sll(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("PRx@y")), ipOpts{flags: 0x2000}))).
				add(t0, sll(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", []byte("tail of a datagram"), ipOpts{flags: 185}))).
				add(t0, sll(etherIPv6, ipv6(44, "::1", "::2", append([]byte{ipUDP, 0, 0, 1, 0, 0, 0, 9}, udp(1, 2, []byte("PRx@y"))...)))).
				add(t0, sll(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("x")), ipOpts{ihl: 16}))).
				add(t0, sll(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", []byte{0, 1, 0, 2}, ipOpts{}))).
				add(t0, sll(etherIPv4, ipv4(ipTCP, "1.2.3.4", "5.6.7.8", tcpOff(1, 2, 0, 15, nil, []byte("N02u1")), ipOpts{}))).
				add(t0, []byte{0, 0, 0, 1}).
				add(t0, sll(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("RR0")), ipOpts{flags: 0x4000}))).
				bytes(),
			// bare ACK, empty datagram, ARP, ICMP, first fragment, later
			// fragment, IPv6 fragment, IHL under 5, UDP header cut, TCP
			// data offset past the segment, cooked header cut: skipped;
			// "don't fragment" is no fragment.
			want: []Packet{udpPkt(11, t0, "1.2.3.4:1", "5.6.7.8:2", "RR0")},
		},
		{
			name: "no records",
			in:   newFile(le, false, linkEthernet).bytes(),
		},
		{
			name: "pcapng, two interfaces of different link types",
			in: ngFile(t, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL},
				ngPacket{1, t0, register},
				ngPacket{0, t1, ether(etherIPv6, ipv6(ipUDP, "fd00::2", "fd00::1", udp(3344, 5000, []byte("RR0"))))},
				ngPacket{0, t1.Add(time.Microsecond), ether(etherARP, make([]byte, 28))},
				ngPacket{1, t1.Add(time.Millisecond), sll(etherIPv4, ipv4(ipTCP, "10.0.0.1", "10.0.0.2", tcp(51875, 43038, 9, []byte("N02u1")), ipOpts{}))},
			),
			want: []Packet{
				udpPkt(0, t0, "10.100.100.101:51189", "10.100.100.103:3344", "PRu1@PC-c"),
				udpPkt(1, t1, "[fd00::2]:3344", "[fd00::1]:5000", "RR0"),
				tcpPkt(3, t1.Add(time.Millisecond), "10.0.0.1:51875", "10.0.0.2:43038", 9, "N02u1"),
			},
		},
		{
			name: "pcapng without packets",
			in:   ngFile(t, []layers.LinkType{layers.LinkTypeEthernet}),
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(bytes.NewReader(tt.in))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, equateAddrs); diff != "" {
				t.Errorf("packets differ (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadCut reads a packet the capture's snap length cut: its payload is
// what was kept, and Cut says so.
func TestReadCut(t *testing.T) {
	whole := sll(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 3344, []byte("PRu1@PC-c")), ipOpts{}))
	in := newFile(le, false, linkLinuxSLL).addCut(t0, whole[:len(whole)-4], len(whole)).bytes()
	got, err := Read(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := udpPkt(0, t0, "1.2.3.4:1", "5.6.7.8:3344", "PRu1@")
	want.Cut = true
	if diff := cmp.Diff([]Packet{want}, got, equateAddrs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReadErrors(t *testing.T) {
	good := newFile(le, false, linkLinuxSLL).add(t0, register)
	hdr := func(order byteOrder, magic uint32, major uint16, link uint32) []byte {
		b := order.AppendUint32(nil, magic)
		b = order.AppendUint16(b, major)
		b = order.AppendUint16(b, 4)
		b = append(b, make([]byte, 8)...)
		b = order.AppendUint32(b, 65535)
		return order.AppendUint32(b, link)
	}
	withRecord := func(f *file, data []byte) []byte {
		g := *f
		g.buf = append([]byte(nil), f.buf...)
		return g.add(t1, data).bytes()
	}
	ng := ngFile(t, []layers.LinkType{layers.LinkTypeLinuxSLL}, ngPacket{0, t0, register}, ngPacket{0, t1, register})
	ngOneLen := len(ngFile(t, []layers.LinkType{layers.LinkTypeLinuxSLL}, ngPacket{0, t0, register}))
	// The second packet's block names an interface the file lacks.
	ngBadIface := append([]byte(nil), ng...)
	binary.LittleEndian.PutUint32(ngBadIface[ngOneLen+8:], 7)

	tests := []struct {
		name     string
		in       []byte
		err      error  // errors.Is
		contains string // in the message
		kept     int    // packets returned with the error
	}{
		{"empty input", nil, ErrTruncated, "file header: truncated: empty input", 0},
		{"three bytes", []byte{0xd4, 0xc3, 0xb2}, ErrTruncated, "file header: truncated: 3 bytes", 0},
		{"short file header", hdr(le, magicMicro, 2, 1)[:10], ErrTruncated, "file header: truncated", 0},
		{"bad magic", []byte("PRu1@PC-c is not a capture"), ErrFormat, "not a pcap or pcapng file: magic 0x50527531", 0},
		{"version 1", hdr(be, magicMicro, 1, 1), ErrMalformed, "version 1", 0},
		{"record header cut", append(good.bytes(), 1, 2, 3), ErrTruncated, "packet 1: truncated", 1},
		{"record cut after its header", withRecord(good, register)[:len(good.bytes())+16], ErrTruncated, "packet 1: truncated: 16 bytes of a record", 1},
		{"record data cut", withRecord(good, register)[:len(good.bytes())+16+5], ErrTruncated, "packet 1: truncated", 1},
		{"huge record", append(good.bytes(), le.AppendUint32(le.AppendUint32(make([]byte, 8), 1<<30), 1<<30)...), ErrMalformed, "packet 1: malformed", 1},
		{"pcapng cut", ng[:len(ng)-3], ErrTruncated, "packet 1: truncated", 1},
		{"pcapng packet of no interface", ngBadIface, ErrMalformed, "packet 1: malformed", 1},
		{"pcapng section header cut", ng[:20], ErrTruncated, "pcapng header: truncated", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(bytes.NewReader(tt.in))
			if err == nil {
				t.Fatalf("Read: no error, %d packets", len(got))
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("error %q is not %q", err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not say %q", err, tt.contains)
			}
			if len(got) != tt.kept {
				t.Errorf("got %d packets with the error, want %d", len(got), tt.kept)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.pcap")
	if err := os.WriteFile(path, newFile(le, false, linkLinuxSLL).add(t0, register).bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Packet{udpPkt(0, t0, "10.100.100.101:51189", "10.100.100.103:3344", "PRu1@PC-c")}
	if diff := cmp.Diff(want, got, equateAddrs); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("not a capture at all, but long enough"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("bad file: %v, want the path and ErrFormat", err)
	}
}

// TestReadCaptures reads the reference captures when they are present.
func TestReadCaptures(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/captures/*.pcap")
	if len(files) == 0 {
		t.Skip("the reference captures are not present")
	}
	want := map[string]int{"agent1-agent2.pcap": 5, "agent1-node1.pcap": 6, "node1-node2.pcap": 2, "node2-agent2.pcap": 6}
	for _, f := range files {
		pkts, err := ReadFile(f)
		if err != nil {
			t.Errorf("%v", err)
		}
		if n, ok := want[filepath.Base(f)]; ok && len(pkts) != n {
			t.Errorf("%s: %d packets, want %d", f, len(pkts), n)
		}
	}
}
