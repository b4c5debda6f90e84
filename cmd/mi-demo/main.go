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
// Exit status: 0 the demo ran (or -live was stopped by a signal); 1 a step
// failed; 2 bad usage.
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
	exitOK    = 0
	exitError = 1
	exitUsage = 2
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

Examples:
  mi-demo                the scripted conversation (what make demo runs)
  mi-demo -v             the same, with the nodes' and agents' diagnostics on stderr
  mi-demo -timeout 1m    give a slow machine longer
  mi-demo -live          DNS and two nodes to chat by hand (make demo-live)

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

	logOut := io.Discard
	if *verbose {
		logOut = stderr
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug}))

	var err error
	if *live {
		err = runLive(ctx, stdout, logger)
	} else {
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
