package main

import (
	"context"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"mi/cluster"
	"mi/cluster/clustertest"
)

const clusterWait = 20 * time.Second

// clusterNode is a Store of domain bb.com heart-beating fast until the
// test ends or stop is called.
type clusterNode struct {
	s    *cluster.Store
	stop func()
}

func startClusterNode(t *testing.T, url, id string, port uint16, users []string) *clusterNode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	s, err := cluster.Open(ctx, cluster.Config{URL: url, Domain: "bb.com", NodeID: id,
		Addr:  netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port),
		Users: cluster.UsersDigest(users), Heartbeat: 50 * time.Millisecond, DeadAfter: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	bctx, bcancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Heartbeat(bctx, nil) }()
	n := &clusterNode{s: s}
	n.stop = func() {
		bcancel()
		if err := <-done; err != nil {
			t.Errorf("Heartbeat of %s: %v", id, err)
		}
		n.stop = func() {}
	}
	t.Cleanup(func() { n.stop() })
	return n
}

// set stores a binding of user owned by owner, which must win.
func (n *clusterNode) set(t *testing.T, user, owner string, online bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
	defer cancel()
	b := cluster.Binding{User: user, Owner: owner, Agent: netip.MustParseAddrPort("192.0.2.1:40000"), Online: online}
	if _, won, err := n.s.CompareAndSet(ctx, b); err != nil || !won {
		t.Fatalf("CompareAndSet %+v: won %v, %v", b, won, err)
	}
}

