package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/miekg/dns"
)

// testPacket is one packet of a capture a test writes.
type testPacket struct {
	at       time.Duration // after testEpoch
	tcp      bool
	src, dst string // ip:port, IPv4 or IPv6
	seq      uint32
	payload  string
	cut      int // bytes of the frame's end the capture did not keep
}

var testEpoch = time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)

// captureWriter writes a capture of Ethernet frames, as tcpdump or tshark
// would: pcap or pcapng.
type captureWriter struct {
	name  string // the file's extension
	write func(w io.Writer, pkts []testPacket) error
}

var captureWriters = []captureWriter{
	{"pcap", func(w io.Writer, pkts []testPacket) error {
		pw := pcapgo.NewWriter(w)
		if err := pw.WriteFileHeader(262144, layers.LinkTypeEthernet); err != nil {
			return err
		}
		for _, p := range pkts {
			frame, ci := frameOf(p)
			if err := pw.WritePacket(ci, frame); err != nil {
				return err
			}
		}
		return nil
	}},
	{"pcapng", func(w io.Writer, pkts []testPacket) error {
		nw, err := pcapgo.NewNgWriter(w, layers.LinkTypeEthernet)
		if err != nil {
			return err
		}
		for _, p := range pkts {
			frame, ci := frameOf(p)
			if err := nw.WritePacket(ci, frame); err != nil {
				return err
			}
		}
		return nw.Flush()
	}},
}

// listsInEveryFormat writes pkts as a capture of each format and checks
// that lumictl pcap lists them as want, exits 0 and writes no error.
func listsInEveryFormat(t *testing.T, name string, pkts []testPacket, want string) {
	t.Helper()
	for _, cw := range captureWriters {
		t.Run(cw.name, func(t *testing.T) {
			path := writeCapture(t, cw, name, pkts)
			code, stdout, stderr := runLumictl("pcap", path)
			if code != exitOK || stderr != "" {
				t.Errorf("exit %d, stderr %q; want %d and nothing", code, stderr, exitOK)
			}
			if diff := cmp.Diff(want, stdout); diff != "" {
				t.Errorf("output differs (-want +got):\n%s", diff)
			}
		})
	}
}

// writeCapture writes pkts with cw and returns the file's path.
func writeCapture(t *testing.T, cw captureWriter, name string, pkts []testPacket) string {
	t.Helper()
	var buf bytes.Buffer
	if err := cw.write(&buf, pkts); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+"."+cw.name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writePcap writes a classic pcap of pkts and returns its path.
func writePcap(t *testing.T, name string, pkts []testPacket) string {
	t.Helper()
	return writeCapture(t, captureWriters[0], strings.TrimSuffix(name, ".pcap"), pkts)
}

// frameOf builds the Ethernet, IP and UDP or TCP headers around p's
// payload with gopacket's layers, and the capture info of the frame.
func frameOf(p testPacket) ([]byte, gopacket.CaptureInfo) {
	src, dst := netip.MustParseAddrPort(p.src), netip.MustParseAddrPort(p.dst)
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2},
		EthernetType: layers.EthernetTypeIPv4}
	proto := layers.IPProtocolUDP
	if p.tcp {
		proto = layers.IPProtocolTCP
	}
	var ip interface {
		gopacket.NetworkLayer
		gopacket.SerializableLayer
	}
	if src.Addr().Is4() {
		ip = &layers.IPv4{Version: 4, TTL: 64, Flags: layers.IPv4DontFragment, Protocol: proto,
			SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip = &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
	}
	var l4 gopacket.SerializableLayer
	if p.tcp {
		tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: p.seq, Ack: 1,
			ACK: true, PSH: p.payload != "", Window: 65535}
		tcp.SetNetworkLayerForChecksum(ip)
		l4 = tcp
	} else {
		udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
		udp.SetNetworkLayerForChecksum(ip)
		l4 = udp
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, l4, gopacket.Payload(p.payload)); err != nil {
		panic(err)
	}
	frame := buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: testEpoch.Add(p.at), CaptureLength: len(frame) - p.cut, Length: len(frame)}
	return frame[:len(frame)-p.cut], ci
}

