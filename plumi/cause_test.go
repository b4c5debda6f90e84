package plumi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"mi/lumi"
	"mi/lumi/dnszone"
	"mi/plumi/plumitest"
	"mi/wire"
)

// TestReplyCauses: each refusal of the node gives its facts: what was
// asked, of which node, for whom.
func TestReplyCauses(t *testing.T) {
	laura, pau := "laura@bb.com", "pau@cc.org"
	for _, tc := range []struct {
		name  string
		reply wire.Message
		do    func(*Client) error
		want  Cause
	}{
		{"RR1", &wire.RegisterReply{Code: wire.RegisterRefused},
			func(c *Client) error { return c.Register(context.Background(), plumitest.Addr(t, laura)) },
			Cause{Kind: CauseRegisterRefused, Addr: laura}},
		{"RR2", &wire.RegisterReply{Code: wire.RegisterDenied},
			func(c *Client) error { return c.Register(context.Background(), plumitest.Addr(t, laura)) },
			Cause{Kind: CauseProofDenied, Addr: laura, Tag: "PR"}},
		{"RD1", &wire.DeregisterReply{Code: wire.DeregisterRefused},
			func(c *Client) error { return c.Deregister(context.Background(), plumitest.Addr(t, laura)) },
			Cause{Kind: CauseDeregisterRefused, Addr: laura}},
		{"RA without a secret", &wire.AuthChallenge{Op: wire.AuthOpRegister, Addr: plumitest.Addr(t, laura), Nonce: "0123456789abcdef"},
			func(c *Client) error { return c.Register(context.Background(), plumitest.Addr(t, laura)) },
			Cause{Kind: CauseAuthRequired, Addr: laura}},
		{"RL1", &wire.LocateReply{Code: wire.LocateBusy, From: plumitest.Addr(t, laura), To: plumitest.Addr(t, pau)},
			func(c *Client) error {
				_, err := c.Locate(context.Background(), plumitest.Addr(t, laura), plumitest.Addr(t, pau))
				return err
			},
			Cause{Kind: CauseBusy, Addr: pau}},
		{"RL3", &wire.LocateReply{Code: wire.LocateOffline, From: plumitest.Addr(t, laura), To: plumitest.Addr(t, pau)},
			func(c *Client) error {
				_, err := c.Locate(context.Background(), plumitest.Addr(t, laura), plumitest.Addr(t, pau))
				return err
			},
			Cause{Kind: CauseOffline, Addr: pau}},
		{"RL2, no resolver", &wire.LocateReply{Code: wire.LocateUnknown, From: plumitest.Addr(t, laura), To: plumitest.Addr(t, pau)},
			func(c *Client) error {
				_, err := c.Locate(context.Background(), plumitest.Addr(t, laura), plumitest.Addr(t, pau))
				return err
			},
			Cause{Kind: CauseUnknownTarget, Addr: pau}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := plumitest.NewNode(t)
			n.Answer(func(*wire.PLUMIDatagram) wire.Message { return tc.reply })
			c := newTestClient(t, n, 3)
			if tc.want.Kind != CauseBusy && tc.want.Kind != CauseOffline && tc.want.Kind != CauseUnknownTarget {
				tc.want.Node = n.Addr().String() // the node's own refusals name it
			}
			if d := cmp.Diff(tc.want, CauseOf(tc.do(c))); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	t.Run("timeout", func(t *testing.T) {
		n := plumitest.NewNode(t) // silent
		c := newTestClient(t, n, 2)
		err := c.Register(context.Background(), plumitest.Addr(t, laura))
		want := Cause{Kind: CauseNodeTimeout, Node: n.Addr().String(), Tag: "PR", Attempts: 2, Wait: fastRetry}
		if d := cmp.Diff(want, CauseOf(err)); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		n := plumitest.NewNode(t)
		c := newTestClient(t, n, 2)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if got := CauseOf(c.Register(ctx, plumitest.Addr(t, laura))); got.Kind != CauseCancelled {
			t.Errorf("cause %+v, want cancelled", got)
		}
	})
}

// TestLookupCauses: a failed lookup of a domain's node gives the domain
// and what DNS said, from lumi's errors: the kind of absence, or the
// server and its rcode, or that it did not answer.
func TestLookupCauses(t *testing.T) {
	srvErr := &lumi.DNSError{Query: "SRV _lumi._udp.cc.org", Server: "127.0.0.1:53", Rcode: dns.RcodeServerFailure}
	timeout := &lumi.DNSError{Query: "SRV _lumi._udp.cc.org", Server: "127.0.0.1:53", Rcode: -1, Attempts: 2, Err: context.DeadlineExceeded}
	refused := &lumi.DNSError{Query: "SRV _lumi._udp.cc.org", Server: "127.0.0.1:9", Rcode: -1, Attempts: 1,
		Err: fmt.Errorf("read udp 127.0.0.1:1->127.0.0.1:9: %w", errors.New("connection refused"))}
	for _, tc := range []struct {
		name   string
		err    error
		reason *Reason
		want   Cause
	}{
		{"NXDOMAIN", &lumi.LookupError{Domain: "cc.orgg", Kind: lumi.ErrNXDomain}, ErrDomainUnknown, Cause{Kind: CauseNXDomain, Domain: "cc.orgg"}},
		{"no record", &lumi.LookupError{Domain: "cc.org", Kind: lumi.ErrNoNode}, ErrDomainUnknown, Cause{Kind: CauseNoNode, Domain: "cc.org"}},
		{"no address", &lumi.LookupError{Domain: "cc.org", Kind: lumi.ErrNoAddress}, ErrDomainUnknown, Cause{Kind: CauseNoAddress, Domain: "cc.org"}},
		{"not offered", &lumi.LookupError{Domain: "cc.org", Kind: lumi.ErrNotOffered}, ErrDomainUnknown, Cause{Kind: CauseNotOffered, Domain: "cc.org"}},
		{"not a name", fmt.Errorf("%w: bad", lumi.ErrNoSuchDomain), ErrDomainUnknown, Cause{Kind: CauseNotADomain, Domain: "cc.org"}},
		{"SERVFAIL", &lumi.LookupError{Domain: "cc.org", Kind: lumi.ErrDNSFailure, Cause: srvErr}, ErrDNSFailure,
			Cause{Kind: CauseDNSRcode, Domain: "cc.org", Server: "127.0.0.1:53", Rcode: "SERVFAIL"}},
		{"timeout", &lumi.LookupError{Domain: "cc.org", Kind: lumi.ErrDNSFailure, Cause: timeout}, ErrDNSFailure,
			Cause{Kind: CauseDNSTimeout, Domain: "cc.org", Server: "127.0.0.1:53", Attempts: 2}},
		{"socket", &lumi.LookupError{Domain: "cc.org", Kind: lumi.ErrDNSFailure, Cause: refused}, ErrDNSFailure,
			Cause{Kind: CauseDNSError, Domain: "cc.org", Server: "127.0.0.1:9", Sys: "connection refused"}},
	} {
		err := LookupFailed(tc.want.Domain, tc.err)
		if d := cmp.Diff(tc.want, CauseOf(err)); d != "" || !errors.Is(err, tc.reason) {
			t.Errorf("%s: %v (-want +got):\n%s", tc.name, err, d)
		}
	}
}

// TestLookupCauseFromDNS: an RL2 for a domain that does not exist, told
// apart by the resolver, is no_such_domain for that domain.
func TestLookupCauseFromDNS(t *testing.T) {
	zone, err := dnszone.Start("127.0.0.1:0", dnszone.MustRR("cc.org. 60 IN SOA ns.cc.org. admin.cc.org. 1 60 60 60 5"))
	if err != nil {
		t.Fatal(err)
	}
	defer zone.Close()
	res, err := lumi.NewResolver(lumi.Config{DNSServer: zone.Addr(), HostsFile: "-"})
	if err != nil {
		t.Fatal(err)
	}
	n := plumitest.NewNode(t)
	laura, pau := plumitest.Addr(t, "laura@bb.com"), plumitest.Addr(t, "pau@cc.orgg")
	n.Answer(func(*wire.PLUMIDatagram) wire.Message {
		return &wire.LocateReply{Code: wire.LocateUnknown, From: laura, To: pau}
	})
	c, err := NewClient(Config{Node: n.Addr(), Attempts: 2, RetryInterval: time.Second, Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Locate(context.Background(), laura, pau)
	if d := cmp.Diff(Cause{Kind: CauseNXDomain, Domain: "cc.orgg"}, CauseOf(err)); d != "" {
		t.Errorf("%v (-want +got):\n%s", err, d)
	}
}

// TestCauseJSON: kind first, then the facts set, in snake_case; a wait in
// milliseconds.
func TestCauseJSON(t *testing.T) {
	b, err := json.Marshal(Cause{Kind: CauseNodeUnreachable, Node: "1.2.3.4:3344", Tag: "PR", Attempt: 1, Attempts: 5})
	want := `{"kind":"node_unreachable","node":"1.2.3.4:3344","tag":"PR","attempt":1,"attempts":5}`
	if err != nil || string(b) != want {
		t.Errorf("got %s, %v; want %s", b, err, want)
	}
}
