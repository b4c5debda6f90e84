package lumi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"mi/internal/syncbuf"
)

var targetZone = []string{
	// Five targets of distinct priorities: all of them, in order.
	"_lumi._udp.five.com. 60 IN SRV 50 0 4005 t5.five.com.",
	"_lumi._udp.five.com. 60 IN SRV 10 0 4001 t1.five.com.",
	"_lumi._udp.five.com. 60 IN SRV 30 0 4003 t3.five.com.",
	"_lumi._udp.five.com. 60 IN SRV 20 0 4002 t2.five.com.",
	"_lumi._udp.five.com. 60 IN SRV 40 0 4004 t4.five.com.",
	"t1.five.com. 60 IN A 127.0.1.1",
	"t2.five.com. 60 IN A 127.0.1.2",
	"t3.five.com. 60 IN A 127.0.1.3",
	"t4.five.com. 60 IN A 127.0.1.4",
	"t5.five.com. 60 IN A 127.0.1.5",
	// An IPv6-only target.
	"_lumi._udp.v6.com. 60 IN SRV 0 0 4000 n.v6.com.",
	"n.v6.com. 60 IN AAAA ::1",
	// A target with both families: IPv4 first, whatever the zone's order.
	"_lumi._udp.dual.com. 60 IN SRV 0 0 4000 n.dual.com.",
	"n.dual.com. 60 IN AAAA ::2",
	"n.dual.com. 30 IN A 127.0.0.7",
	// No SRV record: the domain's own addresses, IPv4 first.
	"fb.com. 60 IN AAAA ::3",
	"fb.com. 20 IN A 127.0.0.8",
	"fb.com. 20 IN A 127.0.0.9",
	// Two SRV records naming one address: listed once.
	"_lumi._udp.twice.com. 60 IN SRV 0 0 4000 n.twice.com.",
	"_lumi._udp.twice.com. 60 IN SRV 1 0 4000 N.twice.com.",
	"n.twice.com. 60 IN A 127.0.0.10",
	// Unusable addresses are left out.
	"_lumi._udp.bad.com. 60 IN SRV 0 0 4000 n.bad.com.",
	"n.bad.com. 60 IN A 0.0.0.0",
	"n.bad.com. 60 IN A 224.0.0.1",
	"n.bad.com. 60 IN AAAA ::",
	"n.bad.com. 60 IN A 127.0.0.11",
}

// addrPortEqual lets cmp compare netip.AddrPort, whose fields are hidden.
var addrPortEqual = cmp.Comparer(func(x, y netip.AddrPort) bool { return x == y })

func TestTargets(t *testing.T) {
	z := startZone(t, targetZone...)
	peer := netip.MustParseAddrPort("127.0.0.9:5000")
	hosts := writeHosts(t, "127.0.0.12 hosted.com\n")
	r := newTestResolver(t, Config{DNSServer: z.Addr(), HostsFile: hosts, Peers: map[string]netip.AddrPort{"peer.com": peer}})
	srv := func(ap string, name string, prio uint16) Target {
		return Target{Addr: netip.MustParseAddrPort(ap), Name: name, Priority: prio, TTL: time.Minute, Source: SourceSRV}
	}
	tests := map[string][]Target{
		"five.com": {
			srv("127.0.1.1:4001", "t1.five.com", 10), srv("127.0.1.2:4002", "t2.five.com", 20),
			srv("127.0.1.3:4003", "t3.five.com", 30), srv("127.0.1.4:4004", "t4.five.com", 40),
			srv("127.0.1.5:4005", "t5.five.com", 50),
		},
		"v6.com": {srv("[::1]:4000", "n.v6.com", 0)},
		"dual.com": {
			{Addr: netip.MustParseAddrPort("127.0.0.7:4000"), Name: "n.dual.com", TTL: 30 * time.Second, Source: SourceSRV},
			{Addr: netip.MustParseAddrPort("[::2]:4000"), Name: "n.dual.com", TTL: 30 * time.Second, Source: SourceSRV},
		},
		"fb.com": {
			{Addr: netip.MustParseAddrPort(onNodePort("127.0.0.8")), Name: "fb.com", TTL: 20 * time.Second, Source: SourceAddress},
			{Addr: netip.MustParseAddrPort(onNodePort("127.0.0.9")), Name: "fb.com", TTL: 20 * time.Second, Source: SourceAddress},
			{Addr: netip.MustParseAddrPort(onNodePort("::3")), Name: "fb.com", TTL: 20 * time.Second, Source: SourceAddress},
		},
		"twice.com": {srv("127.0.0.10:4000", "n.twice.com", 0)},
		"bad.com":   {srv("127.0.0.11:4000", "n.bad.com", 0)},
		"hosted.com": {
			{Addr: netip.MustParseAddrPort(onNodePort("127.0.0.12")), Name: "hosted.com", Source: SourceHosts},
		},
		"PEER.com.": {{Addr: peer, Name: "peer.com", Source: SourcePeer}},
	}
	for domain, want := range tests {
		got, err := r.Targets(context.Background(), domain)
		if err != nil {
			t.Errorf("Targets(%q): %v", domain, err)
			continue
		}
		if diff := cmp.Diff(want, got, addrPortEqual); diff != "" {
			t.Errorf("Targets(%q) mismatch (-want +got):\n%s", domain, diff)
		}
		if ap, err := r.Resolve(context.Background(), domain); err != nil || ap != want[0].Addr {
			t.Errorf("Resolve(%q) = %v, %v; want the first target %v", domain, ap, err, want[0].Addr)
		}
	}
}

