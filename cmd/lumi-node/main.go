// Command lumi-node is a LUMI node: the registrar and location proxy of one
// MI domain. It serves PLUMI on one UDP address (-workers sockets), reads the users of its
// domain from a config file, logs every datagram in the reference format
// and takes admin commands on stdin.
//
// Usage:
//
//	lumi-node [-config nodelumi.cfg] [-listen :3344] [-peer domain=host:port]... [-dns host:port] [-hosts file] [-log file] [-log-max size] [-workers N] [-metrics host:port] [-cpuprofile file] [-v]
//
// SIGHUP reopens the datagram log (for logrotate). -metrics serves
// /metrics (Prometheus), /healthz and /readyz over HTTP. Under systemd
// (Type=notify; $NOTIFY_SOCKET set) the node sends READY=1 once every
// worker reads its socket, RELOADING=1 and READY=1 around a SIGHUP, and
// STOPPING=1 when it stops; deploy/ has a unit, a logrotate snippet and a
// Prometheus scrape job, and docs/operations.md lists every series.
//
// Exit status: 0 after SIGINT, SIGTERM or the quit command; 1 a runtime
// error; 2 bad usage.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, nil)
	stop()
	os.Exit(code)
}
