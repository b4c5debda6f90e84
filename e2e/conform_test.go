package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mi/internal/conform"
	"mi/internal/supervise"
	"mi/internal/syncbuf"
)

// lumictlWithin runs lumictl, killed after d.
func lumictlWithin(t *testing.T, d time.Duration, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "lumictl"), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("lumictl %s: still running after %v\n%s%s", strings.Join(args, " "), d, out.String(), errOut.String())
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// startConformNode starts lumi-node for bb.com (laura, marc, anna) on a
// free loopback port, with cc.org's node at remote, and returns its address.
// conformLocateWait is the -locate-wait of the node the suite plays
// against, given to lumictl conform too: short, so that the offline
// scenario (five locates waited out) takes seconds, and longer than any
// scenario takes to answer a locate it wants answered.
const conformLocateWait = "600ms"

func startConformNode(t *testing.T, remote string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "nodelumi-bb.com.cfg")
	if err := os.WriteFile(cfg, []byte("bb.com\nlaura\nmarc\nanna\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
	errOut := &syncbuf.Buffer{}
	// The console is kept open: the node serves until killed.
	p, err := supervise.Start(context.Background(), supervise.Config{
		Path: filepath.Join(bin, "lumi-node"),
		Args: []string{"-config", cfg, "-listen", addr, "-peer", "cc.org=" + remote, "-log", "-", "-hosts", "-", "-dns", "127.0.0.1:1",
			"-locate-wait", conformLocateWait, "-source-ports", testSourcePorts},
		Stdout: errOut, Stdin: true, ReadyTimeout: nodeReadyTimeout,
	})
	if err != nil {
		t.Fatalf("lumi-node: %v", err)
	}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("lumi-node output:\n%s", errOut.String())
		}
	})
	return addr
}

// reports reads lumictl conform -json output.
func reports(t *testing.T, out string) []conform.Report {
	t.Helper()
	var rs []conform.Report
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	for dec.More() {
		var r conform.Report
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("-json output: %v\n%s", err, out)
		}
		rs = append(rs, r)
	}
	return rs
}

func count(target string) int {
	n := 0
	for _, sc := range conform.Scenarios {
		if sc.Target == target {
			n++
		}
	}
	return n
}

// TestConformNode plays every node scenario of the spec against our node.
func TestConformNode(t *testing.T) {
	remote := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
	node := startConformNode(t, remote)
	start := time.Now()
	code, out, errOut := lumictlWithin(t, 60*time.Second, "conform", "node", "-target", node, "-domain", "bb.com",
		"-users", "laura,marc,anna", "-remote-domain", "cc.org", "-remote-listen", remote, "-json",
		"-features", strings.Join(conform.Features, ","), "-locate-wait", conformLocateWait)
	rs := reports(t, out)
	for _, r := range rs {
		if r.Status != conform.Pass {
			b, _ := json.MarshalIndent(r, "", "  ")
			t.Errorf("%s: %s\n%s", r.ID, r.Status, b)
		}
	}
	if code != 0 || len(rs) != count("node") {
		t.Errorf("exit %d, %d reports for %d node scenarios; stderr:\n%s", code, len(rs), count("node"), errOut)
	}
	t.Logf("%d node scenarios in %v", len(rs), time.Since(start).Round(time.Millisecond))
}

// TestConformNodeFailing: a user the node does not know makes the
// registration scenarios fail, in TAP with a diagnostic, exit status 1.
func TestConformNodeFailing(t *testing.T) {
	node := startConformNode(t, "127.0.0.1:9")
	code, out, errOut := lumictlWithin(t, 30*time.Second, "conform", "node", "-target", node, "-domain", "bb.com",
		"-users", "nobody,marc,anna", "-run", "^REG-OK$")
	want := "TAP version 14\n1..1\nnot ok 1 - REG-OK "
	if code != 1 || !strings.HasPrefix(out, want) || !strings.Contains(out, "\n  ---\n  message: \"a1: got \\\"RR1\\\", want \\\"RR0\\\"\"\n") ||
		!strings.HasSuffix(out, "  ...\n") {
		t.Errorf("exit %d, output:\n%s%s", code, out, errOut)
	}
}

// TestConformAgent plays every agent scenario of the spec against
// mi-agent, which lumictl starts.
func TestConformAgent(t *testing.T) {
	agent := "'" + filepath.Join(bin, "mi-agent") + "' -addr {addr} -node {node} -log -"
	start := time.Now()
	code, out, errOut := lumictlWithin(t, 90*time.Second, "conform", "agent", "-node-listen", "127.0.0.1:0",
		"-addr", "laura@bb.com", "-exec", agent)
	oks := strings.Count(out, "\nok ")
	if code != 0 || strings.Contains(out, "not ok") || oks != count("agent") || !strings.HasPrefix(out, "TAP version 14\n") {
		t.Errorf("exit %d, %d ok for %d agent scenarios:\n%s%s", code, oks, count("agent"), out, errOut)
	}
	t.Logf("%d agent scenarios in %v", oks, time.Since(start).Round(time.Millisecond))
}
