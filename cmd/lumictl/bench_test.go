package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/internal/loadgen"
	"mi/wire"
)

func runBench(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(append([]string{"bench"}, args...), &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut})
	return code, out.String(), errOut.String()
}

func matchAll(t *testing.T, what, out string, res ...string) {
	t.Helper()
	for _, re := range res {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("%s: output lacks /%s/:\n%s", what, re, out)
		}
	}
}

var pidRE = regexp.MustCompile(`pid (\d+)`)

// checkGone fails unless every process whose pid out names has ended (and
// been waited for).
func checkGone(t *testing.T, what, out string, want int) {
	t.Helper()
	pids := pidRE.FindAllStringSubmatch(out, -1)
	if len(pids) != want {
		t.Errorf("%s: %d pids in the output, want %d:\n%s", what, len(pids), want, out)
	}
	for _, m := range pids {
		pid, _ := strconv.Atoi(m[1])
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s: process %d still there (kill 0: %v)", what, pid, err)
		}
	}
}

func TestBenchSelf(t *testing.T) {
	for _, kind := range []string{"pr", "pl"} {
		code, stdout, stderr := runBench(t, "-self", "-echo", "-kind", kind, "-c", "2", "-d", "100ms", "-rounds", "1", "-log", "-")
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", kind, code, stdout, stderr)
		}
		matchAll(t, kind, stdout,
			`node a: in-process node \(shares this process's scheduler; not a fair comparison\)`,
			`config: (2|4) users loaded in`,
			`echo 1: lumictl echo in its own process, pid \d+`,
			`round 1/1 node: \d+ req/s`,
			`round 1/1 echo: \d+ req/s .* ratio \d+\.\d\d`,
			`median ratio node/echo: \d+\.\d\d \(rounds \S+; in-process node: not a fair comparison\)`,
		)
		checkGone(t, kind, stdout, 1)
	}
}

func TestBenchUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-self", "-target", "127.0.0.1:1"},
		{"-spawn", "x", "-self"},
		{"-self", "-kind", "xx"},
		{"-target", "nonsense"},
		{"-self", "-kind", "xpl"},
		{"-target", "127.0.0.1:1", "-kind", "xpl"},
		{"-target", "127.0.0.1:1", "-target2", "127.0.0.1:2"},
		{"-target", "127.0.0.1:1", "-target2", "nonsense", "-kind", "xpl"},
		{"-spawn", "x", "-kind", "xpl", "-domain2", "bench.test"},
		{"-self", "-malformed", "1"},
		{"-self", "-malformed", "-0.5"},
		{"-self", "-rounds", "0"},
		{"-self", "-c", "0"},
		{"-self", "-workers", "2"},
		{"-target", "127.0.0.1:1", "-users", "5"},
		{"-spawn", "x", "-log", "file.log"},
		{"-self", "-echo-addr", "nonsense"},
		{"-self", "-echo-addr", "127.0.0.1:1,127.0.0.1:2"},
		{"-self", "extra"},
	} {
		code, _, stderr := runBench(t, args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d\n%s", args, code, exitUsage, stderr)
		}
	}
}

