package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mi/internal/fileerr"
	"mi/internal/loadgen"
	"mi/internal/procstat"
	"mi/internal/supervise"
	"mi/node"
)

var benchCommand = &command{
	name:     "bench",
	synopsis: "(-spawn LUMI-NODE | -target HOST:PORT [-target2 HOST:PORT] | -self) [-echo | -echo-addr HOST:PORT[,HOST:PORT]] [-kind pr|pl|xpl] [-c 16] [-d 2s] [-rounds 5] [-malformed F] [-json]",
	summary:  "load a LUMI node with concurrent clients and compare it with a UDP echo server",
	help: `
Each of the -c clients keeps one request outstanding for -d and counts the
answers, their latency (p50, p99) and the requests lost (no answer within
1s). Workloads (-kind):
  pr   the client registers its user again and again (PR -> RR0)
  pl   it locates a user of the same domain whose agent the bench plays:
       PL client -> node -> agent, RL agent -> node -> client, two round
       trips through the node
  xpl  it locates a user of another domain: the client's user is in -domain
       at node a, the target's in -domain2 at node b, which know each other
       as static peers; PL client -> a -> b -> agent, RL agent -> b -> a ->
       client, two round trips through each node

The node under test, one of:
  -spawn PATH   start the lumi-node binary PATH in its own process (two for
                xpl, each with -peer naming the other) on 127.0.0.1, port
                chosen by the system, with a generated config (the bench's
                users plus -users more), -hosts - and its datagram log on, in
                a new directory under -logdir; -workers N is passed on when
                not 0. bench waits (10s at most) for its readiness signal,
                READY=1 on $NOTIFY_SOCKET with its address in X_LUMI_ADDR,
                then prints the pid, the address, the users in its config,
                how long it took to be ready, and its sockets on that
                address (workers) and RSS from /proc. Every process bench
                starts is stopped (SIGTERM, then SIGKILL after 5s) and
                waited for when it ends, also on an error or SIGINT; -keep
                keeps the directory.
  -target       a node started by hand, which must have the users bench-a0..
                (and bench-b0.. for pl) in -domain; for xpl -target is node a
                with bench-a0.. in -domain and -target2 node b with bench-b0..
                in -domain2, each with the other as a peer.
  -self         a node inside this process, for a quick look only: it shares
                the load generator's scheduler, so its figures do not compare.

The baseline: -echo starts 'lumictl echo' (this executable) in its own
process on loopback, two for xpl, each waited for as a node is (READY=1
with its address); -echo-addr uses echo servers started by hand (one
address, or two for xpl). An echo server carries the same datagrams as the
node(s): pr sends the PR; pl the PL, then the RL (two echo round trips a
request); xpl the PL and the RL to echo 1, then the same two to echo 2
(four).

-rounds alternates the node and the echo, each for -d, prints every round,
then the medians of the rates and latencies of each side and the median of
the rounds' ratios node/echo. -malformed F makes F of the datagrams each
client sends malformed (0.5: one before each request): the spec's invalid
PLUMI inputs in turn, sent to the node (node a; echo 1) without waiting for
a reply; they are not counted, and their echoes are ignored. -json prints
one JSON object instead of the text.

-logdir defaults to the system's temporary directory ($TMPDIR, else /tmp).
On the machine of BENCHMARKS.md /tmp is on a disk (ext4), not tmpfs; bench
prints the file system of the directory it uses and warns if it is tmpfs,
where a datagram log costs less than on a disk.

Exit status: 0 only for a clean run; 1 a round where the node or the echo
answered no request, answered one wrongly, or left more than 1% of the
requests sent unanswered (lost: a loss that rare is allowed, as UDP may
drop a datagram even on loopback); each reason is said on stderr; also 1
for a server that would not start or stopped, or SIGINT; 2 bad usage.

Examples:
  go build -o /tmp/lumi-node ./cmd/lumi-node
  lumictl bench -spawn /tmp/lumi-node -echo -kind pr -c 16 -rounds 5
  lumictl bench -spawn /tmp/lumi-node -echo -kind pl -malformed 0.5
  lumictl bench -spawn /tmp/lumi-node -echo -kind xpl -d 5s -json
  lumictl bench -spawn /tmp/lumi-node -users 1000000 -rounds 1 -d 1s
  lumictl bench -target 127.0.0.1:3344 -echo -kind pr
  lumictl bench -target 127.0.0.1:3344 -target2 127.0.0.1:3345 -domain a.test -domain2 b.test -kind xpl
  lumictl bench -target 127.0.0.1:3344 -target2 127.0.0.1:3345 -kind pl   # two nodes of bench.test on one -store: relayed PLs
  lumictl bench -self -echo -kind pr -rounds 1`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var o benchOptions
		fs.StringVar(&o.spawn, "spawn", "", "start the lumi-node binary at `path` in its own process(es)")
		fs.StringVar(&o.target, "target", "", "`host:port` of a running node (node a for xpl)")
		fs.StringVar(&o.target2, "target2", "", "with -target and -kind xpl: `host:port` of node b; with -kind pl, another node of -domain sharing a store with node a (-store), where the target agents register, so that every PL is relayed between the two")
		fs.BoolVar(&o.self, "self", false, "start a node in this process (not a fair comparison)")
		fs.BoolVar(&o.echo, "echo", false, "also measure a UDP echo server in its own process and print the ratio")
		fs.StringVar(&o.echoAddr, "echo-addr", "", "echo server(s) started by hand instead of starting them, `host:port`, two comma separated for xpl (implies -echo)")
		fs.IntVar(&o.clients, "c", 16, "concurrent clients")
		fs.DurationVar(&o.duration, "d", 2*time.Second, "how long each side runs in each round")
		fs.IntVar(&o.rounds, "rounds", 5, "rounds, each running the node then the echo for -d")
		fs.StringVar(&o.kind, "kind", "pr", "workload: pr, pl or xpl")
		fs.StringVar(&o.domain, "domain", "bench.test", "the clients' domain (node a's)")
		fs.StringVar(&o.domain2, "domain2", "bench2.test", "xpl: the targets' domain (node b's)")
		fs.IntVar(&o.users, "users", 0, "with -spawn or -self: this many more users in each config")
		fs.StringVar(&o.log, "log", "", "with -self: the node's datagram log (default a temporary file); with -self or -spawn, - for none")
		fs.StringVar(&o.logdir, "logdir", "", "with -spawn or -echo: the `directory` under which bench makes its own for configs, datagram logs and output (default the system's temporary directory)")
		fs.BoolVar(&o.keep, "keep", false, "keep bench's directory (configs, datagram logs, the servers' output)")
		fs.IntVar(&o.workers, "workers", 0, "with -spawn: passed to lumi-node as -workers when not 0")
		fs.Float64Var(&o.malformed, "malformed", 0, "fraction of the datagrams sent that are malformed, 0 <= F < 1")
		fs.BoolVar(&o.json, "json", false, "print the results as one JSON object")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			return benchMain(e, o)
		}
	},
}

