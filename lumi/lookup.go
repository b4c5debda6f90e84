package lumi

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// srvPrefix names the LUMI service in SRV records (RFC 2782).
const srvPrefix = "_lumi._udp."

const (
	// maxCNAMEHops bounds CNAME chains followed inside one answer.
	maxCNAMEHops = 8
	// maxSRVTargets bounds the A queries one lookup may send for SRV
	// targets, since a reply may list any number of them.
	maxSRVTargets = 3
)

// attempt is one lookup of a domain: the steps tried, for the error message,
// and how long the answer may be cached (the minimum over every DNS fact it
// relied on, including the absence of an SRV record).
type attempt struct {
	r         *Resolver
	name      string // lower-case FQDN
	tried     []string
	dnsFailed bool
	stop      bool // the domain said explicitly it runs no node
	ttl       time.Duration
}

func (r *Resolver) lookup(ctx context.Context, name string) (netip.AddrPort, time.Duration, error) {
	a := &attempt{r: r, name: name, ttl: r.maxTTL}
	steps := []func(context.Context) (netip.AddrPort, bool){a.viaSRV, a.viaHosts, a.viaA}
	for _, step := range steps {
		if ap, ok := step(ctx); ok {
			return ap, a.ttl, nil
		}
		if a.stop {
			break
		}
	}
	return netip.AddrPort{}, 0, a.failure()
}

func (a *attempt) failure() error {
	base := ErrNoSuchDomain
	if a.dnsFailed {
		base = ErrDNSFailure
	}
	return fmt.Errorf("%w: %s (tried %s)", base, display(a.name), strings.Join(a.tried, "; "))
}

func (a *attempt) note(what, outcome string) {
	a.tried = append(a.tried, what+": "+outcome)
}

func (a *attempt) limit(ttl time.Duration) {
	a.ttl = min(a.ttl, ttl)
}

// fail records a DNS error. Its answer, if a later step finds one, is kept
// only briefly since the failed query may well succeed next time.
func (a *attempt) fail(what string, err error) {
	a.dnsFailed = true
	a.note(what, err.Error())
	a.limit(a.r.negTTL)
}

// negative records NXDOMAIN or NODATA, cached as long as the zone's SOA says
// (RFC 2308), or NegativeTTL without one.
func (a *attempt) negative(what string, resp *dns.Msg) {
	outcome := "no record"
	if resp.Rcode == dns.RcodeNameError {
		outcome = "NXDOMAIN"
	}
	a.note(what, outcome)
	a.limit(negativeTTL(resp, a.r.negTTL))
}

func negativeTTL(resp *dns.Msg, def time.Duration) time.Duration {
	for _, rr := range resp.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return seconds(min(soa.Hdr.Ttl, soa.Minttl))
		}
	}
	return def
}

func (a *attempt) viaSRV(ctx context.Context) (netip.AddrPort, bool) {
	qname := srvPrefix + a.name
	what := "SRV " + display(qname)
	resp, err := a.r.query(ctx, qname, dns.TypeSRV)
	if err != nil {
		a.fail(what, err)
		return netip.AddrPort{}, false
	}
	rrs, ttl := answerChain(resp, qname, dns.TypeSRV)
	if len(rrs) == 0 {
		a.negative(what, resp)
		return netip.AddrPort{}, false
	}
	srvs := sortedSRV(rrs)
	if len(srvs) == 1 && srvs[0].Target == "." {
		// RFC 2782: the service is decidedly not available at this domain.
		a.note(what, `target "." (no node here)`)
		a.stop = true
		return netip.AddrPort{}, false
	}
	for _, s := range srvs[:min(len(srvs), maxSRVTargets)] {
		if ap, ok := a.srvTarget(ctx, s, resp); ok {
			a.limit(ttl)
			return ap, true
		}
	}
	return netip.AddrPort{}, false
}

// sortedSRV orders records by lowest priority, then highest weight; the
// target and port only make the order deterministic. Weighted random choice
// would spread load, but a domain runs a single node.
func sortedSRV(rrs []dns.RR) []*dns.SRV {
	srvs := make([]*dns.SRV, 0, len(rrs))
	for _, rr := range rrs {
		srvs = append(srvs, rr.(*dns.SRV))
	}
	slices.SortStableFunc(srvs, func(x, y *dns.SRV) int {
		switch {
		case x.Priority != y.Priority:
			return int(x.Priority) - int(y.Priority)
		case x.Weight != y.Weight:
			return int(y.Weight) - int(x.Weight)
		case x.Target != y.Target:
			return strings.Compare(strings.ToLower(x.Target), strings.ToLower(y.Target))
		}
		return int(x.Port) - int(y.Port)
	})
	return srvs
}

