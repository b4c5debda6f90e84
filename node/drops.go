package node

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

// dropReason is why the node dropped a datagram without an answer.
type dropReason int

const (
	dropBad         dropReason = iota // does not decode
	dropSelf                          // from the node's own socket
	dropUnserved                      // a type the node does not handle
	dropRelay                         // a PL between two other domains
	dropNoPL                          // an RL for no PL in flight
	dropWrongSource                   // an RL from elsewhere than its PL went
	dropWrongPort                     // an RL on another socket than its PL left from, or anything else on a source port
	dropForged                        // a PL whose asker of ours is not at its address
	dropRate                          // a PL past its source's rate
	dropRepeat                        // the same PL again, too soon
	dropFull                          // a PL while the locates in flight are at their bound
	dropTakeover                      // a PR refused: the registered agent answers (answered RR1: logged as a drop, counted as a reply)
	dropSettling                      // with a store: a PR or PD while its user's change is being written, or too many are
	dropUnknownUser                   // a PR or PD for no user of this domain (answered: logged as a drop, counted as a reply)
	dropRefusedPD                     // a PD not from the user's registered address (answered RD1, likewise)
	dropReasons
)

var dropNames = [dropReasons]string{
	dropBad:         "bad datagram",
	dropSelf:        "from this node",
	dropUnserved:    "type not served",
	dropRelay:       "not for this domain",
	dropNoPL:        "RL without PL",
	dropWrongSource: "RL from elsewhere",
	dropWrongPort:   "RL on the wrong port",
	dropForged:      "asker not at its address",
	dropRate:        "over the rate",
	dropRepeat:      "repeated too soon",
	dropFull:        "too many locates",
	dropTakeover:    "takeover refused",
	dropSettling:    "binding change in flight",
	dropUnknownUser: "unknown user",
	dropRefusedPD:   "PD from elsewhere",
}

// dropLabels are the reason label's values of the drop metrics; a reason
// without one is not a drop there (dropTakeover is a reply, RR1).
var dropLabels = [dropReasons]string{
	dropBad:         "invalid",
	dropSelf:        "own_socket",
	dropUnserved:    "type_not_served",
	dropRelay:       "other_domains",
	dropNoPL:        "rl_without_pl",
	dropWrongSource: "rl_wrong_source",
	dropWrongPort:   "rl_wrong_port",
	dropForged:      "asker_not_registered",
	dropRate:        "rate_limited",
	dropRepeat:      "repeated",
	dropFull:        "locates_full",
	dropSettling:    "settle_busy",
}

// dropBurst is how many drops of one reason are logged in full per window;
// the rest are counted and summed up in one line when the window ends.
const (
	dropBurst  = 5
	dropWindow = 10 * time.Second
)

// dropLog keeps whoever can send datagrams from flooding the node's log:
// anyone can send a million bad ones a second, and a formatted line each
// would cost more than the datagram. At debug level every drop is logged.
// The counters are atomic so that workers do not contend on a lock over
// input that is worth nothing; only the first drop past the burst, once a
// window, takes a lock, to keep an example for the summary.
type dropLog struct {
	log    *slog.Logger
	all    bool // debug level: log every drop
	counts [dropReasons]atomic.Int64
	since  time.Time // the window began; 0 before the first flush

	mu       sync.Mutex
	examples [dropReasons]dropExample
}

// dropExample is the first drop of a window not logged in full.
type dropExample struct {
	from     netip.AddrPort
	datagram string
}

func newDropLog(log *slog.Logger) *dropLog {
	return &dropLog{log: log, all: log.Enabled(context.Background(), slog.LevelDebug)}
}

// note counts a drop of datagram b from src and says whether to log it in
// full.
func (d *dropLog) note(r dropReason, src netip.AddrPort, b []byte) bool {
	n := d.counts[r].Add(1)
	if n == dropBurst+1 {
		d.mu.Lock()
		d.examples[r] = dropExample{src, shown(b)}
		d.mu.Unlock()
	}
	return n <= dropBurst || d.all
}

// flush ends the window once it has lasted dropWindow: it logs, per reason,
// how many drops were not logged in full, with the first of them, and
// starts counting again. Only the sweep calls it.
func (d *dropLog) flush(now time.Time) {
	if d.since.IsZero() {
		d.since = now
		return
	}
	if now.Sub(d.since) < dropWindow {
		return
	}
	in := now.Sub(d.since).Round(time.Second)
	d.since = now
	for r := range dropReasons {
		n := d.counts[r].Swap(0)
		if n <= dropBurst || d.all {
			continue
		}
		d.mu.Lock()
		ex := d.examples[r]
		d.mu.Unlock()
		d.log.Warn("datagrams dropped", "reason", dropNames[r], "count", n, "logged", dropBurst,
			"in", in, "first_unlogged_from", ex.from, "first_unlogged", ex.datagram)
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
