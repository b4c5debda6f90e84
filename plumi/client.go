// Package plumi is a PLUMI client: register, deregister, locate through
// one's LUMI node, with retries. A Client speaks for one user from one UDP
// socket connected to the user's node: it retransmits each request until
// the matching reply comes (wire.Attempts sends, wire.RetryInterval apart,
// by default), answers a node's proof challenge when it holds the user's
// secret, and hands the locate requests the node forwards (PL) to its
// owner to answer. The chat agent (mi/agent) and lumictl's register,
// deregister and locate are built on it.
//
// Every error it returns wraps a Reason (ErrBusy, ErrNodeTimeout,
// ErrNodeUnreachable, ...), which errors.Is matches and ReasonOf names.
package plumi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"mi/internal/auth"
	"mi/internal/droplog"
	"mi/lumi"
	"mi/wire"
)

// Config configures a Client.
type Config struct {
	Node          netip.AddrPort // the user's own LUMI node
	Attempts      int            // sends per request; default wire.Attempts
	RetryInterval time.Duration  // wait for a reply before sending again; default wire.RetryInterval
	Log           DatagramLog    // every datagram sent and received; nil: none
	Logger        *slog.Logger   // diagnostics (stray and malformed datagrams); nil: discarded
	// LocalPort is the UDP port to send from; 0 picks a free one. A node
	// serves a user's PD and PL only from the address it registered from,
	// so a tool that registers in one run and locates or deregisters in
	// another must use the same port each time. SetNode keeps it.
	LocalPort uint16
	// Secret is the user's secret for a node that requires proof of it
	// (authenticated registration); nil: none. It is used only in answer
	// to the node's challenge, never sent by itself.
	Secret []byte
	// Resolver, if set, tells what an RL2 for a user of another domain
	// means. A node answers RL2 both for a user unknown to that domain's
	// node and for a domain it finds no node for; so while the node
	// locates such a user, Locate looks the user's domain up too, and a
	// domain with no node, or whose DNS fails, is reported as such
	// (LookupFailed: ErrDomainUnknown, ErrDNSFailure) rather than as
	// ErrUserUnknown. The lookup runs alongside the locate, so it costs the
	// locate no time of its own, even when the DNS server is slow. nil: an
	// RL2 is ErrUserUnknown, "no such user, or no such domain".
	Resolver *lumi.Resolver
}

// DatagramLog is told of every datagram a Client sends to its node and
// receives from it, before it is sent and as it is received (the
// reference's datagram log, mi/internal/datalog, is one).
type DatagramLog interface {
	Sent(to netip.AddrPort, datagram []byte)
	Received(from netip.AddrPort, datagram []byte)
}

// Client speaks PLUMI to one LUMI node from one UDP socket: it sends
// requests, retransmitting until the matching reply comes, and hands the
// node's locate requests (PL) to its owner through Locates. It is safe for
// concurrent use; requests are sent one at a time.
//
// The socket is connected to the node (net.DialUDP), so that the system
// takes only the node's datagrams and reports an ICMP port unreachable
// from the node's address as ECONNREFUSED: a request to a node where
// nothing listens fails at once with ErrNodeUnreachable instead of after
// every attempt.
type Client struct {
	cfg Config
	log *slog.Logger

	linkMu  sync.Mutex           // serializes SetNode and Close
	link    atomic.Pointer[link] // the socket and the node it is connected to
	sem     chan struct{}        // one request in flight
	mu      sync.Mutex           // guards pending
	pending *pending

	locates chan wire.Locate
	done    chan struct{}
	readers sync.WaitGroup
	once    sync.Once

	drops  *droplog.Log  // what the reader drops, counted and summed up
	ticked chan struct{} // closed when the drop log's ticker has stopped
	// The reasons of drops.
	dropBad, dropStranger, dropUnserved, dropUnasked, dropLocates, dropRefused *droplog.Reason
}

// link is one socket connected to one node.
type link struct {
	conn  *net.UDPConn
	node  netip.AddrPort
	local netip.AddrPort // the socket's address, as the node sees it
}