// dnsWire is a DNS query or answer as the demo's resolver and DNS server
// send them.
func dnsWire(answer bool) string {
	m := new(dns.Msg)
	m.SetQuestion("_lumi._udp.PC-c.", dns.TypeSRV)
	m.Id = 0x1234
	if answer {
		r := new(dns.Msg)
		r.SetReply(m)
		r.Answer = append(r.Answer, &dns.SRV{Hdr: dns.RR_Header{Name: "_lumi._udp.PC-c.", Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 60},
			Port: 3344, Target: "node.PC-c."})
		m = r
	}
	b, err := m.Pack()
	if err != nil {
		panic(err)
	}
	return string(b)
}

const (
	agentA = "10.0.0.1:40000"
	nodeA  = "10.0.0.9:3344"
	chatA  = "10.0.0.1:50000"
	chatB  = "10.0.0.2:43038"
	agent6 = "[fd00::1]:40000"
	node6  = "[fd00::9]:3344"
)

// testConversation has a registration, a chat whose messages are split and
// joined across segments, a DNS query, a bare ACK and a bad datagram.
var testConversation = []testPacket{
	{at: 0, src: agentA, dst: nodeA, payload: "PRu1@PC-c"},
	{at: 500 * time.Microsecond, src: agentA, dst: "10.0.0.53:53", payload: "\x12\x34 not MI"},
	{at: time.Millisecond, tcp: true, src: chatA, dst: chatB, seq: 1000, payload: "N02u1L0"},
	{at: 1500 * time.Microsecond, tcp: true, src: chatB, dst: chatA, seq: 5000},
	{at: 2 * time.Millisecond, tcp: true, src: chatB, dst: chatA, seq: 5000, payload: "N02u2L00"},
	{at: 3 * time.Millisecond, tcp: true, src: chatA, dst: chatB, seq: 1007, payload: "8Hola u2!"},
	{at: 3100 * time.Microsecond, tcp: true, src: chatA, dst: chatB, seq: 1007, payload: "8Hola u2!"}, // retransmitted
	{at: 4 * time.Millisecond, src: nodeA, dst: agentA, payload: "XXabc"},
	{at: 5 * time.Millisecond, src: nodeA, dst: agentA, payload: "RR0"},
}

// testDemo is what a capture of the demo holds besides the conversation:
// DNS on the demo's own port (not 53), in both directions; PLUMI between
// a node and an agent on ports other than 3344; PLUMI over IPv6; a
// datagram of another protocol on another port.
var testDemo = append(append([]testPacket(nil), testConversation...), []testPacket{
	{at: 6 * time.Millisecond, src: "127.0.0.1:45678", dst: "127.0.0.1:5300", payload: dnsWire(false)},
	{at: 6100 * time.Microsecond, src: "127.0.0.1:5300", dst: "127.0.0.1:45678", payload: dnsWire(true)},
	{at: 7 * time.Millisecond, src: "127.0.0.1:41000", dst: "127.0.0.1:4000", payload: "PRu3@PC-d"},
	{at: 7100 * time.Microsecond, src: "127.0.0.1:4000", dst: "127.0.0.1:41000", payload: "RR0"},
	{at: 8 * time.Millisecond, src: "127.0.0.1:41000", dst: "127.0.0.1:4000", payload: "hello, not PLUMI"},
	{at: 9 * time.Millisecond, src: agent6, dst: node6, payload: "PRu1@PC-c"},
	{at: 9100 * time.Microsecond, src: node6, dst: agent6, payload: "RR0"},
}...)

