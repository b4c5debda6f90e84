package lumi

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/miekg/dns"
)

// Source says where a Target came from.
type Source uint8

const (
	SourcePeer    Source = iota + 1 // Config.Peers
	SourceHosts                     // the domain's own hosts-file entry, on DefaultPort
	SourceSRV                       // an SRV record's target (its address from DNS or the hosts file)
	SourceAddress                   // the domain's own A or AAAA record, on DefaultPort, as it has no SRV record
)

func (s Source) String() string {
	switch s {
	case SourcePeer:
		return "peer"
	case SourceHosts:
		return "hosts"
	case SourceSRV:
		return "SRV"
	case SourceAddress:
		return "A/AAAA"
	}
	return "unknown"
}

// Target is one address where a domain's node may be reached.
type Target struct {
	Addr     netip.AddrPort
	Name     string        // the host Addr belongs to, without the trailing dot: the SRV target, else the domain
	Priority uint16        // of the SRV record; 0 for other sources
	Weight   uint16        // of the SRV record; 0 for other sources
	TTL      time.Duration // the lowest TTL, as received, of the DNS records it rests on (SRV, CNAME, A and AAAA of Name); 0 for peers and hosts entries
	Source   Source
	Down     bool // marked down (MarkDown) when the list was made
}

const (
	// maxSRVTargets bounds the SRV records a lookup uses, since a reply
	// may list hundreds, each costing queries. Going over is logged.
	maxSRVTargets = 32
	// maxHostAddrs bounds the addresses used per host name, for the same
	// reason.
	maxHostAddrs = 8
)

// orderSRV returns the first limit records in the order of RFC 2782:
// lowest priority first, and within a priority the weighted random order
// of the RFC. intn(n) returns a uniform random integer in [0, n).
func orderSRV(srvs []*dns.SRV, limit int, intn func(int) int) []*dns.SRV {
	rest := slices.Clone(srvs)
	slices.SortStableFunc(rest, func(x, y *dns.SRV) int { return cmp.Compare(x.Priority, y.Priority) })
	out := make([]*dns.SRV, 0, min(limit, len(rest)))
	for len(rest) > 0 && len(out) < limit {
		n := 1
		for n < len(rest) && rest[n].Priority == rest[0].Priority {
			n++
		}
		out = appendWeighted(out, rest[:n], limit, intn)
		rest = rest[n:]
	}
	return out
}

// appendWeighted appends the records of one priority to out, up to limit
// in all, by the RFC's selection: weight 0 records are put first, then
// repeatedly a uniform random number between 0 and the sum of the weights
// left (inclusive) picks the first record whose running sum of weights
// reaches it. The inclusive bound is what gives weight 0 records their
// small chance (it also gives the first record listed one more chance in
// sum+1). Records of the same weight class stay in the order the server
// sent them, which the RFC leaves open. group is reordered.
func appendWeighted(out, group []*dns.SRV, limit int, intn func(int) int) []*dns.SRV {
	slices.SortStableFunc(group, func(x, y *dns.SRV) int { return cmp.Compare(min(x.Weight, 1), min(y.Weight, 1)) })
	sum := 0
	for _, s := range group {
		sum += int(s.Weight)
	}
	for len(group) > 0 && len(out) < limit {
		i := pickWeighted(group, intn(sum+1))
		out = append(out, group[i])
		sum -= int(group[i].Weight)
		group = slices.Delete(group, i, i+1)
	}
	return out
}

func pickWeighted(group []*dns.SRV, r int) int {
	running := 0
	for i, s := range group {
		running += int(s.Weight)
		if running >= r {
			return i
		}
	}
	return len(group) - 1 // unreachable while r <= sum
}

// hostAddrs is what is known of one host name's addresses.
type hostAddrs struct {
	addrs []netip.Addr // IPv4 first, then IPv6
	ttl   time.Duration
}

// usableAddr is the address of an A or AAAA record, unless no node can be
// there: the unspecified address would send datagrams to this host, and a
// multicast group to anyone who joins it.
func usableAddr(rr dns.RR) (netip.Addr, bool) {
	var ip []byte
	switch rr := rr.(type) {
	case *dns.A:
		ip = rr.A
	case *dns.AAAA:
		ip = rr.AAAA
	}
	addr, ok := netip.AddrFromSlice(ip)
	addr = addr.Unmap()
	return addr, ok && !addr.IsUnspecified() && !addr.IsMulticast()
}

// addrsOf returns the usable addresses of records (A and AAAA of one name),
// IPv4 first as the older and more widely routed family, without
// duplicates, at most maxHostAddrs, and how many were left out.
func addrsOf(rrs []dns.RR) ([]netip.Addr, int) {
	var addrs []netip.Addr
	for _, rr := range rrs {
		if a, ok := usableAddr(rr); ok && !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	slices.SortStableFunc(addrs, func(x, y netip.Addr) int { return cmp.Compare(x.BitLen(), y.BitLen()) })
	if len(addrs) > maxHostAddrs {
		return addrs[:maxHostAddrs], len(addrs) - maxHostAddrs
	}
	return addrs, 0
}
