// Package agent is an MI agent: it registers its user with the LUMI node of
// the user's domain, answers the node's locate requests, locates other
// users and chats with them peer to peer over TCP (PMI), one conversation
// at a time.
//
// No one connection can hold the agent: nickname exchanges run several at
// once, a few per source, and the first to finish well becomes the
// conversation; a conversation in which neither side says anything gives
// way to the next caller after a grace period; a message once begun must
// end within a deadline; a peer's lines are rate-limited, and when the
// user is behind on events the agent stops reading the peer, so TCP holds
// the peer back instead of the agent's memory.
//
// A caller is named after the asker of a locate only when it connects to
// the port that locate's RL0 gave it alone (a caller port), and then as a
// claim (Event.Claimed): a PL anyone can forge names no other connection.
//
// One goroutine owns the agent's state. The PLUMI client's socket reader
// (a plumi.Client), the TCP accept loop, each conversation's reader and
// each call in progress run beside it and hand it what they get; what
// happens is reported as Events.
//
// Its errors wrap a plumi.Reason: the client's (plumi.ErrBusy,
// plumi.ErrNodeTimeout, ...) or the agent's own (ErrInConvers,
// ErrConnect, ...); plumi.ReasonOf gives the word an error event carries.
package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"mi/internal/datalog"
	"mi/internal/droplog"

	"mi/lumi"
	"mi/plumi"
	"mi/wire"
)

// Config configures an Agent.
type Config struct {
	Addr wire.Address // the user's MI address
	Nick string       // shown to peers; default Addr.User

	// Node is the agent's LUMI node. If it is not set, the domain of Addr
	// is resolved with Resolver (a default one if nil). Resolver, when
	// there is one, also tells what an RL2 for another domain's user means
	// (see plumi.Config.Resolver).
	Node     netip.AddrPort
	Resolver *lumi.Resolver

	Listen    string     // TCP address for chats; default ":0"
	Advertise netip.Addr // ip sent in RL0; default the listener's ip if it is bound to one, else the local ip that reaches the node

	Attempts         int           // LUMI request attempts; default wire.Attempts
	RetryInterval    time.Duration // default wire.RetryInterval
	HandshakeTimeout time.Duration // for the nickname exchange; default 5s
	DialTimeout      time.Duration // to connect to a located peer; default 5s
	WriteTimeout     time.Duration // for one line to the peer; default 5s
	MessageTimeout   time.Duration // for the rest of a PMI message once its first byte is in; default 10s

	MaxHandshakes int           // incoming nickname exchanges at once; when all are taken, a new source takes the oldest's place; default 8
	PerSource     int           // incoming nickname exchanges at once from one source (an IPv4 address, an IPv6 /64); more are closed; default 2
	SilentGrace   time.Duration // an incoming conversation where neither side has said anything since the nicknames gives way to the next caller after this; default 30s
	EventQueue    int           // events held for a reader that is behind; when full, the peer is no longer read; default 256
	LineRate      float64       // a peer's lines a second; more are dropped; default 20; math.Inf(1): no limit
	LineBurst     int           // lines a peer may send at once beyond LineRate; default 50
	DropReport    time.Duration // lines dropped, and failed nickname exchanges beyond 5, are said in one notice this often; default 10s

	// CallerPorts is how many TCP ports the agent keeps open at once for
	// the callers it answered RL0, one per asker, each given in that
	// asker's RL0 alone: a connection to one is named after its asker, as
	// a claim (see callerPort). Beyond them an RL0 gives the chat port,
	// and its caller comes unnamed. Default DefaultCallerPorts when Listen
	// has no fixed port; none when it has one (the port a firewall or a
	// port forward lets in), or when negative.
	CallerPorts int

	// Refresh is how often the agent sends its PR again, so that a node
	// that restarted (and lost its table) learns where the user is.
	// 0 means DefaultRefresh; negative: never. See Agent.Register.
	Refresh time.Duration

	LogPath string       // the p2p datagram log; "" for none
	LogMax  int64        // bytes after which the log moves to LogPath.1 and a new one starts; 0: DefaultLogMax; negative: no cap
	Logger  *slog.Logger // diagnostics; nil: discarded

	// StatePath is a small file that keeps the UDP port the agent last
	// registered from, so that it registers from the same address after a
	// restart and its node takes it back at once, rather than as a
	// takeover to check (see state.go). New reads it; a registration from
	// another port rewrites it, atomically. A port that is taken is given
	// up for any port. "" for none.
	StatePath string

	// Secret proves the user to a node that requires it (authenticated
	// registration); nil: none.
	Secret []byte
}

// Defaults of Config, exported for the flags of commands.
const (
	DefaultTimeout        = 5 * time.Second // HandshakeTimeout, DialTimeout, WriteTimeout
	DefaultMessageTimeout = 10 * time.Second
	DefaultMaxHandshakes  = 8
	DefaultPerSource      = 2
	DefaultSilentGrace    = 30 * time.Second
	DefaultCallerPorts    = 16
	DefaultEventQueue     = 256
	DefaultLineRate       = 20
	DefaultLineBurst      = 50
	DefaultDropReport     = 10 * time.Second
	DefaultRefresh        = 60 * time.Second
	DefaultLogMax         = 10 << 20 // a flood of spoofed datagrams cannot fill a person's disk
)

// withDefaults fills in the unset limits of cfg.
func withDefaults(cfg Config) Config {
	for _, d := range []*time.Duration{&cfg.HandshakeTimeout, &cfg.DialTimeout, &cfg.WriteTimeout} {
		if *d <= 0 {
			*d = DefaultTimeout
		}
	}
	if cfg.MessageTimeout <= 0 {
		cfg.MessageTimeout = DefaultMessageTimeout
	}
	if cfg.DropReport <= 0 {
		cfg.DropReport = DefaultDropReport
	}
	if cfg.SilentGrace <= 0 {
		cfg.SilentGrace = DefaultSilentGrace
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = DefaultRefresh
	}
	for _, v := range []struct {
		n   *int
		def int
	}{{&cfg.MaxHandshakes, DefaultMaxHandshakes}, {&cfg.PerSource, DefaultPerSource}, {&cfg.EventQueue, DefaultEventQueue}, {&cfg.LineBurst, DefaultLineBurst}} {
		if *v.n <= 0 {
			*v.n = v.def
		}
	}
	if !(cfg.LineRate > 0) { // NaN too
		cfg.LineRate = DefaultLineRate
	}
	return cfg
}