type benchOptions struct {
	target, target2, spawn, echoAddr, logdir string
	self, echo, keep, json                   bool
	clients, users, rounds, workers          int
	duration                                 time.Duration
	kind, domain, domain2, log               string
	malformed                                float64
}

// check validates the options and returns the workload.
func (o *benchOptions) check() (loadgen.Kind, error) {
	kind := loadgen.Kind(o.kind)
	modes := 0
	for _, set := range []bool{o.spawn != "", o.target != "", o.self} {
		if set {
			modes++
		}
	}
	switch {
	case !slices.Contains(loadgen.Kinds, kind):
		return "", usagef("-kind must be pr, pl or xpl, not %q", o.kind)
	case modes != 1:
		return "", usagef("give one of -spawn, -target and -self")
	case o.clients <= 0 || o.duration <= 0 || o.rounds <= 0:
		return "", usagef("-c, -d and -rounds must be positive")
	case o.users < 0 || o.workers < 0:
		return "", usagef("-users and -workers must not be negative")
	case o.malformed < 0 || o.malformed >= 1:
		return "", usagef("-malformed must be at least 0 and less than 1, not %v", o.malformed)
	case kind == loadgen.KindXPL && o.self:
		return "", usagef("-kind xpl needs two nodes: -spawn, or -target and -target2")
	case kind == loadgen.KindXPL && o.target != "" && o.target2 == "":
		return "", usagef("-kind xpl with -target needs -target2 (node b)")
	case o.target2 != "" && (kind == loadgen.KindPR || o.target == ""):
		return "", usagef("-target2 goes with -target and -kind xpl or pl")
	case kind == loadgen.KindXPL && strings.EqualFold(o.domain, o.domain2):
		return "", usagef("-kind xpl needs two domains: -domain and -domain2 are both %q", o.domain)
	case o.workers != 0 && o.spawn == "":
		return "", usagef("-workers goes with -spawn")
	case o.users != 0 && o.target != "":
		return "", usagef("-users goes with -spawn or -self")
	case o.log != "" && (o.target != "" || o.spawn != "" && o.log != "-"):
		return "", usagef("-log goes with -self; with -spawn only -log - (no datagram log)")
	}
	for _, a := range []struct{ flag, v string }{{"-target", o.target}, {"-target2", o.target2}} {
		if a.v == "" {
			continue
		}
		if _, err := netip.ParseAddrPort(a.v); err != nil {
			return "", usagef("%s: %v", a.flag, err)
		}
	}
	if o.echoAddr != "" {
		o.echo = true
		addrs := strings.Split(o.echoAddr, ",")
		if len(addrs) > 2 || len(addrs) == 2 && kind != loadgen.KindXPL {
			return "", usagef("-echo-addr: one address, or two for xpl")
		}
		for _, a := range addrs {
			if _, err := netip.ParseAddrPort(a); err != nil {
				return "", usagef("-echo-addr: %v", err)
			}
		}
	}
	return kind, nil
}

