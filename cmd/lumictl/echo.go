package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"mi/internal/loadgen"
	"mi/internal/sdnotify"
)

var echoCommand = &command{
	name:     "echo",
	synopsis: "[-listen 127.0.0.1:0]",
	summary:  "serve a minimal UDP echo server, the baseline of lumictl bench",
	help: `
Sends every datagram back to where it came from, from one goroutine: the
simplest UDP server there is, and so the limit any UDP server on the
machine can reach. Once listening it prints one line,

  echo listening on IP:PORT

and serves until SIGINT or SIGTERM. Started with $NOTIFY_SOCKET (systemd's
Type=notify, lumictl bench), it also says READY=1 there with the address
in X_LUMI_ADDR, as lumi-node does, and STOPPING=1 when it stops. lumictl
bench -echo starts one in its own process; run one by hand for bench
-echo-addr.

Example:
  lumictl echo -listen 127.0.0.1:7777 &
  lumictl bench -spawn /tmp/lumi-node -echo-addr 127.0.0.1:7777 -kind pr`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		listen := fs.String("listen", "127.0.0.1:0", "UDP `address` to serve on (port 0: any free port)")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return usagef("unexpected arguments %q", args)
			}
			return echoMain(e, *listen)
		}
	},
}

func echoMain(e *env, listen string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := loadgen.StartEcho(listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "echo listening on %v\n", s.Addr())
	echoNotify(e, sdnotify.Ready+"\nSTATUS=echoing on "+s.Addr().String()+"\n"+sdnotify.AddrKey+"="+s.Addr().String())
	<-ctx.Done()
	echoNotify(e, sdnotify.Stopping)
	return s.Close()
}

// echoNotify tells the service manager state, if one listens; the echo
// serves on without it.
func echoNotify(e *env, state string) {
	if _, err := sdnotify.Notify(state); err != nil {
		fmt.Fprintf(e.stderr, "lumictl echo: %v\n", err)
	}
}
