package lumi

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// zoneRecords is the zone most resolver tests query.
var zoneRecords = []string{
	// SRV with the target's address in the Additional section.
	"_lumi._udp.bb.com. 60 IN SRV 0 0 4000 node.bb.com.",
	"node.bb.com. 60 IN A 127.0.0.2",
	// A only: the node listens on the default port.
	"cc.com. 60 IN A 127.0.0.3",
	// Several SRV records: lowest priority, then highest weight wins.
	"_lumi._udp.multi.com. 60 IN SRV 10 100 5001 n.multi.com.",
	"_lumi._udp.multi.com. 60 IN SRV 0 1 5002 n.multi.com.",
	"_lumi._udp.multi.com. 60 IN SRV 0 9 5003 n.multi.com.",
	"n.multi.com. 60 IN A 127.0.0.4",
	// SRV saying no node runs here, although the name has an address.
	"_lumi._udp.none.com. 60 IN SRV 0 0 0 .",
	"none.com. 60 IN A 127.0.0.5",
	// SRV target with no address: no fallback to the domain's A record,
	// since the SRV record says the node is elsewhere.
	"_lumi._udp.lost.com. 60 IN SRV 0 0 4000 gone.lost.com.",
	"lost.com. 60 IN A 127.0.0.6",
	// CNAME to the address.
	"alias.com. 60 IN CNAME cc.com.",
	// More SRV targets than the three the resolver once tried, none with
	// an address: each is asked for.
	"_lumi._udp.many.com. 60 IN SRV 0 0 1 t1.many.com.",
	"_lumi._udp.many.com. 60 IN SRV 0 0 1 t2.many.com.",
	"_lumi._udp.many.com. 60 IN SRV 0 0 1 t3.many.com.",
	"_lumi._udp.many.com. 60 IN SRV 0 0 1 t4.many.com.",
	"_lumi._udp.many.com. 60 IN SRV 0 0 1 t5.many.com.",
	// A name with records, but neither SRV nor A.
	"txt.com. 60 IN TXT \"hello\"",
}

func TestResolve(t *testing.T) {
	z := startZone(t, zoneRecords...)
	tests := []struct {
		name        string
		domain      string
		want        string // AddrPort, or "" on error
		wantErr     error
		wantQueries int
	}{
		{"SRV with additional", "bb.com", "127.0.0.2:4000", nil, 1},
		{"A only", "cc.com", onNodePort("127.0.0.3"), nil, 3},
		{"case and trailing dot", "CC.Com.", onNodePort("127.0.0.3"), nil, 3},
		{"SRV priority first", "multi.com", "", nil, 1},
		{"SRV target dot", "none.com", "", ErrNotOffered, 1},
		{"SRV target without address", "lost.com", "", ErrNoAddress, 3},
		// The AAAA reply is the CNAME alone without an SOA, as from a
		// server that leaves chains to others: its target is asked for.
		{"CNAME", "alias.com", onNodePort("127.0.0.3"), nil, 4},
		{"every SRV target tried", "many.com", "", ErrNoAddress, 1 + 5*2},
		{"NXDOMAIN", "nx.com", "", ErrNXDomain, 3},
		{"NODATA", "txt.com", "", ErrNoNode, 3},
		{"empty name", "", "", ErrNoSuchDomain, 0},
		{"root", ".", "", ErrNoSuchDomain, 0},
		{"empty label", "a..com", "", ErrNoSuchDomain, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestResolver(t, Config{DNSServer: z.Addr()})
			before := z.Queries()
			ap, err := r.Resolve(context.Background(), tt.domain)
			got := ""
			if err == nil {
				got = ap.String()
			}
			if tt.name == "SRV priority first" {
				// Weighted random within priority 0: either of its two.
				if got == "127.0.0.4:5002" || got == "127.0.0.4:5003" {
					got = ""
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve(%q) mismatch (-want +got):\n%s\nerr: %v", tt.domain, diff, err)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Resolve(%q) error = %v, want %v", tt.domain, err, tt.wantErr)
			}
			if tt.wantErr != nil && !errors.Is(err, ErrNoSuchDomain) {
				t.Errorf("Resolve(%q) error = %v, want it to match ErrNoSuchDomain too", tt.domain, err)
			}
			if errors.Is(err, ErrDNSFailure) {
				t.Errorf("Resolve(%q) error = %v, want no ErrDNSFailure", tt.domain, err)
			}
			if q := z.Queries() - before; q != tt.wantQueries {
				t.Errorf("Resolve(%q) sent %d queries, want %d", tt.domain, q, tt.wantQueries)
			}
		})
	}
}

