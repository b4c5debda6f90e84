package datalog

import (
	"bufio"
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

// DataLog writes one line per LUMI datagram sent or received, in the
// reference's log format. It is safe for concurrent use. A nil *DataLog
// logs nothing, so callers can run without a log.
type DataLog struct {
	mu     sync.Mutex
	w      *bufio.Writer
	closer io.Closer // the file from OpenDataLog; nil for NewDataLog
	line   []byte    // reused for every line so logging does not allocate
	closed bool

	stop chan struct{}
	done chan struct{}
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
// buffered lines are flushed in the background.
func NewDataLog(w io.Writer) *DataLog {
	return newDataLog(w)
}

func newDataLog(w io.Writer) *DataLog {
	l := &DataLog{
		w:    bufio.NewWriterSize(w, 64<<10),
		line: make([]byte, 0, 256),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	l.w.WriteString(Start)
	go l.flusher()
	return l
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
			if !l.closed && l.w.Buffered() > 0 {
				l.w.Flush()
			}
			l.mu.Unlock()
		}
	}
}

// Sent logs a datagram sent to to (an "E" line).
func (l *DataLog) Sent(to netip.AddrPort, datagram []byte) {
	l.log('E', to, datagram)
}

// Received logs a datagram received from from (an "R" line).
func (l *DataLog) Received(from netip.AddrPort, datagram []byte) {
	l.log('R', from, datagram)
}

func (l *DataLog) log(dir byte, peer netip.AddrPort, datagram []byte) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	l.line = appendLogLine(l.line[:0], dir, peer, datagram)
	l.w.Write(l.line) // an error sticks in l.w and comes out of Close
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

// Close ends the run with the FINAL line, flushes and closes the file. It
// returns the first error met while writing the log. Calling it again does
// nothing.
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
	l.w.WriteString(End)
	err := l.w.Flush()
	l.mu.Unlock()

	close(l.stop)
	<-l.done
	if l.closer != nil {
		if cerr := l.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
