package datalog

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mi/internal/syncbuf"
	"mi/wire"

	"github.com/google/go-cmp/cmp"
)

// logEvent is one datagram as the node saw it.
type logEvent struct {
	dir      byte // 'E' sent, 'R' received
	peer     string
	datagram string
}

// pcC is captures/nodelumi-PC-c.log: node PC-c serving u1's register,
// locate of u2@PC-d (through node PC-d) and deregister.
var pcC = struct {
	events []logEvent
	text   string
}{
	events: []logEvent{
		{'R', "10.100.100.101:51189", "PRu1@PC-c"},
		{'E', "10.100.100.101:51189", "RR0"},
		{'R', "10.100.100.101:51189", "PLu1@PC-c:u2@PC-d"},
		{'E', "10.100.100.104:3344", "PLu1@PC-c:u2@PC-d"},
		{'R', "10.100.100.104:3344", "RL0u1@PC-c:u2@PC-d:10.100.100.102:43038"},
		{'E', "10.100.100.101:51189", "RL0u1@PC-c:u2@PC-d:10.100.100.102:43038"},
		{'R', "10.100.100.101:51189", "PDu1@PC-c"},
		{'E', "10.100.100.101:51189", "RD0"},
	},
	text: "------ INICI LOG ------\n" +
		"R: 10.100.100.101:UDP:51189, PRu1@PC-c, 9\n" +
		"E: 10.100.100.101:UDP:51189, RR0, 3\n" +
		"R: 10.100.100.101:UDP:51189, PLu1@PC-c:u2@PC-d, 17\n" +
		"E: 10.100.100.104:UDP:3344, PLu1@PC-c:u2@PC-d, 17\n" +
		"R: 10.100.100.104:UDP:3344, RL0u1@PC-c:u2@PC-d:10.100.100.102:43038, 39\n" +
		"E: 10.100.100.101:UDP:51189, RL0u1@PC-c:u2@PC-d:10.100.100.102:43038, 39\n" +
		"R: 10.100.100.101:UDP:51189, PDu1@PC-c, 9\n" +
		"E: 10.100.100.101:UDP:51189, RD0, 3\n" +
		"------ FINAL LOG ------\n",
}

// replay logs events through a new DataLog and returns what it wrote.
func replay(t *testing.T, events []logEvent) string {
	t.Helper()
	var out syncbuf.Buffer
	l := NewDataLog(&out)
	for _, e := range events {
		peer := netip.MustParseAddrPort(e.peer)
		switch e.dir {
		case 'E':
			l.Sent(peer, []byte(e.datagram))
		case 'R':
			l.Received(peer, []byte(e.datagram))
		default:
			t.Fatalf("bad direction %q", e.dir)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestDataLogReference(t *testing.T) {
	got := replay(t, pcC.events)
	if diff := cmp.Diff(pcC.text, got); diff != "" {
		t.Errorf("log mismatch (-nodelumi-PC-c.log +DataLog):\n%s", diff)
	}
}

// TestDataLogCaptureFiles replays every log of the reference and compares
// the result with the file, byte for byte.
func TestDataLogCaptureFiles(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "captures")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("../shared/captures not present: ", err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("../shared/captures holds no *.log")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := replay(t, parseLog(t, string(want)))
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("log mismatch (-%s +DataLog):\n%s", file, diff)
			}
		})
	}
}

// The embedded table must be what the parser reads from its own text, or
// the capture-file test would prove less than it seems.
func TestParseLogMatchesTable(t *testing.T) {
	got := parseLog(t, pcC.text)
	if diff := cmp.Diff(pcC.events, got, cmp.AllowUnexported(logEvent{})); diff != "" {
		t.Errorf("parseLog mismatch (-table +parsed):\n%s", diff)
	}
}

// parseLog reads one run of a reference log back into events.
func parseLog(t *testing.T, text string) []logEvent {
	t.Helper()
	lines := strings.SplitAfter(text, "\n")
	if len(lines) < 3 || lines[0] != Start || lines[len(lines)-2] != End || lines[len(lines)-1] != "" {
		t.Fatalf("not one framed run: %q", text)
	}
	var events []logEvent
	for i, line := range lines[1 : len(lines)-2] {
		e, err := parseLogLine(strings.TrimSuffix(line, "\n"))
		if err != nil {
			t.Fatalf("line %d: %v", i+2, err)
		}
		events = append(events, e)
	}
	return events
}

// parseLogLine reads "E: ip:UDP:port, datagram, n".
func parseLogLine(line string) (logEvent, error) {
	dir, rest, ok := strings.Cut(line, ": ")
	if !ok || (dir != "E" && dir != "R") {
		return logEvent{}, fmt.Errorf("bad direction in %q", line)
	}
	peer, rest, ok := strings.Cut(rest, ", ")
	ip, port, ok2 := strings.Cut(peer, ":UDP:")
	i := strings.LastIndex(rest, ", ")
	if !ok || !ok2 || i < 0 {
		return logEvent{}, fmt.Errorf("bad line %q", line)
	}
	datagram, count := rest[:i], rest[i+2:]
	if n, err := strconv.Atoi(count); err != nil || n != len(datagram) {
		return logEvent{}, fmt.Errorf("count %q is not the length of %q", count, datagram)
	}
	return logEvent{dir[0], ip + ":" + port, datagram}, nil
}