// TestBenchWrongAnswers: an echo server as the node answers PR with the PR
// itself; a closed port answers nothing. Both are failures, said on
// stderr.
func TestBenchWrongAnswers(t *testing.T) {
	s, err := loadgen.StartEcho("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runBench(t, "-target", s.Addr().String(), "-kind", "pr", "-c", "2", "-d", "100ms", "-rounds", "1")
	if code != exitFailed || !strings.Contains(stderr, "round 1: the node answered") || !strings.Contains(stderr, "wrongly") {
		t.Errorf("target an echo server: exit %d\n%s%s", code, stdout, stderr)
	}
	addr := s.Addr().String()
	s.Close()
	code, stdout, stderr = runBench(t, "-target", addr, "-kind", "pr", "-c", "1", "-d", "100ms", "-rounds", "1", "-json")
	if code != exitFailed || !strings.Contains(stderr, "round 1: the node answered no request") {
		t.Errorf("target a closed port: exit %d\n%s%s", code, stdout, stderr)
	}
	var res struct {
		OK       bool
		Failures []string
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.OK || len(res.Failures) != 1 {
		t.Errorf("json: %v %+v\n%s", err, res, stdout)
	}
}

func TestBenchEchoAddr(t *testing.T) {
	s, err := loadgen.StartEcho("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	code, stdout, stderr := runBench(t, "-self", "-echo-addr", s.Addr().String(), "-c", "2", "-d", "100ms", "-rounds", "3", "-malformed", "0.5", "-log", "-")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	matchAll(t, "-echo-addr", stdout,
		`echo 1: at `+regexp.QuoteMeta(s.Addr().String())+`, started by hand`,
		`round 3/3 echo: \d+ req/s .* malformed \d+  ratio`,
		`median of 3 rounds node: \d+ req/s  p50 \S+  p99 \S+`,
		`median of 3 rounds echo: \d+ req/s`,
		`median ratio node/echo: \d+\.\d\d \(rounds \S+ \S+ \S+;`,
	)
}

// buildNode builds lumi-node into a temporary directory.
func buildNode(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not building lumi-node")
	}
	goTool, err := exec.LookPath("go")
	if err != nil && os.Getenv("GOROOT") != "" {
		goTool, err = filepath.Join(os.Getenv("GOROOT"), "bin", "go"), nil
	}
	if err != nil {
		t.Skipf("no go tool to build lumi-node: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "lumi-node")
	cmd := exec.Command(goTool, "build", "-o", bin, "mi/cmd/lumi-node")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build lumi-node: %v\n%s", err, out)
	}
	return bin
}

func TestBenchSpawn(t *testing.T) {
	bin := buildNode(t)
	for _, tc := range []struct {
		kind    string
		extra   []string
		procs   int    // nodes and echo servers
		workers string // what bench says of the node's workers
	}{
		{"pr", nil, 2, `[1-9]\d*`},
		{"pl", []string{"-malformed", "0.5", "-workers", "3"}, 2, "3"},
		{"xpl", nil, 4, `[1-9]\d*`},
		{"xpl", []string{"-malformed", "0.5", "-users", "10"}, 4, `[1-9]\d*`},
	} {
		name := tc.kind + strings.Join(tc.extra, "")
		t.Run(name, func(t *testing.T) {
			args := append([]string{"-spawn", bin, "-echo", "-kind", tc.kind, "-c", "2", "-d", "200ms", "-rounds", "2", "-logdir", t.TempDir()}, tc.extra...)
			code, stdout, stderr := runBench(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
			}
			users := "2" // bench-a0, bench-a1; pl: and bench-b0, bench-b1
			if tc.kind == "pl" {
				users = "4"
			}
			if slices.Contains(tc.extra, "-users") {
				users = "12"
			}
			res := []string{
				`files: \S+ \(`,
				`node a: \S+lumi-node in its own process, pid \d+, at 127\.0\.0\.1:\d+; bench\.test, ` + users + ` users in its config, ready in \S+; workers ` + tc.workers + `; rss \d+ kB\n`,
				`echo 1: lumictl echo in its own process, pid \d+, at 127\.0\.0\.1:\d+`,
				tc.kind + ` c=2 d=200ms rounds=2`,
				`round 1/2 node: \d+ req/s  p50 \S+  p99 \S+  sent \d+  answered \d+  lost \d+  bad 0`,
				`round 2/2 echo: \d+ req/s .* bad 0.*  ratio \d+\.\d\d`,
				`median of 2 rounds node: \d+ req/s`,
				`median of 2 rounds echo: \d+ req/s`,
				`median ratio node/echo: \d+\.\d\d \(rounds \S+ \S+\)\n`,
				`median p50 difference node-echo: -?\S+ \(each round's`,
				`after the run: node a RSS \d+ kB \(peak \d+ kB\), datagram log \d+\.\d MB`,
			}
			if tc.kind == "xpl" {
				res = append(res, `node b: \S+ in its own process, pid \d+, at 127\.0\.0\.1:\d+; bench2\.test, \d+ users in its config, ready in \S+; workers [1-9]\d*; rss \d+ kB\n`, `echo 2: lumictl echo in its own process`, `after the run: node b RSS`)
			}
			if len(tc.extra) > 0 {
				res = append(res, `round 1/2 node: .* malformed \d+`)
			}
			matchAll(t, name, stdout, res...)
			checkGone(t, name, stdout, tc.procs)
		})
	}
	t.Run("json", func(t *testing.T) {
		dir := t.TempDir()
		code, stdout, stderr := runBench(t, "-spawn", bin, "-echo", "-kind", "pr", "-c", "2", "-d", "100ms", "-rounds", "3", "-json", "-logdir", dir, "-keep")
		if code != exitOK {
			t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
		}
		var res struct {
			Config struct {
				Kind, Mode string
				Rounds     int
				Dir        string
			}
			Servers []struct {
				Role string
				PID  int
			}
			Rounds []struct {
				Node, Echo struct {
					PerSecond float64 `json:"req_per_s"`
					Answered  int64
				}
				Ratio float64
			}
			Median struct {
				Node struct {
					PerSecond float64 `json:"req_per_s"`
				}
				Ratio float64
			}
			OK bool
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatalf("%v\n%s", err, stdout)
		}
		if res.Config.Kind != "pr" || res.Config.Mode != "spawn" || len(res.Rounds) != 3 || len(res.Servers) != 2 || !res.OK ||
			res.Median.Node.PerSecond <= 0 || res.Median.Ratio <= 0 || res.Rounds[0].Echo.Answered == 0 {
			t.Errorf("%+v\n%s", res, stdout)
		}
		for _, s := range res.Servers {
			if err := syscall.Kill(s.PID, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("%s: process %d still there", s.Role, s.PID)
			}
		}
		// -keep: the configs, the datagram log and the output are there.
		if !strings.HasPrefix(res.Config.Dir, dir) {
			t.Fatalf("dir %q not under -logdir %q", res.Config.Dir, dir)
		}
		for _, f := range []string{"node-a.cfg", "node-a.log", "node-a.out", "echo-1.out"} {
			if _, err := os.Stat(filepath.Join(res.Config.Dir, f)); err != nil {
				t.Error(err)
			}
		}
		if !strings.Contains(stderr, "kept "+res.Config.Dir) {
			t.Errorf("stderr:\n%s", stderr)
		}
	})
}

// TestBenchSpawnFails: a node that does not start is an error, and
// nothing is left running; a binary that cannot be run, or a directory
// bench cannot work in, is named by its flag and its path.
func TestBenchSpawnFails(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	plain := filepath.Join(dir, "plain") // not executable
	if err := os.WriteFile(plain, []byte("not a program\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, spawn, logdir string
		want                string // stderr
	}{
		{"binary missing", missing, dir, "lumictl bench: node a: -spawn " + missing + ": no such file or directory\n"},
		{"binary not executable", plain, dir, "lumictl bench: node a: -spawn " + plain + ": permission denied\n"},
		{"logdir missing", plain, filepath.Join(missing, "logs"), "lumictl bench: -logdir " + filepath.Join(missing, "logs") + ": no such file or directory\n"},
		{"logdir a file", plain, plain, "lumictl bench: -logdir " + plain + ": not a directory\n"},
	} {
		code, stdout, stderr := runBench(t, "-spawn", tc.spawn, "-logdir", tc.logdir, "-echo", "-d", "100ms", "-rounds", "1")
		if diff := cmp.Diff(tc.want, stderr); diff != "" || code != exitFailed {
			t.Errorf("%s: exit %d, want %d; stderr (-want +got):\n%s\nstdout:\n%s", tc.name, code, exitFailed, diff, stdout)
		}
	}
	if _, err := os.Stat("/bin/false"); err == nil {
		code, stdout, stderr := runBench(t, "-spawn", "/bin/false", "-echo", "-d", "100ms", "-rounds", "1")
		if code != exitFailed || !strings.Contains(stderr, "node a: exited before it was ready") {
			t.Errorf("/bin/false: exit %d\n%s%s", code, stdout, stderr)
		}
	}
}

// TestBenchInterrupt: SIGINT to bench stops its rounds and every process it
// started.
func TestBenchInterrupt(t *testing.T) {
	bin := buildNode(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "bench", "-spawn", bin, "-echo", "-kind", "xpl", "-c", "2", "-d", "200ms", "-rounds", "1000")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var all strings.Builder
	timeout := time.After(30 * time.Second)
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("bench ended before its first round:\n%s%s", all.String(), stderr.String())
			}
			all.WriteString(l + "\n")
			if strings.HasPrefix(l, "round 1/") {
				break wait
			}
		case <-timeout:
			t.Fatalf("no round after 30s:\n%s", all.String())
		}
	}
	cmd.Process.Signal(os.Interrupt)
	for l := range lines {
		all.WriteString(l + "\n")
	}
	err = cmd.Wait()
	var xe *exec.ExitError
	if !errors.As(err, &xe) || xe.ExitCode() != exitFailed || !strings.Contains(stderr.String(), "interrupted after") {
		t.Errorf("after SIGINT: %v\n%s%s", err, all.String(), stderr.String())
	}
	checkGone(t, "SIGINT", all.String(), 4)
}

