// Package droplog keeps whoever can send datagrams from flooding a log
// with them: anyone can send a million bad datagrams a second, and a
// formatted line each would cost more than the datagram and fill the disk.
//
// Drops are counted per reason. Per reason and per window (Window, 10 s),
// the first Burst (5) are logged in full by the caller; the rest are
// counted, and when the window ends one line per reason sums them up with
// the first of them as an example:
//
//	level=WARN msg="datagrams dropped" reason="bad datagram" count=100 logged=5 in=10s first_unlogged_from=10.0.0.66:6666 first_unlogged="PRu1@bb com\x1b[2J"
//
// At debug level every drop is logged in full and none summed up. The
// counters are atomic, so that the goroutines reading datagrams do not
// contend on a lock over input that is worth nothing; only the first drop
// past the burst, once a window, takes a lock, to keep the example.
//
// This is the node's drop log (mi/node) made a package of its own, for
// the agent's PLUMI client as well.
package droplog

import (
	"context"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"mi/wire"
)

// Burst drops of a reason are logged in full per Window; the rest are
// summed up when the window ends.
const (
	Burst  = 5
	Window = 10 * time.Second
)

// Log counts the drops of its reasons and sums them up per window. Its
// owner calls Tick now and then (a second apart is plenty) and End at the
// end.
type Log struct {
	log *slog.Logger
	all bool // debug level: every drop is logged in full

	mu      sync.Mutex // reasons and since
	reasons []*Reason
	since   time.Time // the window began; zero before the first Tick
}

// Reason is one reason to drop a datagram, with its count in the window.
type Reason struct {
	name  string
	all   bool // the Log's
	count atomic.Int64

	mu sync.Mutex
	ex example // the first drop of the window not logged in full
}

type example struct {
	from     netip.AddrPort
	datagram string
}

// New returns a Log that writes its summaries to log.
func New(log *slog.Logger) *Log {
	return &Log{log: log, all: log.Enabled(context.Background(), slog.LevelDebug)}
}

// Reason adds a reason, named as summaries say it ("bad datagram").
func (l *Log) Reason(name string) *Reason {
	r := &Reason{name: name, all: l.all}
	l.mu.Lock()
	l.reasons = append(l.reasons, r)
	l.mu.Unlock()
	return r
}

// Note counts a drop of datagram b (nil if there is none to show) from
// src, and says whether the caller should log it in full.
func (r *Reason) Note(src netip.AddrPort, b []byte) bool {
	n := r.count.Add(1)
	if n == Burst+1 {
		r.mu.Lock()
		r.ex = example{src, Shown(b)}
		r.mu.Unlock()
	}
	return n <= Burst || r.all
}

// Tick ends the window once it has lasted Window: it sums up, per reason,
// the drops not logged in full, and starts counting again. The first Tick
// starts the first window.
func (l *Log) Tick(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.since.IsZero() {
		l.since = now
		return
	}
	if now.Sub(l.since) < Window {
		return
	}
	l.flush(now)
}

// End sums up the window so far, whatever its length: the owner stops.
func (l *Log) End(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.flush(now)
}

// flush sums up the window that ends at now; l.mu is held.
func (l *Log) flush(now time.Time) {
	in := time.Duration(0)
	if !l.since.IsZero() {
		in = now.Sub(l.since).Round(time.Second)
	}
	l.since = now
	for _, r := range l.reasons {
		n := r.count.Swap(0)
		if n <= Burst || l.all {
			continue
		}
		r.mu.Lock()
		ex := r.ex
		r.mu.Unlock()
		l.log.Warn("datagrams dropped", "reason", r.name, "count", n, "logged", Burst,
			"in", in, "first_unlogged_from", ex.from, "first_unlogged", ex.datagram)
	}
}

// shownMax is how much of a datagram a log line shows: all of a valid
// one, never the 2 KB an attacker can fill.
const shownMax = wire.PLUMIMax

// Shown is datagram b as a log line shows it: cut to the longest valid
// datagram (100 bytes) with its full length said. slog's handlers quote
// and escape what is not printable.
func Shown(b []byte) string {
	if len(b) <= shownMax {
		return string(b)
	}
	return string(b[:shownMax]) + "... (" + strconv.Itoa(len(b)) + " bytes)"
}
