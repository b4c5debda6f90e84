// Package loadgen measures a PLUMI server on loopback: C clients, each with
// one request outstanding, for a fixed time. It also runs a minimal UDP echo
// server, the limit any UDP server on the machine can reach, so that a
// server's figures can be read as a fraction of it.
//
// A client's request loop allocates nothing: its datagrams are encoded when
// the generator is set up, and its latency samples go to a slice sized then.
package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"mi/wire"
	"mi/wire/wiregen"
)

// Kind is a workload.
type Kind string

const (
	// KindPR: every client registers its own user again and again (PR,
	// answered RR).
	KindPR Kind = "pr"
	// KindPL: every client locates a user of the same domain whose agent,
	// played by the load generator, answers at once: PL in, PL out to the
	// target's agent, RL in, RL out to the client; one request is two
	// round trips through the node. With Target2, another node of the
	// domain sharing a store with Target, the target agents register there
	// and every PL is relayed from Target to Target2 and its RL back.
	KindPL Kind = "pl"
	// KindXPL: every client, a user of Domain registered at Target,
	// locates a user of Domain2 registered at Target2, whose agent the
	// load generator plays: the PL goes client -> Target -> Target2 ->
	// agent and the RL agent -> Target2 -> Target -> client, two round
	// trips through each node. The nodes must know each other (static
	// peers or DNS).
	KindXPL Kind = "xpl"
)

// Kinds lists the workloads.
var Kinds = []Kind{KindPR, KindPL, KindXPL}

// Config describes one run.
type Config struct {
	Target netip.AddrPort
	// Target2 is, for KindXPL, the node of Domain2 where the target agents
	// register; for KindPL, if set, the node of Domain where they register;
	// with Echo, the second echo server.
	Target2  netip.AddrPort
	Kind     Kind
	Domain   string        // the clients' domain (and for pl the targets')
	Domain2  string        // for KindXPL, the targets' domain
	Clients  int           // default 16
	Duration time.Duration // default 5s
	Timeout  time.Duration // a request without a reply for this long is lost; default 1s
	// Echo says the targets echo datagrams back: requests are sent as for
	// Kind and the reply must be the datagram itself; there is no
	// registration or target agent. So that an echo server carries the
	// datagrams a node does, a pl request is two echo round trips (the PL,
	// then the RL) and an xpl request four: the PL and the RL to Target,
	// then the same two to Target2.
	Echo bool
	// Malformed is the fraction of the datagrams a client sends that are
	// malformed, 0 <= Malformed < 1: between its requests a client sends
	// the spec's invalid PLUMI inputs (MalformedDatagrams, in turn) to
	// Target and expects no reply. 0.5 is one before each request. Only
	// the requests are counted; replies equal to a malformed datagram (an
	// echo server's) are read and ignored.
	Malformed float64
}

// Users returns the users of Domain a run of kind with clients clients
// uses, so that a node can be configured for it.
func Users(kind Kind, clients int) []string {
	var u []string
	for i := range clients {
		u = append(u, clientUser(i))
		if kind == KindPL {
			u = append(u, targetUser(i))
		}
	}
	return u
}

// Users2 returns the users of Domain2 a run uses: the targets of KindXPL,
// none for the other kinds.
func Users2(kind Kind, clients int) []string {
	if kind != KindXPL {
		return nil
	}
	var u []string
	for i := range clients {
		u = append(u, targetUser(i))
	}
	return u
}

func clientUser(i int) string { return "bench-a" + strconv.Itoa(i) }
func targetUser(i int) string { return "bench-b" + strconv.Itoa(i) }

// ConfigUsers returns the users a node's config needs for a run: users,
// then extra more named user0, user1, ...
func ConfigUsers(users []string, extra int) []string {
	all := make([]string, 0, len(users)+extra)
	all = append(all, users...)
	for i := range extra {
		all = append(all, "user"+strconv.Itoa(i))
	}
	return all
}