// Agent is a running MI agent. Create one with New; read its Events until
// the channel closes; Close it at the end.
type Agent struct {
	cfg       Config
	found     bool // the node was found through the resolver, which knows the others
	addr      wire.Address
	nick      string
	client    *plumi.Client
	ln        net.Listener
	advertise netip.AddrPort
	datalog   *datalog.DataLog
	log       *slog.Logger

	stateMu   sync.Mutex // guards statePort
	statePort uint16     // the port the state file holds
	portTaken uint16     // the port the state file held, taken by another socket at New; 0 if none

	// Reasons to drop a locate, counted in the client's drop log.
	dropOther, dropUnsent *droplog.Reason

	ops       chan func()
	roomOps   chan func() // like ops, taken only while the event queue has room
	events    chan Event
	quit      chan struct{}
	loopWG    chan struct{} // closed when the loop has ended
	closeOnce sync.Once
	emitted   atomic.Int64 // events emitted so far (Emitted)

	refreshMu   sync.Mutex    // guards refreshStop and refreshDone
	refreshStop chan struct{} // closed to stop the refresher; nil when none runs
	refreshDone chan struct{} // closed when it has stopped
	refreshNow  chan struct{} // asks the refresher for a refresh at once

	// Owned by the loop goroutine.
	queue       []Event
	conv        *conversation
	pending     map[net.Conn]handshake // incoming connections in their nickname exchange
	dialing     bool                   // a Call's connection is in its nickname exchange
	calling     bool                   // a Call in progress
	nextID      int
	callerPorts []*callerPort // open for the askers answered RL0
	hsFailed    int           // incoming nickname exchanges failed in this DropReport period
}

// handshake is an incoming connection in its nickname exchange. Owned by
// the loop.
type handshake struct {
	claimed string     // the asker whose caller port it came to; "" for the chat port
	source  netip.Addr // sourceOf its remote address
	since   time.Time
}

// sourceOf is the source a connection from addr counts against: its IPv4
// address, or the /64 of its IPv6 address (one host's share).
func sourceOf(addr net.Addr) netip.Addr {
	t, ok := addr.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}
	}
	ip := t.AddrPort().Addr().Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr()
	}
	return ip
}

// callerPort is a TCP port opened for one asker's locate and given in the
// RL0 that answers it, and in no other. The nodes route that RL0 to the
// asker's node and on to the address the asker registered from, so the
// port is known to who reads the RL0 there, and to nobody else off the
// path: someone who forged the PL, from any address, never learns it. A
// connection to it is the asker's, as far as the asker's nodes can tell,
// and is named after the asker, as a claim; a connection to the chat port
// is named after nobody. So a name learnt from a PL goes to the one
// connection that answers that PL, never to a later one. The port takes
// one connection, and closes then or callerPortTTL after the last RL0 that
// gave it (a retransmitted PL gets the same port). Owned by the loop.
type callerPort struct {
	asker   wire.Address
	ln      net.Listener
	port    uint16
	expires time.Time
}

// callerPortTTL is how long a caller port waits for its caller after the
// last RL0 that gave it: the caller connects as soon as the RL0 is in,
// within its dial timeout (5 s).
const callerPortTTL = 10 * time.Second

// conversation is the one open chat. Owned by the loop.
type conversation struct {
	id        int
	conn      net.Conn
	w         *wire.Writer
	peerNick  string
	peerAddr  string
	claimed   bool // peerAddr is the caller's claim (its locate's asker)
	initiator bool
	done      chan struct{} // closed when the conversation ends
	since     time.Time     // it began
	said      bool          // the user has sent a line (loop only)
	heard     atomic.Bool   // the peer has sent a message after its nickname

	paused  bool         // said that the agent stopped reading the peer (loop only)
	dropped atomic.Int64 // lines over the rate not yet said in a notice
}

// PeerInfo describes the current peer (see Agent.Peer).
type PeerInfo struct {
	Nick      string
	Addr      string // "" when not known
	Claimed   bool   // Addr is the caller's claim: the asker of the locate whose RL0 it connected through
	Remote    string // ip:port
	Initiator bool
}

// New finds the node, opens the UDP socket, the TCP listener and the log,
// and starts the agent. It does not register: call Register.
func New(ctx context.Context, cfg Config) (*Agent, error) {
	if err := cfg.Addr.Check(); err != nil {
		return nil, plumi.ErrBadAddress.With(plumi.AddressCause(cfg.Addr.String(), err), "address "+cfg.Addr.String(), err)
	}
	if cfg.Nick == "" {
		cfg.Nick = cfg.Addr.User
	}
	if err := wire.CheckNick(cfg.Nick); err != nil {
		return nil, plumi.ErrBadAddress.With(plumi.Cause{Kind: CauseBadNick, Input: cfg.Nick, Problem: plumi.SysText(err)}, "nickname "+cfg.Nick, err)
	}
	if cfg.Listen == "" {
		cfg.Listen = ":0"
	}
	cfg = withDefaults(cfg)
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	found := !cfg.Node.IsValid()
	if found {
		if cfg.Resolver == nil {
			r, err := lumi.NewResolver(lumi.Config{Logger: lg})
			if err != nil {
				return nil, plumi.ErrDomainUnknown.With(plumi.Cause{Kind: CauseNoResolver, Sys: plumi.SysText(err)}, "resolver", err)
			}
			cfg.Resolver = r
		}
		ap, err := cfg.Resolver.Resolve(ctx, cfg.Addr.Domain)
		if err != nil {
			return nil, plumi.LookupFailed(cfg.Addr.Domain, err)
		}
		cfg.Node = ap
	}
	a := &Agent{
		cfg:     cfg,
		found:   found,
		addr:    cfg.Addr,
		nick:    cfg.Nick,
		log:     lg,
		ops:     make(chan func()),
		roomOps: make(chan func()),
		events:  make(chan Event),
		quit:    make(chan struct{}),
		loopWG:  make(chan struct{}),
		pending: make(map[net.Conn]handshake),

		refreshNow: make(chan struct{}, 1),
	}
	ok := false
	defer func() {
		if !ok {
			a.release()
		}
	}()
	if cfg.LogPath != "" {
		dl, err := datalog.OpenDataLog(cfg.LogPath)
		if err != nil {
			return nil, plumi.ErrNetwork.With(plumi.Cause{Kind: CauseLogOpen, Input: cfg.LogPath, Sys: plumi.SysText(err)}, "open log", err)
		}
		if cfg.LogMax == 0 {
			cfg.LogMax = DefaultLogMax
		}
		dl.SetMaxSize(max(cfg.LogMax, 0))
		a.datalog = dl
	}
	ccfg := plumi.Config{Node: cfg.Node, Attempts: cfg.Attempts, RetryInterval: cfg.RetryInterval, Logger: lg, Secret: cfg.Secret,
		Resolver: cfg.Resolver}
	if a.datalog != nil {
		ccfg.Log = a.datalog
	}
	c, err := a.newClient(ccfg)
	if err != nil {
		return nil, err
	}
	a.client = c
	a.dropOther = c.Drops().Reason("locate for another user")
	a.dropUnsent = c.Drops().Reason("answer not sent")
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, plumi.ErrNetwork.With(plumi.Cause{Kind: CauseListen, Input: cfg.Listen, Sys: plumi.SysText(err)}, "listen for chats on "+cfg.Listen, err)
	}
	a.ln = ln
	lap := ln.Addr().(*net.TCPAddr).AddrPort()
	ip := cfg.Advertise
	if !ip.IsValid() {
		ip = lap.Addr().Unmap()
		if ip.IsUnspecified() {
			ip = c.LocalAddr().Addr()
		}
	}
	if !ip.Is4() {
		return nil, plumi.ErrBadAddress.With(plumi.Cause{Kind: CauseNotIPv4, Input: ip.String()}, "advertised ip "+ip.String()+" is not IPv4, which RL0 requires", nil)
	}
	a.advertise = netip.AddrPortFrom(ip, lap.Port())
	if a.cfg.CallerPorts == 0 {
		a.cfg.CallerPorts = DefaultCallerPorts
		if _, port, err := net.SplitHostPort(cfg.Listen); err == nil && port != "0" && port != "" {
			a.cfg.CallerPorts = -1 // a fixed port: the only one let in
		}
	}
	ok = true
	go a.loop()
	go a.accept()
	return a, nil
}

