package supervise

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"mi/internal/sdnotify"
	"mi/internal/syncbuf"
)

// helperEnv makes the test binary play a server (helper) instead of
// running the tests: its value names the behaviour.
const helperEnv = "SUPERVISE_TEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		helper(mode)
		return
	}
	os.Exit(m.Run())
}

// helper is a server: it says its pid, then
//
//	ready     READY=1 with an address, echoes stdin, exits 0 on SIGTERM
//	exit      says why on stderr and exits 3 before it is ready
//	silent    never says READY=1 (SIGTERM ends it)
//	stubborn  READY=1, then ignores SIGTERM
//	chatty    READY=1, then 200 more notifications
//	parent    starts a ready helper with Start, says its pid, READY=1
func helper(mode string) {
	fmt.Printf("pid %d\n", os.Getpid())
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	ready := func() {
		if _, err := sdnotify.Notify(sdnotify.Ready + "\nSTATUS=serving test.example\n" + sdnotify.AddrKey + "=127.0.0.1:4242"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	switch mode {
	case "ready":
		fmt.Fprintln(os.Stderr, "a line on stderr")
		ready()
		go func() {
			sc := bufio.NewScanner(os.Stdin)
			for sc.Scan() {
				fmt.Println("echo: " + sc.Text())
			}
		}()
	case "exit":
		fmt.Fprintln(os.Stderr, "cannot start: no config")
		os.Exit(3)
	case "silent":
		signal.Reset(syscall.SIGTERM) // its default: the end
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
		ready()
	case "chatty":
		ready()
		for range 200 {
			if _, err := sdnotify.Notify(sdnotify.Reloading()); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
		fmt.Println("sent all")
	case "parent":
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		p, err := Start(context.Background(), Config{Path: exe, Env: []string{helperEnv + "=ready", "GORACE=atexit_sleep_ms=0"}})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("child pid %d\n", p.Pid())
		ready()
	}
	<-term
	os.Exit(0)
}

func config(t *testing.T, mode string) Config {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A binary built with -race sleeps a second before it exits, unless
	// told not to: the tests time the ends.
	env := []string{helperEnv + "=" + mode, "GORACE=atexit_sleep_ms=0"}
	return Config{Path: exe, Env: env, ReadyTimeout: 10 * time.Second, Grace: 5 * time.Second}
}

// checkGone fails unless process pid has ended and been waited for.
func checkGone(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process %d still there (kill 0: %v)", pid, err)
	}
}

var pidRE = regexp.MustCompile(`pid (\d+)`)

// pidIn is the helper's pid, from its output in s.
func pidIn(t *testing.T, s string) int {
	t.Helper()
	m := pidRE.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no pid in %q", s)
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

// waitOutput waits for out to match re, and returns the match; output
// may come after READY=1, which does not wait for its copying.
func waitOutput(t *testing.T, out *syncbuf.Buffer, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if m := rx.FindStringSubmatch(out.String()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no /%s/ in the output after 5s: %q", re, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// within runs f and fails the test at once if it takes longer than d; it
// returns how long f took.
func within(t *testing.T, d time.Duration, what string, f func()) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
		return time.Since(start)
	case <-time.After(d):
		t.Fatalf("%s still running after %v", what, d)
		return 0
	}
}

// TestReady: Start returns once READY=1 came, with its assignments; stdin
// reaches the process, stdout and stderr go where they were sent, and
// Stop ends it with SIGTERM.
func TestReady(t *testing.T) {
	var stdout, stderr syncbuf.Buffer
	c := config(t, "ready")
	c.Stdout, c.Stderr, c.Stdin = &stdout, &stderr, true
	p, err := Start(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	addr, err := p.Ready().Addr()
	if err != nil || addr != netip.MustParseAddrPort("127.0.0.1:4242") {
		t.Errorf("Addr() = %v, %v", addr, err)
	}
	if got := p.Ready()["STATUS"]; got != "serving test.example" {
		t.Errorf("STATUS = %q", got)
	}
	if p.ReadyAfter() <= 0 {
		t.Errorf("ReadyAfter() = %v", p.ReadyAfter())
	}
	if pid := pidIn(t, waitOutput(t, &stdout, `pid \d+`)[0]); pid != p.Pid() {
		t.Errorf("the helper says pid %d, Pid() = %d", pid, p.Pid())
	}
	fmt.Fprintln(p.Stdin(), "hello")
	waitOutput(t, &stdout, "echo: hello\n")
	if waitOutput(t, &stderr, ".*\n"); stderr.String() != "a line on stderr\n" {
		t.Errorf("stderr = %q", stderr.String())
	}
	if p.Exited() {
		t.Fatal("Exited() before Stop")
	}
	within(t, 3*time.Second, "Stop", func() {
		if err := p.Stop(); err != nil {
			t.Errorf("Stop() = %v, want nil (exit 0 on SIGTERM)", err)
		}
	})
	if !p.Exited() || p.Err() != nil {
		t.Errorf("after Stop: Exited() %v, Err() %v", p.Exited(), p.Err())
	}
	if err := p.Stop(); err != nil {
		t.Errorf("second Stop() = %v", err)
	}
	checkGone(t, p.Pid())
}

// TestExitsBeforeReady: a process that ends before READY=1 is an error
// that says how it ended and shows its last output, here from a file.
func TestExitsBeforeReady(t *testing.T) {
	c := config(t, "exit")
	c.OutputFile = filepath.Join(t.TempDir(), "out")
	var err error
	within(t, 5*time.Second, "Start", func() { _, err = Start(context.Background(), c) })
	var se *Error
	if !errors.Is(err, ErrExited) || !errors.As(err, &se) {
		t.Fatalf("Start = %v, want ErrExited", err)
	}
	var xe interface{ ExitCode() int }
	if !errors.As(err, &xe) || xe.ExitCode() != 3 {
		t.Errorf("exit: %v, want status 3", se.Exit)
	}
	for _, want := range []string{"exited before it was ready (exit status 3); its last output:\n\tpid ", "\n\tcannot start: no config"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	checkGone(t, pidIn(t, err.Error()))
	if b, _ := os.ReadFile(c.OutputFile); !strings.Contains(string(b), "cannot start: no config\n") {
		t.Errorf("output file: %q", b)
	}
}

// TestNeverReady: a process silent past ReadyTimeout is stopped, and the
// error says so with its output.
func TestNeverReady(t *testing.T) {
	c := config(t, "silent")
	c.ReadyTimeout = 300 * time.Millisecond
	var err error
	took := within(t, 5*time.Second, "Start", func() { _, err = Start(context.Background(), c) })
	if !errors.Is(err, ErrNotReady) || errors.Is(err, ErrExited) {
		t.Fatalf("Start = %v, want ErrNotReady", err)
	}
	if took < c.ReadyTimeout {
		t.Errorf("gave up after %v, before ReadyTimeout %v", took, c.ReadyTimeout)
	}
	if !strings.HasPrefix(err.Error(), "not ready after 300ms; its last output:\n\tpid ") {
		t.Errorf("error %q", err)
	}
	checkGone(t, pidIn(t, err.Error()))
}

// TestStopKillsAfterGrace: a process that ignores SIGTERM gets SIGKILL
// after the grace period.
func TestStopKillsAfterGrace(t *testing.T) {
	c := config(t, "stubborn")
	c.Grace = 300 * time.Millisecond
	p, err := Start(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	took := within(t, 5*time.Second, "Stop", func() { err = p.Stop() })
	if !errors.Is(err, ErrKilled) {
		t.Errorf("Stop() = %v, want ErrKilled", err)
	}
	if took < c.Grace {
		t.Errorf("killed after %v, before the grace period %v", took, c.Grace)
	}
	checkGone(t, p.Pid())
}

// TestStopAll: the processes are stopped together; only the one that had
// to be killed is an error, and the grace period is counted once.
func TestStopAll(t *testing.T) {
	var ps []*Process
	for _, mode := range []string{"ready", "stubborn", "ready"} {
		c := config(t, mode)
		c.Grace = 500 * time.Millisecond
		p, err := Start(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Kill()
		ps = append(ps, p)
	}
	var err error
	within(t, 5*time.Second, "StopAll", func() { err = StopAll(ps...) })
	if !errors.Is(err, ErrKilled) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d: ", ps[1].Pid())) ||
		strings.Contains(err.Error(), fmt.Sprintf("pid %d: ", ps[0].Pid())) {
		t.Errorf("StopAll = %v, want ErrKilled for pid %d only", err, ps[1].Pid())
	}
	for _, p := range ps {
		checkGone(t, p.Pid())
	}
}

// TestContextEnds: the end of ctx stops a process still starting.
func TestContextEnds(t *testing.T) {
	var out syncbuf.Buffer
	c := config(t, "silent")
	c.Stdout = &out
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var err error
	within(t, 5*time.Second, "Start", func() { _, err = Start(ctx, c) })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Start = %v, want the context's end", err)
	}
	checkGone(t, pidIn(t, out.String()))
}

// TestSupervisorKilled: when the supervisor is killed (SIGKILL, no Stop),
// the process it started ends too.
func TestSupervisorKilled(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux has a parent-death signal")
	}
	var out syncbuf.Buffer
	c := config(t, "parent")
	c.Stdout = &out
	p, err := Start(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Kill()
	m := waitOutput(t, &out, `child pid (\d+)\n`)
	child, _ := strconv.Atoi(m[1])
	p.Kill()
	// Orphaned, the child is reaped by init; where init does not reap, it
	// stays a zombie, which has ended all the same.
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil || strings.Contains(string(b), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(child, syscall.SIGKILL)
			t.Fatalf("the child %d still runs 5s after its supervisor was killed", child)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNotificationsRead: the notifications after READY=1 are read, so a
// server that sends many is never held up by a full socket.
func TestNotificationsRead(t *testing.T) {
	var out syncbuf.Buffer
	c := config(t, "chatty")
	c.Stdout = &out
	p, err := Start(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	waitOutput(t, &out, "sent all")
}

// TestStartFails: a binary that cannot be started is an error at once.
func TestStartFails(t *testing.T) {
	_, err := Start(context.Background(), Config{Path: filepath.Join(t.TempDir(), "missing")})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Start = %v, want not found", err)
	}
}

func TestNotificationAddr(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    Notification
		want string // the address, or a part of the error
	}{
		{"v4", Notification{sdnotify.AddrKey: "127.0.0.1:41006"}, "127.0.0.1:41006"},
		{"wildcard v6", Notification{sdnotify.AddrKey: "[::]:3344"}, "[::]:3344"},
		{"missing", Notification{"READY": "1"}, "has no X_LUMI_ADDR"},
		{"no port", Notification{sdnotify.AddrKey: "127.0.0.1"}, "X_LUMI_ADDR: "},
	} {
		ap, err := tc.n.Addr()
		got := ap.String()
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: Addr() = %q, want %q", tc.name, got, tc.want)
		}
	}
}