// MalformedDatagrams returns the malformed datagrams a run with Malformed
// sends, in turn: the spec's invalid PLUMI inputs (wiregen.Invalids),
// which every PLUMI decoder refuses.
func MalformedDatagrams() [][]byte {
	var m [][]byte
	for _, inv := range wiregen.Invalids {
		if inv.Proto == "PLUMI" && inv.Input != "" {
			m = append(m, []byte(inv.Input))
		}
	}
	return m
}

// Result is what a run measured.
type Result struct {
	Requests  int64         // requests sent
	Replies   int64         // requests answered in time
	Lost      int64         // requests without a reply within Timeout
	Bad       int64         // replies that were not the expected answer
	Malformed int64         // malformed datagrams sent (not requests)
	Ignored   int64         // replies equal to a malformed datagram, read and ignored
	Elapsed   time.Duration // how long the clients ran
	P50, P99  time.Duration // latency of the answered requests
}

// PerSecond is the rate of answered requests.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Replies) / r.Elapsed.Seconds()
}

func (r Result) String() string {
	s := fmt.Sprintf("%.0f req/s  p50 %v  p99 %v  sent %d  answered %d  lost %d  bad %d",
		r.PerSecond(), r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Requests, r.Replies, r.Lost, r.Bad)
	if r.Malformed > 0 {
		s += fmt.Sprintf("  malformed %d", r.Malformed)
	}
	return s
}

// step is one round trip of a request: req sent to to, answered by want.
type step struct {
	to        netip.AddrPort
	req, want []byte
}

// client is one simulated agent with its socket.
type client struct {
	conn    *net.UDPConn
	steps   []step // a request's round trips, in order
	timeout time.Duration
	buf     []byte

	junk     [][]byte // the malformed datagrams, sent in turn from junkNext
	junkNext int
	junkTo   netip.AddrPort
	perReq   float64 // malformed datagrams per request
	debt     float64 // malformed datagrams owed

	samples                                      []time.Duration
	sent, replies, lost, bad, malformed, ignored int64
}

// Gen is a set of clients ready to run: sockets open, users registered,
// target agents answering. One Gen can run several times.
type Gen struct {
	cfg        Config
	clients    []*client
	conns      []*net.UDPConn
	responders sync.WaitGroup
}

// Run sets cfg up, runs it once until its duration is over or ctx ends,
// and closes it.
func Run(ctx context.Context, cfg Config) (Result, error) {
	g, err := New(cfg)
	if err != nil {
		return Result{}, err
	}
	defer g.Close()
	return g.Run(ctx, cfg.Duration), nil
}