func TestDataLogLineFormat(t *testing.T) {
	largest := strings.Repeat("a", wire.PLUMIMax)
	tests := []struct {
		name     string
		dir      byte
		peer     netip.AddrPort
		datagram string
		want     string
	}{
		{"ipv4", 'R', netip.MustParseAddrPort("10.100.100.101:51189"), "PRu1@PC-c", "R: 10.100.100.101:UDP:51189, PRu1@PC-c, 9\n"},
		{"ipv4-mapped ipv6 shows as ipv4", 'E', netip.MustParseAddrPort("[::ffff:10.100.100.104]:3344"), "RR0", "E: 10.100.100.104:UDP:3344, RR0, 3\n"},
		{"ipv6", 'E', netip.MustParseAddrPort("[2001:db8::1]:3344"), "RR1", "E: 2001:db8::1:UDP:3344, RR1, 3\n"},
		{"empty datagram", 'R', netip.MustParseAddrPort("1.2.3.4:0"), "", "R: 1.2.3.4:UDP:0, , 0\n"},
		{"bytes as is", 'R', netip.MustParseAddrPort("1.2.3.4:65535"), "X\x00, y", "R: 1.2.3.4:UDP:65535, X\x00, y, 5\n"},
		{"largest datagram", 'R', netip.MustParseAddrPort("1.2.3.4:1"), largest, fmt.Sprintf("R: 1.2.3.4:UDP:1, %s, %d\n", largest, wire.PLUMIMax)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(appendLogLine(nil, tt.dir, tt.peer, []byte(tt.datagram)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("line mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDataLogNil(t *testing.T) {
	var l *DataLog
	l.Sent(netip.MustParseAddrPort("1.2.3.4:5"), []byte("RR0"))
	l.Received(netip.MustParseAddrPort("1.2.3.4:5"), []byte("PRu@d"))
	if err := l.Close(); err != nil {
		t.Errorf("Close of a nil DataLog = %v", err)
	}
}

func TestDataLogCloseTwice(t *testing.T) {
	var out syncbuf.Buffer
	l := NewDataLog(&out)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	l.Sent(netip.MustParseAddrPort("1.2.3.4:5"), []byte("RR0")) // after Close: dropped
	if diff := cmp.Diff(Start+End, out.String()); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
}

func TestDataLogCloseFlushes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nodelumi-PC-c.log")
	l, err := OpenDataLog(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range pcC.events {
		peer := netip.MustParseAddrPort(e.peer)
		if e.dir == 'E' {
			l.Sent(peer, []byte(e.datagram))
		} else {
			l.Received(peer, []byte(e.datagram))
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(pcC.text, string(got)); diff != "" {
		t.Errorf("file mismatch (-want +got):\n%s", diff)
	}
}

// Lines reach the file without Close, within about flushEvery. The
// deadline is generous: only the absence of any flush is an error.
func TestDataLogFlushesInBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.log")
	l, err := OpenDataLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Received(netip.MustParseAddrPort("10.0.0.1:4000"), []byte("PRu1@d"))
	want := Start + "R: 10.0.0.1:UDP:4000, PRu1@d, 6\n"
	var got []byte
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if got, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
		if string(got) == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("after 5 s the file holds %q, want %q", got, want)
}

func TestDataLogAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.log")
	for range 2 {
		l, err := OpenDataLog(path)
		if err != nil {
			t.Fatal(err)
		}
		l.Sent(netip.MustParseAddrPort("1.2.3.4:3344"), []byte("RR0"))
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	run := Start + "E: 1.2.3.4:UDP:3344, RR0, 3\n" + End
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(run+run, string(got)); diff != "" {
		t.Errorf("file mismatch (-want +got):\n%s", diff)
	}
}

// Lines logged from many goroutines come out whole.
func TestDataLogConcurrent(t *testing.T) {
	const goroutines, each = 8, 500
	var out syncbuf.Buffer
	l := NewDataLog(&out)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			peer := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(g)}), uint16(1000+g))
			for i := range each {
				l.Sent(peer, fmt.Appendf(nil, "PRu%d@d", i))
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	events := parseLog(t, out.String())
	if len(events) != goroutines*each {
		t.Errorf("%d lines, want %d", len(events), goroutines*each)
	}
}

type failingWriter struct{}

var errDiskFull = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestDataLogCloseReportsWriteError(t *testing.T) {
	l := NewDataLog(failingWriter{})
	l.Sent(netip.MustParseAddrPort("1.2.3.4:5"), []byte("RR0"))
	if err := l.Close(); !errors.Is(err, errDiskFull) {
		t.Errorf("Close = %v, want %v", err, errDiskFull)
	}
}

func TestDataLogDoesNotAllocate(t *testing.T) {
	var out syncbuf.Buffer
	l := NewDataLog(&out)
	defer l.Close()
	peer := netip.MustParseAddrPort("[::ffff:10.100.100.101]:51189")
	datagram := []byte("RL0u1@PC-c:u2@PC-d:10.100.100.102:43038")
	allocs := testing.AllocsPerRun(1000, func() {
		l.Received(peer, datagram)
		l.Sent(peer, datagram)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocs per Received+Sent, want 0", allocs)
	}
}

func BenchmarkDataLog(b *testing.B) {
	l := NewDataLog(io.Discard)
	defer l.Close()
	peer := netip.MustParseAddrPort("10.100.100.101:51189")
	datagram := []byte("RL0u1@PC-c:u2@PC-d:10.100.100.102:43038")
	b.ReportAllocs()
	for b.Loop() {
		l.Sent(peer, datagram)
	}
}