// newClient opens the PLUMI client, from the port the state file holds
// when it is free, else from any port.
func (a *Agent) newClient(ccfg plumi.Config) (*plumi.Client, error) {
	if a.cfg.StatePath == "" {
		return plumi.NewClient(ccfg)
	}
	s, err := readState(a.cfg.StatePath)
	if err != nil {
		a.log.Warn("cannot read the state file; registering from any port", "err", err)
	}
	ccfg.LocalPort = s.portFor(a.addr)
	c, err := plumi.NewClient(ccfg)
	if err != nil && ccfg.LocalPort != 0 {
		a.log.Warn("the UDP port registered from last is taken; registering from another, which the node takes for a new address",
			"port", ccfg.LocalPort, "err", err)
		a.portTaken = ccfg.LocalPort
		ccfg.LocalPort = 0
		return plumi.NewClient(ccfg)
	}
	if err == nil {
		a.statePort = ccfg.LocalPort
	}
	return c, err
}

// keepPort writes the port just registered from to the state file, when
// the file does not hold it already.
func (a *Agent) keepPort() {
	if a.cfg.StatePath == "" {
		return
	}
	port := a.client.LocalAddr().Port()
	a.stateMu.Lock()
	defer a.stateMu.Unlock()
	if port == a.statePort {
		return
	}
	a.statePort = port // tried once per port: a failure is said once
	if err := writeState(a.cfg.StatePath, savedState{addr: a.addr, port: port}); err != nil {
		a.log.Warn("cannot keep the registration's port for the next start", "err", err)
	}
}

// release closes what New opened.
func (a *Agent) release() {
	if a.ln != nil {
		a.ln.Close()
	}
	if a.client != nil {
		a.client.Close()
	}
	a.datalog.Close()
}

// Addr is the agent's MI address.
func (a *Agent) Addr() wire.Address { return a.addr }

// Nick is the agent's nickname.
func (a *Agent) Nick() string { return a.nick }

// Node is the agent's LUMI node.
func (a *Agent) Node() netip.AddrPort { return a.client.Node() }

// ChatAddr is the ip:port the agent advertises for chats.
func (a *Agent) ChatAddr() netip.AddrPort { return a.advertise }

// Client is the agent's PLUMI client, connected to its node.
func (a *Agent) Client() *plumi.Client { return a.client }

// Events delivers what happens, in order. It is closed after Close; read
// it until then, or the agent stalls.
func (a *Agent) Events() <-chan Event { return a.events }

// do runs f on the loop goroutine and waits for it.
func (a *Agent) do(f func()) error {
	done := make(chan struct{})
	select {
	case a.ops <- func() { f(); close(done) }:
	case <-a.quit:
		return errAgentClosed()
	}
	select {
	case <-done:
		return nil
	case <-a.loopWG:
		return errAgentClosed()
	}
}

// emit queues an event. Loop only.
func (a *Agent) emit(e Event) {
	e.Time = time.Now()
	a.queue = append(a.queue, e)
	a.emitted.Add(1)
}

// Emitted returns how many events the agent has emitted so far. Once that
// many have been read from Events, every event of what happened before
// the call has been read, and none of what happens after: a program that
// shows output of its own among the events (a command's) waits for that
// before it shows its own, which then comes after them, in order.
func (a *Agent) Emitted() int64 { return a.emitted.Load() }

// emitErr queues an error event for err. Loop only.
func (a *Agent) emitErr(err error) { a.emit(ErrorEvent(err)) }

// ErrorEvent is the error event that reports err: its reason, its facts
// and its message. For a program that reports its own failures among the
// agent's events (its Time is set when it is emitted).
func ErrorEvent(err error) Event {
	return Event{Kind: EventError, Reason: plumi.ReasonOf(err), Cause: plumi.CauseOf(err), Message: err.Error()}
}

// errAgentClosed is the error of a request to an agent that is closed.
func errAgentClosed() error {
	return plumi.ErrClosed.With(plumi.Cause{Kind: plumi.CauseClosed}, "agent closed", nil)
}

// notice queues a notice, and logs it, as it may say that the user is not
// reading events. Loop only.
func (a *Agent) notice(reason string, count int, msg string) {
	a.log.Warn(msg, "reason", reason, "count", count)
	a.emit(Event{Kind: EventNotice, Reason: reason, Count: count, Message: msg})
}

// hasRoom reports whether the event queue can take more of what peers
// cause. Loop only.
func (a *Agent) hasRoom() bool { return len(a.queue) < a.cfg.EventQueue }

// whenRoom hands f to the loop once the event queue has room, for the work
// peers start (connections, lines): while the user is behind, the agent
// takes on no more of it, and what peers send waits in TCP. False if stop
// closes or the agent closes first.
func (a *Agent) whenRoom(stop <-chan struct{}, f func()) bool {
	select {
	case a.roomOps <- f:
		return true
	case <-stop:
		return false
	case <-a.quit:
		return false
	}
}

