package cluster

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"mi/cluster/clustertest"
)

// Fast heartbeats for the tests.
const (
	testBeat = 50 * time.Millisecond
	testDead = 300 * time.Millisecond
)

func fast(c *Config) { c.Heartbeat, c.DeadAfter = testBeat, testDead }

// beating runs s.Heartbeat until the returned stop is called (or the test
// ends), handing each reading over on the returned channel.
func beating(t *testing.T, s *Store) (readings <-chan []Node, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan []Node, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.Heartbeat(ctx, func(nodes []Node) {
			select { // keep the latest only
			case <-ch:
			default:
			}
			ch <- nodes
		})
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Heartbeat returned %v at the end of its context, want nil", err)
			}
		case <-time.After(wait):
			t.Errorf("Heartbeat did not return within %v of the end of its context", wait)
		}
	}
	t.Cleanup(stop)
	return ch, stop
}

// until waits for a reading that satisfies ok, and returns it.
func until(t *testing.T, readings <-chan []Node, what string, ok func([]Node) bool) []Node {
	t.Helper()
	deadline := time.After(wait)
	var last []Node
	for {
		select {
		case nodes := <-readings:
			if ok(nodes) {
				return nodes
			}
			last = nodes
		case <-deadline:
			t.Fatalf("no reading with %s within %v; last %+v", what, wait, last)
		}
	}
}

func find(nodes []Node, id string) (Node, bool) {
	for _, n := range nodes {
		if n.ID == id {
			return n, true
		}
	}
	return Node{}, false
}

func TestHeartbeat(t *testing.T) {
	r := clustertest.StartRedis(t)
	digest := UsersDigest([]string{"alice", "bob"})
	a := open(t, r.URL(), "a", fast, func(c *Config) { c.Users = digest })
	b := open(t, r.URL(), "b", fast)
	readings, _ := beating(t, a)
	_, stopB := beating(t, b)

	nodes := until(t, readings, "a and b alive", func(nodes []Node) bool {
		na, _ := find(nodes, "a")
		nb, _ := find(nodes, "b")
		return na.Alive && nb.Alive
	})
	if len(nodes) != 2 || nodes[0].ID != "a" || nodes[1].ID != "b" {
		t.Fatalf("nodes %+v, want a and b in order", nodes)
	}
	if nodes[0].Addr != a.cfg.Addr || nodes[0].Users != digest || nodes[1].Users != "-" {
		t.Errorf("nodes %+v", nodes)
	}
	if nodes[1].Since > testDead {
		t.Errorf("b's heartbeat %v old, alive", nodes[1].Since)
	}

	// b stops beating: it is dead once DeadAfter has passed since its
	// last beat (by the store's clock), not before.
	stopB()
	nodes = until(t, readings, "b dead", func(nodes []Node) bool {
		nb, ok := find(nodes, "b")
		return ok && !nb.Alive
	})
	if nb, _ := find(nodes, "b"); nb.Since < testDead-5*time.Millisecond { // ms rounding
		t.Errorf("b dead %v after its last heartbeat, before DeadAfter %v", nb.Since, testDead)
	}
	if na, _ := find(nodes, "a"); !na.Alive {
		t.Errorf("a dead: %+v", nodes)
	}

	// b comes back with the same id: alive again.
	readingsB, _ := beating(t, b)
	until(t, readingsB, "b alive again", func(nodes []Node) bool {
		nb, _ := find(nodes, "b")
		return nb.Alive
	})
}

