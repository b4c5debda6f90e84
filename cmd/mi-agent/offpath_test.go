package main

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"mi/internal/spoof"
	"mi/internal/syncbuf"
	"mi/wire"
)

// agentProcess is mi-agent -json run as a process of its own, with the
// test's node as its node.
type agentProcess struct {
	cmd    *exec.Cmd
	udp    netip.AddrPort // the agent's UDP socket: where the node sends
	stderr *syncbuf.Buffer
	done   chan struct{}
}

// runAgent starts mi-agent for laura@bb.com with node n and the flags
// given, and registers it.
func runAgent(t *testing.T, n *testNode, flags ...string) *agentProcess {
	t.Helper()
	args := append([]string{"-addr", "laura@bb.com", "-node", n.conn.LocalAddr().String(), "-json",
		"-listen", "127.0.0.1:0", "-hosts", "-"}, flags...)
	p := &agentProcess{cmd: exec.Command(os.Args[0], args...), stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), asMain+"=1")
	p.cmd.Stdout, p.cmd.Stderr = nil, p.stderr // stdout: /dev/null
	stdin, err := p.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		stdin.Close()
	})
	pr, from := n.recv()
	if pr.Tag != wire.TagRegister {
		t.Fatalf("first datagram %s, want PR", pr.Tag)
	}
	n.send(from, &wire.RegisterReply{Code: wire.RegisterOK})
	p.udp = from
	return p
}

// stop ends the agent with SIGTERM, answering its PD, and waits for it.
func (p *agentProcess) stop(t *testing.T, n *testNode) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	for {
		d, from := n.recv()
		if d.Tag == wire.TagDeregister {
			n.send(from, &wire.DeregisterReply{Code: wire.DeregisterOK})
			break
		}
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("mi-agent did not exit")
	}
}

// drained waits until the agent has read what was sent to it before: it
// answers a locate from the node sent after, which waits in its socket
// behind the rest. The answers to a flood of locates may have filled the
// node's socket, so the locate is sent again until its answer is read.
func (p *agentProcess) drained(t *testing.T, n *testNode) {
	t.Helper()
	end := []byte("PLend@cc.org:laura@bb.com")
	buf := make([]byte, 512)
	for range 20 {
		n.conn.WriteToUDPAddrPort(end, p.udp)
		n.conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		for {
			k, _, err := n.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				break
			}
			if bytes.HasPrefix(buf[:k], []byte("RL0end@cc.org:")) {
				return
			}
		}
	}
	t.Fatal("the agent did not answer a locate after the flood")
}

// fileSizes is the bytes of the files at paths; a missing one counts 0.
func fileSizes(paths ...string) int64 {
	var n int64
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// TestSpoofedFloodFromTheNode: 20,000 datagrams spoofed from the node's
// address to mi-agent's UDP socket cost a bounded stderr and datagram log.
// Junk (2 KB of escape sequences) is counted and summed up, not logged one
// by one, nor written to the datagram log; valid locates are answered and
// logged, and -log-max caps the log.
func TestSpoofedFloodFromTheNode(t *testing.T) {
	s := spoof.NewForTest(t)
	for _, tc := range []struct {
		name     string
		datagram []byte
		flags    []string
		maxLog   int64 // bytes of the log and its .1
		bad      bool  // counted as bad datagrams
	}{
		{"junk of 2 KB", bytes.Repeat([]byte("\x1b[2J\x1b[H\x07"), 2048/8), nil, 64 << 10, true},
		{"valid locates", []byte("PLboss@cc.org:laura@bb.com"), []string{"-log-max", "64K"}, 2*64<<10 + 1<<10, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newTestNode(t)
			log := filepath.Join(t.TempDir(), "p2p-laura.log")
			a := runAgent(t, n, append([]string{"-log", log}, tc.flags...)...)
			node := n.conn.LocalAddr().(*net.UDPAddr).AddrPort()
			const flood = 20000
			for i := range flood {
				if err := s.Send(node, a.udp, tc.datagram); err != nil {
					t.Fatal(err)
				}
				if i%20 == 19 {
					time.Sleep(time.Millisecond) // within what the agent's socket buffer holds
				}
			}
			a.drained(t, n)
			a.stop(t, n)
			stderr := a.stderr.String()
			logBytes := fileSizes(log, log+".1")
			// Every datagram read was counted: the burst logged and the summary.
			counted := 0
			for _, m := range regexp.MustCompile(`msg="datagrams dropped" reason="bad datagram" count=(\d+)`).FindAllStringSubmatch(stderr, -1) {
				k, _ := strconv.Atoi(m[1])
				counted += k
			}
			t.Logf("FIGURE %d spoofed datagrams of %d bytes, flags %q (%d counted as bad): stderr %d bytes, datagram log %d bytes",
				flood, len(tc.datagram), tc.flags, counted, len(stderr), logBytes)
			if len(stderr) > 8<<10 {
				t.Errorf("stderr grew by %d bytes, want under 8 KB:\n%.2000s", len(stderr), stderr)
			}
			if logBytes > tc.maxLog {
				t.Errorf("the datagram log grew to %d bytes, want at most %d", logBytes, tc.maxLog)
			}
			if tc.bad && counted < flood/2 {
				t.Errorf("the summaries count %d bad datagrams of %d sent:\n%s", counted, flood, stderr)
			}
		})
	}
}