// post emits e from any goroutine.
func (a *Agent) post(e Event) { a.do(func() { a.emit(e) }) }

// postErr emits an error event for err from any goroutine and returns err.
func (a *Agent) postErr(err error) error { return a.settle(nil, err) }

// settle runs change, if not nil, and emits an error event for err in one
// turn of the loop, and returns err. From any goroutine. A state change
// and the event that reports it go together: who reacts to the event
// finds the state it reports (a failed call over, the agent free to call
// again), never the state before.
func (a *Agent) settle(change func(), err error) error {
	a.do(func() {
		if change != nil {
			change()
		}
		a.emitErr(err)
	})
	return err
}

func (a *Agent) loop() {
	defer close(a.loopWG)
	locates := a.client.Locates()
	for {
		var out chan Event
		var next Event
		if len(a.queue) > 0 {
			out, next = a.events, a.queue[0]
		}
		var room chan func()
		if a.hasRoom() {
			room = a.roomOps
		}
		select {
		case f := <-a.ops:
			f()
		case f := <-room:
			f()
		case out <- next:
			a.queue[0] = Event{}
			a.queue = a.queue[1:]
		case pl, ok := <-locates:
			if !ok {
				locates = nil
				continue
			}
			a.answerLocate(pl)
		case <-a.quit:
			a.closeHandshakes()
			for _, cp := range a.callerPorts {
				cp.ln.Close()
			}
			if a.conv != nil {
				a.endConv(ByLocal, nil)
			}
			return
		}
	}
}

// busy reports whether a locate should be answered RL1: in a conversation,
// or calling one. Incoming nickname exchanges do not count: a connection
// that never sends its nickname must not make the agent look busy; nor
// does a conversation that gives way (silent). Loop only.
func (a *Agent) busy() bool { return a.conv != nil && !a.silent(a.conv) || a.dialing }

// silent reports whether c gives way to the next caller: someone called,
// neither side has said anything since the nicknames, and SilentGrace has
// passed. A peer that connects, sends its nickname and idles would
// otherwise keep the agent busy for good; one that has spoken is the
// user's to hang up on, and a call the user made is the user's own. Loop
// only.
func (a *Agent) silent(c *conversation) bool {
	return !c.initiator && !c.said && !c.heard.Load() && time.Since(c.since) >= a.cfg.SilentGrace
}

// answerLocate answers a PL from the node. Loop only.
func (a *Agent) answerLocate(pl wire.Locate) {
	if !plumi.SameAddr(pl.To, a.addr) {
		b, _ := pl.Append(nil)
		if a.dropOther.Note(a.client.Node(), b) {
			a.log.Warn("ignored a locate request for another user", "from", pl.From.String(), "to", pl.To.String())
		}
		return
	}
	rl := wire.LocateReply{Code: wire.LocateBusy, From: pl.From, To: pl.To}
	if !a.busy() {
		rl.Code, rl.IP, rl.Port = wire.LocateFound, a.advertise.Addr(), a.advertise.Port()
		if !plumi.SameAddr(pl.From, a.addr) { // the node checking that the agent is alive calls no one
			rl.Port = a.callerPortFor(pl.From)
		}
	}
	if err := a.client.AnswerLocate(&rl); err != nil && a.dropUnsent.Note(a.client.Node(), nil) {
		a.log.Warn("answer locate", "err", err)
	}
}

// accept hands each incoming TCP connection to the loop.
func (a *Agent) accept() {
	for {
		conn, err := a.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			a.log.Warn("accept", "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if !a.whenRoom(nil, func() { a.incoming(conn, "") }) {
			conn.Close()
			return
		}
	}
}

// callerPortFor returns the port to give asker in its RL0: its caller
// port, opened now or, for a retransmitted PL, before; the chat port when
// CallerPorts are open already (or none are to be) or one cannot be
// opened. Loop only.
func (a *Agent) callerPortFor(asker wire.Address) uint16 {
	now := time.Now()
	for _, cp := range a.callerPorts {
		if plumi.SameAddr(cp.asker, asker) {
			cp.expires = now.Add(callerPortTTL)
			return cp.port
		}
	}
	if len(a.callerPorts) >= a.cfg.CallerPorts {
		a.log.Debug("no caller port free: the caller will come unnamed", "asker", asker.String(), "open", len(a.callerPorts))
		return a.advertise.Port()
	}
	host, _, _ := net.SplitHostPort(a.ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = ""
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		a.log.Warn("cannot open a caller port: the caller will come unnamed", "err", err)
		return a.advertise.Port()
	}
	cp := &callerPort{asker: asker, ln: ln, port: ln.Addr().(*net.TCPAddr).AddrPort().Port(), expires: now.Add(callerPortTTL)}
	a.callerPorts = append(a.callerPorts, cp)
	go a.acceptCaller(cp)
	time.AfterFunc(callerPortTTL, func() { a.do(func() { a.expireCallerPort(cp) }) })
	return cp.port
}

// acceptCaller takes the one connection of cp, closes cp and hands the
// connection to the loop, named after cp's asker.
func (a *Agent) acceptCaller(cp *callerPort) {
	conn, err := cp.ln.Accept()
	cp.ln.Close()
	if err != nil {
		return // expired, or the agent closed
	}
	if !a.whenRoom(nil, func() { a.dropCallerPort(cp); a.incoming(conn, cp.asker.String()) }) {
		conn.Close()
	}
}

// expireCallerPort closes cp once callerPortTTL has passed since the last
// RL0 that gave it, or waits for that. Loop only.
func (a *Agent) expireCallerPort(cp *callerPort) {
	if left := time.Until(cp.expires); left > 0 {
		time.AfterFunc(left, func() { a.do(func() { a.expireCallerPort(cp) }) })
		return
	}
	cp.ln.Close()
	a.dropCallerPort(cp)
}

// dropCallerPort forgets cp. Loop only.
func (a *Agent) dropCallerPort(cp *callerPort) {
	a.callerPorts = slices.DeleteFunc(a.callerPorts, func(c *callerPort) bool { return c == cp })
}