// server is a node or an echo server the bench loads.
type server struct {
	role    string // "node a", "node b", "echo 1", "echo 2"
	addr    netip.AddrPort
	how     string // "own process", "in-process", "started by hand"
	path    string // the binary, when the bench started it
	proc    *supervise.Process
	logPath string // a node's datagram log, when the bench chose it
	info    string // what the server said about itself when it started
	rss     [2]string
}

// bench is one run of the command.
type bench struct {
	e       *env
	o       benchOptions
	kind    loadgen.Kind
	info    io.Writer // where the text that is not results goes
	dir     string    // bench's own directory, if it made one
	nodes   []*server
	echoes  []*server
	stopFns []func()
}

func benchMain(e *env, o benchOptions) error {
	kind, err := o.check()
	if err != nil {
		return err
	}
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	b := &bench{e: e, o: o, kind: kind, info: e.stdout}
	if o.json {
		b.info = e.stderr
	}
	defer b.cleanup()
	if err := b.startNodes(ctx); err != nil {
		return b.failed(ctx, err)
	}
	if o.echo {
		if err := b.startEchoes(ctx); err != nil {
			return b.failed(ctx, err)
		}
	}
	return b.runRounds(ctx)
}

// failed turns an error into the interrupted message when the bench was
// interrupted.
func (b *bench) failed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		fmt.Fprintf(b.e.stderr, "lumictl bench: interrupted\n")
		return errFailed
	}
	return err
}

// workDir returns bench's own directory, making it the first time.
func (b *bench) workDir() (string, error) {
	if b.dir != "" {
		return b.dir, nil
	}
	dir, err := os.MkdirTemp(b.o.logdir, "lumictl-bench-")
	if err != nil {
		return "", logdirError(err, b.o.logdir)
	}
	b.dir = dir
	fs := procstat.FSType(dir)
	note := ""
	switch fs {
	case "":
		fs = "file system unknown"
	case "tmpfs", "ramfs":
		note = " (in memory, not a disk: -logdir for a directory on a disk)"
	}
	fmt.Fprintf(b.info, "files: %s (%s)%s\n", dir, fs, note)
	return dir, nil
}

