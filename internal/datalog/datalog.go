package datalog

import (
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// Start and End frame one run in the log, as the reference writes them.
const (
	Start = "------ INICI LOG ------\n"
	End   = "------ FINAL LOG ------\n"
)

// flushEvery bounds how stale the log file can be. The reference wrote with
// O_SYNC, several synchronous writes per request; buffering is what lets
// the node serve at network speed, and 100 ms is still fresh for a person
// reading the log with tail -f.
const flushEvery = 100 * time.Millisecond

// writerSize is how much a Writer buffers before it flushes every Writer
// itself rather than wait for the next tick.
const writerSize = 32 << 10

// DataLog writes one line per LUMI datagram sent or received, in the
// reference's log format. It is safe for concurrent use. A nil *DataLog
// logs nothing, so callers can run without a log.
//
// Lines are buffered in Writers. Sent and Received on the DataLog share
// one Writer, and so one lock; a goroutine that logs much (a worker
// serving one socket, say) takes its own Writer and contends with no other
// worker. Each Writer's buffer reaches the file in one write, when it is
// full, on the background flush every flushEvery, or on Close.
//
// Order in the file: the Start line is first and the End line last, and
// the lines are in causal order. Every line carries, in memory, the time it
// was logged; a flush takes the buffers of all Writers at one instant
// (holding every Writer's lock) and merges them by that time, the lines of
// one Writer staying in the order they were logged. So if a line X is
// logged before the event that makes another goroutine log Y (log a
// datagram before sending it, as the node does), X is in the same flush as
// Y or an earlier one, and before Y within it. Lines of events that did not
// cause each other may come in either order across two flushes.
type DataLog struct {
	fmu    sync.Mutex // the file: out and err
	out    io.Writer
	err    error      // the first write error; once set, nothing more is written
	closer io.Closer  // the file from OpenDataLog; nil for NewDataLog
	path   string     // where OpenDataLog opened it, for Reopen
	rotMu  sync.Mutex // one Reopen or Close at a time
	max    int64      // SetMaxSize; guarded by fmu
	size   int64      // bytes in the file; guarded by fmu

	written   atomic.Uint64 // bytes written to files since the log opened
	rotations atomic.Uint64 // moves to PATH.1 at the size cap
	reopens   atomic.Uint64 // Reopen calls that opened a new file

	mu      sync.Mutex // writers and closed
	writers []*Writer  // to drain on each flush and on Close
	closed  bool

	flushMu sync.Mutex // one flush at a time; guards the fields below
	taken   []batch    // the buffers a flush took, one per Writer
	merged  []byte     // the lines of one flush in order
	base    time.Time  // lines are stamped with the monotonic time since

	shared *Writer // for DataLog.Sent and Received

	stop chan struct{}
	done chan struct{}
}

// Writer logs lines into its own buffer for one DataLog; see DataLog for
// how its lines reach the file. It is safe for concurrent use, but meant
// for one goroutine: each goroutine that logs takes its own. Take one per
// long-lived goroutine, not per datagram: the DataLog keeps every Writer
// until Close. After Close, a Writer logs nothing. A nil *Writer logs
// nothing.
type Writer struct {
	l      *DataLog
	mu     sync.Mutex // b and closed; taken by the owner and the flusher
	b      batch      // whole lines not yet written
	closed bool
}

// batch is lines and when each was logged.
type batch struct {
	buf   []byte
	marks []mark
}

// mark ends one line of a batch.
type mark struct {
	at  int64 // nanoseconds since DataLog.base
	end int
}

// OpenDataLog appends a new run to the log file at path, creating it if
// needed.
func OpenDataLog(path string) (*DataLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	l := newDataLog(f)
	l.fmu.Lock()
	l.closer, l.path, l.size = f, path, l.size+size
	l.fmu.Unlock()
	return l, nil
}

// Reopen moves the log to a new file at its path, for log rotation: the
// old file's run is ended with the FINAL line after everything logged so
// far, and a new run starts in a file opened at the path again (created if
// a rotation renamed the old one away). It does nothing for a log made by
// NewDataLog or after Close. If the path cannot be opened the log goes on
// in the old file.
func (l *DataLog) Reopen() error {
	if l == nil || l.path == "" {
		return nil
	}
	l.rotMu.Lock()
	defer l.rotMu.Unlock()
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	l.flush(false)
	l.write([]byte(End))
	l.fmu.Lock()
	old := l.closer
	err = l.err
	l.out, l.closer, l.err, l.size = f, f, nil, 0
	if fi, serr := f.Stat(); serr == nil {
		l.size = fi.Size()
	}
	l.fmu.Unlock()
	l.reopens.Add(1)
	l.write([]byte(Start))
	if cerr := old.Close(); err == nil {
		err = cerr
	}
	return err
}

// NewDataLog starts a run of the log on w. Close does not close w: the
// caller owns it. w must be safe to write from another goroutine, as
// buffered lines are flushed in the background; the DataLog never calls
// it from two goroutines at once.
func NewDataLog(w io.Writer) *DataLog {
	return newDataLog(w)
}

func newDataLog(w io.Writer) *DataLog {
	l := &DataLog{
		base: time.Now(),
		out:  w,
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	l.write([]byte(Start)) // before any Writer can write; an error sticks
	l.shared = l.Writer()
	go l.flusher()
	return l
}

// Writer returns a new Writer on l. Taken after Close, it logs nothing. A
// nil *DataLog returns a nil *Writer.
func (l *DataLog) Writer() *Writer {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return &Writer{l: l, closed: true}
	}
	w := &Writer{l: l, b: newBatch()}
	l.writers = append(l.writers, w)
	return w
}

// write hands p, whole lines, to the file in one write, unless an earlier
// write failed.
func (l *DataLog) write(p []byte) {
	l.fmu.Lock()
	defer l.fmu.Unlock()
	if l.err != nil {
		return
	}
	if l.max > 0 && l.size+int64(len(p)) > l.max && l.size > int64(len(Start)) {
		l.rotateLocked()
		if l.err != nil {
			return
		}
	}
	n, err := l.out.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	l.size += int64(n)
	l.written.Add(uint64(n))
	l.err = err
}

// Stats are what a log has done since it opened, for metrics.
type Stats struct {
	Bytes     uint64 // written to its files
	Rotations uint64 // moves to PATH.1 at the size cap (SetMaxSize)
	Reopens   uint64 // new files opened by Reopen
}

// Stats returns the log's counts so far; a nil log has none.
func (l *DataLog) Stats() Stats {
	if l == nil {
		return Stats{}
	}
	return Stats{Bytes: l.written.Load(), Rotations: l.rotations.Load(), Reopens: l.reopens.Load()}
}

// Err returns the first error met while writing the log, after which it
// writes nothing more (Close returns it too).
func (l *DataLog) Err() error {
	if l == nil {
		return nil
	}
	l.fmu.Lock()
	defer l.fmu.Unlock()
	return l.err
}

// SetMaxSize caps the log file at about max bytes (0: no cap): a write that
// would pass it first ends the run in the file, renames the file to
// PATH.1 (replacing an older one) and starts a new run in a new file at
// the path, so the log takes at most about twice max on disk. Only a log
// from OpenDataLog can be capped.
func (l *DataLog) SetMaxSize(max int64) {
	if l == nil || l.path == "" {
		return
	}
	l.fmu.Lock()
	l.max = max
	l.fmu.Unlock()
}

// rotateLocked moves the full file to PATH.1 and opens a new one; l.fmu
// must be held. A failure sticks in l.err.
func (l *DataLog) rotateLocked() {
	n, err := io.WriteString(l.out, End)
	l.written.Add(uint64(n))
	if err != nil {
		l.err = err
		return
	}
	if err := l.closer.Close(); err != nil {
		l.err = err
		return
	}
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		l.err = fmt.Errorf("rotate: %w", err)
		return
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		l.err = fmt.Errorf("rotate: %w", err)
		return
	}
	l.out, l.closer, l.size = f, f, 0
	l.rotations.Add(1)
	n, err = io.WriteString(f, Start)
	l.size, l.err = int64(n), err
	l.written.Add(uint64(n))
}

