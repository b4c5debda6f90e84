package node

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/wire"
)

// A retry of a locate for another domain that its node has not answered
// says which node failed; a repeat too soon goes nowhere.
func TestRetryNamesTheFailedNode(t *testing.T) {
	h := newHarness(t)
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	const pl = "PLu1@bb.com:x@c.com"
	_, res := h.recv(pl, agentU1)
	if len(res) != 1 || res[0].failed.IsValid() {
		t.Fatalf("first attempt: %+v", res)
	}
	h.c.resolved(h.w, res[0], nodeC, nil, h.now)
	if _, res = h.recv(pl, agentU1); len(res) != 0 {
		t.Fatalf("a repeat within the gap is resolved again: %+v", res)
	}
	h.now = h.now.Add(wire.RetryInterval)
	if _, res = h.recv(pl, agentU1); len(res) != 1 || res[0].failed != nodeC {
		t.Fatalf("the retry: %+v, want failed %v", res, nodeC)
	}
	// Answered, the next locate starts clean.
	h.c.resolved(h.w, res[0], nodeC, nil, h.now)
	h.expect("RL1u1@bb.com:x@c.com", nodeC, to(agentU1, "RL1u1@bb.com:x@c.com"))
	h.now = h.now.Add(wire.RetryInterval)
	if _, res = h.recv(pl, agentU1); len(res) != 1 || res[0].failed.IsValid() {
		t.Fatalf("after the answer: %+v", res)
	}
}

// TestFailoverToTheNextTarget: c.test publishes two nodes, the first (lower
// priority value) dead. An agent's locate of a c.test user goes to the dead
// one first; its retry goes to the live one and succeeds; later locates go
// straight to the live one, the dead one being marked down.
func TestFailoverToTheNextTarget(t *testing.T) {
	dead, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dead.Close() })
	nc := startNode(t, "127.0.0.1:0", "c.test", []string{"cat"}, nil)
	z := startZone(t,
		fmt.Sprintf("_lumi._udp.c.test. 60 IN SRV 10 0 %d dead.c.test.", dead.LocalAddr().(*net.UDPAddr).Port),
		fmt.Sprintf("_lumi._udp.c.test. 60 IN SRV 20 0 %d live.c.test.", nc.Addr().Port()),
		"dead.c.test. 60 IN A 127.0.0.1",
		"live.c.test. 60 IN A 127.0.0.1",
	)
	na := startNode(t, "127.0.0.1:0", "a.test", []string{"ann"}, func(o *Options) { o.DNSServer = z.Addr() })
	ann, cat := newAgent(t), newAgent(t)
	a, c := na.Addr(), nc.Addr()
	ann.ask(a, "PRann@a.test", "RR0")
	cat.ask(c, "PRcat@c.test", "RR0")

	const pl, rl = "PLann@a.test:cat@c.test", "RL1ann@a.test:cat@c.test"
	ann.send(a, pl)
	buf := make([]byte, readBuf)
	dead.SetReadDeadline(time.Now().Add(wait))
	if k, _, err := dead.ReadFromUDPAddrPort(buf); err != nil || string(buf[:k]) != pl {
		t.Fatalf("the dead node got %q, %v; want the first attempt", buf[:k], err)
	}
	ann.quiet()
	time.Sleep(wire.RetryInterval) // the agent's retry interval
	ann.send(a, pl)
	cat.expect(c, pl)
	cat.send(c, rl)
	ann.expect(a, rl)
	// The next locate goes to the live node at once.
	time.Sleep(DefaultRepeatGap)
	ann.send(a, pl)
	cat.expect(c, pl)
	cat.send(c, rl)
	ann.expect(a, rl)
	dead.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if k, _, err := dead.ReadFromUDPAddrPort(buf); err == nil {
		t.Errorf("the dead node got %q after it was marked down", buf[:k])
	}
	if diff := cmp.Diff(0, na.core.t.pendingLen()); diff != "" {
		t.Errorf("locates in flight (-want +got):\n%s", diff)
	}
}

// TestFailoverWhenTheFirstNodeStops: c.test runs two nodes, cat registered
// at both; the first is stopped mid-run, and every locate still succeeds
// within the agent's retry budget.
func TestFailoverWhenTheFirstNodeStops(t *testing.T) {
	c1 := startNode(t, "127.0.0.1:0", "c.test", []string{"cat"}, nil)
	c2 := startNode(t, "127.0.0.1:0", "c.test", []string{"cat"}, nil)
	z := startZone(t,
		fmt.Sprintf("_lumi._udp.c.test. 60 IN SRV 10 0 %d n1.c.test.", c1.Addr().Port()),
		fmt.Sprintf("_lumi._udp.c.test. 60 IN SRV 20 0 %d n2.c.test.", c2.Addr().Port()),
		"n1.c.test. 60 IN A 127.0.0.1",
		"n2.c.test. 60 IN A 127.0.0.1",
	)
	na := startNode(t, "127.0.0.1:0", "a.test", []string{"ann"}, func(o *Options) { o.DNSServer = z.Addr() })
	ann, cat := newAgent(t), newAgent(t)
	ann.ask(na.Addr(), "PRann@a.test", "RR0")
	cat.ask(c1.Addr(), "PRcat@c.test", "RR0")
	cat.ask(c2.Addr(), "PRcat@c.test", "RR0")
	const pl, rl = "PLann@a.test:cat@c.test", "RL1ann@a.test:cat@c.test"
	// locate sends the PL as an agent does, up to its attempts, and has cat
	// answer whichever node forwards it.
	locate := func(round int) {
		for attempt := range wire.Attempts {
			ann.send(na.Addr(), pl)
			cat.conn.SetReadDeadline(time.Now().Add(wire.RetryInterval))
			buf := make([]byte, readBuf)
			k, src, err := cat.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				continue // the PL went to the stopped node: the retry fails over
			}
			if string(buf[:k]) != pl {
				t.Fatalf("round %d: cat got %q", round, buf[:k])
			}
			cat.send(src, rl)
			ann.expect(na.Addr(), rl)
			if round > 2 && attempt > 1 {
				t.Errorf("round %d took %d attempts", round, attempt+1)
			}
			return
		}
		t.Fatalf("round %d: no locate got through in %d attempts", round, wire.Attempts)
	}
	for round := range 5 {
		if round == 2 {
			c1.stop()
		}
		locate(round)
		time.Sleep(DefaultRepeatGap) // the next locate is no burst
	}
}