// Targets of one priority come in the order of the random draws: with a
// draw of 0 the weight 0 record (put first) wins, with the largest draw
// the other one; the higher priority comes last either way.
func TestTargetsFollowRandomOrder(t *testing.T) {
	z := startZone(t,
		"_lumi._udp.w.com. 60 IN SRV 0 5 4001 a.w.com.",
		"_lumi._udp.w.com. 60 IN SRV 0 0 4002 b.w.com.",
		"_lumi._udp.w.com. 60 IN SRV 1 9 4003 c.w.com.",
		"a.w.com. 60 IN A 127.0.0.1", "b.w.com. 60 IN A 127.0.0.2", "c.w.com. 60 IN A 127.0.0.3")
	tests := map[string]struct {
		intn func(int) int
		want []string
	}{
		"smallest draws": {func(int) int { return 0 }, []string{"b.w.com", "a.w.com", "c.w.com"}},
		"largest draws":  {func(n int) int { return n - 1 }, []string{"a.w.com", "b.w.com", "c.w.com"}},
	}
	for name, tt := range tests {
		r := newTestResolver(t, Config{DNSServer: z.Addr()})
		r.intn = tt.intn
		ts, err := r.Targets(context.Background(), "w.com")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tg := range ts {
			got = append(got, tg.Name)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: order mismatch (-want +got):\n%s", name, diff)
		}
	}
}

// Over 32 SRV records, the 32 of lowest priority are used and the rest is
// logged, not dropped silently.
func TestSRVTargetsCapped(t *testing.T) {
	var records []string
	for i := range maxSRVTargets + 8 {
		records = append(records,
			fmt.Sprintf("_lumi._udp.big.com. 60 IN SRV %d 0 %d t%d.big.com.", 100-i, 4000+i, i),
			fmt.Sprintf("t%d.big.com. 60 IN A 127.0.2.%d", i, i+1))
	}
	z := startZone(t, records...)
	var log syncbuf.Buffer
	r := newTestResolver(t, Config{DNSServer: z.Addr(), Logger: slog.New(slog.NewTextHandler(&log, nil))})
	ts, err := r.Targets(context.Background(), "big.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != maxSRVTargets {
		t.Fatalf("%d targets, want %d", len(ts), maxSRVTargets)
	}
	for i, tg := range ts {
		if want := uint16(100 - (maxSRVTargets + 7) + i); tg.Priority != want {
			t.Errorf("target %d has priority %d, want %d", i, tg.Priority, want)
		}
	}
	for _, want := range []string{"SRV records over the cap", "domain=big.com", "records=40", "used=32"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log %q does not say %q", log.String(), want)
		}
	}
}

