package lumi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// kinds are the sentinels a lookup failure wraps exactly one of.
var kinds = []error{ErrNXDomain, ErrNoNode, ErrNoAddress, ErrNotOffered, ErrDNSFailure}

// failureOf is what a test checks of a lookup error: which sentinels it
// matches, and its first failed query.
type failureOf struct {
	Kinds    []string // the sentinels of kinds it matches
	NoSuch   bool     // matches ErrNoSuchDomain
	Rcode    int      // of the *DNSError, -1 if it gave none, -2 without one
	Timeout  bool
	Attempts int
}

func describe(err error) failureOf {
	f := failureOf{Rcode: -2, NoSuch: errors.Is(err, ErrNoSuchDomain)}
	for _, k := range kinds {
		if errors.Is(err, k) {
			f.Kinds = append(f.Kinds, k.Error())
		}
	}
	var de *DNSError
	if errors.As(err, &de) {
		f.Rcode, f.Timeout, f.Attempts = de.Rcode, de.Timeout(), de.Attempts
	}
	return f
}

// Every way a lookup fails is an error of its own, told apart by
// errors.Is (the kind) and errors.As (the failed query).
func TestLookupErrors(t *testing.T) {
	z := startZone(t,
		"txt.com. 60 IN TXT \"no node\"",
		"_lumi._udp.none.com. 60 IN SRV 0 0 0 .",
		"_lumi._udp.lost.com. 60 IN SRV 0 0 4000 gone.lost.com.",
		"lost.com. 60 IN A 127.0.0.6")
	zone := func(*testing.T) string { return z.Addr() }
	fake := func(h func(*dns.Msg) *dns.Msg) func(*testing.T) string {
		return func(t *testing.T) string { return startFake(t, h).Addr() }
	}
	noSuch := func(k error) failureOf { return failureOf{Kinds: []string{k.Error()}, NoSuch: true, Rcode: -2} }
	// Only silence is worth a retry: Retries is 1 by default.
	dnsFail := func(rcode int, timeout bool) failureOf {
		f := failureOf{Kinds: []string{ErrDNSFailure.Error()}, Rcode: rcode, Timeout: timeout, Attempts: 1}
		if timeout {
			f.Attempts = 2
		}
		return f
	}
	tests := []struct {
		name, domain string
		server       func(*testing.T) string
		want         failureOf
		says         string // in the message
	}{
		{"NXDOMAIN", "nx.com", zone, noSuch(ErrNXDomain), "A nx.com: NXDOMAIN"},
		{"NODATA", "txt.com", zone, noSuch(ErrNoNode), "A txt.com: no record"},
		{"not offered", "none.com", zone, noSuch(ErrNotOffered), `target "."`},
		{"SRV targets without address", "lost.com", zone, noSuch(ErrNoAddress), "SRV target gone.lost.com: no address"},
		{"SERVFAIL", "gg.com", fake(rcode(dns.RcodeServerFailure)), dnsFail(dns.RcodeServerFailure, false), "SRV _lumi._udp.gg.com to 127.0.0.1:"},
		{"REFUSED", "gg.com", fake(rcode(dns.RcodeRefused)), dnsFail(dns.RcodeRefused, false), "server answered REFUSED"},
		{"NOTIMP", "gg.com", fake(rcode(dns.RcodeNotImplemented)), dnsFail(dns.RcodeNotImplemented, false), "server answered NOTIMP"},
		{"timeout", "gg.com", fake(drop), dnsFail(-1, true), "no reply after 2 attempts"},
		{"connection refused", "gg.com", closedPort, dnsFail(-1, false), "connection refused"},
		{"reply to another question", "gg.com", fake(func(req *dns.Msg) *dns.Msg {
			other := new(dns.Msg).SetQuestion("other.com.", dns.TypeSRV)
			other.Id = req.Id
			return new(dns.Msg).SetReply(other)
		}), dnsFail(-1, false), errMismatch.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{DNSServer: tt.server(t)}
			if tt.want.Timeout {
				cfg.Timeout = 100 * time.Millisecond // else the helper's long one, for the replies to come
			}
			r := newTestResolver(t, cfg)
			_, err := r.Resolve(context.Background(), tt.domain)
			if diff := cmp.Diff(tt.want, describe(err)); diff != "" {
				t.Errorf("error %v mismatch (-want +got):\n%s", err, diff)
			}
			var le *LookupError
			if !errors.As(err, &le) || le.Domain != tt.domain {
				t.Errorf("error %v is not a *LookupError for %s", err, tt.domain)
			}
			if err != nil && !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
		})
	}
}

