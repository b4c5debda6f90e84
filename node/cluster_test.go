package node

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"mi/cluster"
	"mi/cluster/clustertest"
	"mi/internal/syncbuf"
)

// Timings of the cluster tests: quick heartbeats, so that a node's death
// is seen within a second.
const (
	testHeartbeat = 50 * time.Millisecond
	testDeadAfter = 600 * time.Millisecond
)

// startMember starts a node of domain bb.test with users, as node id,
// sharing redis.
func startMember(t *testing.T, redis *clustertest.Redis, id string, users []string, change func(*Options)) *testNode {
	t.Helper()
	return startNode(t, "127.0.0.1:0", "bb.test", users, func(o *Options) {
		o.Cluster = &cluster.Config{URL: redis.URL(), NodeID: id, Heartbeat: testHeartbeat, DeadAfter: testDeadAfter}
		o.Limits.ProbeWait = 300 * time.Millisecond
		if change != nil {
			change(o)
		}
	})
}

// eventually waits until cond holds, or fails after wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sees says whether n knows user as held by node id, online or not.
func (n *testNode) sees(user, id string, online bool) bool {
	var owner int16
	var on, ok bool
	ok = n.core.t.withUser([]byte(strings.ToLower(user)), func(u *userState) { owner, on = u.owner, u.online })
	return ok && n.core.cl.owner(owner).id == id && on == online
}

// seesAlive says whether n sees the sibling id alive (or dead).
func (n *testNode) seesAlive(id string, alive bool) bool {
	for _, s := range *n.core.cl.sibs.Load() {
		if s.id == id {
			return s.alive == alive
		}
	}
	return !alive
}

// twoMembers starts nodes a and b of bb.test on one store, with laura
// registered at a and pau at b, and waits until each sees the other.
func twoMembers(t *testing.T) (redis *clustertest.Redis, a, b *testNode, laura, pau *agent) {
	redis = clustertest.StartRedis(t)
	users := []string{"laura", "pau", "abe"}
	a = startMember(t, redis, "a", users, nil)
	b = startMember(t, redis, "b", users, nil)
	eventually(t, "a and b see each other", func() bool { return a.seesAlive("b", true) && b.seesAlive("a", true) })
	laura, pau = newAgent(t), newAgent(t)
	laura.ask(a.Addr(), "PRlaura@bb.test", "RR0")
	pau.ask(b.Addr(), "PRpau@bb.test", "RR0")
	eventually(t, "both bindings seen everywhere", func() bool {
		return a.sees("pau", "b", true) && b.sees("laura", "a", true)
	})
	return redis, a, b, laura, pau
}

