package node

import (
	"log/slog"
	"net/netip"
	"time"

	"mi/internal/droplog"
)

// dropReason is why the node dropped a datagram without an answer.
type dropReason int

const (
	dropBad             dropReason = iota // does not decode
	dropSelf                              // from the node's own socket
	dropUnserved                          // a type the node does not handle
	dropRelay                             // a PL between two other domains
	dropNoPL                              // an RL for no PL in flight
	dropWrongSource                       // an RL from elsewhere than its PL went
	dropWrongPort                         // an RL on another socket than its PL left from, or anything else on a source port
	dropForged                            // a PL whose asker of ours is not at its address
	dropRate                              // a PL past its source's rate
	dropRepeat                            // the same PL again, too soon
	dropFull                              // a PL while the locates in flight are at their bound
	dropTakeover                          // a PR refused: the registered agent answers (answered RR1: logged as a drop, counted as a reply)
	dropSettling                          // with a store: a PR or PD while its user's change is being written, or too many are
	dropUnknownUser                       // a PR or PD for no user of this domain (answered: logged as a drop, counted as a reply)
	dropRefusedPD                         // a PD not from the user's registered address (answered RD1, likewise)
	dropProofDenied                       // a PA with a wrong mac (answered RR2 or RD2: logged as a drop, counted as a reply)
	dropProofFull                         // a PA with the right mac past the spent nonces kept for its user
	dropChallengeUnsent                   // an RA that does not encode (a bug)
	dropReasons
)

var dropNames = [dropReasons]string{
	dropBad:             "bad datagram",
	dropSelf:            "from this node",
	dropUnserved:        "type not served",
	dropRelay:           "not for this domain",
	dropNoPL:            "RL without PL",
	dropWrongSource:     "RL from elsewhere",
	dropWrongPort:       "RL on the wrong port",
	dropForged:          "asker not at its address",
	dropRate:            "over the rate",
	dropRepeat:          "repeated too soon",
	dropFull:            "too many locates",
	dropTakeover:        "takeover refused",
	dropSettling:        "binding change in flight",
	dropUnknownUser:     "unknown user",
	dropRefusedPD:       "PD from elsewhere",
	dropProofDenied:     "proof refused: wrong mac",
	dropProofFull:       "proof not served: too many spent",
	dropChallengeUnsent: "challenge not encoded",
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
const dropBurst = droplog.Burst

// dropLog keeps whoever can send datagrams from flooding the node's log:
// anyone can send a million bad ones a second, and a formatted line each
// would cost more than the datagram. At debug level every drop is logged.
// It is internal/droplog's Log, the agent's too, with a Reason per
// dropReason.
type dropLog struct {
	l       *droplog.Log
	reasons [dropReasons]*droplog.Reason
}

func newDropLog(log *slog.Logger) *dropLog {
	d := &dropLog{l: droplog.New(log)}
	for r := range dropReasons {
		d.reasons[r] = d.l.Reason(dropNames[r])
	}
	return d
}

// note counts a drop of datagram b from src and says whether to log it in
// full.
func (d *dropLog) note(r dropReason, src netip.AddrPort, b []byte) bool {
	return d.reasons[r].Note(src, b)
}

// flush ends the window once it has lasted droplog.Window: it logs, per
// reason, how many drops were not logged in full, with the first of them,
// and starts counting again. Only the sweep calls it.
func (d *dropLog) flush(now time.Time) { d.l.Tick(now) }

// shown is datagram b as a log line shows it: cut to the longest valid
// datagram with the full length said, and quoted by the log handler, which
// escapes what is not printable.
func shown(b []byte) string { return droplog.Shown(b) }
