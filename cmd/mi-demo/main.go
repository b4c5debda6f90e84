// Command mi-demo runs the whole MI system on loopback, with nothing to set
// up: a DNS server for two domains, a LUMI node for each, and two agents in
// different domains that register, locate each other, chat both ways, hang
// up and deregister. It prints the conversation and both nodes' datagram
// logs and exits 0, or 1 naming the step that failed.
//
// With -live it starts only DNS and the two nodes, prints the mi-agent
// commands to chat by hand from two terminals, and runs until interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	live := flag.Bool("live", false, "start DNS and the nodes only, and print the commands to chat by hand")
	timeout := flag.Duration("timeout", 30*time.Second, "give up on the scripted demo after this long")
	verbose := flag.Bool("v", false, "the nodes' and agents' diagnostics on stderr")
	flag.Parse()

	logOut := io.Discard
	if *verbose {
		logOut = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	if *live {
		err = runLive(ctx, os.Stdout, logger)
	} else {
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		err = runDemo(ctx, os.Stdout, logger)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mi-demo: FAILED: %v\n", err)
		os.Exit(1)
	}
}