// srvTarget resolves an SRV target: the reply's Additional section saves a
// query, then the hosts file, then an A query.
func (a *attempt) srvTarget(ctx context.Context, s *dns.SRV, resp *dns.Msg) (netip.AddrPort, bool) {
	target := strings.ToLower(dns.Fqdn(s.Target))
	what := fmt.Sprintf("SRV target %s port %d", display(target), s.Port)
	if s.Port == 0 || target == "." {
		a.note(what, "unusable")
		return netip.AddrPort{}, false
	}
	if addr, ttl, ok := additionalA(resp, target); ok {
		a.limit(ttl)
		return netip.AddrPortFrom(addr, s.Port), true
	}
	if addr, ok := a.r.hosts.lookup(target); ok {
		return netip.AddrPortFrom(addr, s.Port), true
	}
	a.note(what, "not in Additional section nor hosts file")
	if addr, ok := a.queryA(ctx, target); ok {
		return netip.AddrPortFrom(addr, s.Port), true
	}
	return netip.AddrPort{}, false
}

func additionalA(resp *dns.Msg, target string) (netip.Addr, time.Duration, bool) {
	for _, rr := range resp.Extra {
		if a, ok := rr.(*dns.A); ok && strings.EqualFold(a.Hdr.Name, target) {
			if addr, ok := usableIPv4(a); ok {
				return addr, seconds(a.Hdr.Ttl), true
			}
		}
	}
	return netip.Addr{}, 0, false
}

func (a *attempt) viaHosts(context.Context) (netip.AddrPort, bool) {
	if a.r.hosts.path == "" {
		return netip.AddrPort{}, false
	}
	if addr, ok := a.r.hosts.lookup(a.name); ok {
		return netip.AddrPortFrom(addr, DefaultPort), true
	}
	a.note("hosts file "+a.r.hosts.path, "no entry")
	return netip.AddrPort{}, false
}

func (a *attempt) viaA(ctx context.Context) (netip.AddrPort, bool) {
	if addr, ok := a.queryA(ctx, a.name); ok {
		return netip.AddrPortFrom(addr, DefaultPort), true
	}
	return netip.AddrPort{}, false
}

// queryA asks DNS for the IPv4 address of name.
func (a *attempt) queryA(ctx context.Context, name string) (netip.Addr, bool) {
	what := "A " + display(name)
	resp, err := a.r.query(ctx, name, dns.TypeA)
	if err != nil {
		a.fail(what, err)
		return netip.Addr{}, false
	}
	rrs, ttl := answerChain(resp, name, dns.TypeA)
	for _, rr := range rrs {
		if addr, ok := usableIPv4(rr.(*dns.A)); ok {
			a.limit(ttl)
			return addr, true
		}
	}
	a.negative(what, resp)
	return netip.Addr{}, false
}

// usableIPv4 refuses 0.0.0.0, which would send datagrams to this host.
func usableIPv4(a *dns.A) (netip.Addr, bool) {
	addr, ok := netip.AddrFromSlice(a.A)
	if !ok {
		return netip.Addr{}, false
	}
	addr = addr.Unmap()
	return addr, addr.Is4() && !addr.IsUnspecified()
}

// answerChain returns the records of type qtype for name in the Answer
// section, following CNAMEs, and the lowest TTL along the way. Records for
// other names are ignored: a server has no say about names not asked for.
func answerChain(resp *dns.Msg, name string, qtype uint16) ([]dns.RR, time.Duration) {
	ttl := uint32(math.MaxUint32)
	cur := name
	for range maxCNAMEHops {
		var found []dns.RR
		next := ""
		for _, rr := range resp.Answer {
			h := rr.Header()
			if !strings.EqualFold(h.Name, cur) {
				continue
			}
			switch {
			case h.Rrtype == qtype:
				found = append(found, rr)
				ttl = min(ttl, h.Ttl)
			case h.Rrtype == dns.TypeCNAME && next == "":
				next = rr.(*dns.CNAME).Target
				ttl = min(ttl, h.Ttl)
			}
		}
		if len(found) > 0 {
			return found, seconds(ttl)
		}
		if next == "" {
			return nil, 0
		}
		cur = next
	}
	return nil, 0
}

func seconds(s uint32) time.Duration {
	return time.Duration(s) * time.Second
}
