package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/internal/conform"
	"mi/node"
)

func TestConformList(t *testing.T) {
	code, stdout, stderr := runLumictl("conform", "list")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != len(conformTable)+1 || !strings.HasPrefix(lines[0], "ID ") {
		t.Fatalf("%d lines for %d scenarios:\n%s", len(lines), len(conformTable), stdout)
	}
	for i, sc := range conformTable {
		if f := strings.Fields(lines[i+1]); f[0] != sc.ID || f[1] != sc.Target || f[2] != sc.Class || !strings.HasSuffix(lines[i+1], sc.Title) {
			t.Errorf("line %d: %q for %+v", i+2, lines[i+1], sc)
		}
	}

	code, stdout, _ = runLumictl("conform", "list", "-json")
	if code != exitOK {
		t.Fatalf("-json: exit %d", code)
	}
	type entry struct {
		ID, Target, Class, Title string
		Exec                     bool
		Line, Steps              int
	}
	var got, want []entry
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	for dec.More() {
		var e entry
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	for _, sc := range conform.Positions(conformTable) {
		if sc.Line == 0 {
			t.Errorf("%s: no line in spec/mi.spec", sc.ID)
		}
		want = append(want, entry{sc.ID, sc.Target, sc.Class, sc.Title, sc.Exec, sc.Line, len(sc.Steps)})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("list -json (-want +got):\n%s", diff)
	}
}

func TestConformUsage(t *testing.T) {
	node := []string{"conform", "node", "-target", "127.0.0.1:9", "-domain", "bb.com"}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no subcommand", []string{"conform"}, exitUsage, "want a subcommand: list, node or agent"},
		{"unknown subcommand", []string{"conform", "run"}, exitUsage, `unknown subcommand "run"`},
		{"help", []string{"conform", "-h"}, exitOK, "usage: lumictl conform list|node|agent"},
		{"node help", []string{"conform", "node", "-h"}, exitOK, "-remote-listen host:port"},
		{"agent help", []string{"conform", "agent", "-h"}, exitOK, "mi-agent -addr {addr} -node {node} -log -"},
		{"list help", []string{"conform", "list", "-h"}, exitOK, "usage: lumictl conform list [-json]"},
		{"bad flag", []string{"conform", "node", "-x"}, exitUsage, "flag provided but not defined: -x"},
		{"arguments", []string{"conform", "list", "extra"}, exitUsage, `unexpected arguments ["extra"]`},
		{"node without flags", []string{"conform", "node"}, exitUsage, "-target, -domain and -users are required"},
		{"two users", append(node, "-users", "a,b"), exitUsage, "-users: need 3 users, got 2"},
		{"remote half", append(node, "-users", "a,b,c", "-remote-domain", "cc.org"), exitUsage, "give -remote-domain and -remote-listen together"},
		{"class", append(node, "-users", "a,b,c", "-class", "core,fast"), exitUsage, `-class: unknown class "fast"`},
		{"run", append(node, "-users", "a,b,c", "-run", "("), exitUsage, "-run: error parsing regexp"},
		{"timeout", append(node, "-users", "a,b,c", "-timeout", "0s"), exitUsage, "-timeout must be positive"},
		{"diagram", append(node, "-users", "a,b,c", "-diagram", "/nonexistent/failed.md"), exitUsage, "-diagram: write /nonexistent/failed.md: cannot create a file in directory /nonexistent"},
		{"bad user: a setup error", append(node, "-users", "a,b,c d"), exitUsage, `lumictl conform node: setup error: user "c d"`},
		{"nothing selected", append(node, "-users", "a,b,c", "-run", "NOPE"), exitUsage, "no node scenario is selected"},
		{"agent without flags", []string{"conform", "agent", "-addr", "a@b.c"}, exitUsage, "-node-listen and -addr are required"},
		{"agent address", []string{"conform", "agent", "-addr", "ab.c", "-node-listen", "127.0.0.1:0"}, exitUsage, `agent address "ab.c"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runLumictl(tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, want %d; stderr lacks %q:\n%s", code, tt.code, tt.stderr, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
		})
	}
}

// startNode starts our node in this process, serving bb.com with the
// users laura, marc and anna, and waiting pendingTTL for the RL to a PL
// it forwards (0: its default); it returns the node's address.
func startNode(t *testing.T, pendingTTL time.Duration) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "nodelumi.cfg")
	if err := os.WriteFile(cfg, []byte("bb.com\nlaura\nmarc\nanna\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := node.New(node.Options{ConfigPath: cfg, Listen: "127.0.0.1:0", LogPath: "-", HostsFile: "-", DNSServer: "127.0.0.1:1", PendingTTL: pendingTTL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return n.Addr().String()
}

// TestConformNode runs the core registration scenarios against our node in
// this process: exit 0 when they pass, 1 when one fails.
func TestConformNode(t *testing.T) {
	args := []string{"conform", "node", "-target", startNode(t, 0), "-domain", "bb.com", "-run", "^REG-"}
	code, stdout, stderr := runLumictl(append(args, "-users", "laura,marc,anna")...)
	if code != exitOK || !strings.HasPrefix(stdout, "TAP version 14\n1..") || strings.Contains(stdout, "not ok") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
	// A user the node does not have: REG-OK fails.
	code, stdout, stderr = runLumictl(append(args, "-users", "laura,marc,nobody", "-json")...)
	if code != exitFailed {
		t.Errorf("exit %d, want %d\n%s%s", code, exitFailed, stdout, stderr)
	}
	var failed []string
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var r conform.Report
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%v: %q", err, l)
		}
		if r.Status == conform.Fail {
			failed = append(failed, r.ID)
		}
	}
	if len(failed) == 0 || !strings.Contains(stderr, "failed") {
		t.Errorf("no scenario failed:\n%s%s", stdout, stderr)
	}
}

// TestConformNodeOffline plays the offline scenario against our node
// started with a short locate wait, given to conform as -locate-wait; the
// scenario is an optional feature, skipped (not failed) without -features.
func TestConformNodeOffline(t *testing.T) {
	const wait = 300 * time.Millisecond
	args := []string{"conform", "node", "-target", startNode(t, wait), "-domain", "bb.com", "-users", "laura,marc,anna", "-run", "^OFFLINE$"}
	code, stdout, stderr := runLumictl(append(args, "-features", "offline", "-locate-wait", wait.String())...)
	if code != exitOK || !strings.Contains(stdout, "\nok 1 - OFFLINE ") || strings.Contains(stdout, "SKIP") {
		t.Errorf("-features offline: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runLumictl(args...)
	if code != exitOK || !strings.Contains(stdout, "\nok 1 - OFFLINE ") || !strings.Contains(stdout, "# SKIP needs feature offline") {
		t.Errorf("without -features: exit %d\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = runLumictl(append(args, "-features", "offline,teleport")...)
	if code != exitUsage || !strings.Contains(stderr, `unknown feature "teleport"`) {
		t.Errorf("unknown feature: exit %d\n%s", code, stderr)
	}
}

// TestConformDiagram: with -diagram, a run that fails writes the failed
// scenario's exchange as a Mermaid diagram; a run that passes leaves the
// file empty.
func TestConformDiagram(t *testing.T) {
	file := filepath.Join(t.TempDir(), "failed.md")
	if err := os.WriteFile(file, []byte("a diagram of an earlier run\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"conform", "node", "-target", startNode(t, 0), "-domain", "bb.com", "-run", "^REG-OK$", "-diagram", file}

	// A user the node does not have: its registration is refused (RR1).
	code, stdout, stderr := runLumictl(append(args, "-users", "nobody,marc,anna")...)
	if code != exitFailed || !strings.Contains(stderr, "conform: the failed scenarios are drawn in "+file) {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitFailed, stdout, stderr)
	}
	var sc conform.Scenario
	for _, s := range conform.Positions(conformTable) {
		if s.ID == "REG-OK" {
			sc = s
		}
	}
	want := "## REG-OK: " + sc.Title + "\n\n" +
		"```mermaid\n" +
		"sequenceDiagram\n" +
		"    participant a1\n" +
		"    participant node\n" +
		"    a1->>node: PRnobody@bb.com\n" +
		"    node->>a1: RR1\n" +
		fmt.Sprintf("    Note over a1,node: step 3 failed: expect a1 (spec/mi.spec:%d)<br/>", sc.Steps[2].Line) +
		"a1: got #34;RR1#34;, want #34;RR0#34;<br/>expected: #34;RR0#34;<br/>arrived: #34;RR1#34;\n" +
		"```\n"
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", file, diff)
	}

	code, stdout, stderr = runLumictl(append(args, "-users", "laura,marc,anna")...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if got, err := os.ReadFile(file); err != nil || len(got) != 0 {
		t.Errorf("nothing failed: %s holds %q (%v)", file, got, err)
	}
}
