package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"mi/cluster"
	"mi/internal/auth"
	"mi/internal/datalog"
	"mi/internal/fileerr"
	"mi/internal/opserver"
	"mi/internal/sdnotify"
	"mi/lumi"
	"mi/node"
	"mi/wire"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// peerFlag collects -peer domain=host:port entries.
type peerFlag map[string]netip.AddrPort

func (p peerFlag) String() string {
	var s []string
	for d, ap := range p {
		s = append(s, d+"="+ap.String())
	}
	return strings.Join(s, ",")
}

func (p peerFlag) Set(v string) error {
	d, ap, err := lumi.ParsePeer(v)
	if err != nil {
		return err
	}
	p[d] = ap
	return nil
}

const usageText = `usage: lumi-node [flags]

lumi-node serves one MI domain: agents register with it and locate users
of this and other domains over PLUMI (UDP). The admin console reads
commands on stdin (type help); when stdin ends the node goes on serving.
SIGINT or SIGTERM stop it cleanly; SIGHUP reopens the datagram log
(for logrotate: rename the file, then send SIGHUP).

-metrics serves /metrics (Prometheus text format), /healthz and /readyz
over HTTP; docs/operations.md lists every series. Started by systemd with
Type=notify, the node sends READY=1 once it serves (deploy/ has a unit).

Examples:
  lumi-node -config bb.cfg -listen :3344
  lumi-node -config bb.cfg -metrics 127.0.0.1:9344 -log-max 100M
  lumi-node -config bb.cfg -peer cc.org=192.0.2.7:3344 -dns 127.0.0.1:5353

Exit status: 0 after SIGINT, SIGTERM or quit; 1 it could not start or
failed; 2 bad usage.

Flags:
`

// cannotStart says why the node cannot start, once, as a person reads it
// (a config error may show an example on lines of its own), and returns
// the exit status. A program that starts the node reads the same line,
// or the exit status: the log has no copy of it.
func cannotStart(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "lumi-node: cannot start: %v\n", err)
	return exitError
}