// New opens the clients' sockets and, unless cfg.Echo, registers their users
// and starts the target agents.
func New(cfg Config) (_ *Gen, err error) {
	if cfg.Clients <= 0 {
		cfg.Clients = 16
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 5 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = wire.RetryInterval
	}
	if !slices.Contains(Kinds, cfg.Kind) {
		return nil, fmt.Errorf("loadgen: unknown kind %q", cfg.Kind)
	}
	if cfg.Malformed < 0 || cfg.Malformed >= 1 {
		return nil, fmt.Errorf("loadgen: malformed fraction %v not in [0, 1)", cfg.Malformed)
	}
	if cfg.Kind == KindXPL && (!cfg.Target2.IsValid() || cfg.Domain2 == "") {
		return nil, fmt.Errorf("loadgen: %s needs Target2 and Domain2", cfg.Kind)
	}
	g := &Gen{cfg: cfg}
	defer func() {
		if err != nil {
			g.Close()
		}
	}()
	junk := MalformedDatagrams()
	g.clients = make([]*client, cfg.Clients)
	for i := range g.clients {
		conn, err := g.listen()
		if err != nil {
			return nil, err
		}
		c := &client{
			conn: conn, timeout: cfg.Timeout, buf: make([]byte, 2048),
			junk: junk, junkNext: i % len(junk), junkTo: cfg.Target,
			perReq:  cfg.Malformed / (1 - cfg.Malformed),
			samples: make([]time.Duration, 0, 1<<16),
		}
		g.clients[i] = c
		if err := g.setup(c, i); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (g *Gen) listen() (*net.UDPConn, error) {
	ip := net.IPv4(127, 0, 0, 1)
	if !g.cfg.Target.Addr().Unmap().IsLoopback() {
		ip = nil
	}
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
	if err == nil {
		g.conns = append(g.conns, c)
	}
	return c, err
}

// setup encodes client i's datagrams and, for a node, registers its users
// and starts its target agent.
func (g *Gen) setup(c *client, i int) error {
	cfg := g.cfg
	from := wire.Address{User: clientUser(i), Domain: cfg.Domain}
	if cfg.Kind == KindPR {
		req, err := (&wire.Register{Addr: from}).Append(nil)
		if err != nil {
			return err
		}
		want := req
		if !cfg.Echo {
			if want, err = (&wire.RegisterReply{Code: wire.RegisterOK}).Append(nil); err != nil {
				return err
			}
		}
		c.steps = []step{{cfg.Target, req, want}}
		return nil
	}
	to := wire.Address{User: targetUser(i), Domain: cfg.Domain}
	agentNode := cfg.Target
	switch {
	case cfg.Kind == KindXPL:
		to.Domain, agentNode = cfg.Domain2, cfg.Target2
	case cfg.Target2.IsValid():
		agentNode = cfg.Target2
	}
	pl, err := (&wire.Locate{From: from, To: to}).Append(nil)
	if err != nil {
		return err
	}
	if cfg.Echo {
		rl, err := (&wire.LocateReply{Code: wire.LocateFound, From: from, To: to, IP: netip.AddrFrom4([4]byte{127, 0, 0, 1}), Port: 40000}).Append(nil)
		if err != nil {
			return err
		}
		c.steps = []step{{cfg.Target, pl, pl}, {cfg.Target, rl, rl}}
		if cfg.Kind == KindXPL {
			c.steps = append(c.steps, step{cfg.Target2, pl, pl}, step{cfg.Target2, rl, rl})
		}
		return nil
	}
	tconn, err := g.listen()
	if err != nil {
		return err
	}
	// Both agents register; the target's agent answers every PL.
	if err := register(c.conn, cfg.Target, from, cfg.Timeout); err != nil {
		return err
	}
	if err := register(tconn, agentNode, to, cfg.Timeout); err != nil {
		return err
	}
	tcp := tconn.LocalAddr().(*net.UDPAddr).AddrPort()
	rl, err := (&wire.LocateReply{Code: wire.LocateFound, From: from, To: to, IP: tcp.Addr().Unmap(), Port: tcp.Port()}).Append(nil)
	if err != nil {
		return err
	}
	c.steps = []step{{cfg.Target, pl, rl}}
	g.responders.Go(func() { respond(tconn, rl) })
	return nil
}

// Run runs the clients for d or until ctx ends and returns what they
// measured.
func (g *Gen) Run(ctx context.Context, d time.Duration) Result {
	var stop atomic.Bool
	defer context.AfterFunc(ctx, func() { stop.Store(true) })()
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for _, c := range g.clients {
		c.reset()
		wg.Go(func() {
			for !stop.Load() && c.request(end) {
			}
		})
	}
	wg.Wait()
	res := Result{Elapsed: time.Since(start)}
	n := 0
	for _, c := range g.clients {
		n += len(c.samples)
	}
	all := make([]time.Duration, 0, n)
	for _, c := range g.clients {
		res.Requests += c.sent
		res.Replies += c.replies
		res.Lost += c.lost
		res.Bad += c.bad
		res.Malformed += c.malformed
		res.Ignored += c.ignored
		all = append(all, c.samples...)
	}
	slices.Sort(all)
	if len(all) > 0 {
		res.P50 = all[len(all)/2]
		res.P99 = all[len(all)*99/100]
	}
	return res
}

// Close closes the sockets and waits for the target agents.
func (g *Gen) Close() {
	for _, c := range g.conns {
		c.Close()
	}
	g.responders.Wait()
}

func (c *client) reset() {
	c.samples = c.samples[:0]
	c.sent, c.replies, c.lost, c.bad, c.malformed, c.ignored = 0, 0, 0, 0, 0, 0
	c.debt = 0
}

// request sends the malformed datagrams owed, then one request, and waits
// for its answers or its timeout. It reports false, sending nothing, once
// end has passed.
func (c *client) request(end time.Time) bool {
	t0 := time.Now()
	if !t0.Before(end) {
		return false
	}
	if c.perReq > 0 {
		c.debt += c.perReq
		for c.debt >= 1 {
			c.debt--
			c.conn.WriteToUDPAddrPort(c.junk[c.junkNext], c.junkTo)
			c.malformed++
			if c.junkNext++; c.junkNext == len(c.junk) {
				c.junkNext = 0
			}
		}
		t0 = time.Now()
	}
	c.sent++
	c.conn.SetReadDeadline(t0.Add(c.timeout))
	for i := range c.steps {
		s := &c.steps[i]
		if _, err := c.conn.WriteToUDPAddrPort(s.req, s.to); err != nil {
			c.lost++
			return true
		}
		for {
			n, _, err := c.conn.ReadFromUDPAddrPort(c.buf)
			if err != nil {
				c.lost++
				return true
			}
			got := c.buf[:n]
			if string(got) == string(s.want) {
				break
			}
			if c.isMalformed(got) {
				c.ignored++
				continue
			}
			c.bad++
			return true
		}
	}
	c.samples = append(c.samples, time.Since(t0))
	c.replies++
	return true
}

func (c *client) isMalformed(b []byte) bool {
	if c.perReq == 0 {
		return false
	}
	for _, m := range c.junk {
		if string(m) == string(b) {
			return true
		}
	}
	return false
}

// register registers addr from conn with the node at target.
func register(conn *net.UDPConn, target netip.AddrPort, addr wire.Address, timeout time.Duration) error {
	req, err := (&wire.Register{Addr: addr}).Append(nil)
	if err != nil {
		return err
	}
	buf := make([]byte, 2048)
	for range wire.Attempts {
		if _, err := conn.WriteToUDPAddrPort(req, target); err != nil {
			return err
		}
		conn.SetReadDeadline(time.Now().Add(timeout))
		n, _, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			continue
		}
		conn.SetReadDeadline(time.Time{})
		var d wire.PLUMIDatagram
		if d.Decode(buf[:n]) == nil && d.Tag == wire.TagRegisterReply && d.RegisterReply.Code == wire.RegisterOK {
			return nil
		}
		return fmt.Errorf("loadgen: register %v at %v: reply %q", addr, target, buf[:n])
	}
	return fmt.Errorf("loadgen: register %v: no reply from %v", addr, target)
}

// respond plays a target agent: it answers every datagram (the node's PLs)
// with reply until conn is closed.
func respond(conn *net.UDPConn, reply []byte) {
	buf := make([]byte, 2048)
	for {
		_, src, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		conn.WriteToUDPAddrPort(reply, src)
	}
}

// EchoServer sends every datagram back to where it came from, from one
// goroutine: the simplest UDP server there is.
type EchoServer struct {
	conn *net.UDPConn
	done chan struct{}
}

// StartEcho serves on addr, e.g. "127.0.0.1:0".
func StartEcho(addr string) (*EchoServer, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	s := &EchoServer{conn: conn, done: make(chan struct{})}
	go s.serve()
	return s, nil
}

func (s *EchoServer) serve() {
	defer close(s.done)
	buf := make([]byte, 2048)
	for {
		n, src, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		s.conn.WriteToUDPAddrPort(buf[:n], src)
	}
}

// Addr is where the server listens.
func (s *EchoServer) Addr() netip.AddrPort {
	ap := s.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// Close stops the server and waits for it.
func (s *EchoServer) Close() error {
	err := s.conn.Close()
	<-s.done
	return err
}