// TestPcapDemo lists a capture of the demo's traffic, as pcapng (what
// tshark writes) and as pcap: the MI messages, on port 3344 or not, over
// IPv4 and IPv6; the bad datagram on 3344 as an error; the DNS and the
// other datagrams not at all. The file was read, so the exit status is 0.
func TestPcapDemo(t *testing.T) {
	want := `2024-01-02T03:04:05.123Z 10.0.0.1:40000 -> 10.0.0.9:3344 PLUMI PR addr=u1@PC-c
2024-01-02T03:04:05.124Z 10.0.0.1:50000 -> 10.0.0.2:43038 PMI N nick=u1
2024-01-02T03:04:05.125Z 10.0.0.2:43038 -> 10.0.0.1:50000 PMI N nick=u2
2024-01-02T03:04:05.125Z 10.0.0.2:43038 -> 10.0.0.1:50000 PMI L text=""
2024-01-02T03:04:05.126Z 10.0.0.1:50000 -> 10.0.0.2:43038 PMI L text="Hola u2!"
2024-01-02T03:04:05.127Z 10.0.0.9:3344 -> 10.0.0.1:40000 PLUMI error: PLUMI: field "type" at offset 0: unknown type: no message has tag "XX"; payload "XXabc"
2024-01-02T03:04:05.128Z 10.0.0.9:3344 -> 10.0.0.1:40000 PLUMI RR code=OK
2024-01-02T03:04:05.130Z 127.0.0.1:41000 -> 127.0.0.1:4000 PLUMI PR addr=u3@PC-d
2024-01-02T03:04:05.130Z 127.0.0.1:4000 -> 127.0.0.1:41000 PLUMI RR code=OK
2024-01-02T03:04:05.132Z [fd00::1]:40000 -> [fd00::9]:3344 PLUMI PR addr=u1@PC-c
2024-01-02T03:04:05.132Z [fd00::9]:3344 -> [fd00::1]:40000 PLUMI RR code=OK
`
	listsInEveryFormat(t, "demo", testDemo, want)
}

