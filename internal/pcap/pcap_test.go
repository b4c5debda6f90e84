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
			in: newFile(le, false, LinkLinuxSLL).add(t0, register).
				add(t1, sll(etherIPv4, ipv4(ipUDP, "10.100.100.103", "10.100.100.101", udp(3344, 51189, []byte("RR0")), ipOpts{}))).bytes(),
			want: []Packet{
				udpPkt(0, t0, "10.100.100.101:51189", "10.100.100.103:3344", "PRu1@PC-c"),
				udpPkt(1, t1, "10.100.100.103:3344", "10.100.100.101:51189", "RR0"),
			},
		},
		{
			name: "big endian nanoseconds, ethernet, TCP with options",
			in: newFile(be, true, LinkEthernet).add(t0.Add(123), ether(etherIPv4, ipv4(ipTCP, "10.0.0.1", "10.0.0.2",
				tcpOpts(51875, 43038, 2039567717, []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, []byte("N02u1")), ipOpts{}))).bytes(),
			want: []Packet{tcpPkt(0, t0.Add(123), "10.0.0.1:51875", "10.0.0.2:43038", 2039567717, "N02u1")},
		},
		{
			name: "big endian microseconds",
			in:   newFile(be, false, LinkLinuxSLL).add(t0, register).bytes(),
			want: []Packet{udpPkt(0, t0, "10.100.100.101:51189", "10.100.100.103:3344", "PRu1@PC-c")},
		},
		{
			name: "little endian nanoseconds",
			in:   newFile(le, true, LinkLinuxSLL).add(t0.Add(1), register).bytes(),
			want: []Packet{udpPkt(0, t0.Add(1), "10.100.100.101:51189", "10.100.100.103:3344", "PRu1@PC-c")},
		},
		{
			name: "ethernet padding is not payload",
			in: newFile(le, false, LinkEthernet).add(t0, append(ether(etherIPv4,
				ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(3344, 3344, []byte("RR0")), ipOpts{})), make([]byte, 15)...)).bytes(),
			want: []Packet{udpPkt(0, t0, "1.2.3.4:3344", "5.6.7.8:3344", "RR0")},
		},
		{
			name: "ethernet VLAN tag",
			in: newFile(le, false, LinkEthernet).add(t0, ether(0x8100, append([]byte{0, 7, 8, 0},
				ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("RD0")), ipOpts{})...))).bytes(),
			want: []Packet{udpPkt(0, t0, "1.2.3.4:1", "5.6.7.8:2", "RD0")},
		},
		{
			name: "raw IPv4 with IP options",
			in: newFile(le, false, LinkRaw).add(t0, ipv4(ipUDP, "1.2.3.4", "5.6.7.8",
				udp(1000, 3344, []byte("PDu1@PC-c")), ipOpts{options: []byte{1, 1, 1, 0}})).bytes(),
			want: []Packet{udpPkt(0, t0, "1.2.3.4:1000", "5.6.7.8:3344", "PDu1@PC-c")},
		},
		{
			name: "link type IPv4",
			in:   newFile(le, false, LinkIPv4).add(t0, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("RR1")), ipOpts{})).bytes(),
			want: []Packet{udpPkt(0, t0, "1.2.3.4:1", "5.6.7.8:2", "RR1")},
		},
		{
			name: "cooked v2",
			in:   newFile(le, false, LinkLinuxSLL2).add(t0, sll2(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("RR1")), ipOpts{}))).bytes(),
			want: []Packet{udpPkt(0, t0, "1.2.3.4:1", "5.6.7.8:2", "RR1")},
		},
		{
			name: "BSD loopback, either byte order",
			in: newFile(le, false, LinkNull).
				add(t0, append([]byte{2, 0, 0, 0}, ipv4(ipUDP, "127.0.0.1", "127.0.0.1", udp(1, 2, []byte("a")), ipOpts{})...)).
				add(t0, append([]byte{0, 0, 0, 2}, ipv4(ipUDP, "127.0.0.1", "127.0.0.1", udp(1, 2, []byte("b")), ipOpts{})...)).
				add(t0, append([]byte{30, 0, 0, 0}, 0x60, 0, 0, 0)).bytes(), // AF_INET6: skipped
			want: []Packet{udpPkt(0, t0, "127.0.0.1:1", "127.0.0.1:2", "a"), udpPkt(1, t0, "127.0.0.1:1", "127.0.0.1:2", "b")},
		},
		{
			name: "skipped: empty payloads, other protocols, fragments",
			in: newFile(le, false, LinkLinuxSLL).
				add(t0, sll(etherIPv4, ipv4(ipTCP, "1.2.3.4", "5.6.7.8", tcp(1, 2, 100, nil), ipOpts{}))).
				add(t0, sll(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, nil), ipOpts{}))).
				add(t0, sll(etherARP, make([]byte, 28))).
				add(t0, sll(etherIPv6, make([]byte, 40))).
				add(t0, sll(etherIPv4, ipv4(ipICMP, "1.2.3.4", "5.6.7.8", []byte{3, 3, 0, 0, 0, 0, 0, 0}, ipOpts{}))).
				add(t0, sll(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("PRx@y")), ipOpts{flags: 0x2000}))).
				add(t0, sll(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", []byte("tail of a datagram"), ipOpts{flags: 185}))).
				add(t0, sll(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("RR0")), ipOpts{flags: 0x4000}))).
				bytes(),
			// bare ACK, empty datagram, ARP, IPv6, ICMP, first fragment,
			// later fragment: skipped; "don't fragment" is no fragment.
			want: []Packet{udpPkt(7, t0, "1.2.3.4:1", "5.6.7.8:2", "RR0")},
		},
		{
			name: "no records",
			in:   newFile(le, false, LinkEthernet).bytes(),
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

func TestReadErrors(t *testing.T) {
	good := newFile(le, false, LinkLinuxSLL).add(t0, register)
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
	udpIn := func(o ipOpts, seg []byte) []byte { return sll(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", seg, o)) }
	tcpIn := func(seg []byte) []byte { return sll(etherIPv4, ipv4(ipTCP, "1.2.3.4", "5.6.7.8", seg, ipOpts{})) }

	tests := []struct {
		name     string
		in       []byte
		err      error  // errors.Is
		contains string // in the message
		kept     int    // packets returned with the error
	}{
		{"empty input", nil, ErrTruncated, "file header: truncated: empty input", 0},
		{"short file header", hdr(le, magicMicro, 2, 1)[:10], ErrTruncated, "10 of 24 bytes", 0},
		{"bad magic", hdr(le, 0xdeadbeef, 2, 1), ErrFormat, "magic", 0},
		{"pcapng", hdr(le, magicNG, 2, 1), ErrFormat, "pcapng", 0},
		{"version 1", hdr(be, magicMicro, 1, 1), ErrFormat, "version 1.4", 0},
		{"unsupported link type", hdr(le, magicNano, 2, 105), ErrLinkType, "link type 105", 0},
		{"record header cut", append(good.bytes(), 1, 2, 3), ErrTruncated, "record 1: header: truncated: 3 of 16 bytes", 1},
		{"record data cut", withRecord(good, register)[:len(good.bytes())+16+5], ErrTruncated, "record 1: data: truncated: 5 of 53 bytes", 1},
		{"huge record", append(good.bytes(), le.AppendUint32(le.AppendUint32(make([]byte, 8), 1<<30), 1<<30)...), ErrMalformed, "record 1: malformed: captured length 1073741824", 1},
		{"cooked header cut", withRecord(good, []byte{0, 0, 0, 1}), ErrTruncated, "record 1: cooked header: truncated: 4 bytes", 1},
		{"ethernet header cut", newFile(le, false, LinkEthernet).add(t0, make([]byte, 13)).bytes(), ErrTruncated, "record 0: ethernet header", 0},
		{"IPv4 header cut", withRecord(good, sll(etherIPv4, make([]byte, 19))), ErrTruncated, "record 1: IPv4 header: truncated: 19 bytes", 1},
		{"IP version 6 in an IPv4 frame", withRecord(good, udpIn(ipOpts{version: 6}, udp(1, 2, []byte("x")))), ErrMalformed, "version 6", 1},
		{"IHL under 5", withRecord(good, udpIn(ipOpts{ihl: 16}, udp(1, 2, []byte("x")))), ErrMalformed, "header length 16", 1},
		{"total length under IHL", withRecord(good, udpIn(ipOpts{total: 12}, udp(1, 2, []byte("x")))), ErrMalformed, "total length 12 under header length 20", 1},
		{"total length over captured", withRecord(good, udpIn(ipOpts{total: 200}, udp(1, 2, []byte("x")))), ErrTruncated, "total length 200, captured 29", 1},
		{"UDP header cut", withRecord(good, udpIn(ipOpts{}, []byte{0, 1, 0, 2})), ErrTruncated, "UDP header: truncated: 4 bytes", 1},
		{"UDP length over IP payload", withRecord(good, udpIn(ipOpts{}, udpLen(1, 2, []byte("x"), 10))), ErrMalformed, "UDP header: malformed: length 10, IP payload 9", 1},
		{"UDP length under 8", withRecord(good, udpIn(ipOpts{}, udpLen(1, 2, []byte("x"), 7))), ErrMalformed, "length 7", 1},
		{"TCP header cut", withRecord(good, tcpIn(make([]byte, 12))), ErrTruncated, "TCP header: truncated: 12 bytes", 1},
		{"TCP data offset under 5", withRecord(good, tcpIn(tcpOff(1, 2, 0, 4, nil, []byte("N02u1")))), ErrMalformed, "data offset 16", 1},
		{"TCP data offset past the segment", withRecord(good, tcpIn(tcpOff(1, 2, 0, 15, nil, []byte("N02u1")))), ErrMalformed, "data offset 60, segment 25", 1},
	}
	// A packet cut by a small snap length says so.
	cut := udpIn(ipOpts{}, udp(1, 2, []byte("PRu1@PC-c")))
	tests = append(tests, struct {
		name     string
		in       []byte
		err      error
		contains string
		kept     int
	}{"snap length", newFile(le, false, LinkLinuxSLL).addCut(t0, cut[:len(cut)-4], len(cut)).bytes(), ErrTruncated, "snap length too small", 0})

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

// TestReadBadFraction sets the sub-second part of a timestamp over a second.
func TestReadBadFraction(t *testing.T) {
	for _, nano := range []bool{false, true} {
		b := newFile(le, nano, LinkLinuxSLL).add(t0, register).bytes()
		le.PutUint32(b[24+4:], 2e9)
		_, err := Read(bytes.NewReader(b))
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "record 0") {
			t.Errorf("nano=%v: error %v, want record 0 malformed", nano, err)
		}
	}
}

func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.pcap")
	if err := os.WriteFile(path, newFile(le, false, LinkLinuxSLL).add(t0, register).bytes(), 0o644); err != nil {
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
