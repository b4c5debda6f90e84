package agent

import "mi/plumi"

// Reasons of the agent's own failures, beside those of its LUMI client
// (plumi.ErrUserUnknown, plumi.ErrBusy, plumi.ErrNodeTimeout, ...). Every
// error the agent returns or reports wraps a plumi.Reason: test with
// errors.Is, read the word (an event's Reason) with plumi.ReasonOf. Its
// facts (an event's Cause) are plumi.CauseOf's.
var (
	ErrInConvers    = plumi.NewReason("in_conversation", "already in a conversation")      // one conversation at a time
	ErrNotConnected = plumi.NewReason("not_connected", "not in a conversation")            // nothing to send to or hang up
	ErrConnect      = plumi.NewReason("connect_failed", "cannot connect to the peer")      // the TCP connection to a located peer failed
	ErrHandshake    = plumi.NewReason("handshake_failed", "nickname exchange failed")      // the peer stalled or sent garbage before its nickname
	ErrPeer         = plumi.NewReason("peer_error", "the peer broke the protocol")         // garbage from the peer mid-conversation
	ErrStalled      = plumi.NewReason("peer_stalled", "the peer stalled inside a message") // a message began but did not end within the deadline
	ErrSend         = plumi.NewReason("send_failed", "cannot send to the peer")            // writing a line failed
	ErrBadCommand   = plumi.NewReason("bad_command", "bad command")                        // mi-agent: unknown command or missing argument
)

// The kinds of the agent's own failures (plumi.Cause.Kind), beside its
// client's (plumi.CauseKinds), with the facts each sets.
const (
	// RR1 (a plumi.CauseRegisterRefused) while another program on this
	// host holds the UDP port the state file says the user registered
	// from last: most likely another agent of the user, which holds the
	// registration and answers the node's check. Node, Addr, and Remote:
	// that port at the address the node sees this host at.
	CauseRegisterHeld plumi.CauseKind = "register_held"

	CauseBadNick     plumi.CauseKind = "bad_nick"           // Input, Problem: not a nickname
	CauseNotIPv4     plumi.CauseKind = "advertise_not_ipv4" // Input: the ip to advertise, which RL0 requires to be IPv4
	CauseLogOpen     plumi.CauseKind = "log_open"           // Input (the path), Sys
	CauseListen      plumi.CauseKind = "listen_failed"      // Input (the TCP address), Sys
	CauseNoResolver  plumi.CauseKind = "no_resolver"        // Sys: no DNS resolver to find the node with
	CauseConnect     plumi.CauseKind = "connect_failed"     // Addr, Remote, Sys: the TCP connection to a located peer
	CauseNoNick      plumi.CauseKind = "no_nickname"        // Remote, Wait: the peer sent no nickname in time
	CauseClosedEarly plumi.CauseKind = "closed_early"       // Remote: the peer closed the connection before its nickname
	CauseNotNick     plumi.CauseKind = "not_a_nickname"     // Remote, and Tag (the message it sent first) or Sys (what would not decode)
	CauseNickUnsent  plumi.CauseKind = "nickname_unsent"    // Remote, Sys: the agent's nickname could not be sent
	CausePeerStalled plumi.CauseKind = "peer_stalled"       // Peer, Wait: a message begun and not ended in time
	CausePeerCut     plumi.CauseKind = "peer_cut_short"     // Peer: the peer closed the connection inside a message
	CausePeerBroke   plumi.CauseKind = "peer_broke"         // Peer, Sys: the peer sent what does not decode, or the connection failed
	CauseSendFailed  plumi.CauseKind = "send_failed"        // Peer, Sys
	CauseTalking     plumi.CauseKind = "already_talking"    // Peer: a call, while in a conversation
	CauseCalling     plumi.CauseKind = "already_calling"    // a call, while another is in progress
	CauseOvertaken   plumi.CauseKind = "overtaken"          // Addr: another conversation began while calling Addr
	CauseNotTalking  plumi.CauseKind = "not_talking"        // a line or a hangup, in no conversation
)

// CauseKinds are the kinds of the agent's own failures, for programs that
// say every one in their own words to check that they do.
var CauseKinds = []plumi.CauseKind{
	CauseRegisterHeld, CauseBadNick, CauseNotIPv4, CauseLogOpen, CauseListen, CauseNoResolver, CauseConnect, CauseNoNick,
	CauseClosedEarly, CauseNotNick, CauseNickUnsent, CausePeerStalled, CausePeerCut, CausePeerBroke, CauseSendFailed,
	CauseTalking, CauseCalling, CauseOvertaken, CauseNotTalking,
}
