package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := runDemo(ctx, &out, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{
		"[pau  ] laura> Hola Pau! Com va per cc.org?",
		"[laura] pau> Hola Laura! Tot bé, i per bb.com?",
		"[laura] pau> Laura, una cosa més: 🎉 funciona!",
		"nodelumi-bb.com.log:\n------ INICI LOG ------\nR: 127.0.0.1:UDP:",
		", PRlaura@bb.com, 14\n",
		", PLlaura@bb.com:pau@cc.org, 25\n",
		", PDpau@cc.org, 12\n",
		"------ FINAL LOG ------",
		"demo OK",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", out.String())
	}
}

// TestStartSystemReady: startSystem returns once every node serves, so
// that the agents started next, and a person reading the addresses, find
// them answering.
func TestStartSystemReady(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := startSystem(ctx, t.TempDir(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	for i, n := range s.nodes {
		select {
		case <-n.Ready():
		default:
			t.Errorf("the node of %s does not serve yet", demoDomains[i].name)
		}
	}
}

// liveChildEnv makes the test binary run mi-demo's main with the arguments
// after "--", for tests that signal a real process.
const liveChildEnv = "MI_DEMO_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(liveChildEnv) != "" {
		i := slices.Index(os.Args, "--")
		os.Args = append([]string{"mi-demo"}, os.Args[i+1:]...)
		main()
		return
	}
	os.Exit(m.Run())
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		want     []string // in the stderr, in this order
		noStdout bool
	}{
		{"help", []string{"-h"}, exitOK, []string{
			"usage: mi-demo [flags]\n\nmi-demo runs the whole MI system on loopback",
			"With -live", "Ctrl-C",
			"With -cluster", "apt-get install", "redis-server",
			"Examples:\n  mi-demo ", "mi-demo -live", "mi-demo -cluster", "make demo-cluster",
			"Exit status: 0", "3 -cluster cannot find redis-server or lumi-node",
			"Flags:\n", "-cluster\n", "-live\n", "-lumi-node binary", "-timeout duration", "-v\t"}, true},
		{"live and cluster", []string{"-live", "-cluster"}, exitUsage, []string{
			"mi-demo: -live and -cluster cannot go together\n", "usage: mi-demo [flags]"}, true},
		{"lumi-node without cluster", []string{"-lumi-node", "/bin/true"}, exitUsage, []string{
			"mi-demo: -lumi-node is for -cluster\n", "usage: mi-demo [flags]"}, true},
		{"unexpected argument", []string{"now"}, exitUsage, []string{
			"mi-demo: unexpected arguments [\"now\"]\n", "usage: mi-demo [flags]", "Flags:\n"}, true},
		{"unknown flag", []string{"-x"}, exitUsage, []string{
			"flag provided but not defined: -x\n", "usage: mi-demo [flags]"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit status %d, want %d", code, tt.code)
			}
			rest := stderr.String()
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stderr lacks %q after the earlier parts:\n%s", w, stderr.String())
				}
				rest = rest[i+len(w):]
			}
			if tt.noStdout && stdout.Len() > 0 {
				t.Errorf("stdout: %q, want nothing", stdout.String())
			}
		})
	}
}

// TestLiveInterrupt runs mi-demo -live as a process, sends it SIGINT as
// Ctrl-C does, and checks that it exits 0 and leaves no temporary
// directory behind.
func TestLiveInterrupt(t *testing.T) {
	tmp := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$", "--", "-live")
	cmd.Env = append(os.Environ(), liveChildEnv+"=1", "TMPDIR="+tmp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	ready := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "Ctrl-C stops") {
			ready = true
			break
		}
	}
	if !ready {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("mi-demo -live never said it was ready; stderr:\n%s", stderr.String())
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 1 {
		t.Errorf("while running, TMPDIR holds %d entries, want its one directory", len(entries))
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGINT: %v; stderr:\n%s", err, stderr.String())
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind in TMPDIR: %s", e.Name())
	}
}
