package node

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"mi/wire"
)

// dropReason is why the node dropped a datagram without an answer.
type dropReason int

const (
	dropBad         dropReason = iota // does not decode
	dropSelf                          // from the node's own socket
	dropUnserved                      // a type the node does not handle
	dropRelay                         // a PL between two other domains
	dropNoPL                          // an RL for no PL in flight
	dropWrongSource                   // an RL from elsewhere than its PL went
	dropReasons
)

var dropNames = [dropReasons]string{
	dropBad:         "bad datagram",
	dropSelf:        "from this node",
	dropUnserved:    "type not served",
	dropRelay:       "not for this domain",
	dropNoPL:        "RL without PL",
	dropWrongSource: "RL from elsewhere",
}

// dropBurst is how many drops of one reason are logged in full per window;
// the rest are counted and summed up in one line when the window ends.
const dropBurst = 5

// dropLog keeps whoever can send datagrams from flooding the node's log:
// anyone can send a million bad ones a second, and a formatted line each
// would cost more than the datagram. At debug level every drop is logged.
// The counters are atomic so that workers do not contend on a lock over
// input that is worth nothing.
type dropLog struct {
	log    *slog.Logger
	all    bool // debug level: log every drop
	counts [dropReasons]atomic.Int64
	since  atomic.Int64 // unix nanoseconds the window began
}

func newDropLog(log *slog.Logger) *dropLog {
	d := &dropLog{log: log, all: log.Enabled(context.Background(), slog.LevelDebug)}
	d.since.Store(time.Now().UnixNano())
	return d
}

// allow counts a drop and says whether to log it in full.
func (d *dropLog) allow(r dropReason) bool {
	return d.counts[r].Add(1) <= dropBurst || d.all
}

// flush ends the window at now: it logs how many drops of each reason were
// not logged in full, and starts counting again.
func (d *dropLog) flush(now time.Time) {
	since := time.Unix(0, d.since.Swap(now.UnixNano()))
	for r := range dropReasons {
		n := d.counts[r].Swap(0)
		if n > dropBurst && !d.all {
			d.log.Warn("datagrams dropped", "reason", dropNames[r], "count", n,
				"logged", dropBurst, "in", now.Sub(since).Round(time.Millisecond))
		}
	}
}

// shownMax is how much of a datagram a log line shows: all of a valid one,
// never the 2 KB an attacker can fill.
const shownMax = wire.PLUMIMax

// shown is datagram b as a log line shows it: cut to shownMax bytes with
// the full length said, and quoted by the log handler, which escapes what
// is not printable.
func shown(b []byte) string {
	if len(b) <= shownMax {
		return string(b)
	}
	return string(b[:shownMax]) + "... (" + strconv.Itoa(len(b)) + " bytes)"
}
