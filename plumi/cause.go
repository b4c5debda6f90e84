package plumi

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"mi/lumi"
	"mi/wire"
)

// Cause is a failure as facts: its Kind, finer than its Reason (a domain
// unknown is no_such_domain, no_node, ...), and the facts that kind
// names. A program says a failure in its own words from its cause, as
// mi-agent's screen does; the error's text is for logs, and is never read
// back. Only the facts listed for the Kind are set.
type Cause struct {
	Kind     CauseKind
	Addr     string        // the MI address concerned: the one registered, located or called
	Domain   string        // the domain whose LUMI node was looked for, or that has no such user
	Node     string        // the LUMI node, ip:port
	Server   string        // the DNS server asked, host:port
	Rcode    string        // the DNS server's answer: SERVFAIL, REFUSED, ...
	Tag      string        // a message type: the PLUMI request sent (PR, PD, PL, PA), or what a peer sent instead of its nickname
	Attempt  int           // the attempt at which a request failed, from 1
	Attempts int           // how many times a request or query was sent (or may be)
	Wait     time.Duration // the time between attempts, or a time limit that passed
	Peer     string        // the peer's nickname
	Remote   string        // an ip:port: the peer's, the one connected to, or the one holding a registration
	Input    string        // what was given: an address, a path, a listening address
	Field    string        // the part of Input that is wrong: user, domain, nick, ...
	Problem  string        // what is wrong with it
	Sys      string        // the system's words for the failure under it: "connection refused", "permission denied"
}

// CauseKind names a kind of failure: a snake_case word, the -json
// "cause" object's "kind".
type CauseKind string

// The kinds of the client's failures (and of a lookup of a domain's node,
// LookupFailed), with the facts each sets.
const (
	CauseNXDomain   CauseKind = "no_such_domain" // Domain: it does not exist (NXDOMAIN)
	CauseNoNode     CauseKind = "no_node"        // Domain: it exists and names no node: no SRV record, no address
	CauseNoAddress  CauseKind = "no_address"     // Domain: its SRV records name hosts without an address
	CauseNotOffered CauseKind = "not_offered"    // Domain: its SRV record says it runs no node (target ".")
	CauseDNSRcode   CauseKind = "dns_rcode"      // Domain, Server, Rcode: a DNS server answered a query with an error
	CauseDNSTimeout CauseKind = "dns_timeout"    // Domain, Server, Attempts: a DNS server did not answer
	CauseDNSError   CauseKind = "dns_error"      // Domain, Server (when known), Sys: a DNS query could not be made
	CauseNotADomain CauseKind = "not_a_domain"   // Domain: the name cannot be a domain's

	CauseNoSuchUser    CauseKind = "no_such_user"   // Addr, Domain: RL2 for a user of a domain that has a node
	CauseUnknownTarget CauseKind = "unknown_target" // Addr: RL2, the domain not told apart: no such user, or no such domain
	CauseBusy          CauseKind = "busy"           // Addr: RL1
	CauseOffline       CauseKind = "offline"        // Addr: RL3

	// RR1, which a node sends for several reasons it does not tell
	// apart (see the spec's RegisterCode): Node, Addr.
	CauseRegisterRefused   CauseKind = "register_refused"
	CauseDeregisterRefused CauseKind = "deregister_refused" // Node, Addr: RD1
	CauseProofDenied       CauseKind = "proof_denied"       // Node, Addr, Tag: RR2 or RD2, the secret is not the user's
	CauseProofChallenged   CauseKind = "proof_challenged"   // Node, Addr, Attempts: each proof answered with another challenge
	CauseAuthRequired      CauseKind = "auth_required"      // Node, Addr: a challenge (RA), and no secret to answer it

	CauseNodeTimeout     CauseKind = "node_timeout"     // Node, Tag, Attempts, Wait (between attempts)
	CauseNodeUnreachable CauseKind = "node_unreachable" // Node, Tag, Attempt, Attempts: ICMP port unreachable (Tag "": no request waited)
	CauseNodeSocket      CauseKind = "node_socket"      // Node, Sys: no socket to the node, or it failed
	CauseBadAddress      CauseKind = "bad_address"      // Input, Field, Problem: not a user@domain address
	CauseBadNode         CauseKind = "bad_node"         // Input, Sys: not a node's host:port
	CauseClosed          CauseKind = "closed"           // the client, or the program, was closed
	CauseCancelled       CauseKind = "cancelled"        // the caller cancelled the request (CauseOf of context.Canceled)
)

