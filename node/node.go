package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mi/cluster"
	"mi/internal/datalog"
	"mi/internal/fileerr"
	"mi/internal/procstat"

	"mi/lumi"
	"mi/wire"
)

// Options configures a Node.
type Options struct {
	ConfigPath string                    // the config file; required
	Listen     string                    // UDP address to serve on; default ":3344"
	Peers      map[string]netip.AddrPort // static nodes of other domains, tried before DNS
	DNSServer  string                    // "host:port"; default from /etc/resolv.conf
	HostsFile  string                    // default lumi.DefaultHostsFile; "-" disables
	LogPath    string                    // datagram log; default nodelumi-<domain>.log; "-" disables
	LogMax     int64                     // bytes after which the log moves to LogPath.1; 0: no cap
	Logger     *slog.Logger              // operational events; default discards them
	// LockPath is the file a node locks while it owns the config, so
	// that no two nodes write it; default DefaultLockPath(ConfigPath),
	// beside it. Every node of one config must name the same file.
	LockPath string
	// Workers is how many sockets serve Listen, each read and answered by
	// its own goroutine; default GOMAXPROCS. More than one needs
	// SO_REUSEPORT, with which the kernel spreads the peers over them.
	Workers int
	// PendingTTL is how long a forwarded PL waits for its RL; default the
	// agent's whole retry window plus a second.
	PendingTTL time.Duration
	// Resolver finds other domains' nodes; default one built from Peers,
	// DNSServer and HostsFile.
	Resolver *lumi.Resolver
	// Limits bound what one source can make the node do.
	Limits Limits
	// DownFor is how long another domain's node that left a locate
	// unanswered is skipped while the domain has another; default
	// lumi.DefaultDownFor.
	DownFor time.Duration
	// DNSTimeout bounds each attempt of a DNS query, sent again once;
	// default lumi.DefaultTimeout.
	DNSTimeout time.Duration
	// Secrets are the users who must prove their secret to register or
	// deregister (authenticated registration), by lower-case name; nil:
	// nobody (auth.ReadSecrets reads them from a file).
	Secrets map[string][]byte
	// SourcePorts is how many sockets the node opens for the PLs it
	// forwards to other domains' nodes, each on a port the kernel draws at
	// random: each PL leaves from one of them drawn at random, and only
	// an RL that comes back to it, from the node the PL went to, is
	// routed (sourceports.go). 0 takes DefaultSourcePorts; 1 or a
	// negative value: none, the PLs leave from the listening socket.
	SourcePorts int
	// Cluster, if not nil, shares the domain's bindings with its other
	// nodes through a store (docs/cluster.md): URL, NodeID and the
	// timings are the caller's; the node fills in the domain, its address,
	// its user list's digest, the logger and the state callback. Listen
	// must then name an address the other nodes reach.
	Cluster *cluster.Config
}

// DefaultPendingTTL is the agent's retry window plus some slack: after it,
// no agent waits for the RL any more.
const DefaultPendingTTL = wire.Attempts*wire.RetryInterval + time.Second

// Node is a LUMI node: the registrar and location proxy of one domain.
type Node struct {
	log      *slog.Logger
	workers  []*worker
	addr     netip.AddrPort
	sources  []*net.UDPConn // the source ports (sourceports.go)
	srcSt    *counters      // their readers'
	dlog     *datalog.DataLog
	resolver atomic.Pointer[lumi.Resolver] // atomic so that tests can point a running node at a zone
	core     *core
	cfgPath  string
	lock     *os.File // held while the node owns its config (lockConfig)

	resolving atomic.Int32 // DNS lookups in flight
	// maxResolving bounds them, so that a flood of PLs for made-up
	// domains cannot start goroutines without end, and perSource bounds
	// those of one source, so that one agent cannot take every slot.
	maxResolving, perSource int32
	lookupsMu               sync.Mutex
	lookups                 map[netip.AddrPort]int32 // in flight, by the PL's source
	sweepScratch            *scratch
	bg                      *counters // the sweep's and the DNS lookups'
	dnsMetrics              dnsMetrics
	stopping                atomic.Bool   // Run's context has ended
	store                   *storeState   // nil: a node alone
	stopped                 chan struct{} // closed when Run has returned
	ready                   chan struct{} // closed when every worker reads its socket
	started                 time.Time     // New was called
	running                 sync.Once

	adminMu sync.Mutex // serialises admin changes and guards cfg
	cfg     Config     // as last written to cfgPath
}

