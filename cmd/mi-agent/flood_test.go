package main

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"mi/internal/procstat"
	"mi/internal/syncbuf"
	"mi/wire"
)

// asMain is the variable that makes the test binary run mi-agent itself,
// for the tests that need it as a process of its own.
const asMain = "MI_AGENT_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, sig, os.Getenv))
	}
	os.Exit(m.Run())
}

// testNode is a UDP socket that plays the agent's LUMI node.
type testNode struct {
	t    *testing.T
	conn *net.UDPConn
}

func newTestNode(t *testing.T) *testNode {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &testNode{t: t, conn: conn}
}

// recv returns the next datagram from the agent and its source.
func (n *testNode) recv() (wire.PLUMIDatagram, netip.AddrPort) {
	n.t.Helper()
	buf := make([]byte, 512)
	n.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	k, from, err := n.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		n.t.Fatalf("node: %v", err)
	}
	var d wire.PLUMIDatagram
	if err := d.Decode(buf[:k]); err != nil {
		n.t.Fatalf("node: the agent sent %q: %v", buf[:k], err)
	}
	return d, from
}

func (n *testNode) send(to netip.AddrPort, m wire.Message) {
	n.t.Helper()
	b, err := m.Append(nil)
	if err != nil {
		n.t.Fatal(err)
	}
	if _, err := n.conn.WriteToUDPAddrPort(b, to); err != nil {
		n.t.Fatal(err)
	}
}

// startAgentProcess runs mi-agent -json as a process with node as its node,
// registers it and returns it with its chat address. Its stdout is a pipe
// that nobody reads, and its stdin stays open.
func startAgentProcess(t *testing.T, n *testNode, extra ...string) (*exec.Cmd, netip.AddrPort) {
	t.Helper()
	args := append([]string{"-addr", "laura@bb.com", "-node", n.conn.LocalAddr().String(), "-json", "-log", "-",
		"-listen", "127.0.0.1:0", "-hosts", "-"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asMain+"=1")
	stdout, unread, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = unread, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	unread.Close()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		stdin.Close()
		stdout.Close()
		if t.Failed() {
			t.Logf("mi-agent stderr:\n%s", stderr.String())
		}
	})
	pr, from := n.recv()
	if pr.Tag != wire.TagRegister {
		t.Fatalf("first datagram %s, want PR", pr.Tag)
	}
	n.send(from, &wire.RegisterReply{Code: wire.RegisterOK})
	asker, _ := wire.ParseAddress("pau@cc.org")
	n.send(from, &wire.Locate{From: asker, To: pr.Register.Addr})
	rl, _ := n.recv()
	if rl.Tag != wire.TagLocateReply || rl.LocateReply.Code != wire.LocateFound {
		t.Fatalf("locate answered %+v, want RL0", rl)
	}
	return cmd, netip.AddrPortFrom(rl.LocateReply.IP, rl.LocateReply.Port)
}

// callAgent connects to chat as pau and exchanges nicknames.
func callAgent(t *testing.T, chat netip.AddrPort) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", chat.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := wire.NewWriter(conn).WriteMessage(&wire.Nick{Nick: "pau"}); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if m, err := wire.NewReader(conn).ReadMessage(); err != nil || m.Tag() != wire.TagNick {
		t.Fatalf("the agent answered %v, %v; want its nickname", m, err)
	}
	return conn
}

// floodLines writes copies of the longest line to conn until size bytes
// are written or a write stalls for stall, and returns the bytes written.
func floodLines(t *testing.T, conn net.Conn, size int, stall time.Duration) int {
	t.Helper()
	var chunk []byte
	for len(chunk) < 64<<10 {
		chunk, _ = (&wire.Line{Text: strings.Repeat("x", wire.MaxLineLen)}).Append(chunk)
	}
	written := 0
	for written < size {
		conn.SetWriteDeadline(time.Now().Add(stall))
		k, err := conn.Write(chunk)
		written += k
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return written
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", written, err)
		}
	}
	return written
}

// peakRSS samples pid's resident set for a while and returns the most
// seen, in KiB, so that what the agent reads after the writer is done is
// counted.
func peakRSS(t *testing.T, pid, samples int, every time.Duration) int {
	peak := procstat.RSSKiB(pid)
	for i := 1; i < samples; i++ {
		time.Sleep(every)
		peak = max(peak, procstat.RSSKiB(pid))
	}
	if peak < 0 {
		t.Skip("no /proc: cannot read the resident set")
	}
	return peak
}

// TestRSSBoundedWhenStdoutIsNotRead: a peer streams 10 MB of lines to
// mi-agent -json, whose stdout nobody reads: the agent's resident set stays
// within 32 MB of what it was, with the line rate limit (lines dropped) and
// without it (the peer no longer read).
func TestRSSBoundedWhenStdoutIsNotRead(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"defaults", nil},
		{"no line rate limit", []string{"-line-rate", "inf"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNode(t)
			cmd, chat := startAgentProcess(t, n, tc.flags...)
			conn := callAgent(t, chat)
			before := peakRSS(t, cmd.Process.Pid, 1, 0)
			written := floodLines(t, conn, 10<<20, 2*time.Second)
			after := peakRSS(t, cmd.Process.Pid, 5, 200*time.Millisecond)
			t.Logf("the peer wrote %.1f MB of lines; mi-agent's RSS went from %.1f MB to %.1f MB",
				float64(written)/(1<<20), float64(before)/1024, float64(after)/1024)
			if after-before > 32<<10 {
				t.Errorf("RSS grew by %.1f MB, want under 32 MB", float64(after-before)/1024)
			}
		})
	}
}
