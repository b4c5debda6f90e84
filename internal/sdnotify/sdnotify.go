// Package sdnotify speaks systemd's service notification protocol
// (sd_notify(3)): a service of Type=notify tells the service manager that
// it is ready, reloading or stopping by sending one datagram of
// newline-separated KEY=VALUE assignments to the unix socket named by
// $NOTIFY_SOCKET. The same signal serves programs that start a service
// and wait for it (tests, lumictl bench): Listen makes such a socket.
package sdnotify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The states a service sends (sd_notify(3)).
const (
	Ready     = "READY=1"
	Stopping  = "STOPPING=1"
	reloading = "RELOADING=1"
)

// AddrKey is the assignment with which a LUMI server (lumi-node, lumictl
// echo) says, with READY=1, the address it serves on: a program that
// started it on a port the system chose learns it there. sd_notify(3)
// leaves names starting X_ to services.
const AddrKey = "X_LUMI_ADDR"

// MetricsKey is the assignment with which lumi-node says, with READY=1,
// where its -metrics endpoints serve.
const MetricsKey = "X_LUMI_METRICS"

// EnvVar names the socket a service notifies.
const EnvVar = "NOTIFY_SOCKET"

// maxDatagram bounds what a Listener reads of one notification; systemd
// itself accepts a few kilobytes.
const maxDatagram = 4096

// Notify sends state to the socket named by $NOTIFY_SOCKET. Without the
// variable it does nothing and returns false: the service was not started
// by a manager that listens. A name starting with '@' is a Linux abstract
// socket, as systemd uses them.
func Notify(state string) (bool, error) {
	path := os.Getenv(EnvVar)
	if path == "" {
		return false, nil
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return false, fmt.Errorf("sdnotify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return false, fmt.Errorf("sdnotify: %w", err)
	}
	return true, nil
}

// Reloading is the state sent as a reload begins; READY=1 ends it.
// systemd wants the monotonic clock's time with it, so that it can tell
// this reload from a later one.
func Reloading() string {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return reloading
	}
	usec := ts.Nano() / int64(time.Microsecond)
	return reloading + "\nMONOTONIC_USEC=" + strconv.FormatInt(usec, 10)
}

// Listener is the manager's end: a unix datagram socket whose path a
// started service finds in its environment (Env).
type Listener struct {
	conn *net.UnixConn
	path string
}

// Listen makes a notification socket in dir. Close removes it.
func Listen(dir string) (*Listener, error) {
	f, err := os.CreateTemp(dir, "notify-*.sock")
	if err != nil {
		return nil, fmt.Errorf("sdnotify: %w", err)
	}
	path := f.Name()
	f.Close()
	os.Remove(path)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("sdnotify: %w", err)
	}
	return &Listener{conn: conn, path: filepath.Clean(path)}, nil
}

// Path is the socket's path.
func (l *Listener) Path() string { return l.path }

// Env is the environment entry that points a service at l.
func (l *Listener) Env() string { return EnvVar + "=" + l.path }

// Close closes and removes the socket.
func (l *Listener) Close() error {
	err := l.conn.Close()
	os.Remove(l.path)
	return err
}

// Next returns the next notification's assignments, each "KEY=VALUE", or
// ctx's error when it ends first.
func (l *Listener) Next(ctx context.Context) ([]string, error) {
	// A deadline left by an earlier call's context, which ended just as
	// its read returned, must not cut this one short.
	l.conn.SetReadDeadline(time.Time{})
	stop := context.AfterFunc(ctx, func() { l.conn.SetReadDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, maxDatagram)
	n, err := l.conn.Read(buf)
	if err != nil {
		if ctx.Err() != nil {
			l.conn.SetReadDeadline(time.Time{})
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("sdnotify: %w", err)
	}
	return strings.Split(strings.TrimRight(string(buf[:n]), "\n"), "\n"), nil
}

// ErrNoState is returned by Wait when the listener closed before the state
// came.
var ErrNoState = errors.New("sdnotify: listener closed")

// Wait reads notifications until one holds the assignment want (such as
// Ready), or ctx ends.
func (l *Listener) Wait(ctx context.Context, want string) error {
	for {
		kv, err := l.Next(ctx)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return ErrNoState
			}
			return err
		}
		for _, a := range kv {
			if a == want {
				return nil
			}
		}
	}
}
