package lumi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// srvPrefix names the LUMI service in SRV records (RFC 2782).
const srvPrefix = "_lumi._udp."

const (
	// maxCNAMEHops bounds the CNAMEs followed for one question, within a
	// reply and across the queries for targets a reply left unresolved.
	maxCNAMEHops = 8
	// maxParallelHosts bounds the SRV target names resolved at once, each
	// with an A and an AAAA query.
	maxParallelHosts = 8
	// noTTL is the lifetime of facts that do not expire, such as a hosts
	// file entry.
	noTTL = time.Duration(math.MaxInt64)
)

// errSkipped stands for a query not sent: once the server left one query
// unanswered, the others of the lookup would most likely wait as long.
var errSkipped = errors.New("not sent, as the server did not answer an earlier query of this lookup")

// srvState is what the SRV query said.
type srvState uint8

const (
	srvNXDomain   srvState = iota // NXDOMAIN
	srvNoData                     // the name exists, with no SRV record
	srvFailed                     // no usable reply
	srvFound                      // SRV records naming targets
	srvNotOffered                 // the single target "."
)

// attempt is one lookup of a domain: the steps that found nothing, for the
// error message, and how long the result may be cached (the minimum over
// every DNS fact it relied on, including the absence of records).
type attempt struct {
	r        *Resolver
	name     string // lower-case FQDN
	tried    []string
	cause    *DNSError
	srv      srvState
	addrNX   bool // the A and AAAA queries for the domain said NXDOMAIN
	ttl      time.Duration
	timedOut atomic.Bool // queries run in parallel; see errSkipped
}

// reply is what one question found, after any CNAMEs.
type reply struct {
	rrs  []dns.RR      // records of the type asked
	resp *dns.Msg      // the last reply, for its Additional section
	ttl  time.Duration // lowest TTL along the way, or how long an absence holds
	nx   bool          // NXDOMAIN
	err  *DNSError
	note string // what went wrong, when no record was found
}

func (r *Resolver) lookup(ctx context.Context, name string) ([]Target, time.Duration, error) {
	a := &attempt{r: r, name: name, ttl: noTTL}
	if ts := a.find(ctx); len(ts) > 0 {
		return ts, a.ttl, nil
	}
	return nil, a.ttl, a.failure()
}

func (a *attempt) find(ctx context.Context) []Target {
	ts := a.viaSRV(ctx)
	if a.srv == srvFound || a.srv == srvNotOffered {
		// The SRV records say where the node is, or that there is none:
		// the domain's own address would be another host or port.
		return ts
	}
	if ts := a.viaHosts(); len(ts) > 0 {
		return ts
	}
	if a.srv == srvFailed {
		// SRV records may exist: the domain's address could be the wrong
		// node, and a server that failed once costs a timeout again.
		return nil
	}
	return a.viaAddress(ctx)
}

func (a *attempt) failure() error {
	kind := ErrNoNode
	switch {
	case a.srv == srvNotOffered:
		kind = ErrNotOffered
	case a.cause != nil:
		kind = ErrDNSFailure
	case a.srv == srvFound:
		kind = ErrNoAddress
	case a.srv == srvNXDomain && a.addrNX:
		kind = ErrNXDomain
	}
	return &LookupError{Domain: display(a.name), Kind: kind, Tried: a.tried, Cause: a.cause}
}

// record takes in what replies found, in the order given: the first
// failure is the cause, and every reply bounds the cache lifetime.
func (a *attempt) record(reps ...reply) {
	for _, rep := range reps {
		if rep.err != nil && a.cause == nil {
			a.cause = rep.err
		}
		if rep.note != "" {
			a.tried = append(a.tried, rep.note)
		}
		a.ttl = min(a.ttl, rep.ttl)
	}
}

func (a *attempt) note(s string) { a.tried = append(a.tried, s) }

