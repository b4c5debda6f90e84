// Package dnszone is a small authoritative DNS server for a static set of
// records. It gives LUMI domains SRV and A records on one machine, for tests
// and demos, without a real DNS server or root access.
package dnszone

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// ErrNilRecord is returned by Start for a nil record.
var ErrNilRecord = errors.New("dnszone: nil record")

// portTries bounds the search for a port number free for both UDP and TCP
// when the caller asks for any port.
const portTries = 10

// maxCNAMEHops bounds CNAME chasing inside the zone, which may loop.
const maxCNAMEHops = 8

// Server answers queries for its records over UDP and TCP on one port.
type Server struct {
	addr    string
	udp     *dns.Server
	tcp     *dns.Server
	zone    map[string][]dns.RR // lower-case FQDN owner -> records
	queries atomic.Int64

	closeOnce sync.Once
	closeErr  error
}

// Start serves records on addr ("127.0.0.1:0" picks a free port). It answers
// with the authoritative flag: the records of the asked type (following
// CNAMEs), NXDOMAIN for a name it has no records for, and an empty NOERROR
// answer (NODATA) for a known name of another type; SRV answers carry the A
// and AAAA records it knows for their targets in the Additional section.
// Negative answers carry the closest enclosing SOA record, if one was given.
func Start(addr string, records ...dns.RR) (*Server, error) {
	zone := make(map[string][]dns.RR)
	for _, rr := range records {
		if rr == nil {
			return nil, ErrNilRecord
		}
		key := strings.ToLower(dns.Fqdn(rr.Header().Name))
		zone[key] = append(zone[key], dns.Copy(rr))
	}
	pc, ln, err := listen(addr)
	if err != nil {
		return nil, fmt.Errorf("dnszone: %w", err)
	}
	s := &Server{addr: pc.LocalAddr().String(), zone: zone}
	h := dns.HandlerFunc(s.serve)
	s.udp = &dns.Server{PacketConn: pc, Handler: h}
	s.tcp = &dns.Server{Listener: ln, Handler: h}
	if err := activate(s.udp); err != nil {
		pc.Close()
		ln.Close()
		return nil, fmt.Errorf("dnszone: %w", err)
	}
	if err := activate(s.tcp); err != nil {
		s.udp.Shutdown()
		ln.Close()
		return nil, fmt.Errorf("dnszone: %w", err)
	}
	return s, nil
}

// listen opens UDP and TCP on the same port; with port 0 the kernel's UDP
// choice may be taken for TCP, so it tries a few times.
func listen(addr string) (net.PacketConn, net.Listener, error) {
	tries := 1
	if _, port, err := net.SplitHostPort(addr); err == nil && port == "0" {
		tries = portTries
	}
	var lastErr error
	for range tries {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		lastErr = err
	}
	return nil, nil, lastErr
}

// activate starts srv and returns once it serves, so that Close never meets
// a server that has not started yet.
func activate(srv *dns.Server) error {
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	errc := make(chan error, 1)
	go func() { errc <- srv.ActivateAndServe() }()
	select {
	case <-started:
		return nil
	case err := <-errc:
		return err
	}
}

// Addr returns the address served, as "ip:port".
func (s *Server) Addr() string { return s.addr }

// Queries returns how many queries the server has answered. A query is
// counted before its reply is sent, so a client holding a reply sees it.
func (s *Server) Queries() int { return int(s.queries.Load()) }

// Close stops the server. Later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = errors.Join(s.udp.Shutdown(), s.tcp.Shutdown())
	})
	return s.closeErr
}

func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	resp := s.reply(req)
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		resp.Truncate(udpSize(req))
	}
	s.queries.Add(1)
	w.WriteMsg(resp) // a lost reply is the client's to retry
}

func udpSize(req *dns.Msg) int {
	if opt := req.IsEdns0(); opt != nil && int(opt.UDPSize()) > dns.MinMsgSize {
		return int(opt.UDPSize())
	}
	return dns.MinMsgSize
}

func (s *Server) reply(req *dns.Msg) *dns.Msg {
	resp := new(dns.Msg)
	switch {
	case req.Opcode != dns.OpcodeQuery:
		return resp.SetRcode(req, dns.RcodeNotImplemented)
	case len(req.Question) != 1:
		return resp.SetRcode(req, dns.RcodeFormatError)
	}
	resp.SetReply(req)
	resp.Authoritative = true
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if _, known := s.zone[name]; !known {
		resp.Rcode = dns.RcodeNameError
		s.addSOA(resp, name)
		return resp
	}
	resp.Answer = s.answer(name, q.Qtype)
	if len(resp.Answer) == 0 {
		s.addSOA(resp, name)
	}
	if q.Qtype == dns.TypeSRV {
		resp.Extra = s.additional(resp.Answer)
	}
	return resp
}

// answer returns copies of the records of name of type qtype, after the
// CNAMEs leading to them, since packing a shared record is not safe while
// another reply packs it too.
func (s *Server) answer(name string, qtype uint16) []dns.RR {
	var out []dns.RR
	for range maxCNAMEHops {
		var cname *dns.CNAME
		n := len(out)
		for _, rr := range s.zone[name] {
			t := rr.Header().Rrtype
			if t == qtype || qtype == dns.TypeANY {
				out = append(out, dns.Copy(rr))
			} else if c, ok := rr.(*dns.CNAME); ok && cname == nil {
				cname = c
			}
		}
		if len(out) > n || cname == nil {
			return out
		}
		out = append(out, dns.Copy(cname))
		name = strings.ToLower(dns.Fqdn(cname.Target))
	}
	return out
}

func (s *Server) additional(answer []dns.RR) []dns.RR {
	var extra []dns.RR
	for _, rr := range answer {
		srv, ok := rr.(*dns.SRV)
		if !ok {
			continue
		}
		for _, t := range s.zone[strings.ToLower(dns.Fqdn(srv.Target))] {
			if typ := t.Header().Rrtype; typ == dns.TypeA || typ == dns.TypeAAAA {
				extra = append(extra, dns.Copy(t))
			}
		}
	}
	return extra
}

// addSOA puts the SOA of the closest enclosing zone in the Authority
// section, which tells resolvers how long to cache the negative answer.
func (s *Server) addSOA(resp *dns.Msg, name string) {
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		for _, rr := range s.zone[name[off:]] {
			if soa, ok := rr.(*dns.SOA); ok {
				resp.Ns = append(resp.Ns, dns.Copy(soa))
				return
			}
		}
	}
}

// MustRR parses a record in zone file syntax, such as
// "_lumi._udp.bb.com. 60 IN SRV 0 0 3344 node.bb.com.". It panics on a bad
// literal, which is a programming error.
func MustRR(s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		panic(fmt.Sprintf("dnszone: bad record %q: %v", s, err))
	}
	if rr == nil {
		panic(fmt.Sprintf("dnszone: no record in %q", s))
	}
	return rr
}
