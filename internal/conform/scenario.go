// Package conform is the conformance suite of LUMI nodes and MI agents: the
// scenarios of spec/mi.spec (generated into zscenarios.go), played over
// real sockets against any implementation, with TAP or JSON reports. It
// knows nothing of this project's node or agent: only the wire.
package conform

import "time"

// Op is what a step does.
type Op uint8

// The steps of a scenario. Role names a socket the tool plays (declared by
// OpPlay; in an agent scenario the tool's node is the role "node"), Conn a
// TCP connection the tool opened. Text holds bytes with $variables, which
// are substituted before sending or matching, and, in a pattern, {captures}
// that bind a variable to the bytes they match.
const (
	OpPlay    Op = iota + 1 // node scenarios: Role is a UDP socket the tool plays; Text is "agent" or "node" (the remote domain's node, on -remote-listen)
	OpSend                  // Role sends Text to the implementation under test (a node scenario: the node; an agent scenario: the agent's last UDP source)
	OpExpect                // Role receives, within [Min, Max] from the step's start, a datagram matching Text
	OpSilent                // Role (a UDP role, or a TCP connection) receives nothing for Max
	OpWait                  // nothing happens for Max
	OpStart                 // agent scenarios: start the agent under test (-exec)
	OpConnect               // agent scenarios: open TCP connection Role to Text ("$ip:$port" after substitution)
	OpWrite                 // send Text on connection Role, in one write (or one byte per write with Bytewise)
	OpRead                  // the next PMI message on connection Role, within [Min, Max], matches Text
	OpClosed                // the implementation closes connection Role within [Min, Max]
	OpClose                 // the tool closes connection Role
	OpStdin                 // agent scenarios: write the line Text to the agent's stdin
	OpEOF                   // agent scenarios: close the agent's stdin
	OpExits                 // agent scenarios: the agent's process exits within [Min, Max]
)

var opNames = [...]string{OpPlay: "play", OpSend: "send", OpExpect: "expect", OpSilent: "silent", OpWait: "wait",
	OpStart: "start", OpConnect: "connect", OpWrite: "write", OpRead: "read", OpClosed: "closed", OpClose: "close",
	OpStdin: "stdin", OpEOF: "eof", OpExits: "exits"}

func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "op?"
}

// Step is one move of a scenario.
type Step struct {
	Op       Op
	Role     string        // the role or connection the step acts on
	Text     string        // bytes to send, or the pattern to match
	Raw      bool          // OpSend, OpWrite: Text is sent as it is, valid or not (no $ substitution)
	Bytewise bool          // OpWrite: one byte per TCP segment
	Min, Max time.Duration // the window of OpExpect, OpRead, OpClosed, OpExits; the time of OpSilent, OpWait
	// Of, when set, names a duration the tool binds at run time (the
	// node's "locate_wait", Config.LocateWait): OpSilent or OpWait lasts
	// Percent of it, and Max is set when the scenario is played.
	Of      string
	Percent int
	Line    int // where the step is in spec/mi.spec; the generated table leaves it 0 and Positions finds it
}

// Scenario is one conformance check of a node or an agent.
//
// Agent scenarios without Exec run against one agent for the whole run:
// started once by the tool with -exec before the first of them (or by the
// operator), whose registration the tool answers RR0 before the first
// scenario as setup; each ends with its connections closed. A scenario
// with Exec starts its own agent (OpStart) and the tool stops it at the
// end: its stdin closed, a PD it sends answered RD0, killed if it lingers.
// A capture at the end of a pattern matches the rest of the message.
type Scenario struct {
	ID     string // short and stable, e.g. "REG-OK"
	Target string // "node" or "agent": what is under test
	Class  string // "core", "robust" or "strict"
	Title  string
	Exec   bool // needs the tool to start the agent (-exec): restarts, stdin, exit
	// Features are the optional features the scenario checks (needs
	// feature NAME): it is played only when the run chooses every one of
	// them (Config.Features, lumictl conform -features) and skipped
	// otherwise.
	Features []string
	Steps    []Step
	Line     int // where the scenario is in spec/mi.spec; the generated table leaves it 0 and Positions finds it
}

// Var is a variable scenarios use: bound by the tool at run time from its
// flags (domain, users...), or by a {capture} in a pattern. Sample is the
// value the generator substituted to check every datagram of the spec.
type Var struct {
	Name, Sample, Doc string
}