// pending is the request waiting for its reply.
type pending struct {
	match func(*wire.PLUMIDatagram) bool
	reply chan reply
}

// reply is what a request in progress gets from the reader: the node's
// answer, or the error the socket reported for it.
type reply struct {
	d   wire.PLUMIDatagram
	err error
}

// locateQueue bounds the PLs waiting for the owner; more are dropped (the
// node counts them unanswered, as it would if they were lost).
const locateQueue = 64

// NewClient opens a UDP socket connected to cfg.Node. The socket is bound
// to the local address the system routes to the node through, so that
// LocalAddr is the address the node sees. Being connected, it takes
// datagrams from the node's address only: a node must answer from the
// address its agents send to, as every node that serves on one address
// does.
func NewClient(cfg Config) (*Client, error) {
	if !cfg.Node.IsValid() {
		return nil, ErrBadAddress.With(Cause{Kind: CauseBadNode}, "no node address", nil)
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = wire.Attempts
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = wire.RetryInterval
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	l, err := dial(cfg.Node, cfg.LocalPort)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:     cfg,
		log:     lg,
		sem:     make(chan struct{}, 1),
		locates: make(chan wire.Locate, locateQueue),
		done:    make(chan struct{}),
		drops:   droplog.New(lg),
		ticked:  make(chan struct{}),
	}
	c.dropBad = c.drops.Reason("bad datagram")
	c.dropStranger = c.drops.Reason("not from the node")
	c.dropUnserved = c.drops.Reason("type not served")
	c.dropUnasked = c.drops.Reason("reply to no request")
	c.dropLocates = c.drops.Reason("too many locates")
	c.dropRefused = c.drops.Reason("ICMP port unreachable")
	c.drops.Tick(time.Now())
	go c.tick()
	c.start(l)
	return c, nil
}

// tick ends the drop log's windows until the client closes.
func (c *Client) tick() {
	defer close(c.ticked)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			c.drops.Tick(now)
		case <-c.done:
			return
		}
	}
}

// Drops is the log of what the client drops unanswered, for its owner to
// count its own drops of what the client hands it (a PL for another user)
// in the same summaries: per reason, a burst logged in full, then one line
// per window (see mi/internal/droplog). The client ends it at Close.
func (c *Client) Drops() *droplog.Log { return c.drops }

// dial opens a UDP socket connected to node, from port (0: a free one),
// bound to the local address the system routes to the node through.
func dial(node netip.AddrPort, port uint16) (*link, error) {
	nodeAddr := net.UDPAddrFromAddrPort(node)
	probe, err := net.DialUDP("udp", nil, nodeAddr)
	if err != nil {
		return nil, ErrNetwork.With(Cause{Kind: CauseNodeSocket, Node: node.String(), Sys: SysText(err)}, "no route to node "+node.String(), err)
	}
	localIP := probe.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	probe.Close()
	conn, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(localIP, port)), nodeAddr)
	if err != nil {
		return nil, ErrNetwork.With(Cause{Kind: CauseNodeSocket, Node: node.String(), Sys: SysText(err)}, "open UDP socket to node "+node.String(), err)
	}
	return &link{conn: conn, node: node, local: netip.AddrPortFrom(localIP, conn.LocalAddr().(*net.UDPAddr).AddrPort().Port())}, nil
}

// start makes l the client's link and reads it.
func (c *Client) start(l *link) {
	c.link.Store(l)
	c.readers.Add(1)
	go c.read(l)
}

// LocalAddr is the client's UDP address, as its node sees it.
func (c *Client) LocalAddr() netip.AddrPort { return c.link.Load().local }

// Node is the node the client talks to.
func (c *Client) Node() netip.AddrPort { return c.link.Load().node }

