package lumi

import (
	"context"
	"errors"
	"testing"

	"github.com/miekg/dns"
)

// FuzzLookupReply answers every query of a lookup with one message of the
// fuzzer's (as a reply to that query), since DNS replies are untrusted: a
// lookup never panics, and it either finds targets with usable addresses
// or fails with one of its kinds.
func FuzzLookupReply(f *testing.F) {
	seeds := [][]string{
		{"_lumi._udp.fz.com. 60 IN SRV 0 0 4000 n.fz.com.", "n.fz.com. 60 IN A 127.0.0.1"},
		{"_lumi._udp.fz.com. 60 IN CNAME _lumi._udp.fz.com.", "fz.com. 60 IN AAAA ::1"},
		{"_lumi._udp.fz.com. 60 IN SRV 0 0 0 .", "fz.com. 60 IN CNAME n.fz.com."},
	}
	for _, seed := range seeds {
		m := new(dns.Msg)
		for _, s := range seed {
			m.Answer = append(m.Answer, dnsRR(s))
		}
		m.Extra = m.Answer
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg := new(dns.Msg)
		if msg.Unpack(data) != nil {
			t.Skip("not a DNS message")
		}
		server := startFake(t, func(req *dns.Msg) *dns.Msg {
			resp := msg.Copy()
			resp.Id, resp.Question, resp.Response, resp.Truncated = req.Id, req.Question, true, false
			resp.Compress = true
			return resp
		})
		r := newTestResolver(t, Config{DNSServer: server.Addr()})
		ts, err := r.Targets(context.Background(), "fz.com")
		for _, tg := range ts {
			if a := tg.Addr.Addr(); !a.IsValid() || a.IsUnspecified() || a.IsMulticast() || a.Is4In6() || tg.Addr.Port() == 0 {
				t.Errorf("unusable target %+v", tg)
			}
		}
		if err == nil && len(ts) == 0 {
			t.Error("no targets and no error")
		}
		if err != nil && !errors.Is(err, ErrNoSuchDomain) && !errors.Is(err, ErrDNSFailure) {
			t.Errorf("error %v is of no kind", err)
		}
	})
}
