package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"mi/internal/supervise"
	"mi/internal/syncbuf"
)

// asLumictl, set in the environment, makes the test binary run as lumictl
// itself: bench -echo starts os.Executable() as "lumictl echo", which in
// these tests is the test binary.
const asLumictl = "LUMICTL_TEST_AS_LUMICTL"

func TestMain(m *testing.M) {
	if os.Getenv(asLumictl) == "1" {
		os.Exit(run(os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
	}
	os.Setenv(asLumictl, "1") // for the processes the tests start
	os.Exit(m.Run())
}

// startLumictl starts the test binary as lumictl with args.
func startLumictl(t *testing.T, args ...string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, bufio.NewReader(out)
}

func TestEchoCommand(t *testing.T) {
	cmd, out := startLumictl(t, "echo", "-listen", "127.0.0.1:0")
	lines := make(chan string, 1)
	go func() {
		l, _ := out.ReadString('\n')
		lines <- l
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(10 * time.Second):
		t.Fatal("no address line in 10s")
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "echo listening on ")
	if !ok {
		t.Fatalf("first line %q", line)
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	for _, msg := range []string{"PRu1@PC-c", "x", strings.Repeat("y", 1500)} {
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 2048)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != msg {
			t.Fatalf("echo of %.10q: %q, %v", msg, buf[:n], err)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(out); len(rest) != 0 {
		t.Errorf("more output: %q", rest)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("after SIGTERM: %v", err)
	}
}

// TestEchoReady: started with $NOTIFY_SOCKET, echo says READY=1 with the
// address it serves on, the one its line prints, and serves there.
func TestEchoReady(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out syncbuf.Buffer
	p, err := supervise.Start(context.Background(), supervise.Config{Path: exe, Args: []string{"echo", "-listen", "127.0.0.1:0"}, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	addr, err := p.Ready().Addr()
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Ready()["STATUS"]; got != "echoing on "+addr.String() {
		t.Errorf("STATUS = %q", got)
	}
	c, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	if _, err := c.Write([]byte("PRu1@PC-c")); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "PRu1@PC-c" {
		t.Fatalf("echo at the notified address: %q, %v", buf[:n], err)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("after SIGTERM: %v", err)
	}
	if want := "echo listening on " + addr.String() + "\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
}

func TestEchoUsage(t *testing.T) {
	if code, _, stderr := runLumictl("echo", "extra"); code != exitUsage {
		t.Errorf("echo extra: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := runLumictl("echo", "-listen", "nonsense"); code != exitFailed {
		t.Errorf("echo -listen nonsense: exit %d\n%s", code, stderr)
	}
}