// waitNodes waits until the registry, read through s, says which nodes are
// alive: want maps each id to its Alive.
func waitNodes(t *testing.T, s *cluster.Store, want map[string]bool) {
	t.Helper()
	deadline := time.Now().Add(clusterWait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), clusterWait)
		nodes, err := s.Nodes(ctx)
		cancel()
		got := map[string]bool{}
		for _, n := range nodes {
			got[n.ID] = n.Alive
		}
		if err == nil && len(got) == len(want) {
			same := true
			for id, alive := range want {
				if a, ok := got[id]; !ok || a != alive {
					same = false
				}
			}
			if same {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry %v (%v), want %v", got, err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// clusterTable runs lumictl cluster and returns its exit status and the
// table's rows by node id, each split in its columns (NOTE joined).
func clusterTable(t *testing.T, url string) (int, map[string][]string, string) {
	t.Helper()
	code, stdout, stderr := runLumictl("cluster", "-store", url, "bb.com")
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) < 2 || !slicesEqual(strings.Fields(lines[0]), []string{"NODE", "ADDRESS", "STATE", "HEARTBEAT", "USERS", "BINDINGS", "ONLINE", "NOTE"}) {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	rows := map[string][]string{}
	for _, l := range lines[1 : len(lines)-1] {
		f := strings.Fields(l)
		// HEARTBEAT is "0.1s ago" or "-": keep it one column.
		if len(f) > 4 && f[4] == "ago" {
			f = append(f[:3], append([]string{f[3] + " ago"}, f[5:]...)...)
		}
		if len(f) > 7 {
			f = append(f[:7], strings.Join(f[7:], " "))
		}
		rows[f[0]] = f
	}
	return code, rows, lines[len(lines)-1] + "\n" + stderr
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestClusterCommand(t *testing.T) {
	r := clustertest.StartRedis(t)
	users := []string{"alice", "bob", "carol"}
	a := startClusterNode(t, r.URL(), "a", 3301, users)
	b := startClusterNode(t, r.URL(), "b", 3302, []string{"Carol", "bob", "alice"}) // same users
	a.set(t, "alice", "a", true)
	a.set(t, "bob", "a", false)
	b.set(t, "carol", "b", true)
	waitNodes(t, a.s, map[string]bool{"a": true, "b": true})
	digest := cluster.UsersDigest(users)

	code, rows, rest := clusterTable(t, r.URL())
	if code != exitOK {
		t.Fatalf("exit %d, want 0: %v\n%s", code, rows, rest)
	}
	want := map[string][]string{
		"a": {"a", "127.0.0.1:3301", "alive", "", digest, "2", "1"},
		"b": {"b", "127.0.0.1:3302", "alive", "", digest, "1", "1"},
	}
	checkRows(t, rows, want)
	if !strings.HasPrefix(rest, "bb.com: 2 nodes registered, 2 alive; 3 bindings, 2 online\n") {
		t.Errorf("summary and stderr:\n%s", rest)
	}

	// -json says the same.
	code, stdout, stderr := runLumictl("cluster", "-store", r.URL(), "-json", "bb.com")
	var out jsonCluster
	if err := json.Unmarshal([]byte(stdout), &out); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v:\n%s%s", code, err, stdout, stderr)
	}
	if out.Domain != "bb.com" || len(out.Nodes) != 2 || out.Bindings != 3 || out.Online != 2 || out.MajorityUsers != digest || out.Degraded {
		t.Errorf("-json: %s", stdout)
	}
	if n := out.Nodes[0]; n.ID != "a" || n.State != "alive" || n.HeartbeatAge == nil || *n.HeartbeatAge > 10 || n.Bindings != 2 || n.Online != 1 || n.Note != "" {
		t.Errorf("-json node a: %+v", n)
	}

	// A third node with other users, and a binding whose owner is not
	// registered: both flagged.
	c := startClusterNode(t, r.URL(), "c", 3303, []string{"alice", "bob"})
	c.set(t, "dave", "ghost", true)
	waitNodes(t, a.s, map[string]bool{"a": true, "b": true, "c": true})
	code, rows, rest = clusterTable(t, r.URL())
	if code != exitDegraded || !strings.HasPrefix(rest, "bb.com: 3 nodes registered, 3 alive; 4 bindings, 3 online\n") {
		t.Errorf("exit %d, want %d; summary and stderr:\n%s", code, exitDegraded, rest)
	}
	checkRows(t, rows, map[string][]string{
		"a":     want["a"],
		"b":     want["b"],
		"c":     {"c", "127.0.0.1:3303", "alive", "", cluster.UsersDigest([]string{"alice", "bob"}), "0", "0", "users differ from the majority"},
		"ghost": {"ghost", "-", "unknown", "-", "-", "1", "1", "not registered"},
	})

	// b stops: dead, once its heartbeat is older than DeadAfter.
	b.stop()
	waitNodes(t, a.s, map[string]bool{"a": true, "b": false, "c": true})
	code, rows, rest = clusterTable(t, r.URL())
	if code != exitDegraded {
		t.Errorf("exit %d, want %d", code, exitDegraded)
	}
	if row := rows["b"]; len(row) < 8 || row[2] != "dead" || !strings.HasPrefix(row[7], "dead") || !strings.HasSuffix(row[3], "s ago") {
		t.Errorf("dead b: %q", row)
	}
	if !strings.HasPrefix(rest, "bb.com: 3 nodes registered, 2 alive; 4 bindings, 3 online\n") {
		t.Errorf("summary and stderr:\n%s", rest)
	}
}

// checkRows compares the table's rows with want, whose empty cells are
// not checked.
func checkRows(t *testing.T, rows, want map[string][]string) {
	t.Helper()
	if len(rows) != len(want) {
		t.Errorf("rows %q, want %q", rows, want)
	}
	for id, w := range want {
		got := rows[id]
		for i, cell := range w {
			if cell != "" && (i >= len(got) || got[i] != cell) {
				t.Errorf("row %s: %q, want %q", id, got, w)
				break
			}
		}
		if len(w) == 7 && len(got) != 7 {
			t.Errorf("row %s: %q, want no note", id, got)
		}
	}
}

func TestClusterCommandNoNodes(t *testing.T) {
	r := clustertest.StartRedis(t)
	code, stdout, stderr := runLumictl("cluster", "-store", r.URL(), "bb.com")
	if code != exitDegraded || !strings.Contains(stdout, "bb.com: 0 nodes registered, 0 alive; 0 bindings, 0 online; no node registered") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestClusterCommandMalformed(t *testing.T) {
	r := clustertest.StartRedis(t)
	startClusterNode(t, r.URL(), "a", 3301, nil)
	for _, c := range [][]string{
		{"HSET", "{lumi:bb.com}:bindings", "eve", "\x1b[2Jgarbage"},
		{"HSET", "{lumi:bb.com}:nodes", "zed", "not an entry"},
	} {
		if _, err := r.Do(c...); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runLumictl("cluster", "-store", r.URL(), "bb.com")
	if code != exitDegraded || !strings.Contains(stdout, "2 entries that do not decode") {
		t.Errorf("exit %d\n%s", code, stdout)
	}
	if strings.Count(stderr, "malformed: ") != 2 || strings.Contains(stderr, "\x1b") || !strings.Contains(stderr, `bindings["eve"]`) || !strings.Contains(stderr, `nodes["zed"]`) {
		t.Errorf("stderr:\n%q", stderr)
	}
}

func TestClusterCommandErrors(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no store", []string{"bb.com"}, exitUsage, "-store URL is required"},
		{"no domain", []string{"-store", "redis://127.0.0.1:1"}, exitUsage, "want DOMAIN"},
		{"bad domain", []string{"-store", "redis://127.0.0.1:1", "b b.com"}, exitUsage, "domain"},
		{"bad URL", []string{"-store", "http://u:hunter2@127.0.0.1:1", "bb.com"}, exitUsage, "invalid store URL http://u:xxxxx@"},
		{"unreachable", []string{"-store", "redis://:hunter2@127.0.0.1:1", "bb.com"}, exitFailed, "redis://:xxxxx@127.0.0.1:1"},
		{"bad timeout", []string{"-store", "redis://127.0.0.1:1", "-timeout", "0s", "bb.com"}, exitUsage, "-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runLumictl(append([]string{"cluster"}, tt.args...)...)
			if code != tt.code || stdout != "" || !strings.Contains(stderr, tt.stderr) || strings.Contains(stderr, "hunter2") {
				t.Errorf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
			}
		})
	}
}
