package plumi

import (
	"errors"

	"mi/lumi"
)

// Reason is a failure's kind: a stable snake_case word that programs can
// match (a -json "reason" field, an exit status) and that errors.Is
// matches.
type Reason struct {
	word string
	text string
}

// NewReason returns a reason of a program's own, for failures that are
// not the client's (the chat agent's conversations, say), which ReasonOf
// reads as it reads the client's.
func NewReason(word, text string) *Reason { return &Reason{word, text} }

func (r *Reason) Error() string { return r.text }

// Word returns the reason's snake_case word, e.g. "user_unknown".
func (r *Reason) Word() string { return r.word }

// New returns an error matching r whose text is msg.
func (r *Reason) New(msg string) error { return &wrapped{reason: r, msg: msg} }

// Wrap returns an error matching r whose text is msg, then cause's; errors.Is
// and errors.As reach cause too.
func (r *Reason) Wrap(msg string, cause error) error {
	return &wrapped{reason: r, msg: msg + ": " + cause.Error(), err: cause}
}

// The reasons a client fails with, and a lookup of a domain's node
// (LookupFailed). Every error of this package wraps one of these; test
// with errors.Is, read the word with ReasonOf.
var (
	ErrUserUnknown     = NewReason("user_unknown", "user unknown")             // RR1, RL2: no such user in the domain
	ErrDomainUnknown   = NewReason("domain_unknown", "domain unknown")         // the domain has no LUMI node
	ErrDNSFailure      = NewReason("dns_failure", "DNS failed")                // the DNS lookup of a domain's node failed: it may exist
	ErrBusy            = NewReason("busy", "busy")                             // RL1: the target is in another conversation
	ErrOffline         = NewReason("offline", "offline")                       // RL3: the target is not registered or stopped answering
	ErrNodeTimeout     = NewReason("node_timeout", "node not answering")       // no matching reply after every attempt
	ErrNodeUnreachable = NewReason("node_unreachable", "node unreachable")     // ICMP port unreachable: nothing listens at the node's address
	ErrBadAddress      = NewReason("bad_address", "bad address")               // not a valid user@domain, or node address
	ErrClosed          = NewReason("closed", "closed")                         // the client (or the program using it) was closed
	ErrNetwork         = NewReason("network_error", "network error")           // a socket failed
	ErrRefused         = NewReason("refused", "refused by the node")           // RD1: not a user of the domain, or not registered from this address
	ErrAuthRequired    = NewReason("auth_required", "the node requires proof") // RA without a secret: the node requires proof of the user's secret
	ErrDenied          = NewReason("denied", "proof denied")                   // RR2, RD2: the secret is not the user's
)

// LookupFailed is the error of a failed lookup of domain's node (a
// lumi.Resolver error): a DNS failure says the domain may exist, anything
// else that it has no node.
func LookupFailed(domain string, err error) error {
	c := lookupCause(domain, err)
	if errors.Is(err, lumi.ErrDNSFailure) {
		return ErrDNSFailure.With(c, "cannot find the LUMI node of "+domain+": DNS failed", err)
	}
	return ErrDomainUnknown.With(c, "no LUMI node for domain "+domain, err)
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

// wrapped is an error with a message that matches its reason, and the
// facts of it.
type wrapped struct {
	reason *Reason
	msg    string
	err    error // the error under it, if any
	cause  Cause
}

func (e *wrapped) Error() string { return e.msg }

func (e *wrapped) Unwrap() []error {
	if e.err != nil {
		return []error{e.reason, e.err}
	}
	return []error{e.reason}
}
