package conform

import (
	"sort"
	"sync"
	"time"
)

// Status is the outcome of a scenario.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Result is what playing one scenario gave.
type Result struct {
	ID, Title, Target, Class string
	Line                     int    // the scenario's line in spec/mi.spec
	Status                   Status // Pass, Fail or Skip
	Reason                   string // Skip: why; Fail: what went wrong, for people
	Failure                  *Failure
	Elapsed                  time.Duration
	Transcript               []Entry  // every datagram, TCP message and event, in time order
	Output                   []string // Fail, an agent the tool started (-exec): its last lines of stdout and stderr
}

// Failure is the step that failed.
type Failure struct {
	Step     int    // its index in Scenario.Steps; -1 when no step failed (the scenario's deadline)
	Op       string // "expect", "read"...
	Role     string // the role or connection it acted on
	Line     int    // its line in spec/mi.spec
	Expected string // the pattern or bytes after substitution, or what the step waited for
	Arrived  bool   // something arrived: Got holds it
	Got      string // the bytes that arrived
}

// Directions of a transcript Entry.
const (
	DirSend  = "send"  // the tool sent Bytes to Peer
	DirRecv  = "recv"  // the tool received Bytes from Peer
	DirEvent = "event" // something happened (a connection, a process): Bytes says what, for people
)

// Entry is one line of a transcript.
type Entry struct {
	At    time.Duration // since the scenario started (negative: queued before it)
	Role  string        // the role, connection, or "agent" for the process under test
	Dir   string        // DirSend, DirRecv or DirEvent
	Peer  string        // the other end: ip:port, or "stdin"
	Bytes string        // exactly what went over the wire
}

// transcript collects the entries of one scenario.
type transcript struct {
	start   time.Time
	mu      sync.Mutex
	entries []Entry
}

func (t *transcript) add(at time.Time, role, dir, peer, b string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.entries = append(t.entries, Entry{At: at.Sub(t.start), Role: role, Dir: dir, Peer: peer, Bytes: b})
	t.mu.Unlock()
}

// list returns the entries in time order.
func (t *transcript) list() []Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]Entry(nil), t.entries...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}

// Reporter receives the results of a run as they come.
type Reporter interface {
	// Begin is called once, before the first scenario, with how many
	// scenarios are selected (skipped ones included).
	Begin(n int)
	// Result reports scenario n (counted from 1).
	Result(n int, r *Result)
	// Bail reports a setup error found after Begin: the run is void.
	Bail(err error)
}
