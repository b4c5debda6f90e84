// Package lumi finds the UDP address of another domain's LUMI node: from
// static peers, a DNS SRV record _lumi._udp.<domain>, the hosts file, or the
// domain's own A record on DefaultPort.
package lumi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

var (
	// ErrNoSuchDomain means the domain has no usable record: NXDOMAIN, no
	// data, or an invalid name. The protocol answers RL2.
	ErrNoSuchDomain = errors.New("lumi: no such domain")
	// ErrDNSFailure means that nothing was found and at least one DNS query
	// failed (timeout, SERVFAIL, unreachable server), so the domain may well
	// exist. The protocol also answers RL2, but it is worth logging apart.
	ErrDNSFailure = errors.New("lumi: DNS failure")
	// ErrBadConfig is wrapped by NewResolver errors.
	ErrBadConfig = errors.New("lumi: bad resolver config")
)

const (
	defaultTimeout     = 2 * time.Second
	defaultNegativeTTL = 5 * time.Second
	defaultMaxTTL      = time.Hour
	defaultHostsFile   = "/etc/hosts"
	resolvConf         = "/etc/resolv.conf"
	fallbackDNSServer  = "127.0.0.1:53"
	minSweep           = 1024
)

// Config configures a Resolver. The zero value is usable.
type Config struct {
	Peers       map[string]netip.AddrPort // static entries; keys case-insensitive, trailing dot ignored
	DNSServer   string                    // "host:port"; empty: first nameserver of /etc/resolv.conf, else 127.0.0.1:53
	HostsFile   string                    // default "/etc/hosts"; "-" disables
	Timeout     time.Duration             // per DNS query, default 2s
	NegativeTTL time.Duration             // how long a failure is cached, default 5s
	MaxTTL      time.Duration             // cap on positive cache lifetime, default 1h
	Now         func() time.Time          // for tests; default time.Now
}

// Resolver finds LUMI nodes. Create one with NewResolver; it is safe for
// concurrent use.
//
// Answers found through DNS are cached for the lowest TTL of the records
// they rest on, failures for Config.NegativeTTL. An answer from the hosts
// file is cached too when an SRV query came first: its lifetime is that of
// the SRV record's absence (the zone's SOA, else NegativeTTL, or only
// NegativeTTL if the query failed), so that a dead DNS server does not cost
// a timeout on every lookup. Static peers are never cached.
type Resolver struct {
	peers   map[string]netip.AddrPort
	server  string
	hosts   *hostsFile
	timeout time.Duration
	negTTL  time.Duration
	maxTTL  time.Duration
	now     func() time.Time

	mu      sync.Mutex // guards the maps below; never held during I/O
	cache   map[string]cacheEntry
	flight  map[string]*call
	sweepAt int
}

type cacheEntry struct {
	ap      netip.AddrPort
	err     error
	expires time.Time
}

// call is one lookup in flight, shared by every Resolve of its domain.
type call struct {
	done   chan struct{}
	shared int // callers that joined, for tests
	ap     netip.AddrPort
	err    error
}

// NewResolver checks cfg and fills in its defaults.
func NewResolver(cfg Config) (*Resolver, error) {
	peers, err := normalisePeers(cfg.Peers)
	if err != nil {
		return nil, err
	}
	server, err := dnsServer(cfg.DNSServer)
	if err != nil {
		return nil, err
	}
	hosts := cfg.HostsFile
	if hosts == "" {
		hosts = defaultHostsFile
	}
	r := &Resolver{
		peers:   peers,
		server:  server,
		hosts:   newHostsFile(hosts),
		timeout: orDefault(cfg.Timeout, defaultTimeout),
		negTTL:  orDefault(cfg.NegativeTTL, defaultNegativeTTL),
		maxTTL:  orDefault(cfg.MaxTTL, defaultMaxTTL),
		now:     cfg.Now,
		cache:   make(map[string]cacheEntry),
		flight:  make(map[string]*call),
		sweepAt: minSweep,
	}
	if r.now == nil {
		r.now = time.Now
	}
	return r, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func normalisePeers(in map[string]netip.AddrPort) (map[string]netip.AddrPort, error) {
	out := make(map[string]netip.AddrPort, len(in))
	for domain, ap := range in {
		key, err := peerKey(domain)
		if err != nil {
			return nil, fmt.Errorf("%w: %w: %v", ErrBadConfig, ErrBadPeer, err)
		}
		checked, err := checkAddrPort(ap)
		if err != nil {
			return nil, fmt.Errorf("%w: %w: %s=%v: %v", ErrBadConfig, ErrBadPeer, domain, ap, err)
		}
		out[key] = checked
	}
	return out, nil
}

// dnsServer returns the server to query as "host:port"; a bare host gets
// port 53.
func dnsServer(s string) (string, error) {
	if s == "" {
		return systemDNSServer(), nil
	}
	if _, port, err := net.SplitHostPort(s); err == nil {
		if port == "" {
			return "", fmt.Errorf("%w: DNS server %q has an empty port", ErrBadConfig, s)
		}
		return s, nil
	}
	host := s
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1]
	}
	if host == "" || strings.ContainsAny(host, "[]") {
		return "", fmt.Errorf("%w: DNS server %q is not host:port", ErrBadConfig, s)
	}
	return net.JoinHostPort(host, "53"), nil
}

