package main

import (
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mi/internal/datalog"
	"mi/internal/syncbuf"
)

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"-h"}, exitOK, "usage: lumi-node [flags]"},
		{[]string{"-nosuchflag"}, exitUsage, "flag provided but not defined"},
		{[]string{"-peer", "nonsense"}, exitUsage, "-peer"},
		{[]string{"-log-max", "12X"}, exitUsage, "want a size in bytes"},
		{[]string{"-log-max", "-1"}, exitUsage, "want a size in bytes"},
		{[]string{"extra"}, exitUsage, "unexpected arguments"},
		{[]string{"-config", filepath.Join(t.TempDir(), "missing.cfg")}, exitError, "lumi-node: cannot start: "},
		{[]string{"-config", filepath.Join(t.TempDir(), "missing.cfg")}, exitError, "-config"},
	} {
		var stderr syncbuf.Buffer
		code := run(context.Background(), tc.args, strings.NewReader(""), io.Discard, &stderr, nil)
		if code != tc.code || !strings.Contains(stderr.String(), tc.out) {
			t.Errorf("run(%q) = %d, stderr:\n%s\nwant %d and %q", tc.args, code, stderr.String(), tc.code, tc.out)
		}
	}
}

// TestServe starts the command with stdin at EOF (it must go on serving),
// registers a user over UDP, and stops it as a signal would.
func TestServe(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "node.log")
	n := start(t, "-log", logPath)
	n.register(t, loopbackConn(t))
	// The console reads its empty stdin concurrently with serving: wait
	// for it to have said so before stopping the node.
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(n.stderr.String(), "console input ended; serving on"); {
		if time.Now().After(deadline) {
			t.Fatalf("the node did not report the end of its console input:\n%s", n.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if code := n.stop(); code != exitOK {
		t.Errorf("exit %d:\n%s", code, n.stderr.String())
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "------ INICI LOG ------\nR: 127.0.0.1:UDP:") || !strings.HasSuffix(string(b), "------ FINAL LOG ------\n") {
		t.Errorf("log:\n%s", b)
	}
}

// TestQuit: the console's quit command stops the node with status 0.
func TestQuit(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "nodelumi.cfg")
	if err := os.WriteFile(cfg, []byte("bb.com\nu1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"-config", cfg, "-listen", "127.0.0.1:0", "-log", "-", "-hosts", "-"},
			strings.NewReader("add u2\nlist\nquit\n"), &stdout, &stderr, nil)
	}()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit %d:\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop")
	}
	if !strings.Contains(stdout.String(), "added u2") || !strings.Contains(stdout.String(), "not registered") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	b, _ := os.ReadFile(cfg)
	if string(b) != "bb.com\nu1\nu2\n" {
		t.Errorf("config:\n%s", b)
	}
}

// TestBadDatagramFloodStderr: 10,000 bad datagrams, each of 1,600 bytes of
// escape sequences, cost stderr a bounded handful of lines, not one each,
// and none of their raw bytes.
func TestBadDatagramFloodStderr(t *testing.T) {
	n := start(t, "-log", "-")
	conn := loopbackConn(t)
	before := len(n.stderr.String())
	bad := []byte(strings.Repeat("\x1b[2J\x1b[1A", 200))
	for i := range 10000 {
		if _, err := conn.WriteToUDPAddrPort(bad, n.addr); err != nil {
			t.Fatal(err)
		}
		if i%500 == 499 {
			time.Sleep(5 * time.Millisecond) // not to overrun the socket buffer
		}
	}
	n.register(t, conn) // answered after the flood: the flood is behind it
	n.stop()
	out := n.stderr.String()[before:]
	if len(out) > 5000 {
		t.Errorf("%d bytes on stderr for 10,000 bad datagrams, want under 5,000:\n%.2000s", len(out), out)
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("a raw escape byte reached stderr")
	}
	t.Logf("stderr: %d bytes for 10,000 bad datagrams of %d bytes", len(out), len(bad))
}