// chainServer answers from maps of names: a CNAME alone for an alias, as
// a server that leaves chains to others; an A record for a name with an
// address ("-" for none); NXDOMAIN for other names.
func chainServer(cnames map[string]string, addrs map[string]string) func(*dns.Msg) *dns.Msg {
	return func(req *dns.Msg) *dns.Msg {
		q := req.Question[0]
		resp := new(dns.Msg).SetReply(req)
		name := strings.ToLower(q.Name)
		addr, known := addrs[name]
		switch {
		case cnames[name] != "":
			resp.Answer = append(resp.Answer, &dns.CNAME{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60}, Target: cnames[name]})
		case !known:
			resp.Rcode = dns.RcodeNameError
		case q.Qtype == dns.TypeA && addr != "-":
			resp.Answer = append(resp.Answer, dnsRR(q.Name+" 60 IN A "+addr))
		}
		return resp
	}
}

func dnsRR(s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		panic(err)
	}
	return rr
}

func TestCNAMEChain(t *testing.T) {
	cnames := map[string]string{
		"c0.com.": "c1.com.", "c1.com.": "c2.com.", "c2.com.": "c3.com.",
		"loop.com.": "loop2.com.", "loop2.com.": "loop.com.",
	}
	addrs := map[string]string{"c3.com.": "127.0.0.13", "loop.com.": "-", "loop2.com.": "-"}
	for i := range 10 {
		// long0.com -> long1.com -> ... -> long9.com, with an address.
		cnames[fmt.Sprintf("long%d.com.", i)] = fmt.Sprintf("long%d.com.", i+1)
		addrs[fmt.Sprintf("long%d.com.", i)] = "-"
	}
	addrs["long10.com."] = "127.0.0.14"
	f := startFake(t, chainServer(cnames, addrs))
	r := newTestResolver(t, Config{DNSServer: f.Addr()})
	ap, err := r.Resolve(context.Background(), "c0.com")
	if want := onNodePort("127.0.0.13"); err != nil || ap.String() != want {
		t.Errorf("three CNAMEs: Resolve = %v, %v; want %s", ap, err, want)
	}
	for _, domain := range []string{"loop.com", "long0.com"} {
		before := f.received.Load()
		_, err := r.Resolve(context.Background(), domain)
		if !errors.Is(err, ErrNoNode) || !strings.Contains(err.Error(), "more than 8 CNAMEs") {
			t.Errorf("%s: error = %v, want ErrNoNode saying the chain is too long", domain, err)
		}
		// SRV, then A and AAAA each following 8 CNAMEs: 1 + 2*9 queries.
		if q := f.received.Load() - before; q != 1+2*(maxCNAMEHops+1) {
			t.Errorf("%s: %d queries, want %d", domain, q, 1+2*(maxCNAMEHops+1))
		}
	}
}

// A DNS reply may carry records of any type with empty data, which unpack
// as zero values (an SRV record of port 0 without target, a CNAME without
// target, an A record without address): they are skipped, never a panic
// nor a query for the root.
func TestEmptyRecordData(t *testing.T) {
	f := startFake(t, func(req *dns.Msg) *dns.Msg {
		q := req.Question[0]
		resp := new(dns.Msg).SetReply(req)
		empty := func(typ uint16) dns.RR {
			return &dns.RR_Header{Name: q.Name, Rrtype: typ, Class: dns.ClassINET, Ttl: 60}
		}
		if q.Name == "_lumi._udp.empty.com." {
			resp.Answer = append(resp.Answer, empty(dns.TypeSRV))
			resp.Extra = append(resp.Extra, empty(dns.TypeA), empty(dns.TypeAAAA))
		} else {
			resp.Answer = append(resp.Answer, empty(dns.TypeCNAME))
		}
		return resp
	})
	r := newTestResolver(t, Config{DNSServer: f.Addr()})
	for domain, want := range map[string]error{"empty.com": ErrNoAddress, "cname.com": ErrNoNode} {
		if _, err := r.Resolve(context.Background(), domain); !errors.Is(err, want) {
			t.Errorf("%s: error = %v, want %v", domain, err, want)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	slices.Sort(f.names)
	want := []string{"_lumi._udp.cname.com.", "_lumi._udp.empty.com.", "cname.com.", "cname.com."}
	if diff := cmp.Diff(want, f.names); diff != "" {
		t.Errorf("queries mismatch (-want +got):\n%s", diff)
	}
}
