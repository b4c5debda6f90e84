package lumi

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// 100,000 distinct domains' answers leave the cache at its bound, holding
// the newest.
func TestCacheBound(t *testing.T) {
	clock := newFakeClock()
	r := newTestResolverAt(t, Config{DNSServer: "127.0.0.1:1"}, clock.Now)
	ans := answer{targets: []Target{{Addr: netip.MustParseAddrPort("127.0.0.1:3344")}}}
	fail := answer{err: ErrNXDomain}
	const domains = 100_000
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range domains {
		a := ans
		if i%2 == 1 {
			a = fail
		}
		r.store(fmt.Sprintf("d%d.com.", i), a, time.Hour, clock.Now())
		if n := r.cache.len(); n > defaultMaxCache {
			t.Fatalf("after %d domains the cache holds %d, over %d", i+1, n, defaultMaxCache)
		}
	}
	if n, ages, exps := r.cache.len(), r.cache.byAge.Len(), len(r.cache.byExp); n != defaultMaxCache || ages != n || exps != n {
		t.Errorf("cache holds %d (%d by age, %d by expiry), want %d", n, ages, exps, defaultMaxCache)
	}
	for _, i := range []int{domains - defaultMaxCache, domains - 1} {
		if _, ok := r.cache.get(fmt.Sprintf("d%d.com.", i), clock.Now()); !ok {
			t.Errorf("d%d.com, among the newest, is not cached", i)
		}
	}
	if _, ok := r.cache.get(fmt.Sprintf("d%d.com.", domains-defaultMaxCache-1), clock.Now()); ok {
		t.Errorf("d%d.com, the newest evicted, is still cached", domains-defaultMaxCache-1)
	}
}

// The bound holds on the lookup path too: a server answering every name
// fills a cache of MaxCache domains and no more.
func TestCacheBoundThroughResolve(t *testing.T) {
	f := startFake(t, func(req *dns.Msg) *dns.Msg {
		resp := new(dns.Msg).SetReply(req)
		if req.Question[0].Qtype == dns.TypeA {
			resp.Answer = append(resp.Answer, dnsRR(req.Question[0].Name+" 60 IN A 127.0.0.1"))
		}
		return resp
	})
	r := newTestResolver(t, Config{DNSServer: f.Addr(), MaxCache: 10})
	for i := range 30 {
		if _, err := r.Resolve(context.Background(), fmt.Sprintf("d%d.com", i)); err != nil {
			t.Fatal(err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := r.cache.len(); n != 10 {
		t.Errorf("cache holds %d domains, want 10", n)
	}
}

// Sweep drops what has expired and keeps the rest.
func TestSweep(t *testing.T) {
	z := startZone(t, zoneRecords...)
	clock := newFakeClock()
	r := newTestResolverAt(t, Config{DNSServer: z.Addr(), NegativeTTL: 5 * time.Second}, clock.Now)
	for _, d := range []string{"bb.com", "nx.com"} {
		r.Resolve(context.Background(), d)
	}
	clock.Advance(10 * time.Second)
	r.Sweep(clock.Now())
	r.mu.Lock()
	defer r.mu.Unlock()
	if diff := cmp.Diff([]string{"bb.com."}, cacheKeys(r.cache)); diff != "" {
		t.Errorf("after Sweep, keys mismatch (-want +got):\n%s", diff)
	}
}

// How long failures are cached: absences as long as the SOA says, up to
// MaxNegativeTTL; without an SOA, and for DNS failures, NegativeTTL.
func TestFailureLifetime(t *testing.T) {
	soa := func(minimum int) string {
		return fmt.Sprintf("neg.com. 3600 IN SOA ns.neg.com. admin.neg.com. 1 3600 600 86400 %d", minimum)
	}
	tests := []struct {
		name     string
		records  []string // of the zone; nil for a server that answers SERVFAIL
		cfg      Config
		wantErr  error
		lifetime time.Duration
	}{
		{"SOA minimum", []string{soa(20)}, Config{}, ErrNoNode, 20 * time.Second},
		{"SOA minimum capped", []string{soa(3600)}, Config{}, ErrNoNode, defaultMaxNegativeTTL},
		{"MaxNegativeTTL", []string{soa(3600)}, Config{MaxNegativeTTL: 30 * time.Second}, ErrNoNode, 30 * time.Second},
		{"no SOA", []string{"neg.com. 60 IN TXT \"x\""}, Config{}, ErrNoNode, defaultNegativeTTL},
		{"not offered, long TTL", []string{"_lumi._udp.neg.com. 3600 IN SRV 0 0 0 ."}, Config{}, ErrNotOffered, defaultMaxNegativeTTL},
		{"SERVFAIL", nil, Config{}, ErrDNSFailure, defaultNegativeTTL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, rcode(dns.RcodeServerFailure))
			server, queries := f.Addr(), f.received.Load
			if tt.records != nil {
				z := startZone(t, tt.records...)
				server, queries = z.Addr(), func() int64 { return int64(z.Queries()) }
			}
			clock := newFakeClock()
			tt.cfg.DNSServer = server
			r := newTestResolverAt(t, tt.cfg, clock.Now)
			resolve := func() int64 {
				t.Helper()
				before := queries()
				if _, err := r.Resolve(context.Background(), "neg.com"); !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return queries() - before
			}
			if resolve() == 0 {
				t.Fatal("first lookup sent no query")
			}
			clock.Advance(tt.lifetime - time.Second)
			if q := resolve(); q != 0 {
				t.Errorf("1s before %v: %d queries, want the cached failure", tt.lifetime, q)
			}
			clock.Advance(time.Second)
			if q := resolve(); q == 0 {
				t.Errorf("at %v: no query, want a new lookup", tt.lifetime)
			}
		})
	}
}