// incoming starts the nickname exchange of a new connection, unless the
// agent is busy or has MaxHandshakes exchanges going. claimed is the asker
// whose caller port it came to ("" for the chat port). Loop only.
func (a *Agent) incoming(conn net.Conn, claimed string) {
	remote := conn.RemoteAddr().String()
	src := sourceOf(conn.RemoteAddr())
	switch {
	case a.busy():
		a.log.Info("refused a chat connection: busy", "remote", remote)
	case a.fromSource(src) >= a.cfg.PerSource:
		a.log.Info("refused a chat connection: its source has its share of nickname exchanges in progress", "remote", remote, "max", a.cfg.PerSource)
	default:
		if len(a.pending) >= a.cfg.MaxHandshakes {
			a.dropOldestHandshake()
		}
		a.pending[conn] = handshake{claimed: claimed, source: src, since: time.Now()}
		go a.answer(conn)
		return
	}
	conn.Close()
}

// fromSource counts the nickname exchanges in progress from src. Loop
// only.
func (a *Agent) fromSource(src netip.Addr) int {
	n := 0
	for _, h := range a.pending {
		if h.source == src {
			n++
		}
	}
	return n
}

// dropOldestHandshake closes the nickname exchange that has waited
// longest, to make room for a new source's: a caller sends its nickname
// as soon as it connects, so with every place taken the oldest is the one
// least likely to be a caller, and a peer can keep a real caller out only
// by opening connections faster than the caller's nickname comes. Loop
// only.
func (a *Agent) dropOldestHandshake() {
	var oldest net.Conn
	var at time.Time
	for conn, h := range a.pending {
		if oldest == nil || h.since.Before(at) {
			oldest, at = conn, h.since
		}
	}
	if oldest != nil {
		a.log.Info("closed the oldest nickname exchange to make room for a new source", "remote", oldest.RemoteAddr().String(), "max", a.cfg.MaxHandshakes)
		delete(a.pending, oldest)
		oldest.Close()
	}
}

// answer runs an incoming nickname exchange beside the loop.
func (a *Agent) answer(conn net.Conn) {
	r, nick, err := a.handshake(conn, false)
	a.do(func() { a.answered(conn, r, nick, err) })
}

// answered ends an incoming nickname exchange: the first to end well
// becomes the conversation. Loop only.
func (a *Agent) answered(conn net.Conn, r *msgReader, nick string, err error) {
	h, ok := a.pending[conn]
	if !ok {
		return // closed here, as another exchange or a call came first
	}
	delete(a.pending, conn)
	if err != nil {
		conn.Close()
		if a.failedHandshake() {
			a.emitErr(err)
		}
		return
	}
	if c := a.conv; c != nil {
		if !a.silent(c) {
			a.log.Info("refused a chat connection: busy", "remote", conn.RemoteAddr().String(), "nick", nick)
			conn.Close()
			return
		}
		a.notice(NoticeSilentReplaced, 0, fmt.Sprintf("dropped %s: nothing said either way in the %v since it called, and %s calls", c.peerNick, a.cfg.SilentGrace, nick))
		a.endConv(ByLocal, nil)
	}
	a.startConv(conn, r, nick, h.claimed, h.claimed != "", false)
	a.answerNick(a.conv)
}

// handshakeBurst is how many failed incoming nickname exchanges are said
// one by one per DropReport period; the rest are counted in one notice.
const handshakeBurst = 5

// failedHandshake counts an incoming nickname exchange that failed and
// says whether to report it as an error event: the first handshakeBurst of
// a DropReport period are, and the period's end says how many more there
// were, in one notice. A host that opens and closes connections in a loop
// (thousands a second) costs a few lines, not one each. Loop only.
func (a *Agent) failedHandshake() bool {
	a.hsFailed++
	if a.hsFailed == 1 {
		time.AfterFunc(a.cfg.DropReport, func() { a.do(a.reportHandshakes) })
	}
	return a.hsFailed <= handshakeBurst
}

// reportHandshakes ends a period of failed nickname exchanges. Loop only.
func (a *Agent) reportHandshakes() {
	if n := a.hsFailed - handshakeBurst; n > 0 {
		a.notice(NoticeHandshakesFailed, n, fmt.Sprintf("dropped %d more connections that sent no nickname in %v (the first %d were said)",
			n, a.cfg.DropReport, handshakeBurst))
	}
	a.hsFailed = 0
}

// closeHandshakes drops the incoming nickname exchanges in progress, once
// a conversation has begun or the agent stops. Loop only.
func (a *Agent) closeHandshakes() {
	if len(a.pending) > 0 {
		a.log.Info("closed the other nickname exchanges in progress", "count", len(a.pending))
	}
	for conn := range a.pending {
		conn.Close()
	}
	clear(a.pending)
}

// handshake reads the peer's nickname, the caller sending its own first;
// the callee answers with answerNick once the conversation is set up. It
// bounds the exchange by HandshakeTimeout, and each message after it by
// MessageTimeout.
func (a *Agent) handshake(conn net.Conn, caller bool) (*msgReader, string, error) {
	remote := conn.RemoteAddr().String()
	conn.SetDeadline(time.Now().Add(a.cfg.HandshakeTimeout))
	r, w := newMsgReader(conn), wire.NewWriter(conn)
	if caller {
		if err := w.WriteMessage(&wire.Nick{Nick: a.nick}); err != nil {
			return nil, "", ErrHandshake.With(plumi.Cause{Kind: CauseNickUnsent, Remote: remote, Sys: plumi.SysText(err)}, "send nickname to "+remote, err)
		}
	}
	m, err := r.next()
	if err != nil {
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return nil, "", ErrHandshake.With(plumi.Cause{Kind: CauseNoNick, Remote: remote, Wait: a.cfg.HandshakeTimeout},
				fmt.Sprintf("dropped %s: no nickname within %v", remote, a.cfg.HandshakeTimeout), nil)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return nil, "", ErrHandshake.With(plumi.Cause{Kind: CauseClosedEarly, Remote: remote},
				"dropped "+remote+": it closed the connection before its nickname", nil)
		}
		return nil, "", ErrHandshake.With(plumi.Cause{Kind: CauseNotNick, Remote: remote, Sys: plumi.SysText(err)}, "dropped "+remote+": not a nickname", err)
	}
	n, ok := m.(*wire.Nick)
	if !ok {
		return nil, "", ErrHandshake.With(plumi.Cause{Kind: CauseNotNick, Remote: remote, Tag: m.Tag()},
			fmt.Sprintf("dropped %s: sent %q before its nickname", remote, m.Tag()), nil)
	}
	conn.SetDeadline(time.Time{})
	r.guard(a.cfg.MessageTimeout)
	return r, n.Nick, nil
}

