// Package lumi finds the UDP addresses of another domain's LUMI node: a
// static peer; else the targets of the DNS SRV records _lumi._udp.<domain>,
// in the order of RFC 2782; else, when the domain has no SRV record, its
// hosts file entry or its own A and AAAA records, on DefaultPort.
package lumi

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// The defaults of Config that programs show in their flags' help.
const (
	DefaultTimeout   = 400 * time.Millisecond // Config.Timeout
	DefaultDownFor   = 30 * time.Second       // Config.DownFor
	DefaultHostsFile = "/etc/hosts"           // Config.HostsFile
)

const (
	defaultRetries        = 1
	defaultNegativeTTL    = 5 * time.Second
	defaultMaxNegativeTTL = time.Minute
	defaultMaxTTL         = time.Hour
	defaultMaxCache       = 10000
	resolvConf            = "/etc/resolv.conf"
	fallbackDNSServer     = "127.0.0.1:53"
)

// Config configures a Resolver. The zero value is usable.
type Config struct {
	Peers     map[string]netip.AddrPort // static entries; keys case-insensitive, trailing dot ignored
	DNSServer string                    // "host:port"; empty: first nameserver of /etc/resolv.conf, else 127.0.0.1:53
	HostsFile string                    // default DefaultHostsFile; "-" disables

	// Timeout bounds each attempt of a DNS query (default DefaultTimeout);
	// an unanswered query is sent again Retries times (default 1, negative
	// for none). A lookup sends nothing more once a query went unanswered,
	// and asks for its SRV targets' addresses in parallel, so a server
	// that does not answer costs it about Timeout*(1+Retries), however
	// many targets there are.
	Timeout time.Duration
	Retries int

	NegativeTTL    time.Duration // how long a DNS failure is cached, and an absence without SOA; default 5s
	MaxNegativeTTL time.Duration // cap on how long any failure or absence is cached (the SOA's minimum otherwise); default 1m
	MaxTTL         time.Duration // cap on positive cache lifetime, default 1h
	MaxCache       int           // domains cached at most, answers and failures alike, default 10,000; down marks have the same bound
	DownFor        time.Duration // how long MarkDown holds, default DefaultDownFor

	// Logger is told of targets marked down and up again, and of SRV
	// records or addresses left out over the caps; nil discards them (not
	// slog.Default: a library logs only where its user says).
	Logger *slog.Logger
}

// Resolver finds LUMI nodes. Create one with NewResolver; it is safe for
// concurrent use.
//
// A domain's node may be reachable at several targets (RFC 2782: every SRV
// record, each of its target's addresses), kept in the order a lookup
// chose: Resolve returns the first one not marked down, Targets the list.
//
// Answers found through DNS are cached, in that order, for the lowest TTL
// of the records they rest on, absences included. Failures are cached for
// as long as the absence they found holds (at most MaxNegativeTTL), a DNS
// failure for NegativeTTL. An answer from the hosts file is cached too when
// an SRV query came first, for as long as that query's answer: so a dead
// DNS server does not cost a timeout on every lookup. Static peers are
// never cached.
type Resolver struct {
	peers     map[string]netip.AddrPort
	server    string
	hosts     *hostsFile
	timeout   time.Duration
	retries   int
	negTTL    time.Duration
	maxNegTTL time.Duration
	maxTTL    time.Duration
	downFor   time.Duration
	log       *slog.Logger
	now       func() time.Time // the clock of the cache and the down marks; tests step their own
	intn      func(int) int    // random source of the SRV order, for tests

	mu     sync.Mutex // guards the fields below; never held during I/O
	cache  *boundedCache[string, answer]
	down   *boundedCache[downKey, struct{}]
	flight map[string]*call
	ups    []markEnd // marks ended, to report once mu is released
}

// answer is a lookup's result: targets in order, or why there are none.
type answer struct {
	targets []Target
	err     error
}

// call is one lookup in flight, shared by every Resolve of its domain.
type call struct {
	done   chan struct{}
	shared int // callers that joined, for tests
	ans    answer
}

// NewResolver checks cfg and fills in its defaults.
func NewResolver(cfg Config) (*Resolver, error) {
	return newResolver(cfg, time.Now)
}