// New loads the config, opens the UDP sockets and the datagram log. The
// node serves once Run is called; Addr is known at once.
func New(opts Options) (*Node, error) {
	if opts.ConfigPath == "" {
		return nil, errors.New("node: no config file")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t0 := time.Now()
	if _, err := os.Stat(opts.ConfigPath); err != nil {
		// No config to own: say so as the config's reader does (with
		// the -config hint), and leave no lock file behind.
		_, err = LoadConfig(opts.ConfigPath)
		return nil, fmt.Errorf("node: %w", err)
	}
	lock, stale, err := lockConfig(opts.ConfigPath, opts.LockPath)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	if len(stale) > 0 {
		log.Info("removed temp files of unfinished config writes", "files", len(stale), "first", stale[0])
	}
	n, err := open(opts, log, t0)
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	n.lock = lock
	return n, nil
}

// open is New once the config is locked.
func open(opts Options, log *slog.Logger, t0 time.Time) (*Node, error) {
	cfg, users, err := loadTable(opts.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	res := opts.Resolver
	if res == nil {
		res, err = lumi.NewResolver(lumi.Config{Peers: opts.Peers, DNSServer: opts.DNSServer, HostsFile: opts.HostsFile, Logger: log, DownFor: opts.DownFor, Timeout: opts.DNSTimeout})
		if err != nil {
			return nil, fmt.Errorf("node: %w", err)
		}
	}
	listen := opts.Listen
	if listen == "" {
		listen = fmt.Sprintf(":%d", wire.PLUMIPort)
	}
	conns, err := listenWorkers(listen, opts.Workers, log)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	addr := unmap(conns[0].LocalAddr().(*net.UDPAddr).AddrPort())
	var dlog *datalog.DataLog
	switch opts.LogPath {
	case "-":
	default:
		path := opts.LogPath
		if path == "" {
			path = DefaultLogPath(cfg.Domain)
		}
		if dlog, err = datalog.OpenDataLog(path); err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("node: %w", fileerr.Flag("-log", path, err))
		}
		dlog.SetMaxSize(opts.LogMax)
	}
	ttl := opts.PendingTTL
	if ttl <= 0 {
		ttl = DefaultPendingTTL
	}
	lim := opts.Limits.withDefaults()
	c := newCoreTable(cfg.Domain, users, ttl, lim, log)
	c.auth = newAuthState(opts.Secrets)
	sources, err := listenSources(conns[0].LocalAddr().(*net.UDPAddr), sourcePortsOf(opts.SourcePorts))
	if err != nil {
		closeAll(conns)
		dlog.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	for _, s := range sources {
		c.sourcePorts = append(c.sourcePorts, s.LocalAddr().(*net.UDPAddr).AddrPort().Port())
	}
	if len(sources) > 0 {
		c.peers = newSourcePeers()
	}
	log.Info("config loaded", "path", opts.ConfigPath, "domain", cfg.Domain, "users", len(cfg.Users), "took", time.Since(t0).Round(time.Millisecond))
	if !addr.Addr().IsUnspecified() {
		c.self = addr
	}
	n := &Node{
		log:     log,
		addr:    addr,
		sources: sources,
		srcSt:   new(counters),
		dlog:    dlog,
		core:    c,
		cfgPath: opts.ConfigPath,
		stopped: make(chan struct{}),
		ready:   make(chan struct{}),
		started: t0,
		cfg:     cfg,

		maxResolving: int32(lim.MaxLookups),
		perSource:    int32(lim.SourceLookups),
		lookups:      make(map[netip.AddrPort]int32),
		bg:           new(counters),
		dnsMetrics:   newDNSMetrics(),
	}
	n.sweepScratch = newScratch(n.bg)
	n.resolver.Store(res)
	for _, conn := range conns {
		n.workers = append(n.workers, newWorker(n, conn))
	}
	if opts.Cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.openStore(ctx, *opts.Cluster, cfg.Users); err != nil {
			closeAll(conns)
			closeAll(sources)
			n.dlog.Close()
			return nil, fmt.Errorf("node: -store: %w", err)
		}
	}
	return n, nil
}

func closeAll(conns []*net.UDPConn) {
	for _, c := range conns {
		c.Close()
	}
}

// DefaultLockPath is the lock file of the config at path, beside it:
// ".NAME.lock".
func DefaultLockPath(path string) string {
	dir, base := filepath.Split(path)
	return filepath.Join(dir, "."+base+".lock")
}

// DefaultLogPath is the reference's name for a node's datagram log.
func DefaultLogPath(domain string) string { return "nodelumi-" + domain + ".log" }

// ReadyMessage is the message of the one log line a node writes when it
// serves: every worker reads its socket. Its attributes are domain, addr,
// users, workers, source_ports, start (since New) and rss. Programs that start a node
// and cannot use the readiness signal (lumi-node's $NOTIFY_SOCKET, or
// Ready) match this constant, never their own copy of the text.
const ReadyMessage = "node ready"

// Ready is closed once the node serves: every worker reads its socket. A
// node whose Run has not started, or failed before its workers did, never
// closes it.
func (n *Node) Ready() <-chan struct{} { return n.ready }

// Serving says whether the node serves: every worker reads its socket and
// Run has not begun to stop. It is what /readyz answers.
func (n *Node) Serving() bool {
	select {
	case <-n.ready:
		return !n.stopping.Load()
	default:
		return false
	}
}

// Addr returns the address the node serves on.
func (n *Node) Addr() netip.AddrPort { return n.addr }

// Domain returns the node's domain.
func (n *Node) Domain() string { return n.core.domain }

// ReopenLog moves the datagram log to a new file at its path, for log
// rotation (lumi-node does it on SIGHUP): see datalog.DataLog.Reopen.
func (n *Node) ReopenLog() error { return n.dlog.Reopen() }

// Workers returns how many sockets serve the node's address.
func (n *Node) Workers() int { return len(n.workers) }

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// Run serves until ctx is done, then closes the sockets and the log (whose
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
		closeAll(n.sources) // first: their readers send from the workers' sockets
		for _, w := range n.workers {
			w.conn.Close()
		}
		wg.Wait()
		if n.store != nil {
			// The others take this node for dead at once, rather than
			// relay locates to it until its heartbeat lapses.
			lctx, lcancel := context.WithTimeout(context.Background(), storeTimeout)
			if err := n.store.s.Leave(lctx); err != nil {
				n.log.Warn("cannot tell the store that this node leaves", "err", err)
			}
			lcancel()
			n.store.s.Close()
		}
		if cerr := n.dlog.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("node: log: %w", cerr)
		}
		close(n.stopped)
		if n.lock != nil {
			n.lock.Close()
		}
		n.log.Info("node stopped", "domain", n.core.domain)
	}()
	if n.store != nil {
		n.runStore(ctx, &wg)
	}
	failed := make(chan error, len(n.workers)+len(n.sources))
	var reading sync.WaitGroup
	reading.Add(len(n.workers))
	for _, w := range n.workers {
		wg.Go(func() {
			if err := w.serve(ctx, &wg, reading.Done); err != nil {
				failed <- err
			}
		})
	}
	for i, conn := range n.sources {
		wg.Go(func() {
			if err := n.readSource(ctx, uint16(i+1), conn); err != nil {
				failed <- err
			}
		})
	}
	reading.Wait()
	n.log.Info(ReadyMessage, "domain", n.core.domain, "addr", n.addr, "users", n.core.t.len(), "workers", len(n.workers), "source_ports", len(n.sources),
		"start", time.Since(n.started).Round(time.Millisecond), "rss", procstat.Field("VmRSS"))
	close(n.ready)
	sweep := time.NewTicker(n.sweepEvery())
	defer sweep.Stop()
	logFailed := false
	for {
		select {
		case <-ctx.Done():
			n.stopping.Store(true)
			return nil
		case err := <-failed:
			n.stopping.Store(true)
			return fmt.Errorf("node: read: %w", err)
		case now := <-sweep.C:
			sends, shrunk := n.core.sweep(n.sweepScratch, now)
			n.sendAll(n.workers[0].conn, sends)
			for _, r := range n.sweepScratch.settles {
				n.startSettle(ctx, &wg, n.workers[0].conn, r)
			}
			n.resolver.Load().Sweep(now) // its cache is bounded; this keeps it to what is live
			if shrunk {
				// A flood is over and its tables were rebuilt small:
				// collect now and give the memory back, rather than at
				// the next GC, which an idle node may not reach for long.
				debug.FreeOSMemory()
				n.log.Info("memory given back after a flood", "locates_in_flight", n.core.t.pendingLen(), "rss", procstat.Field("VmRSS"))
			}
			if err := n.dlog.Err(); err != nil && !logFailed {
				// Said once: the log writes nothing after its first error.
				logFailed = true
				n.log.Error("datagram log failed; no more lines are written to it", "err", err)
			}
		}
	}
}

