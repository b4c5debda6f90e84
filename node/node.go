package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"mi/internal/datalog"

	"mi/lumi"
	"mi/wire"
)

// Options configures a Node.
type Options struct {
	ConfigPath string                    // the config file; required
	Listen     string                    // UDP address to serve on; default ":3344"
	Peers      map[string]netip.AddrPort // static nodes of other domains, tried before DNS
	DNSServer  string                    // "host:port"; default from /etc/resolv.conf
	HostsFile  string                    // default /etc/hosts; "-" disables
	LogPath    string                    // datagram log; default nodelumi-<domain>.log; "-" disables
	Logger     *slog.Logger              // operational events; default discards them
	// PendingTTL is how long a forwarded PL waits for its RL; default the
	// agent's whole retry window plus a second.
	PendingTTL time.Duration
	// Resolver finds other domains' nodes; default one built from Peers,
	// DNSServer and HostsFile.
	Resolver *lumi.Resolver
}

// DefaultPendingTTL is the agent's retry window plus some slack: after it,
// no agent waits for the RL any more.
const DefaultPendingTTL = wire.Attempts*wire.RetryInterval + time.Second

// maxResolving bounds the DNS lookups in flight, so that a flood of PLs for
// made-up domains cannot start goroutines without end.
const maxResolving = 4096

// readBuf is larger than any PLUMI datagram so that an oversized one is seen
// as such rather than cut to size as the reference did.
const readBuf = 2048

// Node is a LUMI node: the registrar and location proxy of one domain.
type Node struct {
	log      *slog.Logger
	conn     *net.UDPConn
	addr     netip.AddrPort
	dlog     *datalog.DataLog
	resolver *lumi.Resolver
	core     *core
	cfgPath  string

	admin   chan func(*core) // run on the owner goroutine
	results chan resolveResult
	stopped chan struct{} // closed when Run has returned
	running sync.Once

	adminMu sync.Mutex // serialises admin changes and guards cfg
	cfg     Config     // as last written to cfgPath
}

type resolveResult struct {
	req resolveRequest
	ap  netip.AddrPort
	err error
}

type packet struct {
	buf []byte
	n   int
	src netip.AddrPort
}

// New loads the config, opens the UDP socket and the datagram log. The node
// serves once Run is called; Addr is known at once.
func New(opts Options) (*Node, error) {
	if opts.ConfigPath == "" {
		return nil, errors.New("node: no config file")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t0 := time.Now()
	cfg, users, err := loadTable(opts.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	res := opts.Resolver
	if res == nil {
		res, err = lumi.NewResolver(lumi.Config{Peers: opts.Peers, DNSServer: opts.DNSServer, HostsFile: opts.HostsFile})
		if err != nil {
			return nil, fmt.Errorf("node: %w", err)
		}
	}
	listen := opts.Listen
	if listen == "" {
		listen = fmt.Sprintf(":%d", wire.PLUMIPort)
	}
	ua, err := net.ResolveUDPAddr("udp", listen)
	if err != nil {
		return nil, fmt.Errorf("node: listen address: %w", err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	addr := unmap(conn.LocalAddr().(*net.UDPAddr).AddrPort())
	var dlog *datalog.DataLog
	switch opts.LogPath {
	case "-":
	default:
		path := opts.LogPath
		if path == "" {
			path = DefaultLogPath(cfg.Domain)
		}
		if dlog, err = datalog.OpenDataLog(path); err != nil {
			conn.Close()
			return nil, fmt.Errorf("node: %w", err)
		}
	}
	ttl := opts.PendingTTL
	if ttl <= 0 {
		ttl = DefaultPendingTTL
	}
	c := newCoreTable(cfg.Domain, users, ttl, log)
	log.Info("config loaded", "path", opts.ConfigPath, "domain", cfg.Domain, "users", len(cfg.Users), "took", time.Since(t0).Round(time.Millisecond))
	if !addr.Addr().IsUnspecified() {
		c.self = addr
	}
	return &Node{
		log:      log,
		conn:     conn,
		addr:     addr,
		dlog:     dlog,
		resolver: res,
		core:     c,
		cfgPath:  opts.ConfigPath,
		admin:    make(chan func(*core)),
		results:  make(chan resolveResult, 64),
		stopped:  make(chan struct{}),
		cfg:      cfg,
	}, nil
}

// DefaultLogPath is the reference's name for a node's datagram log.
func DefaultLogPath(domain string) string { return "nodelumi-" + domain + ".log" }

// Addr returns the address the node serves on.
func (n *Node) Addr() netip.AddrPort { return n.addr }

// Domain returns the node's domain.
func (n *Node) Domain() string { return n.core.domain }

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// Run serves until ctx is done, then closes the socket and the log (whose
// run it ends with the FINAL line). It returns nil after ctx ends, or the
// error that stopped the node. It may be called once.
func (n *Node) Run(ctx context.Context) error {
	err := errors.New("node: Run called twice")
	n.running.Do(func() { err = n.run(ctx) })
	return err
}

func (n *Node) run(ctx context.Context) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		n.conn.Close()
		wg.Wait()
		if cerr := n.dlog.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("node: log: %w", cerr)
		}
		close(n.stopped)
		n.log.Info("node stopped", "domain", n.core.domain)
	}()

	const depth = 256
	packets := make(chan *packet, depth)
	free := make(chan *packet, depth)
	for range depth {
		free <- &packet{buf: make([]byte, readBuf)}
	}
	readErr := make(chan error, 1)
	wg.Go(func() { readErr <- n.read(ctx, packets, free) })

	sweep := time.NewTicker(time.Second)
	defer sweep.Stop()
	n.log.Info("node serving", "domain", n.core.domain, "addr", n.addr, "users", len(n.core.users))
	resolving := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-readErr:
			return fmt.Errorf("node: read: %w", err)
		case p := <-packets:
			b := p.buf[:p.n]
			now := time.Now()
			sends, resolves, valid := n.core.handle(b, p.src, now)
			if valid {
				// Only datagrams that decode go to the log: the others
				// could hold anything, line breaks included.
				n.dlog.Received(p.src, b)
			}
			n.send(sends)
			free <- p
			for _, r := range resolves {
				if resolving >= maxResolving {
					n.log.Warn("too many DNS lookups in flight; PL answered RL2", "domain", r.domain)
					n.send(n.core.resolved(r, netip.AddrPort{}, errors.New("too many lookups in flight"), now))
					continue
				}
				resolving++
				wg.Go(func() { n.resolve(ctx, r) })
			}
		case res := <-n.results:
			resolving--
			n.send(n.core.resolved(res.req, res.ap, res.err, time.Now()))
		case f := <-n.admin:
			f(n.core)
		case now := <-sweep.C:
			n.core.sweep(now)
		}
	}
}