// logdirError is err, os.MkdirTemp's in dir, named after -logdir when the
// flag gave dir: a failure to make bench's directory in it is said as
// dir's ("-logdir /ro: permission denied"), not as that of a pattern the
// user never wrote.
func logdirError(err error, dir string) error {
	if dir == "" {
		return err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && (pe.Path == dir || filepath.Dir(pe.Path) == filepath.Clean(dir)) {
		err = &fs.PathError{Op: pe.Op, Path: dir, Err: pe.Err}
	}
	return fileerr.Flag("-logdir", dir, err)
}

// spawnError is err, supervise.Start's for the binary at path, named after
// -spawn when the binary could not be run at all ("-spawn PATH: no such
// file or directory"); a binary that ran and failed is said as before.
func spawnError(err error, path string) error {
	var pe *fs.PathError
	var ee *exec.Error
	if errors.As(err, &pe) && pe.Path == path || errors.As(err, &ee) && ee.Name == path {
		return fileerr.Flag("-spawn", path, err)
	}
	return err
}

// cleanup stops every server bench started and removes its directory.
func (b *bench) cleanup() {
	var procs []*supervise.Process
	for _, s := range append(slices.Clone(b.nodes), b.echoes...) {
		if s.proc != nil {
			procs = append(procs, s.proc)
		}
	}
	supervise.StopAll(procs...)
	for _, f := range slices.Backward(b.stopFns) {
		f()
	}
	if b.dir != "" {
		if b.o.keep {
			fmt.Fprintf(b.info, "kept %s\n", b.dir)
		} else {
			os.RemoveAll(b.dir)
		}
	}
}

func (b *bench) startNodes(ctx context.Context) error {
	switch {
	case b.o.target != "":
		b.nodes = append(b.nodes, &server{role: "node a", addr: netip.MustParseAddrPort(b.o.target), how: "started by hand"})
		if b.o.target2 != "" {
			b.nodes = append(b.nodes, &server{role: "node b", addr: netip.MustParseAddrPort(b.o.target2), how: "started by hand"})
		}
		for _, s := range b.nodes {
			fmt.Fprintf(b.info, "%s: at %v, started by hand\n", s.role, s.addr)
		}
		return nil
	case b.o.self:
		return b.startSelf(ctx)
	}
	if b.kind != loadgen.KindXPL {
		s, err := b.spawnNode(ctx, "a", b.o.domain, loadgen.Users(b.kind, b.o.clients), "127.0.0.1:0", nil)
		if err != nil {
			return err
		}
		b.nodes = append(b.nodes, s)
		b.printNodes()
		return nil
	}
	// Each node names the other as its peer: b's port is chosen first, a
	// is started with it, then b on it with a's address. Another process
	// may take the port in between; then both start again.
	var err error
	for range 3 {
		var bAddr netip.AddrPort
		if bAddr, err = freeUDPPort(); err != nil {
			return err
		}
		var a, bn *server
		a, err = b.spawnNode(ctx, "a", b.o.domain, loadgen.Users(b.kind, b.o.clients), "127.0.0.1:0", []string{b.o.domain2 + "=" + bAddr.String()})
		if err != nil {
			return err
		}
		b.nodes = append(b.nodes, a)
		bn, err = b.spawnNode(ctx, "b", b.o.domain2, loadgen.Users2(b.kind, b.o.clients), bAddr.String(), []string{b.o.domain + "=" + a.addr.String()})
		if err == nil {
			b.nodes = append(b.nodes, bn)
			b.printNodes()
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		fmt.Fprintf(b.e.stderr, "lumictl bench: %v; starting both nodes again\n", err)
		a.proc.Stop()
		b.nodes = nil
	}
	return err
}

func (b *bench) printNodes() {
	for _, s := range b.nodes {
		fmt.Fprintf(b.info, "%s: %s in its own process, pid %d, at %v; %s\n", s.role, s.path, s.proc.Pid(), s.addr, s.info)
	}
}

// spawnNode starts lumi-node as node name of domain with users (plus
// -users more) on listen, and waits until it says it is ready.
func (b *bench) spawnNode(ctx context.Context, name, domain string, users []string, listen string, peers []string) (*server, error) {
	dir, err := b.workDir()
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "node-"+name+".cfg")
	if err := (node.Config{Domain: domain, Users: loadgen.ConfigUsers(users, b.o.users)}).WriteFile(cfg); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "node-"+name+".log")
	if b.o.log == "-" {
		logPath = "-"
	}
	// The per-source rate limits are off: a few load clients stand for
	// many agents, and the bench measures throughput, not the limits.
	args := []string{"-config", cfg, "-listen", listen, "-hosts", "-", "-log", logPath, "-agent-rate=-1", "-peer-rate=-1"}
	for _, p := range peers {
		args = append(args, "-peer", p)
	}
	if b.o.workers != 0 {
		args = append(args, "-workers", strconv.Itoa(b.o.workers))
	}
	// Its console is kept open: on the null device the node would serve
	// on all the same, but log that its console input ended.
	p, err := supervise.Start(ctx, supervise.Config{Path: b.o.spawn, Args: args, OutputFile: filepath.Join(dir, "node-"+name+".out"), Stdin: true})
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", name, spawnError(err, b.o.spawn))
	}
	addr, err := p.Ready().Addr()
	if err != nil {
		p.Stop()
		return nil, fmt.Errorf("node %s: %w", name, err)
	}
	s := &server{role: "node " + name, addr: addr, how: "own process", path: b.o.spawn, proc: p}
	if logPath != "-" {
		s.logPath = logPath
	}
	// What bench knows of the node, or reads of it in /proc.
	s.info = fmt.Sprintf("%s, %d users in its config, ready in %v; workers %d; rss %s",
		domain, len(users)+b.o.users, p.ReadyAfter().Round(time.Millisecond),
		procstat.UDPSockets(p.Pid(), addr.Port()), procstat.FieldOf(p.Pid(), "VmRSS"))
	return s, nil
}

