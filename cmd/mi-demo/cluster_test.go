package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"mi/internal/testenv"
)

// needRedis returns the path of redis-server, skipping the test where it
// is missing, but failing it under CI=true, where the cluster's tests must
// run.
func needRedis(t *testing.T) string {
	t.Helper()
	return testenv.Program(t, "redis-server", "the cluster demo is not run", "apt-get install redis-server")
}

// buildLumiNode builds lumi-node into a directory of the test's.
func buildLumiNode(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil && os.Getenv("GOROOT") != "" {
		gobin, err = filepath.Join(os.Getenv("GOROOT"), "bin", "go"), nil
	}
	if err != nil {
		t.Fatalf("no go command to build lumi-node: %v", err)
	}
	out := filepath.Join(t.TempDir(), "lumi-node")
	cmd := exec.Command(gobin, "build", "-o", out, "mi/cmd/lumi-node")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build lumi-node: %v\n%s", err, b)
	}
	return out
}

// TestClusterDemo runs the -cluster demo: three lumi-node processes and a
// redis-server; calls between agents at different nodes, relayed by the
// caller's node to the callee's; n1 killed, laura moved to n2 by her
// refresh, and the calls to and from her connecting again.
func TestClusterDemo(t *testing.T) {
	progs := clusterPrograms{redisServer: needRedis(t), lumiNode: buildLumiNode(t)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := runCluster(ctx, &out, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), progs); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	s := out.String()
	rest := s
	for _, want := range []string{
		"redis-server on 127.0.0.1:",
		"DNS: _lumi._udp.bb.test has three SRV records of priority 0 and weight 0",
		"node n1 serves bb.test on 127.0.0.1:",
		"-store redis://127.0.0.1:",
		"node n3 serves bb.test on 127.0.0.1:",
		"every node sees the two others alive",
		"[laura] registered laura@bb.test with node ",
		"== laura (at n1) calls pau@bb.test (at n2)",
		"[pau  ] laura> Hola Pau! Sóc a n1.",
		"[laura] pau> I jo a n2. Tot bé?",
		"== marc (at n3) calls laura@bb.test (at n1)",
		"[marc ] laura> Rebut a n1!",
		"== node n1 killed (SIGKILL)",
		"her agent registers with the next SRV target, n2",
		"== pau (at n2) calls laura@bb.test (now at n2)",
		"[laura] pau> Laura, n1 ha caigut. Em sents?",
		"[pau  ] laura> Et sento! Ara sóc a n2.",
		"after n1 was killed)",
		"== laura (at n2) calls marc@bb.test (at n3)",
		"[laura] marc> Perfecte. Adéu!",
		"[marc ] deregistered marc@bb.test",
		"nodelumi-n1.log, node n1 at ",
		"nodelumi-n2.log, node n2 at ",
		"nodelumi-n3.log, node n3 at ",
		"demo OK",
	} {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Fatalf("output lacks %q after the earlier parts:\n%s", want, s)
		}
		rest = rest[i+len(want):]
	}
	// n2 got laura's PL for pau from n1's address, and sent the RL back
	// there; n3 relayed laura's PL for marc's agent from n2.
	n1 := regexp.MustCompile(`node n1 serves bb\.test on 127\.0\.0\.1:(\d+)`).FindStringSubmatch(s)
	n2 := regexp.MustCompile(`node n2 serves bb\.test on 127\.0\.0\.1:(\d+)`).FindStringSubmatch(s)
	if n1 == nil || n2 == nil {
		t.Fatalf("no node addresses in the output:\n%s", s)
	}
	logOf := func(id string) string {
		_, after, _ := strings.Cut(s, "nodelumi-"+id+".log, ")
		log, _, _ := strings.Cut(after, "------ FINAL LOG ------")
		return log
	}
	for _, c := range []struct{ id, want string }{
		{"n1", ", PRlaura@bb.test, 15\n"},
		{"n2", "R: 127.0.0.1:UDP:" + n1[1] + ", PLlaura@bb.test:pau@bb.test, 27\n"},
		{"n2", "E: 127.0.0.1:UDP:" + n1[1] + ", RL0laura@bb.test:pau@bb.test:127.0.0.1:"},
		{"n2", ", PRlaura@bb.test, 15\n"},
		{"n3", "R: 127.0.0.1:UDP:" + n2[1] + ", PLlaura@bb.test:marc@bb.test, 28\n"},
	} {
		if !strings.Contains(logOf(c.id), c.want) {
			t.Errorf("%s's log lacks %q", c.id, c.want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", s)
	}
}

// TestClusterMissing: -cluster without redis-server, or without lumi-node,
// says what to install or build and exits 3, before it starts anything.
func TestClusterMissing(t *testing.T) {
	empty := t.TempDir()
	fake := t.TempDir() // a redis-server that is never run
	if err := os.WriteFile(filepath.Join(fake, "redis-server"), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		args []string
		want string
	}{
		{"no redis-server", empty, []string{"-cluster"}, "apt-get install redis-server"},
		{"no lumi-node", fake, []string{"-cluster"}, "run make demo-cluster, or build it"},
		{"no -lumi-node", fake, []string{"-cluster", "-lumi-node", filepath.Join(empty, "lumi-node")}, "-lumi-node " + filepath.Join(empty, "lumi-node")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", tt.path)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != exitMissing || !strings.Contains(stderr.String(), tt.want) || !strings.HasPrefix(stderr.String(), "mi-demo: ") {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), exitMissing, tt.want)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout: %q, want nothing", stdout.String())
			}
		})
	}
}