// TestPcapOtherTCP: PMI has no port, so a TCP connection is PMI only if
// one of its sides opens with a PMI message, as Wireshark's dissector
// decides. The node's metrics scraped over HTTP, a cluster's Redis (RESP,
// and an inline command that starts with a PMI tag) and an SSH banner are
// skipped without a line. In a chat a third message that does not decode
// is an error line, the other side's messages are listed, and so is a
// first message that does not decode when the other side's did.
func TestPcapOtherTCP(t *testing.T) {
	const (
		scraper = "10.0.0.7:51000"
		metrics = "10.0.0.9:9344"
		client  = "10.0.0.9:52000"
		redis   = "10.0.0.8:6379"
		inline  = "10.0.0.9:52001"
		sshC    = "10.0.0.7:53000"
		sshD    = "10.0.0.9:22"
		caller  = "10.0.0.3:50001"
		callee  = "10.0.0.4:43100"
		caller2 = "10.0.0.5:50002"
		callee2 = "10.0.0.6:43101"
	)
	pkts := []testPacket{
		{at: 0, tcp: true, src: scraper, dst: metrics, seq: 100, payload: "GET /metrics HTTP/1.1\r\nHost: 10.0.0.9:9344\r\n\r\n"},
		{at: 100 * time.Microsecond, tcp: true, src: metrics, dst: scraper, seq: 900,
			payload: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 28\r\n\r\nlumi_node_registered_users 2\n"},
		{at: time.Millisecond, tcp: true, src: client, dst: redis, seq: 10, payload: "*3\r\n$4\r\nHGET\r\n$8\r\nlumi:reg\r\n$2\r\nu1\r\n"},
		{at: 1100 * time.Microsecond, tcp: true, src: redis, dst: client, seq: 20, payload: "$24\r\nnode-a 10.0.0.1:40000 60\r\n"},
		{at: 1200 * time.Microsecond, tcp: true, src: inline, dst: redis, seq: 30, payload: "LLEN lumi:queue\r\n"},
		{at: 1300 * time.Microsecond, tcp: true, src: redis, dst: inline, seq: 40, payload: ":0\r\n"},
		{at: 1500 * time.Microsecond, tcp: true, src: sshD, dst: sshC, seq: 50, payload: "SSH-2.0-OpenSSH_9.6\r\n"},
		{at: 2 * time.Millisecond, tcp: true, src: caller, dst: callee, seq: 1, payload: "N02u1"},
		{at: 2100 * time.Microsecond, tcp: true, src: callee, dst: caller, seq: 1, payload: "N02u2"},
		{at: 3 * time.Millisecond, tcp: true, src: caller, dst: callee, seq: 6, payload: "L02hiL03a\nbL02ok"},
		{at: 4 * time.Millisecond, tcp: true, src: callee, dst: caller, seq: 6, payload: "L03bye"},
		{at: 5 * time.Millisecond, tcp: true, src: caller2, dst: callee2, seq: 1, payload: "N02u3"},
		{at: 5100 * time.Microsecond, tcp: true, src: callee2, dst: caller2, seq: 1, payload: "N02u\x01"},
	}
	want := `2024-01-02T03:04:05.125Z 10.0.0.3:50001 -> 10.0.0.4:43100 PMI N nick=u1
2024-01-02T03:04:05.125Z 10.0.0.4:43100 -> 10.0.0.3:50001 PMI N nick=u2
2024-01-02T03:04:05.126Z 10.0.0.3:50001 -> 10.0.0.4:43100 PMI L text=hi
2024-01-02T03:04:05.126Z 10.0.0.3:50001 -> 10.0.0.4:43100 PMI error: PMI L: field "text" at offset 14: bad field: byte 0x0a not allowed; payload "L03a\nbL02ok"
2024-01-02T03:04:05.127Z 10.0.0.4:43100 -> 10.0.0.3:50001 PMI L text=bye
2024-01-02T03:04:05.128Z 10.0.0.5:50002 -> 10.0.0.6:43101 PMI N nick=u3
2024-01-02T03:04:05.128Z 10.0.0.6:43101 -> 10.0.0.5:50002 PMI error: PMI N: field "nick" at offset 4: bad field: byte 0x01 not allowed; payload "N02u\x01"
`
	listsInEveryFormat(t, "other", pkts, want)
}

// TestOpensPMI: the rows of the rule that tells a PMI connection from other
// TCP traffic.
func TestOpensPMI(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       bool
	}{
		{"a nickname", "N02u1", true},
		{"a line, then more", "L02hiN", true},
		{"a first message, then one that does not decode", "N02u1X02ab", true},
		{"cut inside the first message", "N05ab", true},
		{"cut inside the length", "N0", true},
		{"cut after the tag", "L", true},
		{"cut after a tag and a letter", "LL", false},
		{"a PMI tag, no length", "LLEN lumi:queue\r\n", false},
		{"a first message that does not decode", "N02\x01\x02N02u1", false},
		{"unknown tag", "GET / HTTP/1.1\r\n", false},
		{"a Redis array", "*1\r\n$4\r\nPING\r\n", false},
	} {
		if got := opensPMI([]byte(tc.data)); got != tc.want {
			t.Errorf("%s: opensPMI(%q) = %v, want %v", tc.name, tc.data, got, tc.want)
		}
	}
}