// SetNode moves the client to another node of its domain, for the
// requests that follow. The socket is connected to its node, so SetNode
// opens a new one connected to ap: from the same local port when the
// client was given LocalPort (the old socket is closed first to free it),
// else from a new free port (the old one is closed after). A request in
// progress goes on from the new socket. If the new socket cannot be
// opened, SetNode returns an error matching ErrNetwork and the client
// stays with the old node when it still can.
func (c *Client) SetNode(ap netip.AddrPort) error {
	c.linkMu.Lock()
	defer c.linkMu.Unlock()
	select {
	case <-c.done:
		return errClientClosed()
	default:
	}
	old := c.link.Load()
	if old.node == ap {
		return nil
	}
	if c.cfg.LocalPort == 0 {
		l, err := dial(ap, 0)
		if err != nil {
			return err
		}
		c.start(l)
		old.conn.Close()
		return nil
	}
	old.conn.Close()
	l, err := dial(ap, c.cfg.LocalPort)
	if err != nil {
		if back, berr := dial(old.node, c.cfg.LocalPort); berr == nil {
			c.start(back)
		}
		return err
	}
	c.start(l)
	return nil
}

// Locates delivers the locate requests (PL) the node forwards to this
// client's user; answer each with AnswerLocate. Read it: while it is full
// (64 waiting), more are dropped. It is closed by Close.
func (c *Client) Locates() <-chan wire.Locate { return c.locates }

// Close closes the socket; requests in progress fail with ErrClosed.
func (c *Client) Close() error {
	var err error
	c.once.Do(func() {
		c.linkMu.Lock()
		close(c.done)
		err = c.link.Load().conn.Close()
		c.linkMu.Unlock()
		c.readers.Wait()
		<-c.ticked
		c.drops.End(time.Now())
		close(c.locates)
	})
	return err
}

// Register asks the node to register addr at this client's address.
func (c *Client) Register(ctx context.Context, addr wire.Address) error {
	d, err := c.proven(ctx, &wire.Register{Addr: addr}, wire.AuthOpRegister, addr, wire.TagRegisterReply)
	if err != nil {
		return err
	}
	switch d.RegisterReply.Code {
	case wire.RegisterOK:
		return nil
	case wire.RegisterDenied:
		return c.denied(wire.TagRegister, addr)
	}
	// RR1 says no more than "refused", for any of several reasons (the
	// spec's RegisterCode lists them): the node has no such user, another
	// agent holds it from another address and answers the node's check,
	// ... Only who knows more can tell which.
	return ErrUserUnknown.With(Cause{Kind: CauseRegisterRefused, Node: c.Node().String(), Addr: addr.String()},
		fmt.Sprintf("node %s refused to register %s: it has no such user; or another agent holds it from another address and answers the node's check "+
			"(if that agent is yours, stop it, or wait until it stops answering, and register again); or too many refused requests for it from other addresses froze it for a while",
			c.Node(), addr), nil)
}

// Deregister asks the node to mark addr offline.
func (c *Client) Deregister(ctx context.Context, addr wire.Address) error {
	d, err := c.proven(ctx, &wire.Deregister{Addr: addr}, wire.AuthOpDeregister, addr, wire.TagDeregisterReply)
	if err != nil {
		return err
	}
	switch d.DeregisterReply.Code {
	case wire.DeregisterOK:
		return nil
	case wire.DeregisterDenied:
		return c.denied(wire.TagDeregister, addr)
	}
	return ErrRefused.With(Cause{Kind: CauseDeregisterRefused, Node: c.Node().String(), Addr: addr.String()},
		fmt.Sprintf("node %s refused to deregister %s: not a user of its domain, or not registered from this address, or too many refused requests for it from other addresses froze it for a while",
			c.Node(), addr), nil)
}

// denied is the error of an RR2 or RD2, the answer to the proof of a
// request of type tag.
func (c *Client) denied(tag string, addr wire.Address) error {
	return ErrDenied.With(Cause{Kind: CauseProofDenied, Node: c.Node().String(), Addr: addr.String(), Tag: tag},
		fmt.Sprintf("node %s denied the proof for %s: the secret is not the user's", c.Node(), addr), nil)
}

// proofRounds is how many challenges one request answers: a second one
// comes when the first nonce expired while the PA was lost.
const proofRounds = 2

