// Package clustertest runs a real redis-server for the tests of package
// cluster and of the programs built on it: on 127.0.0.1 and a free port,
// with no persistence, in the test's temporary directory, stopped when the
// test ends. Tests kill it, restart it and freeze it to check what a store
// failure does.
//
// Debian's redis-server is used (apt-get install redis-server). Where it is
// missing, StartRedis skips the test with a message, except under CI=true,
// where it fails it: CI must not pass by skipping the cluster tests.
package clustertest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"mi/internal/syncbuf"
	"mi/internal/testenv"
)

// Bounds of the waits, generous for a busy machine running -race: a
// server that needs longer is broken, and the test says so.
const (
	StartTimeout = 15 * time.Second // until a started server answers PING
	StopTimeout  = 10 * time.Second // until a signalled server has exited
)

// Redis is one redis-server process, and the port it keeps across
// restarts.
type Redis struct {
	t    testing.TB
	bin  string
	dir  string // working directory: the server writes nothing there, but may
	sock string // its unix socket
	port int
	out  *syncbuf.Buffer // the output of every run, for failure messages

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	paused bool
}

// StartRedis starts a redis-server for t and stops it when t ends. It
// skips t when redis-server is not installed (fails it under CI=true).
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin := testenv.Program(t, "redis-server", "a test that needs a real store is skipped", "apt-get install redis-server")
	// A unix socket path is limited to about 100 bytes, too few for some
	// test names under t.TempDir, so the socket gets a short directory.
	sockDir, err := os.MkdirTemp("", "rds")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	r := &Redis{t: t, bin: bin, dir: t.TempDir(), sock: filepath.Join(sockDir, "redis.sock"), out: new(syncbuf.Buffer)}
	t.Cleanup(r.cleanup)
	// Another process may take the free port between its discovery and
	// the server's bind: try a few.
	for attempt := 1; ; attempt++ {
		r.port = freePort(t)
		err := r.start()
		if err == nil {
			return r
		}
		if attempt == 3 {
			t.Fatalf("redis-server: %v\n%s", err, r.out.String())
		}
	}
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// URL is the server's address for cluster.Config.URL.
func (r *Redis) URL() string { return "redis://" + r.Addr() }

// UnixURL is the server's unix socket for cluster.Config.URL.
func (r *Redis) UnixURL() string { return "unix://" + r.sock }

// Addr is the server's host:port.
func (r *Redis) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// Output is what the server has printed in all its runs.
func (r *Redis) Output() string { return r.out.String() }

// Kill kills the server with SIGKILL, as a crash would, and waits until it
// has exited: its port refuses connections until Start.
func (r *Redis) Kill() {
	r.t.Helper()
	r.signalAndWait(syscall.SIGKILL)
}

// Stop shuts the server down with SIGTERM and waits until it has exited:
// the store is down until Start.
func (r *Redis) Stop() {
	r.t.Helper()
	r.signalAndWait(syscall.SIGTERM)
}

// Start starts the server again on the same port, empty, after Kill or
// Stop, and waits until it answers.
func (r *Redis) Start() {
	r.t.Helper()
	if err := r.start(); err != nil {
		r.t.Fatalf("redis-server restart on port %d: %v\n%s", r.port, err, r.out.String())
	}
}

// Restart kills the server and starts it again on the same port, empty.
func (r *Redis) Restart() {
	r.t.Helper()
	r.Kill()
	r.Start()
}

// Pause freezes the server with SIGSTOP: connections stay open and
// nothing is answered, as with a hung host, until Resume.
func (r *Redis) Pause() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		r.t.Fatal("clustertest: Pause of a redis-server that is not running")
	}
	if err := r.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		r.t.Fatal(err)
	}
	r.paused = true
}

// Resume continues a server frozen by Pause.
func (r *Redis) Resume() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil || !r.paused {
		r.t.Fatal("clustertest: Resume of a redis-server that is not paused")
	}
	if err := r.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		r.t.Fatal(err)
	}
	r.paused = false
}

// Do sends one command to the server on a connection of its own and
// returns the reply in RESP2 form, e.g. "+OK", ":1", "$3\r\nabc" or
// "-ERR ...": for tests that write what no Store would.
func (r *Redis) Do(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", r.Addr(), StartTimeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(StartTimeout))
	if _, err := c.Write(encodeCommand(args)); err != nil {
		return "", err
	}
	return readReply(bufio.NewReader(c))
}

func encodeCommand(args []string) []byte {
	b := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b
}

// readReply reads one reply: a simple line, or a bulk string with its
// body; arrays are not needed by the tests.
func readReply(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if !strings.HasPrefix(line, "$") || line == "$-1" {
		return line, nil
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 {
		return "", fmt.Errorf("bad bulk length %q", line)
	}
	body := make([]byte, n+2)
	if _, err := io.ReadFull(br, body); err != nil {
		return "", err
	}
	return line + "\r\n" + string(body[:n]), nil
}

// start runs the server on r.port and waits until it answers PING.
func (r *Redis) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return errors.New("already running")
	}
	os.Remove(r.sock) // left by a killed server
	cmd := exec.Command(r.bin,
		"--port", strconv.Itoa(r.port),
		"--bind", "127.0.0.1",
		"--unixsocket", r.sock, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no",
		"--dir", r.dir,
		"--daemonize", "no", "--logfile", "",
	)
	cmd.Dir = r.dir
	cmd.Stdout = r.out
	cmd.Stderr = r.out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	deadline := time.Now().Add(StartTimeout)
	for {
		if ping(r.Addr(), deadline) {
			r.cmd, r.exited, r.paused = cmd, exited, false
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited at start: %v", cmd.ProcessState)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return fmt.Errorf("no answer to PING on port %d within %v", r.port, StartTimeout)
		}
	}
}

// ping reports whether a server at addr answers PING.
func ping(addr string, deadline time.Time) bool {
	c, err := net.DialTimeout("tcp", addr, time.Until(deadline))
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(deadline)
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// signalAndWait sends sig to the running server and waits until it has
// exited; a paused server is continued so that it can act on SIGTERM.
func (r *Redis) signalAndWait(sig syscall.Signal) {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		r.t.Fatal("clustertest: redis-server is not running")
	}
	if err := r.stopLocked(sig); err != nil {
		r.t.Fatal(err)
	}
}

func (r *Redis) stopLocked(sig syscall.Signal) error {
	r.cmd.Process.Signal(sig)
	if r.paused {
		r.cmd.Process.Signal(syscall.SIGCONT)
	}
	select {
	case <-r.exited:
	case <-time.After(StopTimeout):
		r.cmd.Process.Kill()
		<-r.exited
		r.cmd = nil
		return fmt.Errorf("clustertest: redis-server did not exit within %v of %v; killed", StopTimeout, sig)
	}
	r.cmd = nil
	return nil
}

// cleanup kills a server still running at the end of the test.
func (r *Redis) cleanup() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		r.stopLocked(syscall.SIGKILL)
	}
}
