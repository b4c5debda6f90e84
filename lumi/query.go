package lumi

import (
	"context"
	"errors"
	"strings"

	"github.com/miekg/dns"
)

var errMismatch = errors.New("reply does not match the question")

// query sends one question to the DNS server and retries it Retries times
// if no reply came within Timeout, so a server that does not answer costs
// at most Timeout*(1+Retries). It returns replies with NOERROR or NXDOMAIN;
// anything else is a *DNSError.
func (r *Resolver) query(ctx context.Context, name string, qtype uint16) (*dns.Msg, *DNSError) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	fail := &DNSError{Query: dns.TypeToString[qtype] + " " + display(name), Server: r.server, Rcode: -1}
	for fail.Attempts < 1+r.retries {
		fail.Attempts++
		resp, err := r.exchange(ctx, m)
		if err == nil {
			return checkReply(m, resp, fail)
		}
		fail.Err = err
		// Only silence is worth asking again: an error reply or an ICMP
		// refusal would come back the same.
		if !isTimeout(err) || ctx.Err() != nil {
			break
		}
	}
	return nil, fail
}

// exchange is one attempt: over UDP, and again over TCP if the reply was
// truncated, both within one Timeout.
func (r *Resolver) exchange(ctx context.Context, m *dns.Msg) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	c := dns.Client{Net: "udp", Timeout: r.timeout}
	resp, _, err := c.ExchangeContext(ctx, m, r.server)
	if err == nil && resp.Truncated {
		c.Net = "tcp"
		resp, _, err = c.ExchangeContext(ctx, m, r.server)
	}
	return resp, err
}

func checkReply(q, resp *dns.Msg, fail *DNSError) (*dns.Msg, *DNSError) {
	if len(resp.Question) != 1 || resp.Question[0].Qtype != q.Question[0].Qtype ||
		!strings.EqualFold(resp.Question[0].Name, q.Question[0].Name) {
		fail.Err = errMismatch
		return nil, fail
	}
	switch resp.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
		return resp, nil
	}
	fail.Rcode = resp.Rcode
	return nil, fail
}
