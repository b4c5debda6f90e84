package dnszone

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

var testRecords = []string{
	"bb.com. 300 IN SOA ns.bb.com. admin.bb.com. 1 3600 600 86400 30",
	"_lumi._udp.bb.com. 60 IN SRV 0 0 4000 node.bb.com.",
	"node.bb.com. 60 IN A 127.0.0.2",
	"alias.bb.com. 60 IN CNAME node.bb.com.",
	"loop.bb.com. 60 IN CNAME loop.bb.com.",
	"cc.com. 60 IN A 127.0.0.3",
}

func start(t *testing.T, records ...string) *Server {
	t.Helper()
	rrs := make([]dns.RR, len(records))
	for i, s := range records {
		rrs[i] = MustRR(s)
	}
	s, err := Start("127.0.0.1:0", rrs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// reply is what a test compares: records as zone file text.
type reply struct {
	Rcode  string
	AA     bool
	Answer []string
	Ns     []string
	Extra  []string
}

func ask(t *testing.T, net, addr, name string, qtype uint16) reply {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	c := dns.Client{Net: net}
	resp, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s over %s: %v", name, dns.TypeToString[qtype], net, err)
	}
	return reply{
		Rcode:  dns.RcodeToString[resp.Rcode],
		AA:     resp.Authoritative,
		Answer: texts(resp.Answer),
		Ns:     texts(resp.Ns),
		Extra:  texts(resp.Extra),
	}
}

func texts(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		out = append(out, rr.String())
	}
	return out
}

func TestServerAnswers(t *testing.T) {
	s := start(t, testRecords...)
	soa := MustRR(testRecords[0]).String()
	tests := []struct {
		name  string
		qtype uint16
		want  reply
	}{
		{"_lumi._udp.bb.com.", dns.TypeSRV, reply{
			Rcode:  "NOERROR",
			AA:     true,
			Answer: []string{MustRR(testRecords[1]).String()},
			Extra:  []string{MustRR(testRecords[2]).String()},
		}},
		{"NODE.bb.com.", dns.TypeA, reply{Rcode: "NOERROR", AA: true, Answer: []string{MustRR(testRecords[2]).String()}}},
		{"alias.bb.com.", dns.TypeA, reply{Rcode: "NOERROR", AA: true, Answer: []string{
			MustRR(testRecords[3]).String(), MustRR(testRecords[2]).String(),
		}}},
		{"alias.bb.com.", dns.TypeCNAME, reply{Rcode: "NOERROR", AA: true, Answer: []string{MustRR(testRecords[3]).String()}}},
		{"node.bb.com.", dns.TypeSRV, reply{Rcode: "NOERROR", AA: true, Ns: []string{soa}}},
		{"nx.bb.com.", dns.TypeA, reply{Rcode: "NXDOMAIN", AA: true, Ns: []string{soa}}},
		{"_lumi._udp.cc.com.", dns.TypeSRV, reply{Rcode: "NXDOMAIN", AA: true}},
		{"cc.com.", dns.TypeSRV, reply{Rcode: "NOERROR", AA: true}},
	}
	for _, net := range []string{"udp", "tcp"} {
		for _, tt := range tests {
			got := ask(t, net, s.Addr(), tt.name, tt.qtype)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s %s over %s mismatch (-want +got):\n%s", tt.name, dns.TypeToString[tt.qtype], net, diff)
			}
		}
	}
	if q := s.Queries(); q != 2*len(tests) {
		t.Errorf("Queries() = %d, want %d", q, 2*len(tests))
	}
}

// A CNAME loop ends after a bounded number of hops instead of hanging the
// server.
func TestCNAMELoop(t *testing.T) {
	s := start(t, testRecords...)
	got := ask(t, "udp", s.Addr(), "loop.bb.com.", dns.TypeA)
	if got.Rcode != "NOERROR" || len(got.Answer) != maxCNAMEHops {
		t.Errorf("got %+v, want NOERROR with %d CNAMEs", got, maxCNAMEHops)
	}
}

// An answer too big for UDP comes truncated; TCP gets it whole.
func TestTruncation(t *testing.T) {
	var records []string
	for i := range 60 {
		records = append(records, fmt.Sprintf("big.com. 60 IN A 127.0.1.%d", i))
	}
	s := start(t, records...)
	m := new(dns.Msg)
	m.SetQuestion("big.com.", dns.TypeA)
	resp, _, err := new(dns.Client).Exchange(m, s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Truncated {
		t.Errorf("UDP reply with %d records not truncated", len(resp.Answer))
	}
	if got := ask(t, "tcp", s.Addr(), "big.com.", dns.TypeA); len(got.Answer) != 60 {
		t.Errorf("TCP reply has %d records, want 60", len(got.Answer))
	}
}

func TestStartErrors(t *testing.T) {
	if _, err := Start("127.0.0.1:0", nil); err != ErrNilRecord {
		t.Errorf("nil record: error = %v, want ErrNilRecord", err)
	}
	if _, err := Start("no-such-address"); err == nil {
		t.Error("bad address: no error")
	}
	s := start(t)
	if _, err := Start(s.Addr()); err == nil {
		t.Error("address in use: no error")
	}
}

func TestCloseTwice(t *testing.T) {
	s, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestMustRRPanics(t *testing.T) {
	for _, s := range []string{"bb.com. IN A not-an-ip", "", "; only a comment"} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(fmt.Sprint(r), "dnszone: ") {
					t.Errorf("MustRR(%q) panic = %v, want a dnszone panic", s, r)
				}
			}()
			MustRR(s)
		}()
	}
}