// proven sends req, a PR or PD of addr, and returns the node's reply, of
// type replyTag. A node that requires proof answers with a challenge (RA)
// for the same op and address instead; the client answers it with the
// proof (PA) when it holds the secret, and only then: a PA goes only to a
// node that has shown it understands them.
func (c *Client) proven(ctx context.Context, req wire.Message, op wire.AuthOp, addr wire.Address, replyTag string) (wire.PLUMIDatagram, error) {
	match := func(d *wire.PLUMIDatagram) bool {
		return d.Tag == replyTag ||
			d.Tag == wire.TagAuthChallenge && d.AuthChallenge.Op == op && SameAddr(d.AuthChallenge.Addr, addr)
	}
	d, err := c.request(ctx, req, match)
	for round := 0; err == nil && d.Tag == wire.TagAuthChallenge; round++ {
		if c.cfg.Secret == nil {
			return d, ErrAuthRequired.With(Cause{Kind: CauseAuthRequired, Node: c.Node().String(), Addr: addr.String()},
				fmt.Sprintf("node %s requires proof of %s's secret, and none is configured", c.Node(), addr), nil)
		}
		if round == proofRounds {
			return d, ErrDenied.With(Cause{Kind: CauseProofChallenged, Node: c.Node().String(), Addr: addr.String(), Attempts: proofRounds},
				fmt.Sprintf("node %s challenged the proof for %s %d times", c.Node(), addr, proofRounds), nil)
		}
		p := wire.AuthProof{Op: op, Addr: addr, Nonce: d.AuthChallenge.Nonce}
		if p.MAC, err = auth.MAC(c.cfg.Secret, &p); err != nil {
			return d, ErrBadAddress.Wrap("sign the proof", err)
		}
		d, err = c.request(ctx, &p, match)
	}
	return d, err
}

// Locate asks the node where to is, on behalf of from, and returns the ip
// and TCP port of to's chat socket. Only an RL for the same from and to is
// taken as the answer. An RL2 for another domain's user is told apart with
// Config.Resolver.
func (c *Client) Locate(ctx context.Context, from, to wire.Address) (netip.AddrPort, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends a lookup that the answer made needless
	lookup := c.lookupAlongside(ctx, from, to)
	d, err := c.request(ctx, &wire.Locate{From: from, To: to}, func(d *wire.PLUMIDatagram) bool {
		return d.Tag == wire.TagLocateReply && SameAddr(d.LocateReply.From, from) && SameAddr(d.LocateReply.To, to)
	})
	if err != nil {
		return netip.AddrPort{}, err
	}
	rl := d.LocateReply
	switch rl.Code {
	case wire.LocateFound:
		return netip.AddrPortFrom(rl.IP, rl.Port), nil
	case wire.LocateBusy:
		return netip.AddrPort{}, ErrBusy.With(Cause{Kind: CauseBusy, Addr: to.String()}, to.String()+" is busy in another conversation", nil)
	case wire.LocateOffline:
		return netip.AddrPort{}, ErrOffline.With(Cause{Kind: CauseOffline, Addr: to.String()}, to.String()+" is offline", nil)
	default:
		return netip.AddrPort{}, unknown(ctx, to, lookup)
	}
}

// lookupAlongside starts the lookup of the node of to's domain, while the
// node locates to, when to is of another domain than from and the client
// has a Resolver. It returns nil when there is nothing to look up.
func (c *Client) lookupAlongside(ctx context.Context, from, to wire.Address) <-chan error {
	if c.cfg.Resolver == nil || strings.EqualFold(from.Domain, to.Domain) {
		return nil
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.cfg.Resolver.Resolve(ctx, to.Domain)
		done <- err
	}()
	return done
}

// unknown is the error of an RL2 for to: an unknown domain, or a domain
// whose DNS fails, told from an unknown user by lookup, the lookup run
// alongside the locate (nil: none was).
func unknown(ctx context.Context, to wire.Address, lookup <-chan error) error {
	generic := ErrUserUnknown.With(Cause{Kind: CauseUnknownTarget, Addr: to.String()}, to.String()+": no such user, or no such domain", nil)
	if lookup == nil {
		return generic
	}
	var err error
	select {
	case err = <-lookup:
	case <-ctx.Done():
		return generic
	}
	if errors.Is(err, lumi.ErrDNSFailure) || errors.Is(err, lumi.ErrNoSuchDomain) {
		return LookupFailed(to.Domain, err)
	}
	return ErrUserUnknown.With(Cause{Kind: CauseNoSuchUser, Addr: to.String(), Domain: to.Domain}, to.String()+": no such user in "+to.Domain, nil)
}