// The domain's own address is asked for only when the SRV query said
// there is no SRV record: not when it failed, since SRV records may exist.
func TestNoAddressFallbackWhenSRVFails(t *testing.T) {
	z := startZone(t, "gg.com. 60 IN A 127.0.0.1")
	f := startFake(t, func(req *dns.Msg) *dns.Msg {
		if req.Question[0].Qtype == dns.TypeSRV {
			return new(dns.Msg).SetRcode(req, dns.RcodeServerFailure)
		}
		return forward(z, true)(req)
	})
	r := newTestResolver(t, Config{DNSServer: f.Addr()})
	_, err := r.Resolve(context.Background(), "gg.com")
	if !errors.Is(err, ErrDNSFailure) {
		t.Errorf("error = %v, want ErrDNSFailure", err)
	}
	if q := f.received.Load(); q != 1 {
		t.Errorf("%d queries, want only the SRV one", q)
	}
}

// A failed query anywhere makes a lookup that found nothing a DNS failure,
// even if the other queries said NXDOMAIN: the target may well exist.
func TestPartialDNSFailure(t *testing.T) {
	z := startZone(t,
		"_lumi._udp.hh.com. 60 IN SRV 0 0 4000 a.hh.com.",
		"_lumi._udp.hh.com. 60 IN SRV 1 0 4000 b.hh.com.")
	f := startFake(t, func(req *dns.Msg) *dns.Msg {
		if strings.HasPrefix(req.Question[0].Name, "b.") {
			return new(dns.Msg).SetRcode(req, dns.RcodeServerFailure)
		}
		return forward(z, true)(req)
	})
	r := newTestResolver(t, Config{DNSServer: f.Addr()})
	_, err := r.Resolve(context.Background(), "hh.com")
	if !errors.Is(err, ErrDNSFailure) || errors.Is(err, ErrNoSuchDomain) {
		t.Fatalf("error = %v, want ErrDNSFailure only", err)
	}
}

// A server that never answers costs Timeout for each of 1+Retries
// attempts of the SRV query, and no other query. This counts the
// attempts, not the time, so a slow machine cannot fail it.
func TestFrozenServerAttempts(t *testing.T) {
	for _, tt := range []struct{ retries, attempts int }{{0, 2}, {-1, 1}, {3, 4}} {
		t.Run(fmt.Sprintf("Retries %d", tt.retries), func(t *testing.T) {
			f := startFake(t, drop)
			r := newTestResolver(t, Config{DNSServer: f.Addr(), Timeout: 50 * time.Millisecond, Retries: tt.retries})
			_, err := r.Resolve(context.Background(), "frozen.com")
			var de *DNSError
			if !errors.As(err, &de) || !de.Timeout() || de.Attempts != tt.attempts {
				t.Fatalf("error = %v, want a timeout after %d attempts", err, tt.attempts)
			}
			waitUntil(t, "the attempts to arrive", func() bool { return f.received.Load() >= int64(tt.attempts) })
			if q := f.received.Load(); q != int64(tt.attempts) {
				t.Errorf("%d queries, want %d", q, tt.attempts)
			}
		})
	}
}

// Once a query of a lookup has gone unanswered, the queries for the SRV
// targets not yet asked about are not sent: a server that answers the SRV
// query and then freezes costs one query time, not one per target.
func TestFrozenServerSkipsTargets(t *testing.T) {
	const targets = 16 // two rounds of maxParallelHosts
	f := startFake(t, func(req *dns.Msg) *dns.Msg {
		if req.Question[0].Qtype != dns.TypeSRV {
			return nil
		}
		resp := new(dns.Msg).SetReply(req)
		resp.Compress = true // short names, to fit in one UDP reply
		for i := range targets {
			resp.Answer = append(resp.Answer, dnsRR(fmt.Sprintf("%s 60 IN SRV %d 0 4000 t%d.", req.Question[0].Name, i, i)))
		}
		return resp
	})
	// Long enough for the SRV reply to come on a loaded machine: the
	// first round of target queries then waits that long twice.
	r := newTestResolver(t, Config{DNSServer: f.Addr(), Timeout: 500 * time.Millisecond})
	_, err := r.Resolve(context.Background(), "many.com")
	var de *DNSError
	if !errors.Is(err, ErrDNSFailure) || !errors.As(err, &de) || !de.Timeout() {
		t.Fatalf("error = %v, want a DNS timeout", err)
	}
	if !strings.Contains(err.Error(), errSkipped.Error()) {
		t.Errorf("error %q does not say that queries were not sent", err)
	}
	// The SRV query, then at most one round of parallel A and AAAA
	// queries with their retries.
	if q, most := f.received.Load(), int64(1+maxParallelHosts*2*2); q > most {
		t.Errorf("%d queries, want at most %d (not %d)", q, most, 1+targets*2*2)
	}
}