// readSecrets reads the -auth file, if any, and warns when others than its
// owner may read it.
func readSecrets(path string, log *slog.Logger) (map[string][]byte, error) {
	if path == "" {
		return nil, nil
	}
	secrets, err := auth.ReadSecrets(path)
	if err != nil {
		return nil, fileerr.Flag("-auth", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the secrets file can be read by others than its owner", "path", path, "mode", fi.Mode().Perm().String())
	}
	log.Info("authenticated registration on", "users", len(secrets))
	return secrets, nil
}

// limitFlags defines the flags of the node's limits on fs; a negative
// value turns a limit off.
func limitFlags(fs *flag.FlagSet) *node.Limits {
	l := &node.Limits{}
	fs.Float64Var(&l.AgentRate, "agent-rate", node.DefaultAgentRate, "PLs a second one of the domain's agents may send (-1: no limit)")
	fs.Float64Var(&l.PeerRate, "peer-rate", node.DefaultPeerRate, "PLs a second one address may send for the domain's users on behalf of other domains (-1: no limit)")
	l.RepeatGap = node.DefaultRepeatGap
	fs.Var((*offDuration)(&l.RepeatGap), "repeat-gap", "the same locate (asker, target) is forwarded at most once per this `duration`; a burst costs one forward (-1: every time)")
	fs.IntVar(&l.MaxPending, "max-pending", node.DefaultMaxPending, "locates in flight at most (-1: no limit)")
	fs.IntVar(&l.MaxLookups, "max-lookups", node.DefaultMaxLookups, "DNS lookups in flight at most (-1: no limit)")
	fs.IntVar(&l.SourceLookups, "source-lookups", node.DefaultSourceLookups, "DNS lookups in flight for one agent's PLs at most (-1: no limit)")
	l.ProbeWait = node.DefaultProbeWait
	fs.Var((*offDuration)(&l.ProbeWait), "probe-wait", "the `duration` a registered agent has to answer the node's check before a PR from another address takes its registration (-1: no check, the new address wins at once)")
	fs.IntVar(&l.GuessLimit, "guess-limit", node.DefaultGuessLimit, "refused PDs, takeover PRs and stray RLs for one user from addresses other than its registered one, within -guess-window, that freeze its registration (-1: never)")
	fs.DurationVar(&l.GuessWindow, "guess-window", node.DefaultGuessWindow, "the window in which -guess-limit counts")
	l.FreezeFor = node.DefaultFreezeFor
	fs.Var((*offDuration)(&l.FreezeFor), "freeze-for", "how long a frozen registration refuses PDs and takeovers, from the last refused request (-1: never frozen)")
	return l
}

// run runs the node until ctx ends or the console says quit, and returns
// the exit status. ready, if not nil, is called with the node's address
// once it is listening.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, ready func(netip.AddrPort)) int {
	fs := flag.NewFlagSet("lumi-node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		io.WriteString(stderr, usageText)
		fs.PrintDefaults()
	}
	peers := peerFlag{}
	cfgPath := fs.String("config", "nodelumi.cfg", "config file: the domain, then its user names")
	lockPath := fs.String("lock", "", "`file` the node locks while it owns the config, so that no two nodes write it (default .NAME.lock beside the config NAME; for a config folder the node cannot write, one in a folder it can, the same for every node of the config)")
	listen := fs.String("listen", fmt.Sprintf(":%d", wire.PLUMIPort), "UDP address to serve on")
	fs.Var(peers, "peer", "static node of another domain, `domain=host:port` (repeatable)")
	dnsServer := fs.String("dns", "", "DNS server `host:port` (default: the first of /etc/resolv.conf)")
	hosts := fs.String("hosts", "", "hosts file (default "+lumi.DefaultHostsFile+"; - for none)")
	logPath := fs.String("log", "", "datagram log file (default nodelumi-<domain>.log; - for none)")
	var logMax datalog.Size
	fs.Var(&logMax, "log-max", "cap the datagram log at `size` (e.g. 100M): when full it moves to FILE.1 and a new file starts; 0 for no cap")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "sockets serving -listen, one goroutine each (SO_REUSEPORT)")
	sourcePorts := fs.Int("source-ports", node.DefaultSourcePorts, "sockets on random ports of -listen's address that PLs to other domains' nodes leave from, one drawn at random for each; only an RL that comes back to it from the node the PL went to is routed (0 or 1: none, PLs leave from -listen's port)")
	verbose := fs.Bool("v", false, "log debug events")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file` (for go tool pprof)")
	locateWait := fs.Duration("locate-wait", node.DefaultPendingTTL, "how long a forwarded PL waits for its RL; a locate that ends unanswered counts against the target's agent")
	lim := limitFlags(fs)
	dnsTimeout := fs.Duration("dns-timeout", lumi.DefaultTimeout, "wait for each DNS reply; an unanswered query is sent once more")
	downFor := fs.Duration("down-for", lumi.DefaultDownFor, "how long another domain's node that left a locate unanswered is skipped while the domain has another")
	metricsAddr := fs.String("metrics", "", "serve /metrics (Prometheus), /healthz and /readyz over HTTP on `host:port` (e.g. 127.0.0.1:9344); default off")
	storeURL := fs.String("store", "", "share the domain's registrations with its other nodes through Redis at `URL` (redis://HOST:PORT[/DB], rediss://...; docs/cluster.md); -listen must then name the address the other nodes reach; default none: a node alone")
	nodeID := fs.String("node-id", "", "with -store: this node's `name`, unique within the domain (default the host name)")
	heartbeat := fs.Duration("heartbeat", cluster.DefaultHeartbeat, "with -store: how often the node renews its entry in the store and reads the others'")
	deadAfter := fs.Duration("dead-after", cluster.DefaultDeadAfter, "with -store: a node whose entry is older is dead: its users are answered RL3 and may register elsewhere at once")
	authPath := fs.String("auth", "", "secrets `file` (lines \"user secret\"): its users must prove their secret to register or deregister (authenticated registration); default none")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lumi-node: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return exitUsage
	}
	if *workers < 1 {
		fmt.Fprintf(stderr, "lumi-node: -workers must be at least 1, not %d\n", *workers)
		return exitUsage
	}
	if *sourcePorts < 0 {
		fmt.Fprintf(stderr, "lumi-node: -source-ports must not be negative, not %d\n", *sourcePorts)
		return exitUsage
	}
	if *sourcePorts == 0 {
		*sourcePorts = -1 // none: Options takes 0 for the default
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return cannotStart(stderr, fileerr.Flag("-cpuprofile", *cpuProfile, err))
		}
		defer stop()
	}
	secrets, err := readSecrets(*authPath, log)
	if err != nil {
		return cannotStart(stderr, err)
	}
	if err := lumi.CheckHostsFile(*hosts); err != nil {
		return cannotStart(stderr, fileerr.Flag("-hosts", *hosts, err))
	}
	var ops *opserver.Server
	if *metricsAddr != "" {
		if ops, err = opserver.Listen(*metricsAddr); err != nil {
			return cannotStart(stderr, fmt.Errorf("-metrics: %w", err))
		}
		defer ops.Close()
	}
	n, err := node.New(node.Options{
		ConfigPath:  *cfgPath,
		LockPath:    *lockPath,
		Listen:      *listen,
		Peers:       peers,
		DNSServer:   *dnsServer,
		HostsFile:   *hosts,
		LogPath:     *logPath,
		LogMax:      int64(logMax),
		Logger:      log,
		Workers:     *workers,
		SourcePorts: *sourcePorts,
		PendingTTL:  *locateWait,
		Limits:      *lim,
		Secrets:     secrets,
		Cluster:     clusterConfig(*storeURL, *nodeID, *heartbeat, *deadAfter),
		DownFor:     *downFor,
		DNSTimeout:  *dnsTimeout,
	})
	if err != nil {
		return cannotStart(stderr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if ops != nil {
		log.Info("metrics serving", "addr", ops.Addr().String())
		go func() {
			if err := ops.Serve(ctx, opsHandler(n)); err != nil {
				log.Error("metrics server failed", "err", err)
			}
		}()
	}
	go notifyReady(ctx, n, ops, log)
	// SIGHUP reopens the datagram log, as logrotate expects.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
			}
			notify(log, sdnotify.Reloading())
			if err := n.ReopenLog(); err != nil {
				log.Error("cannot reopen the datagram log", "err", err)
			} else {
				log.Info("datagram log reopened")
			}
			notify(log, sdnotify.Ready)
		}
	}()
	// Stopping begins when the signal or the console's quit ends ctx.
	context.AfterFunc(ctx, func() { notify(log, sdnotify.Stopping) })
	if ready != nil {
		ready(n.Addr())
	}
	go func() {
		err := node.RunConsole(ctx, stdin, stdout, n)
		switch {
		case err == nil: // quit
			log.Info("quit from the console")
			cancel()
		case errors.Is(err, node.ErrConsoleEOF):
			log.Info("console input ended; serving on")
		case ctx.Err() == nil:
			log.Warn("console stopped", "err", err)
		}
	}()
	if err := n.Run(ctx); err != nil {
		log.Error("node failed", "err", err)
		return exitError
	}
	return exitOK
}

// notifyReady tells the service manager that the node serves, once it
// does: READY=1, with the address in X_LUMI_ADDR for programs that started
// the node on a port the system chose (sd_notify(3) reserves X_ for
// names of one's own).
// With -metrics, X_LUMI_METRICS is its address.
func notifyReady(ctx context.Context, n *node.Node, ops *opserver.Server, log *slog.Logger) {
	select {
	case <-ctx.Done():
		return
	case <-n.Ready():
	}
	state := sdnotify.Ready + "\nSTATUS=serving " + n.Domain() + " on " + n.Addr().String() + "\n" + sdnotify.AddrKey + "=" + n.Addr().String()
	if ops != nil {
		state += "\n" + sdnotify.MetricsKey + "=" + ops.Addr().String()
	}
	notify(log, state)
}

// clusterConfig is the node's store, if -store names one.
func clusterConfig(url, id string, heartbeat, deadAfter time.Duration) *cluster.Config {
	if url == "" {
		return nil
	}
	if id == "" {
		id, _ = os.Hostname()
	}
	return &cluster.Config{URL: url, NodeID: id, Heartbeat: heartbeat, DeadAfter: deadAfter}
}

// opsHandler serves the HTTP endpoints of -metrics: the node's series,
// Go's and the process's, and the node's readiness.
func opsHandler(n *node.Node) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(n.Collector(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return opserver.Handler(reg, func() error {
		if !n.Serving() {
			return errNotServing
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return n.StoreReady(ctx)
	})
}

var errNotServing = errors.New("the node's workers are not reading: it is starting or stopping")

// notify sends state to the service manager, if one listens; a failure is
// logged, as the node serves on without it.
func notify(log *slog.Logger, state string) {
	if _, err := sdnotify.Notify(state); err != nil {
		log.Warn("cannot notify the service manager", "err", err)
	}
}

// startCPUProfile profiles the process into path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// offDuration is a duration flag whose -1 (no unit) turns its limit off,
// as the flags' help says; any negative duration does too.
type offDuration time.Duration

func (d *offDuration) String() string { return time.Duration(*d).String() }

func (d *offDuration) Set(v string) error {
	if v == "-1" {
		*d = -1
		return nil
	}
	x, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("want a duration such as 500ms, or -1 for none: %q", v)
	}
	*d = offDuration(x)
	return nil
}