// AnswerLocate sends rl to the node, once: a lost answer is covered by the
// asker's retransmission.
func (c *Client) AnswerLocate(rl *wire.LocateReply) error {
	var buf [wire.PLUMIMax]byte
	b, err := rl.Append(buf[:0])
	if err != nil {
		return ErrBadAddress.Wrap("encode locate reply", err)
	}
	return c.send(b)
}

func (c *Client) send(b []byte) error {
	l := c.link.Load()
	if c.cfg.Log != nil {
		c.cfg.Log.Sent(l.node, b)
	}
	if _, err := l.conn.Write(b); err != nil {
		select {
		case <-c.done:
			return errClientClosed()
		default:
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return ErrNodeUnreachable.With(Cause{Kind: CauseNodeUnreachable, Node: l.node.String()},
				"node "+l.node.String()+" is unreachable: nothing listens at its address", err)
		}
		return ErrNetwork.With(Cause{Kind: CauseNodeSocket, Node: l.node.String(), Sys: SysText(err)}, "send to node "+l.node.String(), err)
	}
	return nil
}

// unreachable is the error of a request the node's address refused (an
// ICMP port unreachable) at attempt i (from 0).
func (c *Client) unreachable(tag string, i int, cause error) error {
	return ErrNodeUnreachable.With(Cause{Kind: CauseNodeUnreachable, Node: c.Node().String(), Tag: tag, Attempt: i + 1, Attempts: c.cfg.Attempts},
		fmt.Sprintf("node %s refused %s at attempt %d of %d: nothing listens at its address (ICMP port unreachable)",
			c.Node(), tag, i+1, c.cfg.Attempts), cause)
}

// request sends m until a datagram that match accepts comes back, at most
// Attempts times, RetryInterval apart.
func (c *Client) request(ctx context.Context, m wire.Message, match func(*wire.PLUMIDatagram) bool) (wire.PLUMIDatagram, error) {
	var zero wire.PLUMIDatagram
	var buf [wire.PLUMIMax]byte
	b, err := m.Append(buf[:0])
	if err != nil {
		return zero, ErrBadAddress.Wrap("encode "+m.Tag(), err)
	}
	select {
	case c.sem <- struct{}{}:
		defer func() { <-c.sem }()
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-c.done:
		return zero, errClientClosed()
	}
	p := &pending{match: match, reply: make(chan reply, 1)}
	c.mu.Lock()
	c.pending = p
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.pending = nil
		c.mu.Unlock()
	}()
	t := time.NewTimer(c.cfg.RetryInterval)
	defer t.Stop()
	for i := 0; i < c.cfg.Attempts; i++ {
		if err := c.send(b); err != nil {
			switch {
			case errors.Is(err, ErrClosed):
				return zero, err
			case errors.Is(err, ErrNodeUnreachable):
				return zero, c.unreachable(m.Tag(), i, errors.Unwrap(err))
			}
			c.log.Warn("send failed; will retry", "attempt", i+1, "err", err)
		}
		t.Reset(c.cfg.RetryInterval)
		select {
		case r := <-p.reply:
			if r.err != nil {
				return zero, c.unreachable(m.Tag(), i, r.err)
			}
			return r.d, nil
		case <-t.C:
		case <-ctx.Done():
			return zero, ctx.Err()
		case <-c.done:
			return zero, errClientClosed()
		}
	}
	return zero, ErrNodeTimeout.With(Cause{Kind: CauseNodeTimeout, Node: c.Node().String(), Tag: m.Tag(), Attempts: c.cfg.Attempts, Wait: c.cfg.RetryInterval},
		fmt.Sprintf("node %s did not answer %s after %d attempts %v apart", c.Node(), m.Tag(), c.cfg.Attempts, c.cfg.RetryInterval), nil)
}

