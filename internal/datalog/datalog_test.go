package datalog

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// logger is what a caller logs through: the DataLog itself or a Writer.
type logger interface {
	Sent(to netip.AddrPort, datagram []byte)
	Received(from netip.AddrPort, datagram []byte)
}

// loggers are the ways to log into a DataLog; each must write the same.
var loggers = []struct {
	name string
	get  func(*DataLog) logger
}{
	{"DataLog", func(l *DataLog) logger { return l }},
	{"Writer", func(l *DataLog) logger { return l.Writer() }},
}

// replay logs events through get's logger on a new DataLog and returns
// what it wrote.
func replay(t *testing.T, get func(*DataLog) logger, events []logEvent) string {
	t.Helper()
	var out syncbuf.Buffer
	l := NewDataLog(&out)
	lg := get(l)
	for _, e := range events {
		peer := netip.MustParseAddrPort(e.peer)
		switch e.dir {
		case 'E':
			lg.Sent(peer, []byte(e.datagram))
		case 'R':
			lg.Received(peer, []byte(e.datagram))
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
	for _, lg := range loggers {
		t.Run(lg.name, func(t *testing.T) {
			got := replay(t, lg.get, pcC.events)
			if diff := cmp.Diff(pcC.text, got); diff != "" {
				t.Errorf("log mismatch (-nodelumi-PC-c.log +%s):\n%s", lg.name, diff)
			}
		})
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
			events := parseLog(t, string(want))
			for _, lg := range loggers {
				got := replay(t, lg.get, events)
				if diff := cmp.Diff(string(want), got); diff != "" {
					t.Errorf("log mismatch (-%s +%s):\n%s", file, lg.name, diff)
				}
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
		{"printable bytes as is", 'R', netip.MustParseAddrPort("1.2.3.4:65535"), "PLa b\\c, ñandú@李:x", "R: 1.2.3.4:UDP:65535, PLa b\\c, ñandú@李:x, 22\n"},
		{"C0 and DEL escaped", 'R', netip.MustParseAddrPort("1.2.3.4:1"), "X\x00\x1b[2J\n\x7f", `R: 1.2.3.4:UDP:1, X\x00\x1b[2J\x0a\x7f, 8` + "\n"},
		{"C1 controls escaped", 'R', netip.MustParseAddrPort("1.2.3.4:1"), "PRu\u009b2J\u0085@d", `R: 1.2.3.4:UDP:1, PRu\u009b2J\u0085@d, 11` + "\n"},
		{"bidi and separators escaped", 'R', netip.MustParseAddrPort("1.2.3.4:1"), "PRu\u202egnp.exe\u2028\u2029\u200b@d", `R: 1.2.3.4:UDP:1, PRu\u202egnp.exe\u2028\u2029\u200b@d, 24` + "\n"},
		{"invalid utf-8 escaped", 'R', netip.MustParseAddrPort("1.2.3.4:1"), "PRu\xff\xc3@d", `R: 1.2.3.4:UDP:1, PRu\xff\xc3@d, 7` + "\n"},
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
	if err := l.Err(); !errors.Is(err, errDiskFull) {
		t.Errorf("Err = %v, want %v", err, errDiskFull)
	}
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

// wholeLines records what the DataLog writes and counts the writes that
// do not end a line: a line split across two writes.
type wholeLines struct {
	mu      sync.Mutex
	b       strings.Builder
	writes  int
	split   int
	largest int // bytes in the largest write
}

func (w *wholeLines) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	if len(p) == 0 || p[len(p)-1] != '\n' {
		w.split++
	}
	w.largest = max(w.largest, len(p))
	return w.b.Write(p)
}

func (w *wholeLines) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// Many goroutines, each with its own Writer, log at once while Close runs.
// Every line comes out whole, each Writer's lines in order and without a
// gap, and all that was logged before Close began is in the file.
func TestWritersConcurrent(t *testing.T) {
	const (
		early = 8    // writers logging from the start
		late  = 4    // writers taken as Close begins
		half  = 4000 // lines each early writer logs before Close: 4 buffers
	)
	var out wholeLines
	l := NewDataLog(&out)
	peerOf := func(g int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(g)}), uint16(1000+g))
	}
	var closed atomic.Bool
	logged := make([]int, early+late) // lines each writer logged in all
	// logUntilClosed logs numbered lines until Close has returned (or a
	// bound, should it be slow). From half on it yields after each line,
	// to let Close run among the writers.
	logUntilClosed := func(g int, halfway func()) {
		w := l.Writer()
		var datagram []byte
		i := 0
		for ; !closed.Load() && i < 10*half; i++ {
			if i == half && halfway != nil {
				halfway()
			}
			if i >= half || halfway == nil {
				runtime.Gosched()
			}
			datagram = fmt.Appendf(datagram[:0], "PRu%d@d", i)
			if i%2 == 0 {
				w.Sent(peerOf(g), datagram)
			} else {
				w.Received(peerOf(g), datagram)
			}
		}
		logged[g] = i
	}
	var wg, halfway sync.WaitGroup
	halfway.Add(early)
	for g := range early {
		wg.Go(func() { logUntilClosed(g, halfway.Done) })
	}
	halfway.Wait()
	for g := early; g < early+late; g++ {
		wg.Go(func() { logUntilClosed(g, nil) })
	}
	if err := l.Close(); err != nil { // while the writers still log
		t.Fatal(err)
	}
	closed.Store(true)
	wg.Wait()

	if out.split != 0 {
		t.Errorf("%d of %d writes split a line", out.split, out.writes)
	}
	got := make(map[string][]int) // peer: the lines' numbers in file order
	for _, e := range parseLog(t, out.String()) {
		var i int
		if _, err := fmt.Sscanf(e.datagram, "PRu%d@d", &i); err != nil {
			t.Fatalf("line %+v: %v", e, err)
		}
		if want := "ER"[i%2]; e.dir != want {
			t.Errorf("line %+v: direction %c, want %c", e, e.dir, want)
		}
		got[e.peer] = append(got[e.peer], i)
	}
	dropped := 0
	for g := range early + late {
		lines := got[peerOf(g).String()]
		for k, i := range lines {
			if i != k {
				t.Errorf("writer %d: line %d of the file is its number %d, want %d", g, k, i, k)
				break
			}
		}
		if g < early && len(lines) < half {
			t.Errorf("writer %d: %d lines, want at least the %d logged before Close", g, len(lines), half)
		}
		dropped += logged[g] - len(lines)
	}
	if dropped == 0 {
		t.Log("no line was logged after Close: Close did not race the writers")
	}
}

func TestWriterNil(t *testing.T) {
	var l *DataLog
	w := l.Writer()
	if w != nil {
		t.Fatalf("Writer of a nil DataLog = %p, want nil", w)
	}
	w.Sent(netip.MustParseAddrPort("1.2.3.4:5"), []byte("RR0"))
	w.Received(netip.MustParseAddrPort("1.2.3.4:5"), []byte("PRu@d"))
}

func TestWriterClose(t *testing.T) {
	peer := netip.MustParseAddrPort("1.2.3.4:3344")
	line := func(datagram string) string {
		return "E: 1.2.3.4:UDP:3344, " + datagram + ", " + strconv.Itoa(len(datagram)) + "\n"
	}
	tests := []struct {
		name string
		run  func(t *testing.T, l *DataLog)
		want string
	}{
		{"Close writes what is buffered", func(t *testing.T, l *DataLog) {
			l.Writer().Sent(peer, []byte("RR0"))
			mustClose(t, l)
		}, Start + line("RR0") + End},
		{"taken before Close, logging after", func(t *testing.T, l *DataLog) {
			w := l.Writer()
			w.Sent(peer, []byte("RR0"))
			mustClose(t, l)
			w.Sent(peer, []byte("RR1"))
			w.Received(peer, []byte("RR1"))
		}, Start + line("RR0") + End},
		{"taken after Close", func(t *testing.T, l *DataLog) {
			mustClose(t, l)
			w := l.Writer()
			if w == nil {
				t.Fatal("Writer after Close = nil")
			}
			w.Sent(peer, []byte("RR0"))
			w.Received(peer, []byte("RR0"))
		}, Start + End},
		{"Close twice", func(t *testing.T, l *DataLog) {
			w := l.Writer()
			mustClose(t, l)
			mustClose(t, l)
			w.Sent(peer, []byte("RR0"))
		}, Start + End},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out syncbuf.Buffer
			l := NewDataLog(&out)
			tt.run(t, l)
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("log mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func mustClose(t *testing.T, l *DataLog) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// A Writer whose buffer is full writes it at once, not at the next flush,
// and no short line makes it grow.
func TestWriterFullBuffer(t *testing.T) {
	peer := netip.MustParseAddrPort("[2001:db8::1]:3344")
	datagram := []byte("RL0u1@PC-c:u2@PC-d:10.100.100.102:43038")
	var out wholeLines
	l := NewDataLog(&out)
	defer l.Close()
	w := l.Writer()
	line := len(appendLogLine(nil, 'E', peer, datagram))
	for range 3*writerSize/line + 1 {
		w.Sent(peer, datagram)
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	if out.writes < 4 {
		t.Errorf("%d writes after 3 buffers' worth of lines, want Start and at least 3", out.writes)
	}
	if out.largest > writerSize+line {
		t.Errorf("a write of %d bytes, more than a Writer's %d and a line", out.largest, writerSize)
	}
}

// Lines logged one after the other on different Writers come out in that
// order, whichever Writer was made first and however the flushes fall: a
// worker logs a datagram before it sends it, so the line of the answer,
// logged by another worker, must never come first.
func TestWritersCausalOrder(t *testing.T) {
	var out wholeLines
	l := NewDataLog(&out)
	later, first := l.Writer(), l.Writer() // made in the other order
	var want strings.Builder
	want.WriteString(Start)
	peer := netip.MustParseAddrPort("10.0.0.1:5001")
	for i := range 3 * writerSize / 30 {
		x := []byte(fmt.Sprintf("PLa%d@x:b@y", i))
		y := []byte(fmt.Sprintf("RL3a%d@x:b@y", i))
		first.Sent(peer, x)
		later.Received(peer, y)
		want.Write(appendLogLine(nil, 'E', peer, x))
		want.Write(appendLogLine(nil, 'R', peer, y))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	want.WriteString(End)
	if diff := cmp.Diff(want.String(), out.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

// A line longer than a Writer's whole buffer still comes out whole, in
// its place.
func TestWriterLongLine(t *testing.T) {
	peer := netip.MustParseAddrPort("[fe80::1%eth0]:3344")
	long := strings.Repeat("x", writerSize+writerSize/2)
	var out wholeLines
	l := NewDataLog(&out)
	w := l.Writer()
	var want strings.Builder
	want.WriteString(Start)
	for _, datagram := range []string{"RR0", long, "RR1", long, long, "RR2"} {
		w.Received(peer, []byte(datagram))
		want.Write(appendLogLine(nil, 'R', peer, []byte(datagram)))
	}
	mustClose(t, l)
	want.WriteString(End)
	if out.split != 0 {
		t.Errorf("%d of %d writes split a line", out.split, out.writes)
	}
	if got := out.String(); got != want.String() {
		t.Errorf("log of %d bytes differs from the %d bytes logged", len(got), want.Len())
	}
}

// flaky succeeds ok writes, fails the next one with errDiskFull, and
// succeeds again after that: a DataLog must not write after the failure.
type flaky struct {
	mu     sync.Mutex
	ok     int
	writes int
}

func (f *flaky) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if f.writes == f.ok+1 {
		return 0, errDiskFull
	}
	return len(p), nil
}

func (f *flaky) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}

// The first write error sticks: nothing more is written, and it comes out
// of Close, whichever write met it.
func TestWriterCloseReportsWriteError(t *testing.T) {
	peer := netip.MustParseAddrPort("1.2.3.4:5")
	datagram := []byte("RL0u1@PC-c:u2@PC-d:10.100.100.102:43038")
	tests := []struct {
		name string
		ok   int // writes that succeed: Start is the first
		run  func(f *flaky, w *Writer)
	}{
		{"Start", 0, func(f *flaky, w *Writer) { w.Sent(peer, datagram) }},
		{"End", 1, func(f *flaky, w *Writer) {}},
		{"full buffer", 1, func(f *flaky, w *Writer) {
			for range 4 * writerSize / len(datagram) {
				w.Sent(peer, datagram)
			}
		}},
		{"background flush", 1, func(f *flaky, w *Writer) {
			w.Sent(peer, datagram)
			for deadline := time.Now().Add(5 * time.Second); f.count() < 2 && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			w.Sent(peer, datagram)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &flaky{ok: tt.ok}
			l := NewDataLog(f)
			tt.run(f, l.Writer())
			if err := l.Close(); !errors.Is(err, errDiskFull) {
				t.Errorf("Close = %v, want %v", err, errDiskFull)
			}
			if f.writes != tt.ok+1 {
				t.Errorf("%d writes, want %d: none after the failing one", f.writes, tt.ok+1)
			}
		})
	}
}

// Logging a line allocates nothing, however the line is logged, also
// across the writes of full buffers.
func TestLogDoesNotAllocate(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation changes allocation counts")
	}
	peers := []netip.AddrPort{
		netip.MustParseAddrPort("[::ffff:10.100.100.101]:51189"),
		netip.MustParseAddrPort("[fe80::1%eth0]:3344"),
	}
	datagram := []byte("RL0u1@PC-c:u2@PC-d:10.100.100.102:43038")
	for _, lg := range loggers {
		t.Run(lg.name, func(t *testing.T) {
			l := NewDataLog(io.Discard)
			defer l.Close()
			w := lg.get(l)
			// 4000 lines of about 80 bytes: some ten full buffers.
			// Collect first, so that no cleanup or finalizer of earlier
			// tests' garbage runs, and allocates, while this counts.
			runtime.GC()
			runtime.GC()
			allocs := testing.AllocsPerRun(5, func() {
				for range 1000 {
					for _, p := range peers {
						w.Received(p, datagram)
						w.Sent(p, datagram)
					}
				}
			})
			if allocs != 0 {
				t.Errorf("%.0f allocs per 4000 lines, want 0", allocs)
			}
		})
	}
}

// BenchmarkLog logs one line per op into a DataLog on io.Discard: what a
// line costs is formatting it and its lock.
func BenchmarkLog(b *testing.B) {
	peer := netip.MustParseAddrPort("10.100.100.101:51189")
	datagram := []byte("RL0u1@PC-c:u2@PC-d:10.100.100.102:43038")
	b.Run("writer", func(b *testing.B) {
		l := NewDataLog(io.Discard)
		defer l.Close()
		w := l.Writer()
		b.ReportAllocs()
		for b.Loop() {
			w.Sent(peer, datagram)
		}
	})
	b.Run("writers-parallel", func(b *testing.B) {
		l := NewDataLog(io.Discard)
		defer l.Close()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			w := l.Writer()
			for pb.Next() {
				w.Sent(peer, datagram)
			}
		})
	})
	b.Run("shared", func(b *testing.B) {
		l := NewDataLog(io.Discard)
		defer l.Close()
		b.ReportAllocs()
		for b.Loop() {
			l.Sent(peer, datagram)
		}
	})
	b.Run("shared-parallel", func(b *testing.B) {
		l := NewDataLog(io.Discard)
		defer l.Close()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				l.Sent(peer, datagram)
			}
		})
	})
}