func TestPcapJSON(t *testing.T) {
	path := writePcap(t, "conv.pcap", testConversation)
	code, stdout, _ := runLumictl("pcap", "-json", path)
	if code != exitOK {
		t.Errorf("exit %d, want %d", code, exitOK)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 7 {
		t.Fatalf("%d lines, want 7:\n%s", len(lines), stdout)
	}
	var got []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line is not JSON: %v: %s", err, l)
		}
		got = append(got, m)
	}
	want0 := map[string]any{"file": path, "time": "2024-01-02T03:04:05.123456Z", "src": agentA, "dst": nodeA,
		"protocol": "PLUMI", "type": "PR", "fields": map[string]any{"addr": "u1@PC-c"}}
	if diff := cmp.Diff(want0, got[0]); diff != "" {
		t.Errorf("first line (-want +got):\n%s", diff)
	}
	want4 := map[string]any{"file": path, "time": "2024-01-02T03:04:05.126456Z", "src": chatA, "dst": chatB,
		"protocol": "PMI", "type": "L", "fields": map[string]any{"text": "Hola u2!"}}
	if diff := cmp.Diff(want4, got[4]); diff != "" {
		t.Errorf("PMI line (-want +got):\n%s", diff)
	}
	want5 := map[string]any{"file": path, "time": "2024-01-02T03:04:05.127456Z", "src": nodeA, "dst": agentA,
		"protocol": "PLUMI", "payload": "XXabc",
		"error": `PLUMI: field "type" at offset 0: unknown type: no message has tag "XX"`}
	if diff := cmp.Diff(want5, got[5]); diff != "" {
		t.Errorf("error line (-want +got):\n%s", diff)
	}
}

// TestPcapSnapLength: a datagram that the capture's snap length cut short
// is an error line that says so, whether what is left decodes or not.
func TestPcapSnapLength(t *testing.T) {
	path := writePcap(t, "cut.pcap", []testPacket{
		{src: agentA, dst: nodeA, payload: "PRuser1@PC-c.example", cut: 3},
		{at: time.Millisecond, src: agentA, dst: nodeA, payload: "PRuser1@PC-c.example", cut: 15},
	})
	code, stdout, _ := runLumictl("pcap", path)
	want := `2024-01-02T03:04:05.123Z 10.0.0.1:40000 -> 10.0.0.9:3344 PLUMI error: the capture kept only the start of this datagram: ` +
		`snap length too small; payload "PRuser1@PC-c.exam"
2024-01-02T03:04:05.124Z 10.0.0.1:40000 -> 10.0.0.9:3344 PLUMI error: PLUMI PR: ` +
		`field "addr.user" at offset 5: bad separator: missing '@' (the capture kept only the start of this datagram: snap length too small); payload "PRuse"
`
	if code != exitOK {
		t.Errorf("exit %d, want %d", code, exitOK)
	}
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("output differs (-want +got):\n%s", diff)
	}
}