// startSelf runs a node in this process on loopback with a generated
// config, and waits until it serves.
func (b *bench) startSelf(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "lumictl-bench-self-")
	if err != nil {
		return err
	}
	b.stopFns = append(b.stopFns, func() { os.RemoveAll(dir) })
	users := loadgen.Users(b.kind, b.o.clients)
	cfgPath := filepath.Join(dir, "nodelumi.cfg")
	if err := (node.Config{Domain: b.o.domain, Users: loadgen.ConfigUsers(users, b.o.users)}).WriteFile(cfgPath); err != nil {
		return err
	}
	logPath := b.o.log
	if logPath == "" {
		logPath = filepath.Join(dir, "nodelumi.log")
	}
	t0 := time.Now()
	n, err := node.New(node.Options{ConfigPath: cfgPath, Listen: "127.0.0.1:0", LogPath: logPath, HostsFile: "-", DNSServer: "127.0.0.1:1"})
	load := time.Since(t0)
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var runErr error
	go func() {
		runErr = n.Run(runCtx)
		close(done)
	}()
	ready := false
	b.stopFns = append(b.stopFns, func() {
		cancel()
		<-done
		if runErr != nil && ready { // else returned below
			fmt.Fprintf(b.e.stderr, "lumictl bench: node: %v\n", runErr)
		}
	})
	select {
	case <-n.Ready():
		ready = true
	case <-done:
		return fmt.Errorf("node a: %w", runErr)
	case <-ctx.Done():
		return ctx.Err()
	}
	s := &server{role: "node a", addr: n.Addr(), how: "in-process"}
	if logPath != "-" {
		s.logPath = logPath
	}
	b.nodes = append(b.nodes, s)
	fmt.Fprintf(b.info, "node a: in-process node (shares this process's scheduler; not a fair comparison) at %v\n", n.Addr())
	fmt.Fprintf(b.info, "config: %d users loaded in %v; RSS %s (peak %s)\n",
		len(users)+b.o.users, load.Round(time.Millisecond), procstat.Field("VmRSS"), procstat.Field("VmHWM"))
	return nil
}