// startResolve finds the node of r's domain off the request path and then
// goes on with the PL, sending from w's socket.
func (n *Node) startResolve(ctx context.Context, wg *sync.WaitGroup, w *worker, r resolveRequest, now time.Time) {
	if r.failed.IsValid() {
		// The resolver logs the mark and skips the target while another
		// is up.
		n.resolver.Load().MarkDown(r.domain, r.failed)
	}
	if ap, known, err := n.resolver.Load().Known(r.domain); known {
		// A static peer or a cached answer: go on at once, on the worker,
		// whatever the lookups in flight.
		if err == nil {
			ap = unmap(ap)
		}
		for _, s := range n.core.resolved(w.rs, r, ap, err, now) {
			w.queue(s)
		}
		return
	}
	if err := n.startLookup(r.requester); err != nil {
		n.log.Warn("DNS lookup refused; PL answered RL2", "domain", r.domain, "from", r.requester, "err", err)
		n.dnsMetrics.refused()
		n.sendAll(w.conn, n.core.resolved(newScratch(n.bg), r, netip.AddrPort{}, err, now))
		return
	}
	wg.Go(func() {
		defer n.endLookup(r.requester)
		t0 := time.Now()
		ap, err := n.resolver.Load().Resolve(ctx, r.domain)
		if ctx.Err() != nil {
			return
		}
		n.dnsMetrics.observe(err, time.Since(t0))
		if err == nil {
			ap = unmap(ap)
		}
		n.sendAll(w.conn, n.core.resolved(newScratch(n.bg), r, ap, err, time.Now()))
	})
}

