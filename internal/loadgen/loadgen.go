// Package loadgen measures a PLUMI server on loopback: C clients, each with
// one request outstanding, for a fixed time. It also runs a minimal UDP echo
// server, the limit any UDP server on the machine can reach, so that a
// server's figures can be read as a fraction of it.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"mi/wire"
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
	// round trips through the node.
	KindPL Kind = "pl"
)

// Config describes one run.
type Config struct {
	Target   netip.AddrPort
	Kind     Kind
	Domain   string        // the users' domain
	Clients  int           // default 16
	Duration time.Duration // default 5s
	Timeout  time.Duration // a request without a reply for this long is lost; default 1s
	// Echo says the target echoes datagrams back: requests are sent as for
	// Kind, any reply counts, and there is no registration or target agent.
	// A pl request is then two echo round trips (the PL, then the RL), so
	// that the echo server carries the same datagrams as a node does.
	Echo bool
}

// Users returns the user names a run of kind with clients clients uses, so
// that a node can be configured for it.
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

func clientUser(i int) string { return "bench-a" + strconv.Itoa(i) }
func targetUser(i int) string { return "bench-b" + strconv.Itoa(i) }

// Result is what a run measured.
type Result struct {
	Requests int64         // requests sent
	Replies  int64         // requests answered in time
	Lost     int64         // requests without a reply within Timeout
	Bad      int64         // replies that were not the expected answer
	Elapsed  time.Duration // how long the clients ran
	P50, P99 time.Duration // latency of the answered requests
}

// PerSecond is the rate of answered requests.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Replies) / r.Elapsed.Seconds()
}

func (r Result) String() string {
	return fmt.Sprintf("%.0f req/s  p50 %v  p99 %v  sent %d  answered %d  lost %d  bad %d",
		r.PerSecond(), r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Requests, r.Replies, r.Lost, r.Bad)
}

// client is one simulated agent with its socket.
type client struct {
	conn    *net.UDPConn
	req     []byte // the request it sends
	req2    []byte // with Echo and KindPL: the second datagram of a request
	want    []byte // the expected reply; nil accepts any
	samples []time.Duration
	sent    int64
	replies int64
	lost    int64
	bad     int64
}

// Run runs cfg until its duration is over or ctx ends.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Clients <= 0 {
		cfg.Clients = 16
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 5 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = wire.RetryInterval
	}
	if cfg.Kind != KindPR && cfg.Kind != KindPL {
		return Result{}, fmt.Errorf("loadgen: unknown kind %q", cfg.Kind)
	}
	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	listen := func() (*net.UDPConn, error) {
		ip := net.IPv4(127, 0, 0, 1)
		if !cfg.Target.Addr().Unmap().IsLoopback() {
			ip = nil
		}
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
		if err == nil {
			closers = append(closers, func() { c.Close() })
		}
		return c, err
	}
	clients := make([]*client, cfg.Clients)
	var responders sync.WaitGroup
	stopResponders := make(chan struct{})
	defer func() { close(stopResponders); responders.Wait() }()
	for i := range clients {
		conn, err := listen()
		if err != nil {
			return Result{}, err
		}
		c := &client{conn: conn}
		clients[i] = c
		from := wire.Address{User: clientUser(i), Domain: cfg.Domain}
		switch cfg.Kind {
		case KindPR:
			c.req, err = (&wire.Register{Addr: from}).Append(nil)
			if err == nil && !cfg.Echo {
				c.want, err = (&wire.RegisterReply{Code: wire.RegisterOK}).Append(nil)
			}
		case KindPL:
			to := wire.Address{User: targetUser(i), Domain: cfg.Domain}
			c.req, err = (&wire.Locate{From: from, To: to}).Append(nil)
			if err != nil {
				break
			}
			if cfg.Echo {
				c.req2, err = (&wire.LocateReply{Code: wire.LocateFound, From: from, To: to, IP: netip.AddrFrom4([4]byte{127, 0, 0, 1}), Port: 40000}).Append(nil)
				break
			}
			var tconn *net.UDPConn
			if tconn, err = listen(); err != nil {
				return Result{}, err
			}
			// Both agents register; the target's agent answers every PL.
			if err = register(conn, cfg.Target, from, cfg.Timeout); err != nil {
				return Result{}, err
			}
			if err = register(tconn, cfg.Target, to, cfg.Timeout); err != nil {
				return Result{}, err
			}
			tcp := tconn.LocalAddr().(*net.UDPAddr).AddrPort()
			c.want, err = (&wire.LocateReply{Code: wire.LocateFound, From: from, To: to, IP: tcp.Addr().Unmap(), Port: tcp.Port()}).Append(nil)
			if err != nil {
				break
			}
			responders.Add(1)
			go func() {
				defer responders.Done()
				respond(tconn, c.want, stopResponders)
			}()
		}
		if err != nil {
			return Result{}, err
		}
	}

	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { c.run(ctx, cfg.Target, cfg.Timeout) })
	}
	wg.Wait()
	res := Result{Elapsed: time.Since(start)}
	var all []time.Duration
	for _, c := range clients {
		res.Requests += c.sent
		res.Replies += c.replies
		res.Lost += c.lost
		res.Bad += c.bad
		all = append(all, c.samples...)
	}
	slices.Sort(all)
	if len(all) > 0 {
		res.P50 = all[len(all)/2]
		res.P99 = all[len(all)*99/100]
	}
	return res, nil
}

// run sends a request, waits for its reply or Timeout, and again, until
// ctx ends.
func (c *client) run(ctx context.Context, target netip.AddrPort, timeout time.Duration) {
	buf := make([]byte, 2048)
	c.samples = make([]time.Duration, 0, 1<<16)
	exchange := func(req []byte, t0 time.Time) (int, error) {
		if _, err := c.conn.WriteToUDPAddrPort(req, target); err != nil {
			return 0, err
		}
		c.conn.SetReadDeadline(t0.Add(timeout))
		n, _, err := c.conn.ReadFromUDPAddrPort(buf)
		return n, err
	}
	for ctx.Err() == nil {
		t0 := time.Now()
		c.sent++
		n, err := exchange(c.req, t0)
		if err == nil && c.req2 != nil {
			n, err = exchange(c.req2, t0)
		}
		if err != nil {
			c.lost++
			continue
		}
		c.samples = append(c.samples, time.Since(t0))
		if c.want != nil && string(buf[:n]) != string(c.want) {
			c.bad++
			continue
		}
		c.replies++
	}
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
		var d wire.PLUMIDatagram
		if d.Decode(buf[:n]) == nil && d.Tag == wire.TagRegisterReply && d.RegisterReply.Code == wire.RegisterOK {
			return nil
		}
		return fmt.Errorf("loadgen: register %v: reply %q", addr, buf[:n])
	}
	return fmt.Errorf("loadgen: register %v: no reply from %v", addr, target)
}

// respond plays a target agent: it answers every PL with reply.
func respond(conn *net.UDPConn, reply []byte, stop <-chan struct{}) {
	buf := make([]byte, 2048)
	for {
		select {
		case <-stop:
			return
		default:
		}
		conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, src, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
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
