package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"mi/node"
	"mi/plumi/plumitest"
	"mi/wire"
)

// wait bounds what the refresh tests wait for; it is far above what any
// step takes, so that only a missing behaviour reaches it.
const wait = 20 * time.Second

// realNode runs an in-process node of bb.com with laura and marc on
// listen, until stop is called.
type realNode struct {
	*node.Node
	stop func()
}

func startRealNode(t *testing.T, cfg, listen string) *realNode {
	t.Helper()
	n, err := node.New(node.Options{ConfigPath: cfg, Listen: listen, LogPath: "-", HostsFile: "-", DNSServer: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node: %v", err)
		}
	}
	t.Cleanup(stop)
	return &realNode{n, stop}
}

func writeNodeConfig(t *testing.T) string {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "nodelumi.cfg")
	if err := os.WriteFile(cfg, []byte("bb.com\nlaura\nmarc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func startRealAgent(t *testing.T, n *realNode, s string, refresh time.Duration) *Agent {
	t.Helper()
	a, err := New(context.Background(), Config{
		Addr: plumitest.Addr(t, s), Node: n.Addr(), Listen: "127.0.0.1:0",
		Attempts: 2, RetryInterval: 100 * time.Millisecond, Refresh: refresh,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close()
		for range a.Events() {
		}
	})
	if err := a.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	want(t, a, EventRegistered)
	return a
}

// waitNotice skips a's events until a notice of reason, and returns the
// notices of other reasons it skipped.
func waitNotice(t *testing.T, a *Agent, reason string) []Event {
	t.Helper()
	var others []Event
	timeout := time.After(wait)
	for {
		select {
		case e, ok := <-a.Events():
			if !ok {
				t.Fatalf("%s: events closed before a %s notice", a.Nick(), reason)
			}
			if e.Kind == EventNotice && e.Reason == reason {
				return others
			}
			if e.Kind == EventNotice {
				others = append(others, e)
			}
		case <-timeout:
			t.Fatalf("%s: no %s notice within %v (other notices: %+v)", a.Nick(), reason, wait, others)
		}
	}
}

// TestRefreshAfterNodeRestart: laura's node restarts with an empty table.
// While it is down her refreshes are unanswered, said once; the first
// refresh after it is back registers her again, said too, and marc, once
// registered again himself, locates her.
func TestRefreshAfterNodeRestart(t *testing.T) {
	cfg := writeNodeConfig(t)
	n := startRealNode(t, cfg, "127.0.0.1:0")
	listen := n.Addr().String()
	laura := startRealAgent(t, n, "laura@bb.com", 200*time.Millisecond)
	marc := startRealAgent(t, n, "marc@bb.com", -1) // registers by hand below
	n.stop()
	if others := waitNotice(t, laura, NoticeNodeUnreachable); len(others) > 0 {
		t.Fatalf("before node_unreachable: %+v", others)
	}
	time.Sleep(time.Second)       // several refreshes go unanswered
	startRealNode(t, cfg, listen) // back on the same address; stopped at cleanup
	if others := waitNotice(t, laura, NoticeReregistered); len(others) > 0 {
		t.Errorf("node_unreachable said again, or other notices, before reregistered: %+v", others)
	}
	if err := marc.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	ap, err := marc.Locate(context.Background(), "laura@bb.com")
	if err != nil || ap.Addr() != laura.ChatAddr().Addr() {
		t.Fatalf("marc locates laura after the restart: %v %v, want her at %v", ap, err, laura.ChatAddr().Addr())
	}
}

// TestRefreshNodeLost: an admin removes laura from her node; her next
// refresh is refused (RR1), said once as node_lost; added back, the next
// one registers her again.
func TestRefreshNodeLost(t *testing.T) {
	n := startRealNode(t, writeNodeConfig(t), "127.0.0.1:0")
	laura := startRealAgent(t, n, "laura@bb.com", 100*time.Millisecond)
	if err := n.RemoveUser("laura"); err != nil {
		t.Fatal(err)
	}
	waitNotice(t, laura, NoticeNodeLost)
	time.Sleep(500 * time.Millisecond) // several refreshes refused
	if err := n.AddUser("laura"); err != nil {
		t.Fatal(err)
	}
	if others := waitNotice(t, laura, NoticeReregistered); len(others) > 0 {
		t.Errorf("node_lost said again, or other notices, before reregistered: %+v", others)
	}
}

// TestRefreshStopsAtDeregister: the agent sends its PR again every
// Refresh, and not after it deregistered.
func TestRefreshStopsAtDeregister(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", func(c *Config) { c.Refresh = 50 * time.Millisecond })
	dg, from := n.Recv(wait)
	if dg.Tag != wire.TagRegister {
		t.Fatalf("sent %s, want the refresh PR", dg.Tag)
	}
	n.Send(from, &wire.RegisterReply{Code: wire.RegisterOK})
	errc := make(chan error, 1)
	go func() { errc <- a.Deregister(context.Background()) }()
	for {
		dg, from = n.Recv(wait)
		if dg.Tag == wire.TagDeregister {
			break
		}
		n.Send(from, &wire.RegisterReply{Code: wire.RegisterOK}) // a refresh in flight
	}
	n.Send(from, &wire.DeregisterReply{Code: wire.DeregisterOK})
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if dg, _, ok := n.TryRecv(500 * time.Millisecond); ok {
		t.Fatalf("sent %s after deregistering", dg.Tag)
	}
}

// TestRefreshNever: Refresh < 0 sends no PR after the registration.
func TestRefreshNever(t *testing.T) {
	n := plumitest.NewNode(t)
	newTestAgent(t, n, "laura@bb.com", func(c *Config) { c.Refresh = -1 })
	if dg, _, ok := n.TryRecv(300 * time.Millisecond); ok {
		t.Fatalf("sent %s with Refresh < 0", dg.Tag)
	}
}

// TestRefreshKeepsConversation: refreshes go on during a conversation and
// neither end it nor add events to it.
func TestRefreshKeepsConversation(t *testing.T) {
	n := startRealNode(t, writeNodeConfig(t), "127.0.0.1:0")
	laura := startRealAgent(t, n, "laura@bb.com", 20*time.Millisecond)
	marc := startRealAgent(t, n, "marc@bb.com", 20*time.Millisecond)
	if err := laura.Call(context.Background(), "marc@bb.com"); err != nil {
		t.Fatal(err)
	}
	want(t, laura, EventLocating)
	want(t, laura, EventLocated)
	want(t, laura, EventConnected)
	want(t, marc, EventConnected)
	for i := range 3 {
		time.Sleep(100 * time.Millisecond) // refreshes of both go by
		if err := laura.Send("hi"); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if e := want(t, marc, EventLine); e.Text != "hi" {
			t.Fatalf("line %d: %+v", i, e)
		}
		if err := marc.Send("ho"); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if e := want(t, laura, EventLine); e.Text != "ho" {
			t.Fatalf("line %d: %+v", i, e)
		}
	}
	if _, ok := laura.Peer(); !ok {
		t.Fatal("laura is no longer in the conversation")
	}
}
