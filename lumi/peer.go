package lumi

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"mi/wire"

	"github.com/miekg/dns"
)

// DefaultPort is the UDP port every LUMI node listens on.
const DefaultPort = wire.PLUMIPort

// ErrBadPeer is wrapped by errors about a static peer entry.
var ErrBadPeer = errors.New("lumi: bad peer")

// ParsePeer parses a static peer entry "domain=host[:port]", where host is an
// IPv4 or IPv6 literal (IPv6 with a port must be bracketed: "[::1]:3344") and
// the port defaults to DefaultPort. The domain comes back lower-case without
// a trailing dot.
func ParsePeer(s string) (domain string, ap netip.AddrPort, err error) {
	name, host, ok := strings.Cut(s, "=")
	if !ok {
		return "", netip.AddrPort{}, fmt.Errorf("%w: %q: want domain=host[:port]", ErrBadPeer, s)
	}
	key, err := peerKey(name)
	if err != nil {
		return "", netip.AddrPort{}, fmt.Errorf("%w: %q: %v", ErrBadPeer, s, err)
	}
	ap, err = parseHostPort(host)
	if err != nil {
		return "", netip.AddrPort{}, fmt.Errorf("%w: %q: %v", ErrBadPeer, s, err)
	}
	return strings.TrimSuffix(key, "."), ap, nil
}

// peerKey validates a domain and returns its cache and map key: lower-case
// and fully qualified, so "BB.com" and "bb.com." are the same domain.
func peerKey(domain string) (string, error) {
	if domain == "" || domain == "." {
		return "", errors.New("empty domain")
	}
	// The spec's domain rule (ASCII letters, digits, "-", ".", "_" in
	// labels of a host name): a name no MI address can carry needs no
	// node, and lower-casing anything else could change it. An address
	// never ends in a dot, but an operator may write a domain fully
	// qualified, as DNS does: "bb.com." names bb.com.
	if err := wire.CheckDomain(strings.TrimSuffix(domain, ".")); err != nil {
		return "", fmt.Errorf("invalid domain name %q: %v", domain, err)
	}
	return strings.ToLower(dns.Fqdn(domain)), nil
}

// parseHostPort accepts "ip", "[ipv6]", "ip:port" and "[ipv6]:port".
func parseHostPort(s string) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return checkAddrPort(ap)
	}
	host := s
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("host %q is not an IP literal (with an optional port)", s)
	}
	if addr.Is4() && host != s {
		return netip.AddrPort{}, fmt.Errorf("brackets around IPv4 address %q", s)
	}
	return checkAddrPort(netip.AddrPortFrom(addr, DefaultPort))
}

func checkAddrPort(ap netip.AddrPort) (netip.AddrPort, error) {
	if ap.Port() == 0 {
		return netip.AddrPort{}, errors.New("port 0")
	}
	if ap.Addr().IsUnspecified() {
		return netip.AddrPort{}, fmt.Errorf("unspecified address %s", ap.Addr())
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}