func (a *attempt) viaSRV(ctx context.Context) []Target {
	rep := a.ask(ctx, srvPrefix+a.name, dns.TypeSRV)
	a.record(rep)
	switch {
	case rep.err != nil:
		a.srv = srvFailed
		return nil
	case len(rep.rrs) == 0 && rep.nx:
		a.srv = srvNXDomain
		return nil
	case len(rep.rrs) == 0:
		a.srv = srvNoData
		return nil
	}
	srvs := a.usableSRV(rep.rrs)
	if a.srv == srvNotOffered {
		return nil
	}
	ordered := orderSRV(srvs, maxSRVTargets, a.r.intn)
	if len(srvs) > len(ordered) {
		a.r.log.Warn("lumi: SRV records over the cap are not used", "domain", display(a.name),
			"records", len(srvs), "used", len(ordered))
	}
	return a.srvTargets(ordered, a.hostsOf(ctx, ordered, rep.resp), rep.ttl)
}

// usableSRV returns the records a node can be reached through. A lone
// target "." (RFC 2782: the service is decidedly not available) sets
// srvNotOffered; among other records it is only skipped.
func (a *attempt) usableSRV(rrs []dns.RR) []*dns.SRV {
	a.srv = srvFound
	var out []*dns.SRV
	dots := 0
	for _, rr := range rrs {
		s, ok := rr.(*dns.SRV)
		switch {
		case !ok:
			a.note("SRV " + display(srvPrefix+a.name) + ": record without data")
		case s.Target == ".":
			dots++
		case s.Port == 0:
			a.note("SRV target " + display(targetName(s)) + ": port 0")
		default:
			out = append(out, s)
		}
	}
	if len(out) == 0 && dots > 0 {
		a.srv = srvNotOffered
		a.note("SRV " + display(srvPrefix+a.name) + `: target "." (no node here)`)
	}
	return out
}

func targetName(s *dns.SRV) string { return strings.ToLower(dns.Fqdn(s.Target)) }

// hostsOf finds the addresses of the SRV targets: the reply's Additional
// section saves queries, then the hosts file, then A and AAAA queries for
// the others, several targets at once so that a slow server costs one
// query time rather than one per target.
func (a *attempt) hostsOf(ctx context.Context, srvs []*dns.SRV, resp *dns.Msg) map[string]hostAddrs {
	known := make(map[string]hostAddrs, len(srvs))
	var ask []string
	for _, s := range srvs {
		name := targetName(s)
		if _, seen := known[name]; seen {
			continue
		}
		if h, ok := a.additional(resp, name); ok {
			known[name] = h
			a.ttl = min(a.ttl, h.ttl)
		} else if addr, ok := a.r.hosts.lookup(name); ok {
			known[name] = hostAddrs{addrs: []netip.Addr{addr}, ttl: noTTL}
		} else {
			known[name] = hostAddrs{}
			ask = append(ask, name)
		}
	}
	for i, h := range a.resolveHosts(ctx, ask) {
		known[ask[i]] = h
	}
	return known
}

func (a *attempt) additional(resp *dns.Msg, name string) (hostAddrs, bool) {
	var rrs []dns.RR
	ttl := noTTL
	for _, rr := range resp.Extra {
		h := rr.Header()
		if (h.Rrtype == dns.TypeA || h.Rrtype == dns.TypeAAAA) && strings.EqualFold(h.Name, name) {
			if _, ok := usableAddr(rr); ok {
				rrs = append(rrs, rr)
				ttl = min(ttl, seconds(h.Ttl))
			}
		}
	}
	addrs := a.addrs(name, rrs)
	return hostAddrs{addrs: addrs, ttl: ttl}, len(addrs) > 0
}

// resolveHosts queries the addresses of names, at most maxParallelHosts
// at a time, and records the replies in the order of names.
func (a *attempt) resolveHosts(ctx context.Context, names []string) []hostAddrs {
	hosts := make([]hostAddrs, len(names))
	reps := make([][]reply, len(names))
	slots := make(chan struct{}, maxParallelHosts)
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			hosts[i], reps[i] = a.resolveHost(ctx, name)
		})
	}
	wg.Wait()
	for _, rs := range reps {
		a.record(rs...)
	}
	return hosts
}

