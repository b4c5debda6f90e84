package agent

import (
	"errors"

	"mi/lumi"
)

// Reason is a failure's kind: a stable snake_case word that programs can
// match (the -json "reason" field) and that errors.Is matches.
type Reason struct {
	word string
	text string
}

func (r *Reason) Error() string { return r.text }

// Word returns the reason's snake_case word, e.g. "user_unknown".
func (r *Reason) Word() string { return r.word }

// The reasons an agent or its LUMI client fails with. Every error they
// return wraps one of these; test with errors.Is, read the word with
// ReasonOf.
var (
	ErrUserUnknown     = &Reason{"user_unknown", "user unknown"}                      // RR1, RD1, RL2: no such user in the domain
	ErrDomainUnknown   = &Reason{"domain_unknown", "domain unknown"}                  // the domain has no LUMI node
	ErrDNSFailure      = &Reason{"dns_failure", "DNS failed"}                         // the DNS lookup of a domain's node failed: it may exist
	ErrBusy            = &Reason{"busy", "busy"}                                      // RL1: the target is in another conversation
	ErrOffline         = &Reason{"offline", "offline"}                                // RL3: the target is not registered or stopped answering
	ErrNodeTimeout     = &Reason{"node_timeout", "node not answering"}                // no matching reply after every attempt
	ErrNodeUnreachable = &Reason{"node_unreachable", "node unreachable"}              // ICMP port unreachable: nothing listens at the node's address
	ErrBadAddress      = &Reason{"bad_address", "bad address"}                        // not a valid user@domain
	ErrInConvers       = &Reason{"in_conversation", "already in a conversation"}      // one conversation at a time
	ErrNotConnected    = &Reason{"not_connected", "not in a conversation"}            // nothing to send to or hang up
	ErrConnect         = &Reason{"connect_failed", "cannot connect to the peer"}      // the TCP connection to a located peer failed
	ErrHandshake       = &Reason{"handshake_failed", "nickname exchange failed"}      // the peer stalled or sent garbage before its nickname
	ErrPeer            = &Reason{"peer_error", "the peer broke the protocol"}         // garbage from the peer mid-conversation
	ErrStalled         = &Reason{"peer_stalled", "the peer stalled inside a message"} // a message began but did not end within the deadline
	ErrSend            = &Reason{"send_failed", "cannot send to the peer"}            // writing a line failed
	ErrClosed          = &Reason{"closed", "agent closed"}                            // the agent or client was closed
	ErrNetwork         = &Reason{"network_error", "network error"}                    // a socket failed
	ErrBadCommand      = &Reason{"bad_command", "bad command"}                        // mi-agent: unknown command or missing argument
	ErrRefused         = &Reason{"refused", "refused by the node"}                    // RD1: not a user of the domain, or not registered from this address
	ErrAuthRequired    = &Reason{"auth_required", "the node requires proof"}          // RA without a secret: the node requires proof of the user's secret
	ErrDenied          = &Reason{"denied", "proof denied"}                            // RR2, RD2: the secret is not the user's
)

// LookupFailed is the error of a failed lookup of domain's node (a
// lumi.Resolver error): a DNS failure says the domain may exist, anything
// else that it has no node.
func LookupFailed(domain string, err error) error {
	if errors.Is(err, lumi.ErrDNSFailure) {
		return failWith(ErrDNSFailure, "cannot find the LUMI node of "+domain+": DNS failed", err)
	}
	return failWith(ErrDomainUnknown, "no LUMI node for domain "+domain, err)
}

// ReasonOf returns the snake_case word of the reason err wraps, or
// "internal" if it wraps none (nil gives "").
func ReasonOf(err error) string {
	if err == nil {
		return ""
	}
	var r *Reason
	if errors.As(err, &r) {
		return r.word
	}
	return "internal"
}

// wrapped is an error with a message for people that matches its reason.
type wrapped struct {
	reason *Reason
	msg    string
	err    error // the cause, if any
}

func (e *wrapped) Error() string { return e.msg }

func (e *wrapped) Unwrap() []error {
	if e.err != nil {
		return []error{e.reason, e.err}
	}
	return []error{e.reason}
}

// fail returns an error matching reason whose text is msg.
func fail(reason *Reason, msg string) error { return &wrapped{reason: reason, msg: msg} }

// failWith is fail with a cause that errors.Is and errors.As also reach.
func failWith(reason *Reason, msg string, cause error) error {
	return &wrapped{reason: reason, msg: msg + ": " + cause.Error(), err: cause}
}
