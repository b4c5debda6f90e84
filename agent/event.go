package agent

import (
	"bytes"
	"encoding/json"
	"time"

	"mi/plumi"
)

// Kind names an event; it is the -json "event" field.
type Kind string

// The events an agent reports.
const (
	EventRegistered   Kind = "registered"   // Addr, Node
	EventLocating     Kind = "locating"     // Target
	EventLocated      Kind = "located"      // Target, IP, Port
	EventConnected    Kind = "connected"    // PeerNick, PeerAddr (when known), Claimed, Local, Remote, Initiator
	EventLine         Kind = "line"         // From (the peer's nick), Text
	EventHangup       Kind = "hangup"       // By: "local" or "peer"
	EventError        Kind = "error"        // Reason, Cause, Message
	EventDeregistered Kind = "deregistered" // Addr
	EventNotice       Kind = "notice"       // Reason (one of the Notice* words), Count, Message
)

// What a notice is about (Event.Reason of EventNotice): what the agent did
// to protect itself from a peer.
const (
	NoticeReadingPaused = "reading_paused" // the user is behind on events: the agent stopped reading the peer; Count is the events waiting
	NoticeLinesDropped  = "lines_dropped"  // the peer sent lines over the rate: Count of them were dropped
	// An incoming conversation in which neither side had said anything
	// since the nicknames, for Config.SilentGrace, was dropped for the
	// next caller; a hangup (by local) and the new conversation follow.
	NoticeSilentReplaced = "silent_replaced"
	// More incoming connections failed their nickname exchange in a
	// Config.DropReport period than were said one by one (5, as
	// handshake_failed errors): Count of them.
	NoticeHandshakesFailed = "handshakes_failed"
)

// What a notice says about the node (Event.Reason of EventNotice): what
// the refreshes of the registration found (see Agent.Register), each said
// once when their outcome changes, not at every refresh; Count is 0.
const (
	// A refresh went unanswered (node_timeout), or nothing listens at the
	// node's address (an ICMP port unreachable): the node is down, or
	// restarting. Said once until a refresh is answered again.
	NoticeNodeUnreachable = "node_unreachable"
	// The node refused a refresh (RR1, or a proof denied): it no longer
	// has the user (an admin removed it), or another agent holds the
	// registration. The agent keeps refreshing; said once.
	NoticeNodeLost = "node_lost"
	// A refresh was answered RR0 after one went unanswered or was
	// refused: the agent is registered again. A node that restarted in
	// the meantime had lost the user; this refresh told it again.
	NoticeReregistered = "reregistered"
)

// Who ended a conversation (Event.By).
const (
	ByLocal = "local"
	ByPeer  = "peer"
)

// Event is something that happened to the agent. Only the fields listed
// for its Kind are set.
type Event struct {
	Kind Kind
	Time time.Time

	Addr      string      // registered, deregistered: the agent's address
	Node      string      // registered: the node's ip:port
	Target    string      // locating, located: the address asked for
	IP        string      // located
	Port      int         // located
	PeerNick  string      // connected
	PeerAddr  string      // connected, when known: the address called, or the caller's claim (Claimed)
	Claimed   bool        // connected: PeerAddr is what the caller's locate said it is, which nobody checked (see Agent's callerPort)
	Local     string      // connected: the TCP connection's local ip:port
	Remote    string      // connected: its remote ip:port
	Initiator bool        // connected: this agent called
	From      string      // line: the peer's nick
	Text      string      // line
	By        string      // hangup: ByLocal or ByPeer
	Reason    string      // error: a snake_case word (see plumi.ReasonOf); notice: a Notice* word
	Cause     plumi.Cause // error: the facts of the failure (see plumi.CauseOf), to say it from; Kind "" when there are none
	Message   string      // error, notice: for logs and people, with the errors under it; never read back
	Count     int         // notice: how many (see the Notice* words)
}

// MarshalJSON writes the event as one object with "event", "time" (RFC
// 3339) and the fields of its kind, named in snake_case.
func (e Event) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	field := func(name string, v any) {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		k, _ := json.Marshal(name)
		b.Write(k)
		b.WriteByte(':')
		val, _ := json.Marshal(v)
		b.Write(val)
	}
	field("event", string(e.Kind))
	field("time", e.Time.Format(time.RFC3339Nano))
	switch e.Kind {
	case EventRegistered:
		field("addr", e.Addr)
		field("node", e.Node)
	case EventLocating:
		field("target", e.Target)
	case EventLocated:
		field("target", e.Target)
		field("ip", e.IP)
		field("port", e.Port)
	case EventConnected:
		field("peer_nick", e.PeerNick)
		if e.PeerAddr != "" {
			field("peer_addr", e.PeerAddr)
			if e.Claimed {
				field("claimed", true)
			}
		}
		field("local", e.Local)
		field("remote", e.Remote)
		field("initiator", e.Initiator)
	case EventLine:
		field("from", e.From)
		field("text", e.Text)
	case EventHangup:
		field("by", e.By)
	case EventError:
		field("reason", e.Reason)
		if e.Cause.Kind != "" {
			field("cause", e.Cause)
		}
		field("message", e.Message)
	case EventDeregistered:
		field("addr", e.Addr)
	case EventNotice:
		field("reason", e.Reason)
		field("count", e.Count)
		field("message", e.Message)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