// answerNick sends the callee's nickname, once the conversation is the
// agent's: a line typed the moment the caller has it is not lost. Loop only.
func (a *Agent) answerNick(c *conversation) {
	c.conn.SetWriteDeadline(time.Now().Add(a.cfg.HandshakeTimeout))
	if err := c.w.WriteMessage(&wire.Nick{Nick: a.nick}); err != nil {
		remote := c.conn.RemoteAddr().String()
		a.endConv(ByPeer, ErrHandshake.With(plumi.Cause{Kind: CauseNickUnsent, Remote: remote, Sys: plumi.SysText(err)}, "send nickname to "+remote, err))
	}
}

// startConv makes conn the conversation and drops the other nickname
// exchanges. Loop only.
func (a *Agent) startConv(conn net.Conn, r *msgReader, nick, peerAddr string, claimed, initiator bool) {
	a.closeHandshakes()
	a.nextID++
	c := &conversation{id: a.nextID, conn: conn, w: wire.NewWriter(conn), peerNick: nick, peerAddr: peerAddr,
		claimed: claimed, initiator: initiator, done: make(chan struct{}), since: time.Now()}
	a.conv = c
	a.emit(Event{Kind: EventConnected, PeerNick: nick, PeerAddr: peerAddr, Claimed: claimed,
		Local: unmapString(conn.LocalAddr()), Remote: unmapString(conn.RemoteAddr()), Initiator: initiator})
	go a.readConv(c, r)
}

// readConv reads the peer's messages until the connection ends. At most
// LineRate a second pass, the rest are dropped and counted; each line that
// passes waits for room in the event queue.
func (a *Agent) readConv(c *conversation, r *msgReader) {
	bucket := newTokenBucket(a.cfg.LineRate, a.cfg.LineBurst, time.Now())
	for {
		m, err := r.next()
		if err != nil {
			a.do(func() { a.readFailed(c, err) })
			return
		}
		c.heard.Store(true)
		l, isLine := m.(*wire.Line)
		switch {
		case !bucket.allow(time.Now()):
			a.dropLine(c)
		case !isLine:
			a.log.Info("ignored a message other than a line", "peer", c.peerNick, "tag", m.Tag())
		case !a.deliver(c, l.Text):
			return
		}
	}
}

// readFailed ends c on a read error, saying why. Loop only.
func (a *Agent) readFailed(c *conversation, err error) {
	if a.conv != c {
		return // already ended here
	}
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
		a.endConv(ByPeer, nil)
	case errors.As(err, &ne) && ne.Timeout():
		a.endConv(ByPeer, ErrStalled.With(plumi.Cause{Kind: CausePeerStalled, Peer: c.peerNick, Wait: a.cfg.MessageTimeout},
			fmt.Sprintf("dropped %s: a message began but did not end within %v", c.peerNick, a.cfg.MessageTimeout), nil))
	case errors.Is(err, io.ErrUnexpectedEOF):
		a.endConv(ByPeer, ErrPeer.With(plumi.Cause{Kind: CausePeerCut, Peer: c.peerNick}, c.peerNick+" closed the connection inside a message", nil))
	default:
		a.endConv(ByPeer, ErrPeer.With(plumi.Cause{Kind: CausePeerBroke, Peer: c.peerNick, Sys: plumi.SysText(err)}, "dropped "+c.peerNick, err))
	}
}

// deliver hands a line to the loop once the event queue has room. Until
// then the reader waits, the peer's bytes stay in TCP's buffers, and TCP's
// flow control stops the peer: nothing piles up in the agent. False if the
// conversation ended meanwhile.
func (a *Agent) deliver(c *conversation, text string) bool {
	return a.whenRoom(c.done, func() { a.emitLine(c, text) })
}

// emitLine queues a line of c and says, once in the conversation, when the
// queue is full and the agent stops reading the peer. Loop only.
func (a *Agent) emitLine(c *conversation, text string) {
	if a.conv != c {
		return
	}
	a.emit(Event{Kind: EventLine, From: c.peerNick, Text: text})
	if !a.hasRoom() && !c.paused {
		c.paused = true
		a.notice(NoticeReadingPaused, len(a.queue), fmt.Sprintf(
			"stopped reading %s: %d events wait to be read; its lines wait in TCP until then", c.peerNick, len(a.queue)))
	}
}

// dropLine counts a message over the rate. The first of a period sets the
// period's one notice going, which says how many were dropped in all.
func (a *Agent) dropLine(c *conversation) {
	if c.dropped.Add(1) == 1 {
		time.AfterFunc(a.cfg.DropReport, func() { a.do(func() { a.reportDrops(c) }) })
	}
}

// reportDrops says how many of c's lines were dropped since it last said,
// while c is the conversation (endConv says the rest). Loop only.
func (a *Agent) reportDrops(c *conversation) {
	if a.conv != c {
		return
	}
	n := c.dropped.Swap(0)
	if n == 0 {
		return
	}
	a.notice(NoticeLinesDropped, int(n), fmt.Sprintf("dropped %d lines from %s: more than %g a second, or %d at once",
		n, c.peerNick, a.cfg.LineRate, a.cfg.LineBurst))
}

// endConv closes the conversation. Loop only.
func (a *Agent) endConv(by string, err error) {
	c := a.conv
	a.reportDrops(c)
	c.conn.Close()
	close(c.done)
	a.conv = nil
	if err != nil {
		a.emitErr(err)
	}
	a.emit(Event{Kind: EventHangup, By: by})
}

// Register registers the agent with its node, and from then on keeps it
// registered: every Config.Refresh it sends its PR again (see refresh),
// until Deregister or Close.
func (a *Agent) Register(ctx context.Context) error {
	err := a.register(ctx)
	if err != nil {
		return a.postErr(err)
	}
	// The refresher runs before the event says the user is registered: a
	// Deregister in answer to it stops the refresher, rather than running
	// before it starts and leaving it to register the user again.
	a.startRefresh()
	a.post(Event{Kind: EventRegistered, Addr: a.addr.String(), Node: a.client.Node().String()})
	return nil
}

// register sends the PR, moving to the domain's next node while the one
// in use is silent.
func (a *Agent) register(ctx context.Context) error {
	err := a.client.Register(ctx, a.addr)
	for silent(err) && a.failover(ctx) {
		err = a.client.Register(ctx, a.addr)
	}
	switch {
	case err == nil:
		a.keepPort()
	case a.portTaken != 0 && plumi.CauseOf(err).Kind == plumi.CauseRegisterRefused:
		err = a.held(err)
	}
	return err
}

