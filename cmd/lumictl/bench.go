package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"mi/internal/procstat"

	"mi/internal/loadgen"
	"mi/node"
)

var benchCommand = &command{
	name:     "bench",
	synopsis: "(-target HOST:PORT | -self) [-echo] [-c 16] [-d 5s] [-kind pr|pl]",
	summary:  "load a LUMI node with concurrent clients and print requests/s and latency",
	help: `
Each of the -c clients keeps one request outstanding for -d and counts the
answers, their latency (p50, p99) and the requests lost (no answer within
1s). -kind pr registers the client's user again and again; -kind pl locates
a user of the same domain whose agent the bench plays, so one request is
two round trips through the node.

-target loads a running node, which must have the users bench-a0.. (and
bench-b0.. for pl) in -domain. -self starts a node in this process on
loopback with a generated config (plus -users more users) and its datagram
log on, and prints how long the config took to load and the process's RSS.
-echo also loads a minimal UDP echo server on loopback with the same
datagrams and prints the node's rate as a fraction of the echo's.

Examples:
  lumictl bench -self -echo -kind pr
  lumictl bench -self -echo -kind pl -c 16 -d 5s
  lumictl bench -self -users 1000000 -d 1s`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var o benchOptions
		fs.StringVar(&o.target, "target", "", "`host:port` of the node to load")
		fs.BoolVar(&o.self, "self", false, "start a node in this process on loopback")
		fs.BoolVar(&o.echo, "echo", false, "also measure a UDP echo server and print the ratio")
		fs.IntVar(&o.clients, "c", 16, "concurrent clients")
		fs.DurationVar(&o.duration, "d", 5*time.Second, "how long to run")
		fs.StringVar(&o.kind, "kind", "pr", "workload: pr or pl")
		fs.StringVar(&o.domain, "domain", "bench.test", "the users' domain")
		fs.IntVar(&o.users, "users", 0, "with -self: this many more users in the config")
		fs.StringVar(&o.log, "log", "", "with -self: the node's datagram log (default a temporary file; - for none)")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			return benchMain(e, o)
		}
	},
}

type benchOptions struct {
	target            string
	self, echo        bool
	clients, users    int
	duration          time.Duration
	kind, domain, log string
}

func benchMain(e *env, o benchOptions) error {
	kind := loadgen.Kind(o.kind)
	switch {
	case kind != loadgen.KindPR && kind != loadgen.KindPL:
		return usagef("-kind must be pr or pl, not %q", o.kind)
	case o.self == (o.target != ""):
		return usagef("give either -target or -self")
	case o.clients <= 0 || o.duration <= 0 || o.users < 0:
		return usagef("-c, -d and -users must be positive")
	}
	ctx := context.Background()
	var target netip.AddrPort
	if o.self {
		ap, stop, err := startSelf(e, o, kind)
		if err != nil {
			return err
		}
		defer stop()
		target = ap
	} else {
		ap, err := netip.ParseAddrPort(o.target)
		if err != nil {
			return usagef("-target: %v", err)
		}
		target = ap
	}
	cfg := loadgen.Config{Target: target, Kind: kind, Domain: o.domain, Clients: o.clients, Duration: o.duration}
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "node %s c=%d d=%v: %v\n", kind, o.clients, o.duration, res)
	if !o.echo {
		return nil
	}
	s, err := loadgen.StartEcho("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer s.Close()
	cfg.Target, cfg.Echo = s.Addr(), true
	er, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "echo %s c=%d d=%v: %v\n", kind, o.clients, o.duration, er)
	if er.PerSecond() > 0 {
		fmt.Fprintf(e.stdout, "ratio node/echo: %.2f\n", res.PerSecond()/er.PerSecond())
	}
	return nil
}

// startSelf runs a node on loopback with a generated config and returns
// its address and a function that stops it.
func startSelf(e *env, o benchOptions, kind loadgen.Kind) (netip.AddrPort, func(), error) {
	dir, err := os.MkdirTemp("", "lumictl-bench")
	if err != nil {
		return netip.AddrPort{}, nil, err
	}
	users := loadgen.Users(kind, o.clients)
	for i := range o.users {
		users = append(users, "user"+strconv.Itoa(i))
	}
	cfgPath := filepath.Join(dir, "nodelumi.cfg")
	if err := (node.Config{Domain: o.domain, Users: users}).WriteFile(cfgPath); err != nil {
		os.RemoveAll(dir)
		return netip.AddrPort{}, nil, err
	}
	users = nil
	logPath := o.log
	if logPath == "" {
		logPath = filepath.Join(dir, "nodelumi.log")
	}
	t0 := time.Now()
	n, err := node.New(node.Options{ConfigPath: cfgPath, Listen: "127.0.0.1:0", LogPath: logPath, HostsFile: "-", DNSServer: "127.0.0.1:1"})
	load := time.Since(t0)
	if err != nil {
		os.RemoveAll(dir)
		return netip.AddrPort{}, nil, err
	}
	fmt.Fprintf(e.stdout, "config: %d users loaded in %v; RSS %s (peak %s)\n",
		o.users+len(loadgen.Users(kind, o.clients)), load.Round(time.Millisecond), procstat.Field("VmRSS"), procstat.Field("VmHWM"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintf(e.stderr, "lumictl bench: node: %v\n", err)
		}
		fmt.Fprintf(e.stdout, "after the run: RSS %s (peak %s)\n", procstat.Field("VmRSS"), procstat.Field("VmHWM"))
		os.RemoveAll(dir)
	}
	return n.Addr(), stop, nil
}
