// Command mi-demo runs the whole MI system on loopback, with nothing to set
// up: a DNS server for two domains, a LUMI node for each, and two agents in
// different domains that register, locate each other, chat both ways, hang
// up and deregister. It prints the conversation and both nodes' datagram
// logs and exits 0, or 1 naming the step that failed.
//
// With -live it starts only DNS and the two nodes, prints the mi-agent
// commands to chat by hand from two terminals, and runs until interrupted:
// SIGINT (Ctrl-C) or SIGTERM stops it, removes its temporary directory and
// exits 0.
//
// With -cluster it runs one domain, bb.test, on three lumi-node processes
// that share their registrations through a redis-server it starts, behind
// three SRV records of equal priority; agents registered at different
// nodes call each other, then one node is killed and the calls connect
// again once the agents' refresh has moved them (docs/cluster.md).
//
// Exit status: 0 the demo ran (or -live was stopped by a signal); 1 a step
// failed; 2 bad usage; 3 -cluster cannot find redis-server or lumi-node.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const (
	exitOK      = 0
	exitError   = 1
	exitUsage   = 2
	exitMissing = 3 // -cluster: redis-server or lumi-node not found
)

const usageText = `usage: mi-demo [flags]

mi-demo runs the whole MI system on loopback, with nothing to set up: a DNS
server for bb.com and cc.org, a LUMI node for each, and two agents,
laura@bb.com and pau@cc.org, that register, locate each other, chat both
ways, hang up and deregister. It prints the conversation and both nodes'
datagram logs, and exits 0, or 1 naming the step that failed. Configs and
logs live in a temporary directory, removed at the end.

With -live it starts only DNS and the two nodes, prints the mi-agent
commands to chat by hand from two other terminals, and runs until SIGINT
(Ctrl-C) or SIGTERM, which stop it, remove its directory and exit 0.

With -cluster it runs one domain, bb.test, on three lumi-node processes
(n1, n2, n3) sharing their registrations through a redis-server it starts
on a free port, behind three SRV records of equal priority. laura, pau and
marc register at n1, n2 and n3 and call each other, each call relayed from
the caller's node to the callee's; then n1 is killed (SIGKILL), laura's
refresh moves her agent to the next SRV target, and the calls to and from
her connect again. It needs redis-server in $PATH (apt-get install
redis-server) and lumi-node: -lumi-node, else beside mi-demo, else in
$PATH (make demo-cluster builds both). See docs/cluster.md.

Examples:
  mi-demo                the scripted conversation (what make demo runs)
  mi-demo -v             the same, with the nodes' and agents' diagnostics on stderr
  mi-demo -timeout 1m    give a slow machine longer
  mi-demo -live          DNS and two nodes to chat by hand (make demo-live)
  mi-demo -cluster -lumi-node bin/lumi-node
                         one domain on three nodes and a node killed (make demo-cluster)

Exit status: 0 the demo ran (or -live was stopped by a signal); 1 a step
failed; 2 bad usage; 3 -cluster cannot find redis-server or lumi-node.

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is mi-demo with its arguments and output; it returns the exit status.
// The end of ctx (a signal) stops the demo.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mi-demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		io.WriteString(stderr, usageText)
		fs.PrintDefaults()
	}
	live := fs.Bool("live", false, "start DNS and the nodes only, and print the commands to chat by hand")
	timeout := fs.Duration("timeout", 30*time.Second, "give up on the scripted demo after this long")
	verbose := fs.Bool("v", false, "the nodes' and agents' diagnostics on stderr")
	clusterMode := fs.Bool("cluster", false, "one domain on three lumi-node processes sharing a redis-server, and a node killed")
	lumiNode := fs.String("lumi-node", "", "with -cluster: the lumi-node `binary` (default: beside mi-demo, else in $PATH)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mi-demo: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return exitUsage
	}

	if *live && *clusterMode {
		fmt.Fprintln(stderr, "mi-demo: -live and -cluster cannot go together")
		fs.Usage()
		return exitUsage
	}
	if *lumiNode != "" && !*clusterMode {
		fmt.Fprintln(stderr, "mi-demo: -lumi-node is for -cluster")
		fs.Usage()
		return exitUsage
	}

	logOut := io.Discard
	var nodeOut io.Writer // the lumi-node processes' output: discarded, but for its end in errors
	if *verbose {
		logOut, nodeOut = stderr, stderr
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug}))

	var err error
	switch {
	case *clusterMode:
		progs, ferr := findPrograms(*lumiNode)
		if ferr != nil {
			fmt.Fprintf(stderr, "mi-demo: %v\n", ferr)
			return exitMissing
		}
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		err = runCluster(ctx, stdout, nodeOut, logger, progs)
	case *live:
		err = runLive(ctx, stdout, logger)
	default:
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		err = runDemo(ctx, stdout, logger)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mi-demo: FAILED: %v\n", err)
		return exitError
	}
	return exitOK
}