// read hands each datagram to the owner until the socket is closed.
func (n *Node) read(ctx context.Context, packets chan<- *packet, free <-chan *packet) error {
	for {
		var p *packet
		select {
		case p = <-free:
		case <-ctx.Done():
			return nil
		}
		nr, src, err := n.conn.ReadFromUDPAddrPort(p.buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		p.n, p.src = nr, unmap(src)
		select {
		case packets <- p:
		case <-ctx.Done():
			return nil
		}
	}
}

func (n *Node) send(sends []send) {
	for _, s := range sends {
		if _, err := n.conn.WriteToUDPAddrPort(s.b, s.to); err != nil {
			n.log.Warn("send failed", "to", s.to, "datagram", string(s.b), "err", err)
			continue
		}
		n.dlog.Sent(s.to, s.b)
	}
}

// resolve finds a domain's node off the owner's loop and hands the answer
// back to it.
func (n *Node) resolve(ctx context.Context, r resolveRequest) {
	ap, err := n.resolver.Resolve(ctx, r.domain)
	if err == nil {
		ap = unmap(ap)
	}
	select {
	case n.results <- resolveResult{r, ap, err}:
	case <-ctx.Done():
	}
}

// ErrStopped is returned by the admin methods once Run has returned.
var ErrStopped = errors.New("node: stopped")

// do runs f on the owner goroutine and waits for it. Before Run is called
// it waits for Run.
func (n *Node) do(f func(*core)) error {
	done := make(chan struct{})
	select {
	case n.admin <- func(c *core) { f(c); close(done) }:
	case <-n.stopped:
		return ErrStopped
	}
	<-done
	return nil
}

// AddUser adds name to the domain and writes the config file before it
// returns. It is safe to call from any goroutine while Run runs; called
// before Run, the admin methods wait for it, and after it they return
// ErrStopped (Users returns nil).
func (n *Node) AddUser(name string) error {
	if err := checkUserName(name); err != nil {
		return err
	}
	n.adminMu.Lock()
	defer n.adminMu.Unlock()
	var have string
	var exists bool
	if err := n.do(func(c *core) { have, exists = c.lookupUser(name) }); err != nil {
		return err
	}
	if exists {
		return fmt.Errorf("%w: %s", ErrUserExists, have)
	}
	next := Config{Domain: n.cfg.Domain, Users: append(slices.Clip(n.cfg.Users), name)}
	if err := next.WriteFile(n.cfgPath); err != nil {
		return err
	}
	n.cfg = next
	if err := n.do(func(c *core) { c.addUser(name) }); err != nil {
		return err
	}
	n.log.Info("user added", "user", name)
	return nil
}

// RemoveUser removes name (compared without case) from the domain and
// writes the config file before it returns.
func (n *Node) RemoveUser(name string) error {
	n.adminMu.Lock()
	defer n.adminMu.Unlock()
	var have string
	var exists bool
	if err := n.do(func(c *core) { have, exists = c.lookupUser(name) }); err != nil {
		return err
	}
	if !exists {
		return fmt.Errorf("%w: %s", ErrUnknownUser, name)
	}
	i := slices.IndexFunc(n.cfg.Users, func(u string) bool { return strings.EqualFold(u, have) })
	next := Config{Domain: n.cfg.Domain, Users: slices.Delete(slices.Clone(n.cfg.Users), i, i+1)}
	if err := next.WriteFile(n.cfgPath); err != nil {
		return err
	}
	n.cfg = next
	if err := n.do(func(c *core) { c.removeUser(have) }); err != nil {
		return err
	}
	n.log.Info("user removed", "user", have)
	return nil
}

// Users lists the users and their state, sorted by name.
func (n *Node) Users() []UserInfo {
	var list []UserInfo
	n.do(func(c *core) { list = c.userList() })
	return list
}
