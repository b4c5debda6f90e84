package lumi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/miekg/dns"
)

// The errors of a lookup. Each failure of Resolve, Known and Targets wraps
// exactly one of ErrNXDomain, ErrNoNode, ErrNoAddress, ErrNotOffered and
// ErrDNSFailure (or ctx.Err(), or ErrNoSuchDomain alone for a name that
// cannot be a domain), so errors.Is tells them apart.
var (
	// ErrNoSuchDomain means that the domain has no LUMI node to send to, as
	// DNS says: ErrNXDomain, ErrNoNode, ErrNoAddress and ErrNotOffered all
	// match it, as does an invalid name. The protocol answers RL2. A DNS
	// failure does not match it: the domain may well exist.
	ErrNoSuchDomain = errors.New("lumi: no such domain")

	// ErrNXDomain means that neither _lumi._udp.DOMAIN nor DOMAIN exists
	// (NXDOMAIN for the SRV and the address queries).
	ErrNXDomain error = &noNodeError{"lumi: no such domain (NXDOMAIN)"}
	// ErrNoNode means that the domain exists but has no node record:
	// neither an SRV record nor an address (NODATA).
	ErrNoNode error = &noNodeError{"lumi: no node record (neither SRV nor address)"}
	// ErrNoAddress means that the domain has SRV records but none of their
	// targets has an address. There is no fallback to the domain's own
	// address then: the SRV records say where the node is.
	ErrNoAddress error = &noNodeError{"lumi: no SRV target has an address"}
	// ErrNotOffered means that the SRV record's target is ".": the domain
	// says it runs no node (RFC 2782).
	ErrNotOffered error = &noNodeError{`lumi: service not offered (SRV target ".")`}

	// ErrDNSFailure means that nothing was found and at least one DNS query
	// failed (an rcode other than NOERROR and NXDOMAIN, a timeout, an
	// unreachable server), so the domain may well exist. The protocol also
	// answers RL2, but it is worth logging apart. errors.As with a
	// *DNSError gives the first failed query.
	ErrDNSFailure = errors.New("lumi: DNS failure")

	// ErrAllDown is returned by Next when every other target of the domain
	// is marked down. Resolve and Known never return it: they return the
	// first target anyway, since trying a target thought down beats giving
	// up.
	ErrAllDown = errors.New("lumi: every target is marked down")

	// ErrBadConfig is wrapped by NewResolver errors.
	ErrBadConfig = errors.New("lumi: bad resolver config")
)

// noNodeError is a kind of ErrNoSuchDomain with a message of its own.
type noNodeError struct{ msg string }

func (e *noNodeError) Error() string        { return e.msg }
func (e *noNodeError) Is(target error) bool { return target == ErrNoSuchDomain }

// LookupError is how a lookup of a domain failed. Resolve, Known and
// Targets return it for every failure that a lookup found.
type LookupError struct {
	Domain string    // as people write it, without the trailing dot
	Kind   error     // ErrNXDomain, ErrNoNode, ErrNoAddress, ErrNotOffered or ErrDNSFailure
	Tried  []string  // every step that found nothing, with its outcome
	Cause  *DNSError // the first failed query, if any
}

func (e *LookupError) Error() string {
	return fmt.Sprintf("%v: %s (tried %s)", e.Kind, e.Domain, strings.Join(e.Tried, "; "))
}

func (e *LookupError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Cause}
}

// DNSError is one DNS query that failed. It matches ErrDNSFailure.
type DNSError struct {
	Query    string // the question, such as "SRV _lumi._udp.bb.com"
	Server   string // host:port asked
	Rcode    int    // the server's rcode, or -1 when it gave no usable reply
	Attempts int    // how many times the question was sent
	Err      error  // why there was no usable reply; nil for an rcode
}

func (e *DNSError) Error() string {
	prefix := fmt.Sprintf("query %s to %s", e.Query, e.Server)
	switch {
	case e.Rcode >= 0:
		return prefix + ": server answered " + rcodeName(e.Rcode)
	case e.Timeout():
		return fmt.Sprintf("%s: no reply after %d attempts: %v", prefix, e.Attempts, e.Err)
	}
	return fmt.Sprintf("%s: %v", prefix, e.Err)
}

func (e *DNSError) Unwrap() error        { return e.Err }
func (e *DNSError) Is(target error) bool { return target == ErrDNSFailure }

// RcodeName is the name of the server's rcode (SERVFAIL, REFUSED, ...),
// or "" when it gave no usable reply.
func (e *DNSError) RcodeName() string {
	if e.Rcode < 0 {
		return ""
	}
	return rcodeName(e.Rcode)
}

// Timeout reports whether the server did not answer in time.
func (e *DNSError) Timeout() bool { return isTimeout(e.Err) }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func rcodeName(rcode int) string {
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rcode)
}

// Reason is the kind of a lookup's failure as one snake_case word, for
// logs and for programs: no_such_domain, no_node, no_address, not_offered,
// dns_failure, or "" for an error that is none of them.
func Reason(err error) string {
	for _, k := range []struct {
		err  error
		word string
	}{
		{ErrNXDomain, "no_such_domain"},
		{ErrNoNode, "no_node"},
		{ErrNoAddress, "no_address"},
		{ErrNotOffered, "not_offered"},
		{ErrDNSFailure, "dns_failure"},
		{ErrNoSuchDomain, "no_such_domain"},
	} {
		if errors.Is(err, k.err) {
			return k.word
		}
	}
	return ""
}