// held is the error of an RR1 while another program on this host holds
// the UDP port that the state file says the user registered from last.
// An RR1 alone cannot say why the node refused (no such user, another
// agent answering the node's check, a frozen registration); this can: the
// user registered from that port, and something holds it still, most
// likely the agent that did, which the node has at that port of the
// address it sees this host at, and which answers the node's check as
// any live agent does. So the person learns which agent to stop, and
// where. Agents that keep their state apart (another directory, another
// host) leave no such evidence, and get the RR1's every meaning.
func (a *Agent) held(refused error) error {
	c := plumi.CauseOf(refused)
	c.Kind = CauseRegisterHeld
	c.Remote = netip.AddrPortFrom(a.client.LocalAddr().Addr(), a.portTaken).String()
	return plumi.ErrRefused.With(c, fmt.Sprintf("node %s refused to register %s: it is registered by an agent that answers at %s, "+
		"the port it registered from last, which another program on this host holds; the node refuses a new address while that agent answers its check",
		c.Node, a.addr, c.Remote), nil)
}

// refreshState is what the last refresh found. Refresher only.
type refreshState int

const (
	refreshOK refreshState = iota
	refreshUnanswered
	refreshRefused
)

// startRefresh starts the refresher unless it runs or Refresh is
// negative.
func (a *Agent) startRefresh() {
	if a.cfg.Refresh < 0 {
		return
	}
	a.refreshMu.Lock()
	defer a.refreshMu.Unlock()
	select {
	case <-a.quit:
		return
	default:
	}
	if a.refreshStop != nil {
		return
	}
	a.refreshStop, a.refreshDone = make(chan struct{}), make(chan struct{})
	go a.refresh(a.refreshStop, a.refreshDone)
}

// stopRefresh stops the refresher, if it runs, and waits for it: a refresh
// in progress is abandoned, so none registers the user after a PD.
func (a *Agent) stopRefresh() {
	a.refreshMu.Lock()
	defer a.refreshMu.Unlock()
	if a.refreshStop == nil {
		return
	}
	close(a.refreshStop)
	<-a.refreshDone
	a.refreshStop, a.refreshDone = nil, nil
}

// refreshSoon asks the refresher, if it runs, for a refresh at once.
func (a *Agent) refreshSoon() {
	select {
	case a.refreshNow <- struct{}{}:
	default:
	}
}

// refresh sends the PR again every Refresh, and when a locate timed out
// (refreshSoon), until stop closes or the agent closes.
//
// What it can observe: a node accepts a PR from the registered address,
// and also from any address for a user that is offline, which is what a
// node that restarted with an empty table thinks of everyone; so a
// refresh to a restarted node is answered RR0, exactly as one to a node
// that never stopped. The restart itself is invisible in the answer, and
// harmless: that RR0 has registered the user again. What is visible, and
// said (once per change, as a notice):
//   - a refresh unanswered, or refused by the system (ICMP port
//     unreachable): node_unreachable;
//   - a refresh answered RR0 after that, or after a refusal: reregistered;
//   - a refresh refused by the node (RR1): node_lost.
//
// A restarted node that lost the user drops the user's locates (a PL is
// served only from its asker's registered address), so a locate that
// times out asks for a refresh at once, rather than at the next period:
// the user's next try finds the node knowing it again. A timeout proves
// no loss (the target's agent may be silent), so that refresh says
// nothing unless its own outcome changes. A locate the node's address
// refused (node_unreachable) asks for none: the node is down, and the
// user has just been told.
//
// A refresh is one LUMI request on the client, queued behind a request in
// progress (requests go one at a time); it touches no conversation, and
// the PLs of the node are answered while it waits.
func (a *Agent) refresh(stop, done chan struct{}) {
	defer close(done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
		case <-a.quit:
		}
		cancel()
	}()
	t := time.NewTicker(a.cfg.Refresh)
	defer t.Stop()
	state := refreshOK
	for {
		select {
		case <-t.C:
		case <-a.refreshNow:
		case <-ctx.Done():
			return
		}
		err := a.register(ctx)
		if ctx.Err() != nil || errors.Is(err, plumi.ErrClosed) {
			return
		}
		state = a.refreshed(state, err)
	}
}

// refreshed reports a refresh's outcome err when it differs from the last
// one's, state, and returns the new state. Refresher only.
func (a *Agent) refreshed(state refreshState, err error) refreshState {
	node := a.client.Node().String()
	switch {
	case err == nil:
		switch state {
		case refreshUnanswered:
			a.postNotice(NoticeReregistered, fmt.Sprintf("node %s answers again: %s is registered again (had it restarted, it knows the user again)", node, a.addr))
		case refreshRefused:
			a.postNotice(NoticeReregistered, fmt.Sprintf("node %s registers %s again", node, a.addr))
		}
		return refreshOK
	case silent(err):
		if state != refreshUnanswered {
			a.postNotice(NoticeNodeUnreachable, fmt.Sprintf("the refresh of %s's registration went unanswered: %v; trying again every %v", a.addr, err, a.cfg.Refresh))
		}
		return refreshUnanswered
	default:
		if state != refreshRefused {
			a.postNotice(NoticeNodeLost, fmt.Sprintf("node %s no longer registers %s: %v; trying again every %v", node, a.addr, err, a.cfg.Refresh))
		}
		return refreshRefused
	}
}

// postNotice emits a notice from any goroutine.
func (a *Agent) postNotice(reason, msg string) { a.do(func() { a.notice(reason, 0, msg) }) }

// silent says whether err is a node not answering: a timeout, or its
// address refusing (ICMP port unreachable).
func silent(err error) bool {
	return errors.Is(err, plumi.ErrNodeTimeout) || errors.Is(err, plumi.ErrNodeUnreachable)
}

// failover moves the agent to the next node of its domain when the one it
// uses did not answer, as a node does for other domains' nodes (RFC 3263,
// 4.3): the silent node is marked down, and the next one not marked down
// is used. It says whether there was one; an agent given its node (-node)
// has no other.
func (a *Agent) failover(ctx context.Context) bool {
	if !a.found {
		return false
	}
	old := a.client.Node()
	a.cfg.Resolver.MarkDown(a.addr.Domain, old)
	next, err := a.cfg.Resolver.Next(ctx, a.addr.Domain, old)
	if err != nil || next == old {
		return false
	}
	a.log.Warn("the node did not answer; trying the domain's next node", "node", old, "next", next)
	if err := a.client.SetNode(next); err != nil {
		a.log.Warn("cannot move to the domain's next node", "next", next, "err", err)
		return false
	}
	return true
}

// Deregister stops the refreshes and tells the node the user leaves.
func (a *Agent) Deregister(ctx context.Context) error {
	a.stopRefresh()
	if err := a.client.Deregister(ctx, a.addr); err != nil {
		return a.postErr(err)
	}
	a.post(Event{Kind: EventDeregistered, Addr: a.addr.String()})
	return nil
}

