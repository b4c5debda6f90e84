package agent

import "mi/plumi"

// Reasons of the agent's own failures, beside those of its LUMI client
// (plumi.ErrUserUnknown, plumi.ErrBusy, plumi.ErrNodeTimeout, ...). Every
// error the agent returns or reports wraps a plumi.Reason; test with
// errors.Is, read the word (an event's Reason) with plumi.ReasonOf.
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