// TestClusterLocateAcrossNodes: a PL for a user held by another node is
// relayed to it, which alone speaks to the agent, and the RL comes back
// the same way; a PD is then seen by every node.
func TestClusterLocateAcrossNodes(t *testing.T) {
	_, a, b, laura, pau := twoMembers(t)
	laura.send(a.Addr(), "PLlaura@bb.test:pau@bb.test")
	pau.expect(b.Addr(), "PLlaura@bb.test:pau@bb.test")
	pau.send(b.Addr(), "RL0laura@bb.test:pau@bb.test:127.0.0.1:7000")
	laura.expect(a.Addr(), "RL0laura@bb.test:pau@bb.test:127.0.0.1:7000")
	got := series(t, a.Collector())
	for name, want := range map[string]float64{
		`lumi_node_locates_forwarded_total{to="sibling"}`: 1,
		`lumi_node_store_up`:                              1,
		`lumi_node_cluster_nodes{state="alive"}`:          1,
		`lumi_node_binding_changes_total{result="won"}`:   1, // laura's PR
		`lumi_node_binding_changes_total{result="lost"}`:  0,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
	// And the other way, the asker held by b.
	pau.send(b.Addr(), "PLpau@bb.test:laura@bb.test")
	laura.expect(a.Addr(), "PLpau@bb.test:laura@bb.test")
	laura.send(a.Addr(), "RL1pau@bb.test:laura@bb.test")
	pau.expect(b.Addr(), "RL1pau@bb.test:laura@bb.test")

	pau.ask(b.Addr(), "PDpau@bb.test", "RD0")
	eventually(t, "a sees pau offline", func() bool { return a.sees("pau", "b", false) })
	laura.ask(a.Addr(), "PLlaura@bb.test:pau@bb.test", "RL3laura@bb.test:pau@bb.test")
}

// TestClusterTakeoverAtAnotherNode: a PR for laura at b, from another
// address while her agent at a answers, is refused: b checks her agent
// through a, and the agent's answer comes back through a.
func TestClusterTakeoverAtAnotherNode(t *testing.T) {
	_, a, b, laura, _ := twoMembers(t)
	stranger := newAgent(t)
	stranger.send(b.Addr(), "PRlaura@bb.test")
	laura.expect(a.Addr(), "PLlaura@bb.test:laura@bb.test") // the check, relayed by a
	laura.send(a.Addr(), "RL0laura@bb.test:laura@bb.test:127.0.0.1:7000")
	stranger.expect(b.Addr(), "RR1")
	if !a.sees("laura", "a", true) || !b.sees("laura", "a", true) {
		t.Errorf("laura's binding moved")
	}
	// Had her agent been silent, the new address would have won.
	stranger.send(b.Addr(), "PRabe@bb.test")
	stranger.expect(b.Addr(), "RR0")
	eventually(t, "a sees abe at b", func() bool { return a.sees("abe", "b", true) })
	other := newAgent(t)
	other.send(a.Addr(), "PRabe@bb.test") // abe online at b: a checks through b
	stranger.expect(b.Addr(), "PLabe@bb.test:abe@bb.test")
	eventually(t, "the silent agent loses abe", func() bool { return a.sees("abe", "a", true) && b.sees("abe", "a", true) })
	other.expect(a.Addr(), "RR0")
}

// TestClusterRacingPRs: PRs for one user from two addresses at two nodes
// at once: exactly one wins, and both nodes agree on which.
func TestClusterRacingPRs(t *testing.T) {
	redis := clustertest.StartRedis(t)
	var users []string
	for i := range 20 {
		users = append(users, fmt.Sprintf("u%d", i))
	}
	// A PR that finds the other's binding already taken starts a check
	// of the winner's agent, which these agents never answer: the check
	// lasts longer than the test, so that its verdict does not count.
	longCheck := func(o *Options) { o.Limits.ProbeWait = time.Minute }
	a := startMember(t, redis, "a", users, longCheck)
	b := startMember(t, redis, "b", users, longCheck)
	eventually(t, "a and b see each other", func() bool { return a.seesAlive("b", true) && b.seesAlive("a", true) })
	first := func(x *agent) string {
		buf := make([]byte, 2048)
		x.conn.SetReadDeadline(time.Now().Add(time.Second))
		n, err := x.conn.Read(buf)
		if err != nil {
			return "nothing"
		}
		return string(buf[:n])
	}
	for _, u := range users {
		x, y := newAgent(t), newAgent(t)
		var wg sync.WaitGroup
		var rx, ry string
		wg.Go(func() { x.send(a.Addr(), "PR"+u+"@bb.test"); rx = first(x) })
		wg.Go(func() { y.send(b.Addr(), "PR"+u+"@bb.test"); ry = first(y) })
		wg.Wait()
		if (rx == "RR0") == (ry == "RR0") || (rx != "RR0" && rx != "RR1" && rx != "nothing") || (ry != "RR0" && ry != "RR1" && ry != "nothing") {
			t.Fatalf("%s: a answered %s and b %s; exactly one must win", u, rx, ry)
		}
		winner := "a"
		if ry == "RR0" {
			winner = "b"
		}
		eventually(t, u+" held by the winner everywhere", func() bool {
			return a.sees(u, winner, true) && b.sees(u, winner, true)
		})
	}
}

// TestClusterNodeDies: once a node's heartbeat lapses its users are
// answered RL3 by the others, and may register with another node at once,
// without a check of their old agent.
func TestClusterNodeDies(t *testing.T) {
	_, a, b, laura, pau := twoMembers(t)
	a.stop()
	eventually(t, "b sees a dead", func() bool { return b.seesAlive("a", false) })
	pau.ask(b.Addr(), "PLpau@bb.test:laura@bb.test", "RL3pau@bb.test:laura@bb.test")
	laura2 := newAgent(t)
	laura2.ask(b.Addr(), "PRlaura@bb.test", "RR0")
	pau.send(b.Addr(), "PLpau@bb.test:laura@bb.test")
	laura2.expect(b.Addr(), "PLpau@bb.test:laura@bb.test")
	_ = laura
}

// TestClusterRestartSameID: a node started again with the same id takes
// back the bindings it held: its users are found without registering
// again.
func TestClusterRestartSameID(t *testing.T) {
	redis, a, b, laura, pau := twoMembers(t)
	listen := a.Addr().String()
	a.stop()
	a2 := startNode(t, listen, "bb.test", []string{"laura", "pau", "abe"}, func(o *Options) {
		o.Cluster = &cluster.Config{URL: redis.URL(), NodeID: "a", Heartbeat: testHeartbeat, DeadAfter: testDeadAfter}
	})
	if !a2.sees("laura", "a", true) {
		t.Fatal("the restarted node does not hold laura")
	}
	eventually(t, "a2 and b see each other", func() bool { return a2.seesAlive("b", true) && b.seesAlive("a", true) })
	pau.send(b.Addr(), "PLpau@bb.test:laura@bb.test")
	laura.expect(a2.Addr(), "PLpau@bb.test:laura@bb.test")
}

// TestSingleNodeStoreKeepsRegistrations: one node with a store keeps its
// registrations across a restart.
func TestSingleNodeStoreKeepsRegistrations(t *testing.T) {
	redis := clustertest.StartRedis(t)
	users := []string{"laura", "pau"}
	n := startMember(t, redis, "solo", users, nil)
	laura, pau := newAgent(t), newAgent(t)
	laura.ask(n.Addr(), "PRlaura@bb.test", "RR0")
	pau.ask(n.Addr(), "PRpau@bb.test", "RR0")
	listen := n.Addr().String()
	n.stop()
	n2 := startNode(t, listen, "bb.test", users, func(o *Options) {
		o.Cluster = &cluster.Config{URL: redis.URL(), NodeID: "solo", Heartbeat: testHeartbeat, DeadAfter: testDeadAfter}
	})
	pau.send(n2.Addr(), "PLpau@bb.test:laura@bb.test")
	laura.expect(n2.Addr(), "PLpau@bb.test:laura@bb.test")
}

// TestClusterStoreDies: with the store down, locates of registered users
// go on from memory and new registrations are taken; when the store
// returns empty, their holders write them back and every node sees them.
func TestClusterStoreDies(t *testing.T) {
	redis, a, b, laura, pau := twoMembers(t)
	redis.Kill()
	laura.send(a.Addr(), "PLlaura@bb.test:pau@bb.test")
	pau.expect(b.Addr(), "PLlaura@bb.test:pau@bb.test")
	pau.send(b.Addr(), "RL0laura@bb.test:pau@bb.test:127.0.0.1:7000")
	laura.expect(a.Addr(), "RL0laura@bb.test:pau@bb.test:127.0.0.1:7000")
	abe := newAgent(t)
	abe.ask(a.Addr(), "PRabe@bb.test", "RR0") // taken at a alone
	redis.Start()                             // empty
	eventually(t, "b learns abe from a's write-back", func() bool { return b.sees("abe", "a", true) })
	eventually(t, "b learns laura again", func() bool { return b.sees("laura", "a", true) })
	eventually(t, "a learns pau again", func() bool { return a.sees("pau", "b", true) })
	pau.send(b.Addr(), "PLpau@bb.test:abe@bb.test")
	abe.expect(a.Addr(), "PLpau@bb.test:abe@bb.test")
}

// TestClusterGarbageInStore: a binding the node cannot read does not keep
// it from starting: it serves the others, and says which it left out.
func TestClusterGarbageInStore(t *testing.T) {
	redis := clustertest.StartRedis(t)
	users := []string{"laura", "pau"}
	n := startMember(t, redis, "a", users, nil)
	laura := newAgent(t)
	laura.ask(n.Addr(), "PRlaura@bb.test", "RR0")
	listen := n.Addr().String()
	n.stop()
	if _, err := redis.Do("HSET", "{lumi:bb.test}:bindings", "pau", "\x1b[2Jnot a binding"); err != nil {
		t.Fatal(err)
	}
	var logs syncbuf.Buffer
	n2 := startNode(t, listen, "bb.test", users, func(o *Options) {
		o.Cluster = &cluster.Config{URL: redis.URL(), NodeID: "a", Heartbeat: testHeartbeat, DeadAfter: testDeadAfter}
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if !n2.sees("laura", "a", true) {
		t.Error("laura's binding was not loaded")
	}
	if out := logs.String(); !strings.Contains(out, "bindings in the store that do not decode are left out") || strings.Contains(out, "\x1b") {
		t.Errorf("log:\n%q", out)
	}
}