// Locate asks the node where target is, reporting locating and located.
func (a *Agent) Locate(ctx context.Context, target string) (netip.AddrPort, error) {
	return a.locate(ctx, target, nil)
}

// locate is Locate; end, if not nil, runs on the loop in the turn that
// reports a failure (see settle).
func (a *Agent) locate(ctx context.Context, target string, end func()) (netip.AddrPort, error) {
	to, err := wire.ParseAddress(target)
	if err != nil {
		return netip.AddrPort{}, a.settle(end, plumi.ErrBadAddress.With(plumi.AddressCause(target, err), "bad address "+fmt.Sprintf("%q", target), err))
	}
	a.post(Event{Kind: EventLocating, Target: to.String()})
	ap, err := a.client.Locate(ctx, a.addr, to) // an RL2 told apart with cfg.Resolver
	if err != nil {
		if errors.Is(err, plumi.ErrNodeTimeout) {
			a.refreshSoon() // the node may have lost us: see refresh
		}
		return netip.AddrPort{}, a.settle(end, err)
	}
	a.post(Event{Kind: EventLocated, Target: to.String(), IP: ap.Addr().String(), Port: int(ap.Port())})
	return ap, nil
}

// Call locates target and opens a conversation with it. It reports every
// step as events, failures included, and returns when the conversation is
// open or the call has failed. The call is over, and the agent free to
// call again, by the time its last event (connected, or an error) is read.
func (a *Agent) Call(ctx context.Context, target string) error {
	var err error
	if a.do(func() {
		switch {
		case a.conv != nil:
			err = ErrInConvers.With(plumi.Cause{Kind: CauseTalking, Peer: a.conv.peerNick}, "already talking to "+a.conv.peerNick+"; /hangup first", nil)
		case a.calling:
			err = ErrInConvers.With(plumi.Cause{Kind: CauseCalling}, "a call is already in progress", nil)
		default:
			a.calling = true
			return
		}
		a.emitErr(err)
	}) != nil {
		return errAgentClosed()
	}
	if err != nil {
		return err
	}
	ap, err := a.locate(ctx, target, a.endCall)
	if err != nil {
		return err
	}
	to, _ := wire.ParseAddress(target)
	return a.connect(ctx, ap, to.String())
}

// endCall marks the call over. Loop only, in the turn that reports how it
// ended.
func (a *Agent) endCall() { a.calling = false }

// connect opens the chat with a located peer, and ends the call.
func (a *Agent) connect(ctx context.Context, ap netip.AddrPort, peerAddr string) error {
	var err error
	if derr := a.do(func() {
		if a.conv != nil || a.dialing {
			err = ErrInConvers.With(plumi.Cause{Kind: CauseOvertaken, Addr: peerAddr}, "another conversation started while locating "+peerAddr, nil)
			a.endCall()
			a.emitErr(err)
			return
		}
		a.dialing = true
	}); derr != nil {
		return derr
	}
	if err != nil {
		return err
	}
	d := net.Dialer{Timeout: a.cfg.DialTimeout}
	conn, derr := d.DialContext(ctx, "tcp", ap.String())
	if derr != nil {
		return a.settle(func() { a.dialing = false; a.endCall() },
			ErrConnect.With(plumi.Cause{Kind: CauseConnect, Addr: peerAddr, Remote: ap.String(), Sys: plumi.SysText(derr)}, "connect to "+peerAddr+" at "+ap.String(), derr))
	}
	r, nick, herr := a.handshake(conn, true)
	if derr := a.do(func() {
		a.dialing = false
		a.endCall()
		switch {
		case herr != nil:
			err = herr
		case a.conv != nil:
			err = ErrInConvers.With(plumi.Cause{Kind: CauseOvertaken, Addr: peerAddr}, "another conversation started while calling "+peerAddr, nil)
		default:
			a.startConv(conn, r, nick, peerAddr, false, true)
			return
		}
		conn.Close()
		a.emitErr(err)
	}); derr != nil {
		conn.Close()
		return derr
	}
	return err
}

// Send sends text to the peer; a long text goes as several lines.
func (a *Agent) Send(text string) error {
	var err error
	if derr := a.do(func() {
		c := a.conv
		if c == nil {
			err = ErrNotConnected.With(plumi.Cause{Kind: CauseNotTalking}, "not in a conversation; /call user@domain first", nil)
			a.emitErr(err)
			return
		}
		c.conn.SetWriteDeadline(time.Now().Add(a.cfg.WriteTimeout))
		if werr := c.w.WriteLine(text); werr != nil {
			err = ErrSend.With(plumi.Cause{Kind: CauseSendFailed, Peer: c.peerNick, Sys: plumi.SysText(werr)}, "send to "+c.peerNick, werr)
			a.endConv(ByPeer, err)
			return
		}
		c.said = true
	}); derr != nil {
		return derr
	}
	return err
}

// Hangup ends the conversation; the agent stays registered.
func (a *Agent) Hangup() error {
	var err error
	if derr := a.do(func() {
		if a.conv == nil {
			err = ErrNotConnected.With(plumi.Cause{Kind: CauseNotTalking}, "not in a conversation", nil)
			a.emitErr(err)
			return
		}
		a.endConv(ByLocal, nil)
	}); derr != nil {
		return derr
	}
	return err
}

// Peer returns the current peer, if in a conversation.
func (a *Agent) Peer() (PeerInfo, bool) {
	var p PeerInfo
	var ok bool
	a.do(func() {
		if c := a.conv; c != nil {
			p = PeerInfo{Nick: c.peerNick, Addr: c.peerAddr, Claimed: c.claimed, Remote: unmapString(c.conn.RemoteAddr()), Initiator: c.initiator}
			ok = true
		}
	})
	return p, ok
}

// Close hangs up, stops the agent and closes its sockets and log; the
// events queued before are still delivered, then Events is closed. It does
// not deregister: call Deregister first.
func (a *Agent) Close() error {
	var err error
	a.closeOnce.Do(func() { err = a.shutdown() })
	return err
}

func (a *Agent) shutdown() error {
	close(a.quit)
	a.stopRefresh()
	<-a.loopWG
	a.ln.Close()
	a.client.Close()
	err := a.datalog.Close()
	rest := a.queue
	a.queue = nil
	go func() {
		for _, e := range rest {
			a.events <- e
		}
		close(a.events)
	}()
	return err
}

func unmapString(addr net.Addr) string {
	if t, ok := addr.(*net.TCPAddr); ok {
		ap := t.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
	}
	return addr.String()
}