// fakeTarget plays a node on loopback: answer returns the reply to the
// k-th datagram (from 1), nil for none.
func fakeTarget(t *testing.T, answer func(k int, got []byte) []byte) string {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 2048)
		for k := 1; ; k++ {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if b := answer(k, buf[:n]); b != nil {
				conn.WriteToUDPAddrPort(b, from)
			}
		}
	}()
	return conn.LocalAddr().String()
}

// TestBenchGarbage: a target that answers every PR with garbage fails the
// run, and says why.
func TestBenchGarbage(t *testing.T) {
	target := fakeTarget(t, func(int, []byte) []byte { return []byte("\x00garbage\xff") })
	code, stdout, stderr := runBench(t, "-target", target, "-kind", "pr", "-c", "2", "-d", "100ms", "-rounds", "1")
	if code != exitFailed || !strings.Contains(stderr, "round 1: the node answered") || !strings.Contains(stderr, "wrongly") {
		t.Errorf("target answering garbage: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestBenchLoss: a target that answers the first PR right and no other
// answered something but lost half the requests, far more than the 1%
// allowed: the run fails, saying so. The same target answering every PR
// is a clean run.
func TestBenchLoss(t *testing.T) {
	rr0, err := (&wire.RegisterReply{Code: wire.RegisterOK}).Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	lossy := fakeTarget(t, func(k int, _ []byte) []byte {
		if k == 1 {
			return rr0
		}
		return nil
	})
	code, stdout, stderr := runBench(t, "-target", lossy, "-kind", "pr", "-c", "1", "-d", "100ms", "-rounds", "1")
	if code != exitFailed || !strings.Contains(stderr, "round 1: the node left") || !strings.Contains(stderr, "unanswered (lost), more than the 1% allowed") {
		t.Errorf("target losing requests: exit %d\n%s%s", code, stdout, stderr)
	}
	clean := fakeTarget(t, func(int, []byte) []byte { return rr0 })
	code, stdout, stderr = runBench(t, "-target", clean, "-kind", "pr", "-c", "1", "-d", "100ms", "-rounds", "1")
	if code != exitOK || stderr != "" {
		t.Errorf("target answering every request: exit %d\n%s%s", code, stdout, stderr)
	}
}