// newResolver is NewResolver on the clock now, which tests replace.
func newResolver(cfg Config, now func() time.Time) (*Resolver, error) {
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
		hosts = DefaultHostsFile
	}
	retries := cfg.Retries
	switch {
	case retries == 0:
		retries = defaultRetries
	case retries < 0:
		retries = 0
	}
	maxCache := cfg.MaxCache
	if maxCache <= 0 {
		maxCache = defaultMaxCache
	}
	r := &Resolver{
		peers:     peers,
		server:    server,
		hosts:     newHostsFile(hosts),
		timeout:   orDefault(cfg.Timeout, DefaultTimeout),
		retries:   retries,
		negTTL:    orDefault(cfg.NegativeTTL, defaultNegativeTTL),
		maxNegTTL: orDefault(cfg.MaxNegativeTTL, defaultMaxNegativeTTL),
		maxTTL:    orDefault(cfg.MaxTTL, defaultMaxTTL),
		downFor:   orDefault(cfg.DownFor, DefaultDownFor),
		log:       cfg.Logger,
		now:       now,
		intn:      rand.IntN,
		cache:     newBoundedCache[string, answer](maxCache),
		down:      newBoundedCache[downKey, struct{}](maxCache),
		flight:    make(map[string]*call),
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.down.removed = func(k downKey, _ struct{}, expired bool) { r.ups = append(r.ups, markEnd{k, expired}) }
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

// Resolve returns the address of domain's node: its first target not
// marked down, or the first target if all are (a node thought down may be
// back, and the caller has nothing better to try). Failures are a
// *LookupError wrapping one of the sentinels (see ErrNoSuchDomain and
// ErrDNSFailure); if ctx ends first, the error wraps ctx.Err() while the
// shared lookup goes on for other callers and the cache.
func (r *Resolver) Resolve(ctx context.Context, domain string) (netip.AddrPort, error) {
	key, err := peerKey(domain)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%w: %v", ErrNoSuchDomain, err)
	}
	if ap, ok := r.peers[key]; ok {
		return ap, nil
	}
	ans, err := r.answer(ctx, key)
	if err != nil || ans.err != nil {
		return netip.AddrPort{}, cmp.Or(err, ans.err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.firstUp(key, ans.targets), nil
}

// Targets returns every target of domain's node in the order Resolve and
// Next go through them, each with whether it is marked down now: a static
// peer, else the SRV targets (lowest priority first, weighted random order
// within a priority, as RFC 2782 says; at most 32), else the hosts file
// entry, else the domain's own addresses, IPv4 first. The order holds as
// long as the answer stays cached. Errors are those of Resolve.
func (r *Resolver) Targets(ctx context.Context, domain string) ([]Target, error) {
	key, err := peerKey(domain)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoSuchDomain, err)
	}
	var ts []Target
	if ap, ok := r.peers[key]; ok {
		ts = []Target{{Addr: ap, Name: display(key), Source: SourcePeer}}
	} else {
		ans, err := r.answer(ctx, key)
		if err != nil || ans.err != nil {
			return nil, cmp.Or(err, ans.err)
		}
		ts = slices.Clone(ans.targets) // the cached list is shared
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for i := range ts {
		ts[i].Down = r.isDown(key, ts[i].Addr, now)
	}
	return ts, nil
}

// Known returns domain's node when it can be told without a lookup: a
// static peer, or an answer or failure still in the cache. known is false
// when only Resolve can tell. A caller that limits lookups in flight uses
// it so that what is known never waits for a lookup slot. Targets marked
// down are skipped as by Resolve.
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
	ans, ok := r.cache.get(key, r.now())
	switch {
	case !ok:
		return netip.AddrPort{}, false, nil
	case ans.err != nil:
		return netip.AddrPort{}, true, ans.err
	}
	return r.firstUp(key, ans.targets), true, nil
}

// answer returns the cached answer for key (not a static peer), or waits
// for the lookup in flight for key, starting one if there is none. err is
// only that of ctx.
func (r *Resolver) answer(ctx context.Context, key string) (answer, error) {
	if err := ctx.Err(); err != nil {
		return answer{}, fmt.Errorf("lumi: resolve %s: %w", display(key), err)
	}
	c, hit, ok := r.join(ctx, key)
	if ok {
		return hit, nil
	}
	select {
	case <-c.done:
		return c.ans, nil
	case <-ctx.Done():
		return answer{}, fmt.Errorf("lumi: resolve %s: %w", display(key), ctx.Err())
	}
}

// join returns the cached answer for key, or else the lookup in flight for
// key, starting one if there is none.
func (r *Resolver) join(ctx context.Context, key string) (*call, answer, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ans, ok := r.cache.get(key, r.now()); ok {
		return nil, ans, true
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
	return c, answer{}, false
}

func (r *Resolver) run(ctx context.Context, key string, c *call) {
	ts, ttl, err := r.lookup(ctx, key)
	ans := answer{targets: ts, err: err}
	now := r.now()
	r.mu.Lock()
	r.store(key, ans, ttl, now)
	delete(r.flight, key)
	c.ans = ans
	r.mu.Unlock()
	close(c.done)
}

// store caches an answer; r.mu must be held. A failure is kept at most
// MaxNegativeTTL however long the records it found last, so that a domain
// that gets its node set up is found soon.
func (r *Resolver) store(key string, ans answer, ttl time.Duration, now time.Time) {
	ttl = min(ttl, r.maxTTL)
	if ans.err != nil {
		ttl = min(ttl, r.maxNegTTL)
	}
	if ttl <= 0 {
		r.cache.delete(key)
		return
	}
	r.cache.put(key, ans, now.Add(ttl), now)
}

// Sweep drops the answers and down marks expired at now, and reports the
// targets whose mark ended as up. A node calls it every second or so;
// without it, expired entries go only when the cache is full.
func (r *Resolver) Sweep(now time.Time) {
	r.mu.Lock()
	r.cache.sweep(now)
	r.down.sweep(now)
	ups := r.takeUps()
	r.mu.Unlock()
	r.reportUps(ups)
}

// display is a domain as people write it: without the trailing dot.
func display(fqdn string) string {
	if len(fqdn) > 1 {
		return strings.TrimSuffix(fqdn, ".")
	}
	return fqdn
}