// TestLeave: a node that leaves is dead at the next reading.
func TestLeave(t *testing.T) {
	r := clustertest.StartRedis(t)
	// A DeadAfter far longer than the test: only Leave can kill b.
	a := open(t, r.URL(), "a", func(c *Config) { c.Heartbeat = testBeat; c.DeadAfter = time.Hour })
	b := open(t, r.URL(), "b", func(c *Config) { c.Heartbeat = testBeat; c.DeadAfter = time.Hour })
	readings, _ := beating(t, a)
	_, stopB := beating(t, b)
	until(t, readings, "b alive", func(nodes []Node) bool { nb, _ := find(nodes, "b"); return nb.Alive })
	stopB()
	if err := b.Leave(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	until(t, readings, "b dead", func(nodes []Node) bool { nb, ok := find(nodes, "b"); return ok && !nb.Alive })
}

// TestHeartbeatStoreDown: a heartbeat goes on through an outage, which
// OnState hears of, and finds the others again after it.
func TestHeartbeatStoreDown(t *testing.T) {
	r := clustertest.StartRedis(t)
	states := newStateLog()
	a := open(t, r.URL(), "a", fast, func(c *Config) { c.OnState = states.onState })
	b := open(t, r.URL(), "b", fast)
	readings, _ := beating(t, a)
	beating(t, b)
	until(t, readings, "b alive", func(nodes []Node) bool { nb, _ := find(nodes, "b"); return nb.Alive })
	r.Stop()
	states.next(t, false)
	r.Start() // empty: both entries come back with the next beats
	until(t, readings, "a and b alive after the restart", func(nodes []Node) bool {
		na, _ := find(nodes, "a")
		nb, _ := find(nodes, "b")
		return na.Alive && nb.Alive
	})
	states.next(t, true)
}

// TestHeartbeatFrozenStore: a store that hangs is down once a beat has
// waited DeadAfter, and up when it answers again.
func TestHeartbeatFrozenStore(t *testing.T) {
	r := clustertest.StartRedis(t)
	states := newStateLog()
	a := open(t, r.URL(), "a", fast, func(c *Config) { c.OnState = states.onState })
	readings, _ := beating(t, a)
	until(t, readings, "a alive", func(nodes []Node) bool { na, _ := find(nodes, "a"); return na.Alive })
	r.Pause()
	states.next(t, false)
	r.Resume()
	states.next(t, true)
	until(t, readings, "a alive", func(nodes []Node) bool { na, _ := find(nodes, "a"); return na.Alive })
}

func TestNodesGarbage(t *testing.T) {
	r := clustertest.StartRedis(t)
	s := open(t, r.URL(), "a", fast)
	readings, _ := beating(t, s)
	until(t, readings, "a alive", func(nodes []Node) bool { na, _ := find(nodes, "a"); return na.Alive })
	for _, kv := range [][2]string{
		{"old", "192.0.2.9:3344 0123456789abcdef"}, // no beat time: still read
		{"bad-addr", "nowhere 0123456789abcdef 1"},
		{"bad-fields", "192.0.2.9:3344"},
		{"bad beat", "192.0.2.9:3344 - x"},
		{"bad/id", "192.0.2.9:3344 - 1"},
	} {
		if _, err := r.Do("HSET", "{lumi:bb.com}:nodes", kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	nodes, err := s.Nodes(testCtx(t))
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("Nodes: %v, want ErrMalformed", err)
	}
	for _, w := range []string{`nodes["bad-addr"]`, `nodes["bad-fields"]`, `nodes["bad beat"]`, `nodes["bad/id"]`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %s: %v", w, err)
		}
	}
	want := []Node{{ID: "a", Addr: s.cfg.Addr, Alive: true, Users: "-"}, {ID: "old", Addr: netip.MustParseAddrPort("192.0.2.9:3344"), Users: "0123456789abcdef", Since: -1}}
	if len(nodes) != 2 {
		t.Fatalf("nodes %+v", nodes)
	}
	nodes[0].Since = 0
	if nodes[0] != want[0] || nodes[1] != want[1] {
		t.Errorf("nodes %+v, want %+v", nodes, want)
	}
	// The heartbeat goes on, with the nodes that decode.
	until(t, readings, "a and old", func(nodes []Node) bool { return len(nodes) == 2 })
}

func TestHeartbeatNeedsANode(t *testing.T) {
	r := clustertest.StartRedis(t)
	obs := open(t, r.URL(), "")
	if err := obs.Heartbeat(testCtx(t), nil); err != ErrObserver {
		t.Errorf("observer Heartbeat: %v", err)
	}
	if err := obs.Leave(testCtx(t)); err != ErrObserver {
		t.Errorf("observer Leave: %v", err)
	}
	noAddr := open(t, r.URL(), "a", func(c *Config) { c.Addr = netip.MustParseAddrPort("0.0.0.0:3344") })
	if err := noAddr.Heartbeat(testCtx(t), nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("Heartbeat with an unspecified address: %v", err)
	}
	closed := open(t, r.URL(), "a")
	closed.Close()
	if err := closed.Heartbeat(testCtx(t), nil); err != ErrClosed {
		t.Errorf("Heartbeat after Close: %v", err)
	}
}