// flusher keeps the file at most flushEvery behind until Close.
func (l *DataLog) flusher() {
	defer close(l.done)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.flush(false)
		}
	}
}

// Sent logs a datagram sent to to (an "E" line).
func (l *DataLog) Sent(to netip.AddrPort, datagram []byte) {
	if l == nil {
		return
	}
	l.shared.log('E', to, datagram)
}

// Received logs a datagram received from from (an "R" line).
func (l *DataLog) Received(from netip.AddrPort, datagram []byte) {
	if l == nil {
		return
	}
	l.shared.log('R', from, datagram)
}

// Sent logs a datagram sent to to (an "E" line).
func (w *Writer) Sent(to netip.AddrPort, datagram []byte) {
	w.log('E', to, datagram)
}

// Received logs a datagram received from from (an "R" line).
func (w *Writer) Received(from netip.AddrPort, datagram []byte) {
	w.log('R', from, datagram)
}

func (w *Writer) log(dir byte, peer netip.AddrPort, datagram []byte) {
	if w == nil {
		return
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.b.buf = appendLogLine(w.b.buf, dir, peer, datagram)
	w.b.marks = append(w.b.marks, mark{at: int64(time.Since(w.l.base)), end: len(w.b.buf)})
	full := len(w.b.buf) >= writerSize
	w.mu.Unlock()
	if full {
		// The merge needs every Writer's lines up to now, so a full
		// buffer is written by a flush of all of them.
		w.l.flush(false)
	}
}

func newBatch() batch {
	return batch{buf: make([]byte, 0, writerSize+256), marks: make([]mark, 0, writerSize/32)}
}

// flush takes the lines of every Writer at one instant, merges them by the
// time they were logged and writes them in one write. With final, the
// Writers are closed in the same instant, so nothing logged later is kept.
func (l *DataLog) flush(final bool) {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	ws := l.writers
	if final {
		l.writers = nil
	}
	l.mu.Unlock()
	for len(l.taken) < len(ws) {
		l.taken = append(l.taken, newBatch())
	}
	taken := l.taken[:len(ws)]
	for _, w := range ws {
		w.mu.Lock()
	}
	for i, w := range ws {
		w.b, taken[i] = taken[i], w.b
		w.closed = w.closed || final
	}
	for _, w := range ws {
		w.mu.Unlock()
	}
	l.merged = merge(l.merged[:0], taken)
	if len(l.merged) > 0 {
		l.write(l.merged)
	}
	for i := range taken {
		taken[i].buf, taken[i].marks = taken[i].buf[:0], taken[i].marks[:0]
	}
}

// merge appends the lines of bs to dst, earliest first; lines logged at
// the same time keep the order of bs, and each batch keeps its own order.
func merge(dst []byte, bs []batch) []byte {
	var next [16]int // the next mark of each batch; more batches spill
	idx := next[:0]
	if len(bs) > len(next) {
		idx = make([]int, 0, len(bs))
	}
	idx = idx[:len(bs)]
	for {
		best := -1
		for i, b := range bs {
			if idx[i] < len(b.marks) && (best < 0 || b.marks[idx[i]].at < bs[best].marks[idx[best]].at) {
				best = i
			}
		}
		if best < 0 {
			return dst
		}
		b, j := bs[best], idx[best]
		start := 0
		if j > 0 {
			start = b.marks[j-1].end
		}
		dst = append(dst, b.buf[start:b.marks[j].end]...)
		idx[best]++
	}
}

// appendLogLine appends "E: ip:UDP:port, datagram, length\n". The datagram
// goes in as the reference wrote it, except for what a terminal would act
// on (appendText); the length is always the datagram's own.
func appendLogLine(b []byte, dir byte, peer netip.AddrPort, datagram []byte) []byte {
	b = append(b, dir, ':', ' ')
	// A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; the log
	// shows them as the IPv4 addresses they are.
	b = peer.Addr().Unmap().AppendTo(b)
	b = append(b, ":UDP:"...)
	b = strconv.AppendUint(b, uint64(peer.Port()), 10)
	b = append(b, ", "...)
	b = appendText(b, datagram)
	b = append(b, ", "...)
	b = strconv.AppendInt(b, int64(len(datagram)), 10)
	return append(b, '\n')
}

// Close writes what every Writer holds, ends the run with the FINAL line
// and closes the file. It returns the first error met while writing the
// log. A line logged while Close runs is either in the file before the
// FINAL line or dropped. Calling it again does nothing.
func (l *DataLog) Close() error {
	if l == nil {
		return nil
	}
	l.rotMu.Lock()
	defer l.rotMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()

	close(l.stop)
	<-l.done
	l.flush(true)
	l.write([]byte(End))
	l.fmu.Lock()
	err, closer := l.err, l.closer
	l.fmu.Unlock()

	if closer != nil {
		if cerr := closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// appendText appends datagram with every byte or character that would act
// on a terminal or a reader rather than show escaped: C0 controls and DEL
// as \xNN, invalid UTF-8 as \xNN, and C1 controls, format characters (the
// bidirectional overrides among them) and the line and paragraph
// separators as \uNNNN. Someone who can send a datagram can choose a user
// name; with this, reading the log with cat or tail cannot clear the
// screen, move the cursor, forge a line or turn text around. Everything
// else, and so every datagram of the reference's captures, is written as
// is.
func appendText(b, datagram []byte) []byte {
	for i := 0; i < len(datagram); {
		// Printable ASCII, the whole of nearly every datagram, in bulk.
		j := i
		for j < len(datagram) && datagram[j] >= 0x20 && datagram[j] < 0x7f {
			j++
		}
		b = append(b, datagram[i:j]...)
		if i = j; i == len(datagram) {
			break
		}
		c := datagram[i]
		if c < utf8.RuneSelf {
			b = appendEscape(b, 'x', uint32(c), 2)
			i++
			continue
		}
		r, n := utf8.DecodeRune(datagram[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = appendEscape(b, 'x', uint32(c), 2)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r):
			b = appendEscape(b, 'u', uint32(r), 4)
		default:
			b = append(b, datagram[i:i+n]...)
		}
		i += n
	}
	return b
}

// appendEscape appends \ kind and v as digits hex digits (more if needed).
func appendEscape(b []byte, kind byte, v uint32, digits int) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '\\', kind)
	for d := max(digits, (bits.Len32(v)+3)/4); d > 0; d-- {
		b = append(b, hex[v>>(4*(d-1))&0xf])
	}
	return b
}
