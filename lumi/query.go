package lumi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

var (
	errMismatch = errors.New("reply does not match the question")
	errRcode    = errors.New("server answered")
)

// query sends one question to the DNS server, over UDP and again over TCP if
// the reply was truncated, both within one Timeout. It returns replies with
// NOERROR or NXDOMAIN; anything else is an error.
func (r *Resolver) query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	c := dns.Client{Net: "udp", Timeout: r.timeout}
	resp, _, err := c.ExchangeContext(ctx, m, r.server)
	if err == nil && resp.Truncated {
		c.Net = "tcp"
		resp, _, err = c.ExchangeContext(ctx, m, r.server)
	}
	if err != nil {
		return nil, fmt.Errorf("query to %s: %w", r.server, err)
	}
	if err := checkReply(m, resp, r.server); err != nil {
		return nil, err
	}
	return resp, nil
}

func checkReply(q, resp *dns.Msg, server string) error {
	if len(resp.Question) != 1 || resp.Question[0].Qtype != q.Question[0].Qtype ||
		!strings.EqualFold(resp.Question[0].Name, q.Question[0].Name) {
		return fmt.Errorf("query to %s: %w", server, errMismatch)
	}
	switch resp.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
		return nil
	}
	return fmt.Errorf("query to %s: %w %s", server, errRcode, dns.RcodeToString[resp.Rcode])
}