// TestSIGHUPReopensLog: after the log is renamed away, SIGHUP makes the
// node go on in a new file at the path, as logrotate expects.
func TestSIGHUPReopensLog(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "node.log")
	n := start(t, "-log", logPath) // SIGHUP is caught once it serves
	conn := loopbackConn(t)
	n.register(t, conn)
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(n.stderr.String(), "datagram log reopened"); {
		if time.Now().After(deadline) {
			t.Fatalf("no reopen after SIGHUP:\n%s", n.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	n.register(t, conn)
	if code := n.stop(); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, n.stderr.String())
	}
	for _, p := range []string{logPath + ".1", logPath} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(string(b), "PRu1@bb.com"); got != 1 || !strings.HasSuffix(string(b), "------ FINAL LOG ------\n") {
			t.Errorf("%s: %d PR lines, want 1, in one whole run:\n%s", p, got, b)
		}
	}
}

// TestOffDuration: -1, as the help says, turns a limit off; durations
// read as usual; anything else is refused with the reason.
func TestOffDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"-1": -1, "500ms": 500 * time.Millisecond, "-1s": -time.Second, "0": 0} {
		var d offDuration
		if err := d.Set(in); err != nil || time.Duration(d) != want {
			t.Errorf("Set(%q) = %v, %v; want %v", in, time.Duration(d), err, want)
		}
	}
	for _, in := range []string{"", "-2", "soon", "5"} {
		var d offDuration
		if err := d.Set(in); err == nil {
			t.Errorf("Set(%q) = %v, want an error", in, time.Duration(d))
		}
	}
	var stderr syncbuf.Buffer
	if code := run(context.Background(), []string{"-probe-wait", "-1", "-config", filepath.Join(t.TempDir(), "missing.cfg")}, strings.NewReader(""), io.Discard, &stderr, nil); code != exitError {
		t.Errorf("-probe-wait -1: exit %d, want %d (past the flags, to the missing config):\n%s", code, exitError, stderr.String())
	}
}

// TestSizeFlag: -log-max takes a size with K, M or G (datalog.Size).
func TestSizeFlag(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "4096": 4096, "64K": 64 << 10, "100M": 100 << 20, "2G": 2 << 30} {
		var s datalog.Size
		if err := s.Set(in); err != nil || int64(s) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, s, err, want)
		}
	}
	for _, in := range []string{"", "M", "1.5M", "-3", "10T", "9999999999G"} {
		var s datalog.Size
		if err := s.Set(in); err == nil {
			t.Errorf("Set(%q) = %d, want an error", in, s)
		}
	}
}

// started is a node run by the command in the test process.
type started struct {
	addr   netip.AddrPort
	dir    string // holds nodelumi.cfg
	stderr *syncbuf.Buffer
	stop   func() int // cancels the run and returns its exit status
}

// start runs the command on a config of bb.com with user u1, on loopback,
// with args added, and waits until it serves.
func start(t *testing.T, args ...string) *started {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "nodelumi.cfg")
	if err := os.WriteFile(cfg, []byte("bb.com\nu1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan netip.AddrPort, 1)
	s := &started{dir: dir, stderr: new(syncbuf.Buffer)}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"-config", cfg, "-listen", "127.0.0.1:0", "-hosts", "-"}, args...),
			strings.NewReader(""), io.Discard, s.stderr, func(ap netip.AddrPort) { addrc <- ap })
	}()
	code, stopped := 0, false
	s.stop = func() int {
		if !stopped {
			stopped = true
			cancel()
			select {
			case code = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("did not stop")
			}
		}
		return code
	}
	t.Cleanup(func() { s.stop() })
	select {
	case s.addr = <-addrc:
	case code := <-done:
		t.Fatalf("exited %d:\n%s", code, s.stderr.String())
	}
	return s
}

// register sends a PR for u1 from conn and checks the RR0.
func (s *started) register(t *testing.T, conn *net.UDPConn) {
	t.Helper()
	if _, err := conn.WriteToUDPAddrPort([]byte("PRu1@bb.com"), s.addr); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 128)
	if n, _, err := conn.ReadFromUDPAddrPort(buf); err != nil || string(buf[:n]) != "RR0" {
		t.Fatalf("reply %q, %v", buf[:n], err)
	}
}

func loopbackConn(t *testing.T) *net.UDPConn {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