// Reopen after a rotation: the old file ends its run with everything
// logged before, the new file at the path starts a run with what follows,
// and lines logged meanwhile from other goroutines land whole in one or
// the other.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "node.log")
	l, err := OpenDataLog(path)
	if err != nil {
		t.Fatal(err)
	}
	peer := netip.MustParseAddrPort("10.0.0.1:5001")
	w := l.Writer()
	w.Received(peer, []byte("PRa@d"))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		other := l.Writer()
		for {
			select {
			case <-stop:
				return
			default:
				other.Sent(peer, []byte("RR0"))
			}
		}
	})
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	w.Received(peer, []byte("PRb@d"))
	close(stop)
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err != nil {
		t.Errorf("Reopen after Close: %v", err)
	}
	for _, f := range []struct{ path, has, lacks string }{
		{path + ".1", "PRa@d", "PRb@d"},
		{path, "PRb@d", "PRa@d"},
	} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if !strings.HasPrefix(s, Start) || !strings.HasSuffix(s, End) || strings.Count(s, Start) != 1 || strings.Count(s, End) != 1 {
			t.Errorf("%s is not one whole run:\n%.300s", f.path, s)
		}
		if !strings.Contains(s, f.has) || strings.Contains(s, f.lacks) {
			t.Errorf("%s: want %q and not %q:\n%.300s", f.path, f.has, f.lacks, s)
		}
		parseLog(t, s) // every line whole
	}
}

// A capped log moves to PATH.1 when full: both files hold whole runs and
// whole lines, and together every line logged since the rotation before.
func TestMaxSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.log")
	if err := os.WriteFile(path, []byte(Start+End), 0o644); err != nil { // an earlier run
		t.Fatal(err)
	}
	l, err := OpenDataLog(path)
	if err != nil {
		t.Fatal(err)
	}
	const max = 40 << 10
	l.SetMaxSize(max)
	w := l.Writer()
	peer := netip.MustParseAddrPort("10.0.0.1:5001")
	const lines = 1500 // about 60 KB
	for i := range lines {
		w.Received(peer, []byte(fmt.Sprintf("PRu%d@bb.com", i)))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, p := range []string{path + ".1", path} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > max+2*writerSize {
			t.Errorf("%s: %d bytes, cap %d", p, len(b), max)
		}
		s := string(b)
		if !strings.HasPrefix(s, Start) || !strings.HasSuffix(s, End) {
			t.Errorf("%s does not hold whole runs:\n%.200s", p, s)
		}
		total += strings.Count(s, "PRu")
		parseLog(t, strings.TrimPrefix(s, Start+End))
	}
	if total != lines {
		t.Errorf("%d lines in the two files, want %d", total, lines)
	}
}