// Errors of a lookup the node did not start.
var (
	errLookups       = errors.New("too many DNS lookups in flight")
	errSourceLookups = errors.New("too many DNS lookups in flight for this source")
)

// startLookup takes a lookup slot for a PL from src, or says why not.
func (n *Node) startLookup(src netip.AddrPort) error {
	if n.resolving.Add(1) > n.maxResolving {
		n.resolving.Add(-1)
		return errLookups
	}
	n.lookupsMu.Lock()
	defer n.lookupsMu.Unlock()
	if n.lookups[src] >= n.perSource {
		n.resolving.Add(-1)
		return errSourceLookups
	}
	n.lookups[src]++
	return nil
}

// endLookup gives back the slot startLookup took.
func (n *Node) endLookup(src netip.AddrPort) {
	n.lookupsMu.Lock()
	if n.lookups[src]--; n.lookups[src] <= 0 {
		delete(n.lookups, src)
	}
	n.lookupsMu.Unlock()
	n.resolving.Add(-1)
}

// sweepEvery is how often the node ends what has waited too long: often
// enough that a takeover check or a locate ends within a quarter of its
// wait of its time.
func (n *Node) sweepEvery() time.Duration {
	d := min(time.Second, n.core.ttl/4)
	if n.core.probeWait > 0 {
		d = min(d, time.Duration(n.core.probeWait)/4)
	}
	return max(d, 10*time.Millisecond)
}

// sendAll sends datagrams one by one, off the batched path: from conn, a
// listening socket, or from their source port.
func (n *Node) sendAll(conn *net.UDPConn, sends []send) {
	for _, s := range sends {
		n.dlog.Sent(s.to, s.b) // first, as worker.queue does
		n.bg.sent.Add(1)
		if s.via != 0 {
			n.sendSource(s)
			continue
		}
		if _, err := conn.WriteToUDPAddrPort(s.b, s.to); err != nil {
			n.log.Warn("send failed", "to", s.to, "datagram", shown(s.b), "err", err)
		}
	}
}

// ErrStopped is returned by the admin methods once Run has returned.
var ErrStopped = errors.New("node: stopped")

func (n *Node) isStopped() bool {
	select {
	case <-n.stopped:
		return true
	default:
		return false
	}
}

// AddUser adds name to the domain and writes the config file before it
// returns. It is safe to call from any goroutine, before and while Run
// runs; after Run has returned the admin methods return ErrStopped (Users
// returns nil).
func (n *Node) AddUser(name string) error {
	if err := checkUserName(name); err != nil {
		return err
	}
	n.adminMu.Lock()
	defer n.adminMu.Unlock()
	if n.isStopped() {
		return ErrStopped
	}
	if have, exists := n.core.t.lookup(name); exists {
		return fmt.Errorf("%w: %s", ErrUserExists, have)
	}
	next := Config{Domain: n.cfg.Domain, Users: append(slices.Clip(n.cfg.Users), name)}
	if err := next.WriteFile(n.cfgPath); err != nil {
		return err
	}
	n.cfg = next
	n.core.t.add(name)
	// Debug: the console that asked says it to the admin already.
	n.log.Debug("user added", "user", name)
	return nil
}

// RemoveUser removes name (compared without case) from the domain and
// writes the config file before it returns.
func (n *Node) RemoveUser(name string) error {
	n.adminMu.Lock()
	defer n.adminMu.Unlock()
	if n.isStopped() {
		return ErrStopped
	}
	have, exists := n.core.t.lookup(name)
	if !exists {
		return fmt.Errorf("%w: %s", ErrUnknownUser, name)
	}
	i := slices.IndexFunc(n.cfg.Users, func(u string) bool { return strings.EqualFold(u, have) })
	next := Config{Domain: n.cfg.Domain, Users: slices.Delete(slices.Clone(n.cfg.Users), i, i+1)}
	if err := next.WriteFile(n.cfgPath); err != nil {
		return err
	}
	n.cfg = next
	n.core.t.remove(have)
	n.log.Debug("user removed", "user", have)
	return nil
}

// Users lists the users and their state, sorted by name.
func (n *Node) Users() []UserInfo {
	if n.isStopped() {
		return nil
	}
	return n.core.t.list()
}