// resolveHost asks for the A and AAAA records of name at once. It does not
// record the replies, as it may run in parallel with others.
func (a *attempt) resolveHost(ctx context.Context, name string) (hostAddrs, []reply) {
	reps := make([]reply, 2)
	var wg sync.WaitGroup
	for i, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		wg.Go(func() { reps[i] = a.ask(ctx, name, qtype) })
	}
	wg.Wait()
	h := hostAddrs{ttl: noTTL}
	var rrs []dns.RR
	for _, rep := range reps {
		if len(rep.rrs) > 0 {
			rrs = append(rrs, rep.rrs...)
			h.ttl = min(h.ttl, rep.ttl)
		}
	}
	h.addrs = a.addrs(name, rrs)
	return h, reps
}

// addrs is addrsOf, logging the addresses left out.
func (a *attempt) addrs(name string, rrs []dns.RR) []netip.Addr {
	addrs, dropped := addrsOf(rrs)
	if dropped > 0 {
		a.r.log.Warn("lumi: addresses over the cap are not used", "domain", display(a.name),
			"host", display(name), "addresses", len(addrs)+dropped, "used", len(addrs))
	}
	return addrs
}

// srvTargets lists the addresses of the ordered SRV records, each address
// once, at its first place.
func (a *attempt) srvTargets(srvs []*dns.SRV, hosts map[string]hostAddrs, srvTTL time.Duration) []Target {
	var ts []Target
	seen := make(map[netip.AddrPort]bool)
	for _, s := range srvs {
		name := targetName(s)
		h := hosts[name]
		if len(h.addrs) == 0 {
			a.note("SRV target " + display(name) + ": no address")
		}
		for _, addr := range h.addrs {
			ap := netip.AddrPortFrom(addr, s.Port)
			if seen[ap] {
				continue
			}
			seen[ap] = true
			ts = append(ts, Target{Addr: ap, Name: display(name), Priority: s.Priority, Weight: s.Weight,
				TTL: min(srvTTL, h.ttl), Source: SourceSRV})
		}
	}
	return ts
}

func (a *attempt) viaHosts() []Target {
	if a.r.hosts.path == "" {
		return nil
	}
	if addr, ok := a.r.hosts.lookup(a.name); ok {
		return []Target{{Addr: netip.AddrPortFrom(addr, DefaultPort), Name: display(a.name), Source: SourceHosts}}
	}
	a.note("hosts file " + a.r.hosts.path + ": no entry")
	return nil
}

// viaAddress is the fallback for a domain without SRV records: its own
// addresses on DefaultPort.
func (a *attempt) viaAddress(ctx context.Context) []Target {
	h, reps := a.resolveHost(ctx, a.name)
	a.record(reps...)
	a.addrNX = reps[0].nx && reps[1].nx
	ts := make([]Target, 0, len(h.addrs))
	for _, addr := range h.addrs {
		ts = append(ts, Target{Addr: netip.AddrPortFrom(addr, DefaultPort), Name: display(a.name),
			TTL: h.ttl, Source: SourceAddress})
	}
	return ts
}

// ask finds the records of type qtype for name, following CNAMEs: within a
// reply, and with a new query when a reply ends on a CNAME whose target it
// does not resolve. It is safe to call from parallel goroutines.
func (a *attempt) ask(ctx context.Context, name string, qtype uint16) reply {
	what := dns.TypeToString[qtype] + " " + display(name)
	cur, hops, ttl := name, 0, noTTL
	for {
		resp, err := a.send(ctx, cur, qtype)
		if err != nil {
			return reply{err: err, ttl: a.r.negTTL, note: err.Error()}
		}
		rrs, end, chainTTL, used := answerChain(resp, cur, qtype, maxCNAMEHops-hops)
		hops += used
		ttl = min(ttl, chainTTL)
		switch {
		case len(rrs) > 0:
			return reply{rrs: rrs, resp: resp, ttl: ttl}
		case used == 0 || resp.Rcode == dns.RcodeNameError || soaOf(resp) != nil:
			// No CNAME, or one ending on nothing: a negative answer for
			// the end of a chain carries the SOA of its zone (RFC 2308).
			return a.absent(what, resp, ttl)
		case hops > maxCNAMEHops:
			return reply{resp: resp, ttl: min(ttl, a.r.negTTL), note: fmt.Sprintf("%s: more than %d CNAMEs", what, maxCNAMEHops)}
		}
		// The reply ends on a CNAME it does not resolve: ask for its target.
		cur = end
	}
}