func systemDNSServer() string {
	cc, err := dns.ClientConfigFromFile(resolvConf)
	if err != nil || len(cc.Servers) == 0 {
		return fallbackDNSServer
	}
	return net.JoinHostPort(cc.Servers[0], cc.Port)
}

// Resolve returns the address of domain's LUMI node. Failures wrap
// ErrNoSuchDomain or ErrDNSFailure; if ctx ends first, the error wraps
// ctx.Err() while the shared lookup goes on for other callers and the cache.
func (r *Resolver) Resolve(ctx context.Context, domain string) (netip.AddrPort, error) {
	key, err := peerKey(domain)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: %v", ErrNoSuchDomain, err)
	}
	if ap, ok := r.peers[key]; ok {
		return ap, nil
	}
	if err := ctx.Err(); err != nil {
		return netip.AddrPort{}, fmt.Errorf("lumi: resolve %s: %w", display(key), err)
	}
	c, hit, ok := r.join(ctx, key)
	if ok {
		return hit.ap, hit.err
	}
	select {
	case <-c.done:
		return c.ap, c.err
	case <-ctx.Done():
		return netip.AddrPort{}, fmt.Errorf("lumi: resolve %s: %w", display(key), ctx.Err())
	}
}

// Known returns domain's node when it can be told without a lookup: a
// static peer, or an answer or failure still in the cache. known is false
// when only Resolve can tell. A caller that limits lookups in flight uses
// it so that what is known never waits for a lookup slot.
func (r *Resolver) Known(domain string) (ap netip.AddrPort, known bool, err error) {
	key, err := peerKey(domain)
	if err != nil {
		return netip.AddrPort{}, true, fmt.Errorf("%w: %v", ErrNoSuchDomain, err)
	}
	if ap, ok := r.peers[key]; ok {
		return ap, true, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.cache[key]; ok && r.now().Before(e.expires) {
		return e.ap, true, e.err
	}
	return netip.AddrPort{}, false, nil
}

// join returns the cached answer for key, or else the lookup in flight for
// key, starting one if there is none.
func (r *Resolver) join(ctx context.Context, key string) (*call, cacheEntry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.cache[key]; ok {
		if r.now().Before(e.expires) {
			return nil, e, true
		}
		delete(r.cache, key)
	}
	c, ok := r.flight[key]
	if !ok {
		c = &call{done: make(chan struct{})}
		r.flight[key] = c
		// Detached from ctx so that one caller giving up does not fail the
		// others; every query is bounded by r.timeout anyway.
		go r.run(context.WithoutCancel(ctx), key, c)
	}
	c.shared++
	return c, cacheEntry{}, false
}

func (r *Resolver) run(ctx context.Context, key string, c *call) {
	ap, ttl, err := r.lookup(ctx, key)
	now := r.now()
	r.mu.Lock()
	r.store(key, ap, ttl, err, now)
	delete(r.flight, key)
	c.ap, c.err = ap, err
	r.mu.Unlock()
	close(c.done)
}

// store caches a result; r.mu must be held.
func (r *Resolver) store(key string, ap netip.AddrPort, ttl time.Duration, err error, now time.Time) {
	if err != nil {
		ttl = r.negTTL
	}
	ttl = min(ttl, r.maxTTL)
	if ttl <= 0 {
		return
	}
	if len(r.cache) >= r.sweepAt {
		r.sweep(now)
	}
	r.cache[key] = cacheEntry{ap: ap, err: err, expires: now.Add(ttl)}
}

// sweep drops expired entries, so that lookups of many distinct names (easy
// to cause with forged requests) do not grow the cache for ever.
func (r *Resolver) sweep(now time.Time) {
	for k, e := range r.cache {
		if !now.Before(e.expires) {
			delete(r.cache, k)
		}
	}
	r.sweepAt = max(minSweep, 2*len(r.cache))
}

// display is a domain as people write it: without the trailing dot.
func display(fqdn string) string {
	if len(fqdn) > 1 {
		return strings.TrimSuffix(fqdn, ".")
	}
	return fqdn
}