func TestResolveSRVWithoutAdditional(t *testing.T) {
	z := startZone(t, zoneRecords...)
	f := startFake(t, forward(z, false))
	r := newTestResolver(t, Config{DNSServer: f.Addr()})
	ap, err := r.Resolve(context.Background(), "bb.com")
	if err != nil || ap.String() != "127.0.0.2:4000" {
		t.Fatalf("Resolve = %v, %v; want 127.0.0.2:4000", ap, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// A and AAAA for the target, sent at once.
	want := []string{"_lumi._udp.bb.com.", "node.bb.com.", "node.bb.com."}
	if diff := cmp.Diff(want, f.names); diff != "" {
		t.Errorf("queries mismatch (-want +got):\n%s", diff)
	}
}

func TestStaticPeerBeatsDNS(t *testing.T) {
	z := startZone(t, zoneRecords...)
	peer := netip.MustParseAddrPort("127.0.0.9:5000")
	r := newTestResolver(t, Config{
		DNSServer: z.Addr(),
		Peers:     map[string]netip.AddrPort{"BB.com.": peer},
	})
	for _, domain := range []string{"bb.com", "BB.COM", "bb.com."} {
		ap, err := r.Resolve(context.Background(), domain)
		if err != nil || ap != peer {
			t.Errorf("Resolve(%q) = %v, %v; want %v", domain, ap, err, peer)
		}
	}
	if q := z.Queries(); q != 0 {
		t.Errorf("static peer lookups sent %d DNS queries, want 0", q)
	}
}

func TestHostsFileWithDeadDNS(t *testing.T) {
	dead := startFake(t, drop)
	hosts := writeHosts(t, `# test hosts
127.0.0.5   node.dd.com  DD.com   # the node
::1         v6only.com
127.0.0.7   ee.com
127.0.0.8   ee.com
`)
	r := newTestResolver(t, Config{DNSServer: dead.Addr(), HostsFile: hosts, Timeout: 200 * time.Millisecond})
	tests := map[string]string{
		"dd.com":      onNodePort("127.0.0.5"),
		"Node.DD.com": onNodePort("127.0.0.5"),
		"ee.com.":     onNodePort("127.0.0.7"),
	}
	got := make(map[string]string)
	for domain := range tests {
		ap, err := r.Resolve(context.Background(), domain)
		got[domain] = ap.String()
		if err != nil {
			got[domain] = err.Error()
		}
	}
	if diff := cmp.Diff(tests, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	_, err := r.Resolve(context.Background(), "v6only.com")
	if !errors.Is(err, ErrDNSFailure) {
		t.Errorf("IPv6-only hosts entry: error = %v, want ErrDNSFailure", err)
	}
}

func TestSRVTargetFromHostsFile(t *testing.T) {
	z := startZone(t, "_lumi._udp.ff.com. 60 IN SRV 0 0 4444 node.ff.com.")
	hosts := writeHosts(t, "127.0.0.10 node.ff.com\n")
	r := newTestResolver(t, Config{DNSServer: z.Addr(), HostsFile: hosts})
	ap, err := r.Resolve(context.Background(), "ff.com")
	if err != nil || ap.String() != "127.0.0.10:4444" {
		t.Errorf("Resolve = %v, %v; want 127.0.0.10:4444", ap, err)
	}
	if q := z.Queries(); q != 1 {
		t.Errorf("sent %d queries, want 1 (SRV only)", q)
	}
}

func TestErrorSaysWhatWasTried(t *testing.T) {
	z := startZone(t)
	hosts := writeHosts(t, "")
	r := newTestResolver(t, Config{DNSServer: z.Addr(), HostsFile: hosts})
	_, err := r.Resolve(context.Background(), "NX.com")
	want := "lumi: no such domain (NXDOMAIN): nx.com (tried SRV _lumi._udp.nx.com: NXDOMAIN; " +
		"hosts file " + hosts + ": no entry; A nx.com: NXDOMAIN; AAAA nx.com: NXDOMAIN)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

func TestPositiveCache(t *testing.T) {
	tests := []struct {
		name     string
		records  []string
		domain   string
		cfg      Config
		lifetime time.Duration
	}{
		{
			name: "min of SRV and additional A",
			records: []string{
				"_lumi._udp.bb.com. 60 IN SRV 0 0 4000 node.bb.com.",
				"node.bb.com. 30 IN A 127.0.0.2",
			},
			domain:   "bb.com",
			lifetime: 30 * time.Second,
		},
		{
			name:     "capped by MaxTTL",
			records:  []string{"_lumi._udp.bb.com. 3600 IN SRV 0 0 4000 node.bb.com.", "node.bb.com. 3600 IN A 127.0.0.2"},
			domain:   "bb.com",
			cfg:      Config{MaxTTL: 10 * time.Second},
			lifetime: 10 * time.Second,
		},
		{
			name: "A only, absence of SRV cached per SOA",
			records: []string{
				"cc.com. 300 IN SOA ns.cc.com. admin.cc.com. 1 3600 600 86400 20",
				"cc.com. 300 IN A 127.0.0.3",
			},
			domain:   "cc.com",
			lifetime: 20 * time.Second,
		},
		{
			name: "A only, absence of SRV capped at MaxNegativeTTL",
			records: []string{
				"cc.com. 3600 IN SOA ns.cc.com. admin.cc.com. 1 3600 600 86400 3600",
				"cc.com. 3600 IN A 127.0.0.3",
			},
			domain:   "cc.com",
			lifetime: defaultMaxNegativeTTL,
		},
		{
			name:     "A only, no SOA: absence of SRV cached NegativeTTL",
			records:  []string{"cc.com. 300 IN A 127.0.0.3"},
			domain:   "cc.com",
			cfg:      Config{NegativeTTL: 7 * time.Second},
			lifetime: 7 * time.Second,
		},
		{
			name:     "TTL 0 is not cached",
			records:  []string{"_lumi._udp.bb.com. 0 IN SRV 0 0 4000 node.bb.com.", "node.bb.com. 60 IN A 127.0.0.2"},
			domain:   "bb.com",
			lifetime: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := startZone(t, tt.records...)
			clock := newFakeClock()
			tt.cfg.DNSServer = z.Addr()
			r := newTestResolverAt(t, tt.cfg, clock.Now)
			resolve := func() int {
				t.Helper()
				before := z.Queries()
				if _, err := r.Resolve(context.Background(), tt.domain); err != nil {
					t.Fatal(err)
				}
				return z.Queries() - before
			}
			if resolve() == 0 {
				t.Fatal("first lookup sent no query")
			}
			if tt.lifetime > 0 {
				clock.Advance(tt.lifetime - time.Second)
				if q := resolve(); q != 0 {
					t.Errorf("1s before expiry: %d queries, want 0 (cached)", q)
				}
				clock.Advance(time.Second)
			}
			if q := resolve(); q == 0 {
				t.Errorf("at expiry: no query, want a fresh lookup")
			}
		})
	}
}

func TestNegativeCache(t *testing.T) {
	z := startZone(t)
	clock := newFakeClock()
	r := newTestResolverAt(t, Config{DNSServer: z.Addr(), NegativeTTL: 5 * time.Second}, clock.Now)
	resolve := func() int {
		t.Helper()
		before := z.Queries()
		_, err := r.Resolve(context.Background(), "nx.com")
		if !errors.Is(err, ErrNoSuchDomain) {
			t.Fatalf("error = %v, want ErrNoSuchDomain", err)
		}
		return z.Queries() - before
	}
	if q := resolve(); q != 3 {
		t.Fatalf("first lookup: %d queries, want 3", q)
	}
	clock.Advance(4 * time.Second)
	if q := resolve(); q != 0 {
		t.Errorf("within NegativeTTL: %d queries, want 0", q)
	}
	clock.Advance(time.Second)
	if q := resolve(); q != 3 {
		t.Errorf("after NegativeTTL: %d queries, want 3", q)
	}
}

func TestHostsFileEditTakesEffect(t *testing.T) {
	hosts := writeHosts(t, "127.0.0.11 ii.com\n")
	h := newHostsFile(hosts)
	if a, ok := h.lookup("ii.com."); !ok || a.String() != "127.0.0.11" {
		t.Fatalf("lookup = %v, %v", a, ok)
	}
	if err := writeFile(hosts, "127.0.0.12   ii.com other.com\n"); err != nil {
		t.Fatal(err)
	}
	if a, ok := h.lookup("ii.com."); !ok || a.String() != "127.0.0.12" {
		t.Errorf("after edit: lookup = %v, %v; want 127.0.0.12", a, ok)
	}
}

// Concurrent lookups of one domain share a single lookup: the server holds
// the query until every caller has joined, so none can have been served
// from the cache.
func TestConcurrentResolveSharesLookup(t *testing.T) {
	z := startZone(t, zoneRecords...)
	release := make(chan struct{})
	f := startFake(t, holdIf(all, release, forward(z, true)))
	r := newTestResolver(t, Config{DNSServer: f.Addr(), Timeout: time.Minute})
	const callers = 8
	var wg sync.WaitGroup
	results := make([]string, callers)
	for i := range callers {
		wg.Go(func() {
			ap, err := r.Resolve(context.Background(), "bb.com")
			results[i] = ap.String()
			if err != nil {
				results[i] = err.Error()
			}
		})
	}
	waitUntil(t, "all callers to join", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		c := r.flight["bb.com."]
		return c != nil && c.shared == callers
	})
	close(release)
	wg.Wait()
	want := make([]string, callers)
	for i := range want {
		want[i] = "127.0.0.2:4000"
	}
	if diff := cmp.Diff(want, results); diff != "" {
		t.Errorf("results mismatch (-want +got):\n%s", diff)
	}
	if q := f.received.Load(); q != 1 {
		t.Errorf("%d queries, want 1", q)
	}
}

// While one domain's lookup waits on DNS, static, cached and other DNS
// lookups go on.
func TestSlowDomainDoesNotBlockOthers(t *testing.T) {
	z := startZone(t, zoneRecords...)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	isSlow := func(name string) bool { return strings.HasSuffix(name, "slow.com.") }
	f := startFake(t, holdIf(isSlow, release, forward(z, true)))
	peer := netip.MustParseAddrPort("127.0.0.9:5000")
	r := newTestResolver(t, Config{
		DNSServer: f.Addr(),
		Timeout:   time.Minute,
		Peers:     map[string]netip.AddrPort{"static.com": peer},
	})
	ctx := context.Background()
	if _, err := r.Resolve(ctx, "cc.com"); err != nil {
		t.Fatal(err)
	}
	slowDone := make(chan error, 1)
	go func() {
		_, err := r.Resolve(ctx, "slow.com")
		slowDone <- err
	}()
	f.waitQuery(t, "_lumi._udp.slow.com.")

	want := map[string]string{
		"static.com": peer.String(),
		"cc.com":     onNodePort("127.0.0.3"), // cached
		"bb.com":     "127.0.0.2:4000",        // through DNS
	}
	// In a goroutine so that a resolver blocking here fails the test
	// instead of hanging it.
	done := make(chan map[string]string, 1)
	go func() {
		got := make(map[string]string)
		for domain := range want {
			ap, err := r.Resolve(ctx, domain)
			got[domain] = ap.String()
			if err != nil {
				got[domain] = err.Error()
			}
		}
		done <- got
	}()
	select {
	case got := <-done:
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("mismatch (-want +got):\n%s", diff)
		}
	case <-time.After(waitLimit):
		t.Fatal("other lookups blocked behind slow.com")
	}
	select {
	case err := <-slowDone:
		t.Fatalf("slow.com finished before its DNS answer was released: %v", err)
	default:
	}
}

func TestResolveHonoursCancel(t *testing.T) {
	z := startZone(t, zoneRecords...)
	release := make(chan struct{})
	f := startFake(t, holdIf(all, release, forward(z, true)))
	r := newTestResolver(t, Config{DNSServer: f.Addr(), Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Resolve(ctx, "bb.com"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled before the call: error = %v, want context.Canceled", err)
	}
	if q := f.received.Load(); q != 0 {
		t.Errorf("cancelled before the call: %d queries, want 0", q)
	}
	ctx, cancel = context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := r.Resolve(ctx, "bb.com")
		errc <- err
	}()
	f.waitQuery(t, "_lumi._udp.bb.com.")
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	// The lookup goes on without the caller that gave up.
	close(release)
	ap, err := r.Resolve(context.Background(), "bb.com")
	if err != nil || ap.String() != "127.0.0.2:4000" {
		t.Errorf("Resolve after cancel = %v, %v", ap, err)
	}
	if q := f.received.Load(); q != 1 {
		t.Errorf("%d queries, want 1", q)
	}
}

// Known tells what needs no lookup (a static peer, a cached answer or
// failure, a name that cannot be a domain) and sends no query for it.
func TestKnown(t *testing.T) {
	z := startZone(t, zoneRecords...)
	peer := netip.MustParseAddrPort("127.0.0.9:5000")
	r := newTestResolver(t, Config{DNSServer: z.Addr(), Peers: map[string]netip.AddrPort{"peer.com": peer}})
	check := func(domain string, wantAP netip.AddrPort, wantKnown bool, wantErr error) {
		t.Helper()
		ap, known, err := r.Known(domain)
		if ap != wantAP || known != wantKnown || !errors.Is(err, wantErr) {
			t.Errorf("Known(%q) = %v, %v, %v; want %v, %v, %v", domain, ap, known, err, wantAP, wantKnown, wantErr)
		}
	}
	check("PEER.com", peer, true, nil)
	check("cc.com", netip.AddrPort{}, false, nil)
	check("nosuch.com", netip.AddrPort{}, false, nil)
	check("a..b", netip.AddrPort{}, true, ErrNoSuchDomain)
	if q := z.Queries(); q != 0 {
		t.Fatalf("Known sent %d DNS queries", q)
	}
	cc, err := r.Resolve(context.Background(), "cc.com")
	if err != nil {
		t.Fatal(err)
	}
	_, nerr := r.Resolve(context.Background(), "nosuch.com")
	if !errors.Is(nerr, ErrNoSuchDomain) {
		t.Fatalf("Resolve(nosuch.com): %v, want ErrNoSuchDomain", nerr)
	}
	check("cc.com", cc, true, nil)
	check("nosuch.com", netip.AddrPort{}, true, nerr)
}

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&LookupError{Domain: "a.test", Kind: ErrNXDomain}, "no_such_domain"},
		{&LookupError{Domain: "a.test", Kind: ErrNoNode}, "no_node"},
		{&LookupError{Domain: "a.test", Kind: ErrNoAddress}, "no_address"},
		{&LookupError{Domain: "a.test", Kind: ErrNotOffered}, "not_offered"},
		{&LookupError{Domain: "a.test", Kind: ErrDNSFailure}, "dns_failure"},
		{ErrNoSuchDomain, "no_such_domain"},
		{errors.New("other"), ""},
		{nil, ""},
	} {
		if got := Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