// read receives every datagram of l: replies go to the waiting request,
// PLs to Locates, and anything else is logged and dropped. An ICMP port
// unreachable (ECONNREFUSED) fails the request in progress. It ends when
// l's socket is closed (by Close, or by SetNode replacing it).
func (c *Client) read(l *link) {
	defer c.readers.Done()
	buf := make([]byte, 2048)
	for {
		n, from, err := l.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			select {
			case <-c.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, syscall.ECONNREFUSED) {
				c.refused(l, err)
				continue
			}
			c.log.Warn("UDP read", "err", err)
			time.Sleep(10 * time.Millisecond) // do not spin
			continue
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		b := buf[:n]
		if from != l.node {
			if c.dropStranger.Note(from, b) {
				c.log.Warn("dropped a datagram not from our node", "from", from, "node", l.node, "datagram", droplog.Shown(b))
			}
			continue
		}
		var d wire.PLUMIDatagram
		if err := d.Decode(b); err != nil {
			// Counted, not written to the datagram log: as the node's, it
			// holds the datagrams that decode, so that spoofed junk cannot
			// fill it.
			if c.dropBad.Note(from, b) {
				c.log.Warn("dropped a malformed datagram", "from", from, "datagram", droplog.Shown(b), "err", err)
			}
			continue
		}
		if c.cfg.Log != nil {
			c.cfg.Log.Received(from, b)
		}
		switch d.Tag {
		case wire.TagLocate:
			select {
			case c.locates <- d.Locate:
			default:
				if c.dropLocates.Note(from, b) {
					c.log.Warn("dropped a locate request: too many waiting", "datagram", droplog.Shown(b))
				}
			}
			continue
		case wire.TagRegister, wire.TagDeregister:
			if c.dropUnserved.Note(from, b) {
				c.log.Warn("dropped a request a client does not serve", "datagram", droplog.Shown(b))
			}
			continue
		}
		c.mu.Lock()
		p := c.pending
		if p != nil && p.match(&d) {
			c.pending = nil
			p.reply <- reply{d: d}
			p = nil
		} else {
			p = &pending{}
		}
		c.mu.Unlock()
		if p != nil && c.dropUnasked.Note(from, b) {
			c.log.Warn("dropped a reply that answers no request in progress", "datagram", droplog.Shown(b))
		}
	}
}

// refused hands an ICMP port unreachable from l's node to the request in
// progress, if l is still the client's link; with none in progress it
// answered a datagram no one waits for (an RL), and is only logged.
func (c *Client) refused(l *link, err error) {
	c.mu.Lock()
	p := c.pending
	if p != nil && c.link.Load() == l {
		c.pending = nil
		p.reply <- reply{err: err}
	} else {
		p = nil
	}
	c.mu.Unlock()
	if p == nil && c.dropRefused.Note(l.node, nil) {
		c.log.Warn("the node's address is unreachable (ICMP port unreachable)", "node", l.node)
	}
}

// errClientClosed is the error of a request on a closed client.
func errClientClosed() error { return ErrClosed.With(Cause{Kind: CauseClosed}, "client closed", nil) }

// SameAddr compares addresses regardless of case, as nodes look users up
// and as the DNS compares domains: a node that takes "Laura@BB.com" for
// laura@bb.com forwards its PL to laura's agent, which must answer it.
func SameAddr(a, b wire.Address) bool {
	return strings.EqualFold(a.User, b.User) && strings.EqualFold(a.Domain, b.Domain)
}

// ParseNode parses a node address for -node flags: "ip[:port]" or
// "host[:port]", the port 3344 by default.
func ParseNode(s string) (netip.AddrPort, error) {
	if _, ap, err := lumi.ParsePeer("node=" + s); err == nil {
		return ap, nil
	}
	host, port := s, strconv.Itoa(wire.PLUMIPort)
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	}
	ua, err := net.ResolveUDPAddr("udp4", net.JoinHostPort(host, port))
	if err != nil {
		return netip.AddrPort{}, ErrBadAddress.With(Cause{Kind: CauseBadNode, Input: s, Sys: SysText(err)}, "node address "+strconv.Quote(s), err)
	}
	ap := ua.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}
