package main

import (
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testPacket is one packet of a capture a test writes.
type testPacket struct {
	at       time.Duration // after testEpoch
	tcp      bool
	src, dst string // ip:port
	seq      uint32
	payload  string
}

var testEpoch = time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)

// writePcap writes a little-endian microsecond pcap of Ethernet frames and
// returns its path.
func writePcap(t *testing.T, name string, pkts []testPacket) string {
	t.Helper()
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0xa1b2c3d4)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 4)
	b = append(b, make([]byte, 8)...)
	b = le.AppendUint32(b, 262144)
	b = le.AppendUint32(b, 1) // Ethernet
	for _, p := range pkts {
		frame := frameOf(p)
		ts := testEpoch.Add(p.at)
		b = le.AppendUint32(b, uint32(ts.Unix()))
		b = le.AppendUint32(b, uint32(ts.Nanosecond()/1000))
		b = le.AppendUint32(b, uint32(len(frame)))
		b = le.AppendUint32(b, uint32(len(frame)))
		b = append(b, frame...)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// frameOf builds the Ethernet, IPv4 and UDP or TCP headers around p's payload.
func frameOf(p testPacket) []byte {
	be := binary.BigEndian
	src, dst := netip.MustParseAddrPort(p.src), netip.MustParseAddrPort(p.dst)
	var l4 []byte
	l4 = be.AppendUint16(l4, src.Port())
	l4 = be.AppendUint16(l4, dst.Port())
	proto := byte(17)
	if p.tcp {
		proto = 6
		l4 = be.AppendUint32(l4, p.seq)
		l4 = be.AppendUint32(l4, 1)
		l4 = append(l4, 5<<4, 0x18, 0xff, 0xff, 0, 0, 0, 0)
	} else {
		l4 = be.AppendUint16(l4, uint16(8+len(p.payload)))
		l4 = append(l4, 0, 0)
	}
	l4 = append(l4, p.payload...)
	ip := []byte{0x45, 0}
	ip = be.AppendUint16(ip, uint16(20+len(l4)))
	ip = append(ip, 0, 1, 0x40, 0, 64, proto, 0, 0)
	s, d := src.Addr().As4(), dst.Addr().As4()
	ip = append(append(append(ip, s[:]...), d[:]...), l4...)
	eth := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0}
	return append(eth, ip...)
}

const (
	agentA = "10.0.0.1:40000"
	nodeA  = "10.0.0.9:3344"
	chatA  = "10.0.0.1:50000"
	chatB  = "10.0.0.2:43038"
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

func TestPcapWritten(t *testing.T) {
	path := writePcap(t, "conv.pcap", testConversation)
	code, stdout, stderr := runLumictl("pcap", path)
	if code != exitFailed {
		t.Errorf("exit %d, want %d for the bad datagram", code, exitFailed)
	}
	if stderr != "" {
		t.Errorf("stderr: %q", stderr)
	}
	want := `2024-01-02T03:04:05.123Z 10.0.0.1:40000 -> 10.0.0.9:3344 PLUMI PR addr=u1@PC-c
2024-01-02T03:04:05.124Z 10.0.0.1:50000 -> 10.0.0.2:43038 PMI N nick=u1
2024-01-02T03:04:05.125Z 10.0.0.2:43038 -> 10.0.0.1:50000 PMI N nick=u2
2024-01-02T03:04:05.125Z 10.0.0.2:43038 -> 10.0.0.1:50000 PMI L text=""
2024-01-02T03:04:05.126Z 10.0.0.1:50000 -> 10.0.0.2:43038 PMI L text="Hola u2!"
2024-01-02T03:04:05.127Z 10.0.0.9:3344 -> 10.0.0.1:40000 PLUMI error: PLUMI: field "type" at offset 0: unknown type: no message has tag "XX"; payload "XXabc"
2024-01-02T03:04:05.128Z 10.0.0.9:3344 -> 10.0.0.1:40000 PLUMI RR code=OK
`
	if diff := cmp.Diff(want, stdout); diff != "" {
		t.Errorf("output differs (-want +got):\n%s", diff)
	}
}

func TestPcapJSON(t *testing.T) {
	path := writePcap(t, "conv.pcap", testConversation)
	code, stdout, _ := runLumictl("pcap", "-json", path)
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
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
			if code != exitFailed {
				t.Errorf("exit %d, want %d", code, exitFailed)
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
		!strings.Contains(stderr, "lumictl pcap: "+cut+": record 6: data: truncated") {
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
		{"not a capture", []string{"pcap", writeFile(t, "PRu1@PC-c is not a pcap file")}, exitFailed, "not a classic pcap file"},
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
