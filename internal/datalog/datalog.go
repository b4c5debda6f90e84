package datalog

import (
	"io"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"
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

// writerSize is how much a Writer buffers before it writes to the file
// itself rather than wait for the next flush.
const writerSize = 32 << 10

// lineOverhead bounds the bytes of a line besides its datagram and the
// peer's zone: "E: ", an IPv6 address (39), ":UDP:", a port (5), two ", ",
// a count (20) and the newline. A Writer checks it before appending, so a
// line never straddles two writes, and one that fits in an empty buffer
// never grows it.
const lineOverhead = 3 + 39 + 5 + 5 + 2 + 2 + 20 + 1

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
// Order in the file: the Start line is first and the End line last; the
// lines of one Writer are in the order they were logged; lines of
// different Writers interleave only at whole buffers, never inside a line.
// So a reader of the log sees each worker's lines in order, but not the
// order between workers: a datagram received by one worker may show after
// one that another worker sent later.
type DataLog struct {
	fmu    sync.Mutex // the file: out and err
	out    io.Writer
	err    error     // the first write error; once set, nothing more is written
	closer io.Closer // the file from OpenDataLog; nil for NewDataLog

	mu      sync.Mutex // writers and closed
	writers []*Writer  // to drain on each flush and on Close
	closed  bool

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
	mu     sync.Mutex // buf and closed; taken by the owner and the flusher
	buf    []byte     // whole lines not yet written
	closed bool
}

// OpenDataLog appends a new run to the log file at path, creating it if
// needed.
func OpenDataLog(path string) (*DataLog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	l := newDataLog(f)
	l.closer = f
	return l, nil
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
	w := &Writer{l: l, buf: make([]byte, 0, writerSize)}
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
	n, err := l.out.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	l.err = err
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
			l.mu.Lock()
			// Writers only ever appends, so the snapshot's elements stay put.
			ws := l.writers
			l.mu.Unlock()
			for _, w := range ws {
				w.mu.Lock()
				w.flushLocked()
				w.mu.Unlock()
			}
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
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if len(w.buf)+lineOverhead+len(peer.Addr().Zone())+len(datagram) > cap(w.buf) {
		// Write what is buffered first, so the line stays whole in the
		// next write. A line longer than the whole buffer grows it.
		w.flushLocked()
	}
	w.buf = appendLogLine(w.buf, dir, peer, datagram)
}

// flushLocked writes w's buffer to the file. w.mu must be held.
func (w *Writer) flushLocked() {
	if len(w.buf) == 0 {
		return
	}
	w.l.write(w.buf)
	w.buf = w.buf[:0]
}

// appendLogLine appends "E: ip:UDP:port, datagram, length\n". The datagram
// goes in as is, like the reference, so the log keeps the exact bytes.
func appendLogLine(b []byte, dir byte, peer netip.AddrPort, datagram []byte) []byte {
	b = append(b, dir, ':', ' ')
	// A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; the log
	// shows them as the IPv4 addresses they are.
	b = peer.Addr().Unmap().AppendTo(b)
	b = append(b, ":UDP:"...)
	b = strconv.AppendUint(b, uint64(peer.Port()), 10)
	b = append(b, ", "...)
	b = append(b, datagram...)
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
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	ws := l.writers
	l.writers = nil
	l.mu.Unlock()

	close(l.stop)
	<-l.done
	for _, w := range ws {
		w.mu.Lock()
		w.flushLocked()
		w.closed = true
		w.buf = nil
		w.mu.Unlock()
	}
	l.write([]byte(End))
	l.fmu.Lock()
	err := l.err
	l.fmu.Unlock()

	if l.closer != nil {
		if cerr := l.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