func TestPcapStreamErrors(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    string
	}{
		{"ends inside a message", "N02u1L05ab",
			`PMI error: PMI: field "info" at offset 10: truncated: stream ended inside a message; payload "L05ab"`},
		{"bad type mid-stream", "N02u1X02ab",
			`PMI error: PMI: field "type" at offset 5: unknown type: no message has tag "X"; payload "X02ab"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writePcap(t, "x.pcap", []testPacket{{tcp: true, src: chatA, dst: chatB, seq: 7, payload: tt.payload}})
			code, stdout, _ := runLumictl("pcap", path)
			if code != exitOK {
				t.Errorf("exit %d, want %d: a stream that fails is a line of the listing", code, exitOK)
			}
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if len(lines) != 2 || !strings.HasSuffix(lines[0], "PMI N nick=u1") || !strings.HasSuffix(lines[1], tt.want) {
				t.Errorf("output:\n%s\nwant a nick line, then one ending %s", stdout, tt.want)
			}
		})
	}
}

func TestPcapFiles(t *testing.T) {
	good := writePcap(t, "good.pcap", testConversation[:7])
	other := writePcap(t, "other.pcap", testConversation[8:])

	code, stdout, stderr := runLumictl("pcap", good, other)
	if code != exitOK || stderr != "" {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if !strings.HasPrefix(stdout, "==> "+good+" <==\n") || !strings.Contains(stdout, "\n\n==> "+other+" <==\n") {
		t.Errorf("no file headers:\n%s", stdout)
	}

	_, stdout, _ = runLumictl("pcap", "-json", good, other)
	if strings.Contains(stdout, "==>") || strings.Count(stdout, "\n") != 6 {
		t.Errorf("-json over two files:\n%s", stdout)
	}

	// A capture cut short: what it holds, then the error.
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(cut, b[:len(b)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runLumictl("pcap", cut)
	if code != exitFailed || !strings.Contains(stdout, "PLUMI PR addr=u1@PC-c") ||
		!strings.Contains(stderr, "lumictl pcap: "+cut+": packet 6: truncated") {
		t.Errorf("cut capture: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no file", []string{"pcap"}, exitUsage, "lumictl pcap: missing FILE"},
		{"missing file", []string{"pcap", filepath.Join(t.TempDir(), "none.pcap")}, exitFailed, "no such file"},
		{"not a capture", []string{"pcap", writeFile(t, "PRu1@PC-c is not a pcap file")}, exitFailed, ": file header: not a pcap or pcapng file"},
	}
	for _, tt := range tests {
		code, _, stderr := runLumictl(tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want %d, %q", tt.name, code, stderr, tt.code, tt.stderr)
		}
	}
}

func writeFile(t *testing.T, content string) string {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPcapCaptures lists the reference captures, when present: every
// payload decodes, so the exit status is 0.
func TestPcapCaptures(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/captures/*.pcap")
	if len(files) == 0 {
		t.Skip("the reference captures are not present")
	}
	code, stdout, stderr := runLumictl(append([]string{"pcap"}, files...)...)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		"10.100.100.101:51189 -> 10.100.100.103:3344 PLUMI PR addr=u1@PC-c\n",
		"10.100.100.104:3344 -> 10.100.100.103:3344 PLUMI RL code=Found from=u1@PC-c to=u2@PC-d ip=10.100.100.102 port=43038\n",
		"2020-12-22T20:14:27.079Z 10.100.100.101:51875 -> 10.100.100.102:43038 PMI L text=\"Be, haig de marxar, adeu\"\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if n := strings.Count(stdout, " -> "); n != 19 {
		t.Errorf("%d messages, want 19:\n%s", n, stdout)
	}

	code, stdout, _ = runLumictl(append([]string{"pcap", "-json"}, files...)...)
	if code != exitOK {
		t.Fatalf("-json: exit %d", code)
	}
	for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		var m struct {
			Protocol, Type, Error string
			Fields                map[string]any
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil || m.Type == "" || m.Error != "" || m.Fields == nil {
			t.Errorf("line %s: %+v, %v", l, m, err)
		}
	}
}

// The help's examples use files a user can have, not a path of this
// project's machines.
func TestPcapHelp(t *testing.T) {
	code, stdout, stderr := runLumictl("pcap", "-h")
	help := stdout + stderr
	if code != exitOK {
		t.Errorf("exit %d, want %d", code, exitOK)
	}
	if !strings.Contains(help, "Examples:\n  lumictl pcap capture.pcap\n") {
		t.Errorf("help lacks the example with a capture of one's own:\n%s", help)
	}
	if strings.Contains(help, "/work/") || strings.Contains(help, "shared/captures") {
		t.Errorf("help shows a path users do not have:\n%s", help)
	}
}

// TestPcapCapturesNG lists the reference captures, when present, written
// again as pcapng (as tshark and Wireshark save them): the same lines.
func TestPcapCapturesNG(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/captures/*.pcap")
	if len(files) == 0 {
		t.Skip("the reference captures are not present")
	}
	for _, file := range files {
		ng := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(file), ".pcap")+".pcapng")
		toNG(t, file, ng)
		code, want, _ := runLumictl("pcap", file)
		code2, got, stderr := runLumictl("pcap", ng)
		if code != exitOK || code2 != exitOK || stderr != "" {
			t.Errorf("%s: exit %d, as pcapng %d, stderr %q", file, code, code2, stderr)
		}
		if diff := cmp.Diff(want, got); diff != "" || want == "" {
			t.Errorf("%s as pcapng differs (-pcap +pcapng):\n%s", file, diff)
		}
	}
}

// toNG copies the pcap file src to the pcapng file dst.
func toNG(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	r, err := pcapgo.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriter(&buf, r.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