// CauseKinds are the kinds this package gives, for programs that say
// every one in their own words to check that they do.
var CauseKinds = []CauseKind{
	CauseNXDomain, CauseNoNode, CauseNoAddress, CauseNotOffered, CauseDNSRcode, CauseDNSTimeout, CauseDNSError, CauseNotADomain,
	CauseNoSuchUser, CauseUnknownTarget, CauseBusy, CauseOffline,
	CauseRegisterRefused, CauseDeregisterRefused, CauseProofDenied, CauseProofChallenged, CauseAuthRequired,
	CauseNodeTimeout, CauseNodeUnreachable, CauseNodeSocket, CauseBadAddress, CauseBadNode, CauseClosed, CauseCancelled,
}

// With returns an error matching r whose facts are c and whose text is
// msg, then err's when err is not nil (errors.Is and errors.As reach err).
func (r *Reason) With(c Cause, msg string, err error) error {
	w := &wrapped{reason: r, msg: msg, err: err, cause: c}
	if err != nil {
		w.msg += ": " + err.Error()
	}
	return w
}

// CauseOf returns the facts of err: those of the outermost error of this
// package in its chain; a cancellation (context.Canceled) anywhere in it
// is CauseCancelled, whatever failed. The zero Cause when err has none.
func CauseOf(err error) Cause {
	if errors.Is(err, context.Canceled) {
		return Cause{Kind: CauseCancelled}
	}
	var w *wrapped
	if errors.As(err, &w) {
		return w.cause
	}
	return Cause{}
}

// MarshalJSON writes the cause as one object: "kind", then the facts that
// are set, in snake_case, Wait in milliseconds ("wait_ms").
func (c Cause) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Kind     CauseKind `json:"kind"`
		Addr     string    `json:"addr,omitempty"`
		Domain   string    `json:"domain,omitempty"`
		Node     string    `json:"node,omitempty"`
		Server   string    `json:"server,omitempty"`
		Rcode    string    `json:"rcode,omitempty"`
		Tag      string    `json:"tag,omitempty"`
		Attempt  int       `json:"attempt,omitempty"`
		Attempts int       `json:"attempts,omitempty"`
		WaitMS   int64     `json:"wait_ms,omitempty"`
		Peer     string    `json:"peer,omitempty"`
		Remote   string    `json:"remote,omitempty"`
		Input    string    `json:"input,omitempty"`
		Field    string    `json:"field,omitempty"`
		Problem  string    `json:"problem,omitempty"`
		Sys      string    `json:"sys,omitempty"`
	}{c.Kind, c.Addr, c.Domain, c.Node, c.Server, c.Rcode, c.Tag, c.Attempt, c.Attempts, c.Wait.Milliseconds(),
		c.Peer, c.Remote, c.Input, c.Field, c.Problem, c.Sys})
}

// SysText is the system's own words at the bottom of err's chain ("connection
// refused" under "dial tcp 1.2.3.4:5: connect: "), for Cause.Sys; for an
// input the wire package refused, the field and why ("text: byte 0x1b not
// allowed"); "" for nil.
func SysText(err error) string {
	var we *wire.Error
	if errors.As(err, &we) {
		return we.Field + ": " + we.Reason
	}
	for err != nil {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
	return ""
}

// AddressCause is the facts of s, given as a user@domain address and
// refused by the wire package's parser or checker with err: the part of
// the address that is wrong ("user", "domain", "addr" for the whole) and
// what is wrong with it.
func AddressCause(s string, err error) Cause {
	c := Cause{Kind: CauseBadAddress, Input: s, Problem: SysText(err)}
	var we *wire.Error
	if errors.As(err, &we) {
		c.Field, c.Problem = we.Field[strings.LastIndexByte(we.Field, '.')+1:], we.Reason
	}
	return c
}

// lookupCause is the facts of a failed lookup of domain's node.
func lookupCause(domain string, err error) Cause {
	c := Cause{Domain: domain}
	var de *lumi.DNSError
	switch {
	case errors.Is(err, lumi.ErrNXDomain):
		c.Kind = CauseNXDomain
	case errors.Is(err, lumi.ErrNoNode):
		c.Kind = CauseNoNode
	case errors.Is(err, lumi.ErrNoAddress):
		c.Kind = CauseNoAddress
	case errors.Is(err, lumi.ErrNotOffered):
		c.Kind = CauseNotOffered
	case errors.As(err, &de):
		c.Server = de.Server
		switch {
		case de.Rcode >= 0:
			c.Kind, c.Rcode = CauseDNSRcode, de.RcodeName()
		case de.Timeout():
			c.Kind, c.Attempts = CauseDNSTimeout, de.Attempts
		default:
			c.Kind, c.Sys = CauseDNSError, SysText(de.Err)
		}
	case errors.Is(err, lumi.ErrNoSuchDomain): // alone: a name that cannot be a domain
		c.Kind = CauseNotADomain
	default:
		c.Kind, c.Sys = CauseDNSError, SysText(err)
	}
	return c
}