// absent is the reply for NXDOMAIN or NODATA, believed as long as the
// zone's SOA says (RFC 2308) up to MaxNegativeTTL, or NegativeTTL without
// one.
func (a *attempt) absent(what string, resp *dns.Msg, ttl time.Duration) reply {
	rep := reply{resp: resp, ttl: min(ttl, a.r.negTTL), nx: resp.Rcode == dns.RcodeNameError, note: what + ": no record"}
	if rep.nx {
		rep.note = what + ": NXDOMAIN"
	}
	if soa := soaOf(resp); soa != nil {
		rep.ttl = min(ttl, seconds(min(soa.Hdr.Ttl, soa.Minttl)), a.r.maxNegTTL)
	}
	return rep
}

func soaOf(resp *dns.Msg) *dns.SOA {
	for _, rr := range resp.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa
		}
	}
	return nil
}

// send is query, but sends nothing once a query of this lookup has gone
// unanswered.
func (a *attempt) send(ctx context.Context, name string, qtype uint16) (*dns.Msg, *DNSError) {
	if a.timedOut.Load() {
		return nil, &DNSError{Query: dns.TypeToString[qtype] + " " + display(name), Server: a.r.server, Rcode: -1, Err: errSkipped}
	}
	resp, err := a.r.query(ctx, name, qtype)
	if err != nil && err.Timeout() {
		a.timedOut.Store(true)
	}
	return resp, err
}

// answerChain returns the records of type qtype for name in the Answer
// section, following at most hops CNAMEs; else the name the chain ended on
// and how many CNAMEs led there (hops+1 if the chain goes on). It also
// returns the lowest TTL along the way. Records for other names are
// ignored: a server has no say about names not asked for.
func answerChain(resp *dns.Msg, name string, qtype uint16, hops int) ([]dns.RR, string, time.Duration, int) {
	ttl := noTTL
	cur := name
	for used := 0; ; used++ {
		found, next, t := recordsOf(resp, cur, qtype)
		ttl = min(ttl, t)
		if len(found) > 0 || next == "" {
			return found, cur, ttl, used
		}
		if used == hops {
			return nil, next, ttl, used + 1
		}
		cur = next
	}
}

// recordsOf returns the records of name in the Answer section: those of
// type qtype, else the target of its first CNAME; and their lowest TTL.
func recordsOf(resp *dns.Msg, name string, qtype uint16) ([]dns.RR, string, time.Duration) {
	var found []dns.RR
	next, ttl := "", noTTL
	for _, rr := range resp.Answer {
		h := rr.Header()
		if !strings.EqualFold(h.Name, name) {
			continue
		}
		// Checked, as a reply's records are untrusted; a CNAME with empty
		// data (no target) leads nowhere.
		c, isCNAME := rr.(*dns.CNAME)
		switch {
		case h.Rrtype == qtype:
			found = append(found, rr)
			ttl = min(ttl, seconds(h.Ttl))
		case isCNAME && c.Target != "" && c.Target != "." && next == "":
			next = strings.ToLower(dns.Fqdn(c.Target))
			ttl = min(ttl, seconds(h.Ttl))
		}
	}
	if len(found) > 0 {
		next = ""
	}
	return found, next, ttl
}

func seconds(s uint32) time.Duration {
	return time.Duration(s) * time.Second
}