func (b *bench) startEchoes(ctx context.Context) error {
	n := 1
	if b.kind == loadgen.KindXPL {
		n = 2
	}
	if b.o.echoAddr != "" {
		for i, a := range strings.Split(b.o.echoAddr, ",") {
			b.echoes = append(b.echoes, &server{role: fmt.Sprintf("echo %d", i+1), addr: netip.MustParseAddrPort(a), how: "started by hand"})
		}
		for _, s := range b.echoes {
			fmt.Fprintf(b.info, "%s: at %v, started by hand\n", s.role, s.addr)
		}
		if len(b.echoes) < n {
			fmt.Fprintf(b.info, "echo 2: the same server as echo 1\n")
		}
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := b.workDir()
	if err != nil {
		return err
	}
	for i := range n {
		name := strconv.Itoa(i + 1)
		p, err := supervise.Start(ctx, supervise.Config{Path: exe, Args: []string{"echo", "-listen", "127.0.0.1:0"}, OutputFile: filepath.Join(dir, "echo-"+name+".out")})
		if err != nil {
			return fmt.Errorf("echo %s: %w", name, err)
		}
		s := &server{role: "echo " + name, how: "own process", path: exe, proc: p}
		b.echoes = append(b.echoes, s)
		if s.addr, err = p.Ready().Addr(); err != nil {
			return fmt.Errorf("echo %s: %w", name, err)
		}
		fmt.Fprintf(b.info, "%s: lumictl echo in its own process, pid %d, at %v\n", s.role, p.Pid(), s.addr)
	}
	return nil
}

// workload says what one request is on each side.
func (b *bench) workload() string {
	var node, echo string
	switch b.kind {
	case loadgen.KindPR:
		node, echo = "PR -> RR0", "the PR echoed"
	case loadgen.KindPL:
		node, echo = "PL client -> node -> agent, RL agent -> node -> client", "the PL, then the RL echoed (2 round trips)"
	case loadgen.KindXPL:
		node, echo = "PL client -> a -> b -> agent, RL agent -> b -> a -> client", "the PL and the RL echoed by echo 1, then by echo 2 (4 round trips)"
	}
	s := fmt.Sprintf("%s c=%d d=%v rounds=%d malformed=%v: a request is %s", b.kind, b.o.clients, b.o.duration, b.o.rounds, b.o.malformed, node)
	if b.o.echo {
		s += "; on the echo " + echo
	}
	return s
}

func (b *bench) runRounds(ctx context.Context) error {
	cfg := loadgen.Config{Kind: b.kind, Domain: b.o.domain, Clients: b.o.clients, Duration: b.o.duration, Malformed: b.o.malformed}
	cfg.Target = b.nodes[0].addr
	switch {
	case b.kind == loadgen.KindXPL:
		cfg.Target2, cfg.Domain2 = b.nodes[1].addr, b.o.domain2
	case len(b.nodes) > 1: // pl relayed between two nodes of one domain
		cfg.Target2 = b.nodes[1].addr
	}
	ng, err := loadgen.New(cfg)
	if err != nil {
		return b.failed(ctx, err)
	}
	defer ng.Close()
	var eg *loadgen.Gen
	if b.o.echo {
		ecfg := cfg
		ecfg.Echo = true
		ecfg.Target = b.echoes[0].addr
		if b.kind == loadgen.KindXPL {
			ecfg.Target2 = b.echoes[len(b.echoes)-1].addr
		}
		if eg, err = loadgen.New(ecfg); err != nil {
			return b.failed(ctx, err)
		}
		defer eg.Close()
	}
	if !b.o.json {
		fmt.Fprintf(b.e.stdout, "%s\n", b.workload())
	}
	var rounds []loadgen.Round
	for i := range b.o.rounds {
		var r loadgen.Round
		r.Server = ng.Run(ctx, b.o.duration)
		if ctx.Err() == nil && eg != nil {
			r.Echo = eg.Run(ctx, b.o.duration)
		}
		if ctx.Err() != nil {
			break
		}
		rounds = append(rounds, r)
		if !b.o.json {
			fmt.Fprintf(b.e.stdout, "round %d/%d node: %v\n", i+1, b.o.rounds, r.Server)
			if eg != nil {
				fmt.Fprintf(b.e.stdout, "round %d/%d echo: %v  ratio %.2f\n", i+1, b.o.rounds, r.Echo, r.Ratio())
			}
		}
	}
	b.measureServers()
	failures := b.failures(rounds)
	if ctx.Err() != nil {
		failures = append(failures, fmt.Sprintf("interrupted after %d of %d rounds", len(rounds), b.o.rounds))
	}
	failures = append(failures, b.exited(ctx)...)
	if b.o.json {
		b.printJSON(rounds, failures)
	} else if len(rounds) > 0 {
		b.printMedians(rounds)
	}
	for _, f := range failures {
		fmt.Fprintf(b.e.stderr, "lumictl bench: %s\n", f)
	}
	if len(failures) > 0 {
		return errFailed
	}
	return nil
}

// failures lists the rounds where a side answered nothing or wrongly, or
// lost more than loadgen.LossAllowed percent of its requests.
func (b *bench) failures(rounds []loadgen.Round) []string {
	var f []string
	for i, r := range rounds {
		sides := []struct {
			name string
			res  loadgen.Result
		}{{"node", r.Server}}
		if b.o.echo {
			sides = append(sides, struct {
				name string
				res  loadgen.Result
			}{"echo", r.Echo})
		}
		for _, s := range sides {
			if s.res.Replies == 0 {
				f = append(f, fmt.Sprintf("round %d: the %s answered no request (%d sent, %d lost)", i+1, s.name, s.res.Requests, s.res.Lost))
			}
			if s.res.Bad > 0 {
				f = append(f, fmt.Sprintf("round %d: the %s answered %d requests wrongly (not the expected reply)", i+1, s.name, s.res.Bad))
			}
			if s.res.TooLossy() {
				f = append(f, fmt.Sprintf("round %d: the %s left %d of %d requests unanswered (lost), more than the %d%% allowed",
					i+1, s.name, s.res.Lost, s.res.Requests, loadgen.LossAllowed))
			}
		}
	}
	return f
}

// exited lists the servers bench started that stopped before it asked.
func (b *bench) exited(ctx context.Context) []string {
	if ctx.Err() != nil {
		return nil // a SIGINT from the terminal reaches them too
	}
	var f []string
	for _, s := range append(slices.Clone(b.nodes), b.echoes...) {
		if s.proc != nil && s.proc.Exited() {
			msg := fmt.Sprintf("%s (pid %d) stopped during the run: %v", s.role, s.proc.Pid(), s.proc.Err())
			if out := s.proc.Output(5); len(out) > 0 {
				msg += "; its last output:\n\t" + strings.Join(out, "\n\t")
			}
			f = append(f, msg)
		}
	}
	return f
}

// measureServers reads the started servers' memory while they still run.
func (b *bench) measureServers() {
	for _, s := range append(slices.Clone(b.nodes), b.echoes...) {
		if s.proc != nil && !s.proc.Exited() {
			s.rss = [2]string{procstat.FieldOf(s.proc.Pid(), "VmRSS"), procstat.FieldOf(s.proc.Pid(), "VmHWM")}
		}
	}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// summaryText is a side's medians as the text report gives them.
func summaryText(m loadgen.Summary) string {
	return fmt.Sprintf("%.0f req/s  p50 %v  p99 %v", m.PerSecond, m.P50.Round(time.Microsecond), m.P99.Round(time.Microsecond))
}

func (b *bench) printMedians(rounds []loadgen.Round) {
	w := b.e.stdout
	fmt.Fprintf(w, "median of %d rounds node: %s\n", len(rounds), summaryText(loadgen.Summarize(loadgen.Servers(rounds))))
	if b.o.echo {
		fmt.Fprintf(w, "median of %d rounds echo: %s\n", len(rounds), summaryText(loadgen.Summarize(loadgen.Echoes(rounds))))
		rv := loadgen.Ratios(rounds)
		var ratios []string
		for _, x := range rv {
			ratios = append(ratios, fmt.Sprintf("%.2f", x))
		}
		note := ""
		if b.o.self {
			note = "; in-process node: not a fair comparison"
		}
		fmt.Fprintf(w, "median ratio node/echo: %.2f (rounds %s%s)\n", loadgen.Median(rv), strings.Join(ratios, " "), note)
		fmt.Fprintf(w, "median p50 difference node-echo: %v (each round's node p50 minus its echo's)\n",
			loadgen.P50Diff(rounds).Round(time.Microsecond))
	}
	for _, s := range b.nodes {
		var parts []string
		if s.rss[0] != "" {
			parts = append(parts, fmt.Sprintf("RSS %s (peak %s)", s.rss[0], s.rss[1]))
		} else if s.how == "in-process" {
			parts = append(parts, fmt.Sprintf("RSS of this process %s (peak %s)", procstat.Field("VmRSS"), procstat.Field("VmHWM")))
		}
		if s.logPath != "" {
			if fi, err := os.Stat(s.logPath); err == nil {
				parts = append(parts, fmt.Sprintf("datagram log %.1f MB", float64(fi.Size())/1e6))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "after the run: %s %s\n", s.role, strings.Join(parts, ", "))
		}
	}
}

// The JSON form of the results.
type (
	benchJSON struct {
		Config   benchJSONConfig  `json:"config"`
		Servers  []benchJSONServ  `json:"servers"`
		Rounds   []benchJSONRound `json:"rounds"`
		Median   benchJSONMedian  `json:"median"`
		OK       bool             `json:"ok"`
		Failures []string         `json:"failures,omitempty"`
	}
	benchJSONConfig struct {
		Kind      string  `json:"kind"`
		Mode      string  `json:"mode"` // spawn, target or self
		InProcess bool    `json:"in_process"`
		Clients   int     `json:"clients"`
		Duration  float64 `json:"duration_s"`
		Rounds    int     `json:"rounds"`
		Malformed float64 `json:"malformed"`
		Domain    string  `json:"domain"`
		Domain2   string  `json:"domain2,omitempty"`
		Users     int     `json:"extra_users"`
		Workers   int     `json:"workers,omitempty"`
		Echo      bool    `json:"echo"`
		Dir       string  `json:"dir,omitempty"`
		DirFS     string  `json:"dir_fs,omitempty"`
	}
	benchJSONServ struct {
		Role       string `json:"role"`
		Addr       string `json:"addr"`
		How        string `json:"how"`
		Path       string `json:"path,omitempty"`
		PID        int    `json:"pid,omitempty"`
		Info       string `json:"info,omitempty"`
		RSS        string `json:"rss,omitempty"`
		PeakRSS    string `json:"peak_rss,omitempty"`
		DatagramLg *int64 `json:"datagram_log_bytes,omitempty"`
	}
	benchJSONResult struct {
		PerSecond float64 `json:"req_per_s"`
		P50       float64 `json:"p50_us"`
		P99       float64 `json:"p99_us"`
		Sent      int64   `json:"sent"`
		Answered  int64   `json:"answered"`
		Lost      int64   `json:"lost"`
		Bad       int64   `json:"bad"`
		Malformed int64   `json:"malformed"`
		Ignored   int64   `json:"ignored"`
		Elapsed   float64 `json:"elapsed_s"`
	}
	benchJSONRound struct {
		Node  benchJSONResult  `json:"node"`
		Echo  *benchJSONResult `json:"echo,omitempty"`
		Ratio *float64         `json:"ratio,omitempty"`
	}
	benchJSONSummary struct {
		PerSecond float64 `json:"req_per_s"`
		P50       float64 `json:"p50_us"`
		P99       float64 `json:"p99_us"`
	}
	benchJSONMedian struct {
		Node  benchJSONSummary  `json:"node"`
		Echo  *benchJSONSummary `json:"echo,omitempty"`
		Ratio *float64          `json:"ratio,omitempty"`
		// P50Diff is the median of the rounds' node p50 minus echo p50.
		P50Diff *float64 `json:"p50_diff_us,omitempty"`
	}
)

func jsonResult(r loadgen.Result) benchJSONResult {
	return benchJSONResult{r.PerSecond(), us(r.P50), us(r.P99), r.Requests, r.Replies, r.Lost, r.Bad, r.Malformed, r.Ignored, r.Elapsed.Seconds()}
}

func jsonSummary(m loadgen.Summary) benchJSONSummary {
	return benchJSONSummary{m.PerSecond, us(m.P50), us(m.P99)}
}

func (b *bench) printJSON(rounds []loadgen.Round, failures []string) {
	mode := "target"
	switch {
	case b.o.spawn != "":
		mode = "spawn"
	case b.o.self:
		mode = "self"
	}
	out := benchJSON{
		Config: benchJSONConfig{
			Kind: string(b.kind), Mode: mode, InProcess: b.o.self, Clients: b.o.clients,
			Duration: b.o.duration.Seconds(), Rounds: b.o.rounds, Malformed: b.o.malformed,
			Domain: b.o.domain, Users: b.o.users, Workers: b.o.workers, Echo: b.o.echo, Dir: b.dir,
		},
		Rounds:   []benchJSONRound{},
		OK:       len(failures) == 0,
		Failures: failures,
	}
	if b.kind == loadgen.KindXPL {
		out.Config.Domain2 = b.o.domain2
	}
	if b.dir != "" {
		out.Config.DirFS = procstat.FSType(b.dir)
	}
	for _, s := range append(slices.Clone(b.nodes), b.echoes...) {
		js := benchJSONServ{Role: s.role, Addr: s.addr.String(), How: s.how, Path: s.path, Info: s.info, RSS: s.rss[0], PeakRSS: s.rss[1]}
		if s.proc != nil {
			js.PID = s.proc.Pid()
		}
		if s.logPath != "" {
			if fi, err := os.Stat(s.logPath); err == nil {
				n := fi.Size()
				js.DatagramLg = &n
			}
		}
		out.Servers = append(out.Servers, js)
	}
	for _, r := range rounds {
		jr := benchJSONRound{Node: jsonResult(r.Server)}
		if b.o.echo {
			e, x := jsonResult(r.Echo), r.Ratio()
			jr.Echo, jr.Ratio = &e, &x
		}
		out.Rounds = append(out.Rounds, jr)
	}
	out.Median.Node = jsonSummary(loadgen.Summarize(loadgen.Servers(rounds)))
	if b.o.echo {
		m, x, d := jsonSummary(loadgen.Summarize(loadgen.Echoes(rounds))), loadgen.Median(loadgen.Ratios(rounds)), us(loadgen.P50Diff(rounds))
		out.Median.Echo, out.Median.Ratio, out.Median.P50Diff = &m, &x, &d
	}
	enc := json.NewEncoder(b.e.stdout)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

// freeUDPPort returns a loopback UDP port that was free a moment ago.
func freeUDPPort() (netip.AddrPort, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return netip.AddrPort{}, err
	}
	defer c.Close()
	ap := c.LocalAddr().(*net.UDPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}
