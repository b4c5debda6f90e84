package agent

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"mi/plumi/plumitest"
	"mi/wire"
)

// silentHost keeps k TCP connections from ip open to ap, sending nothing,
// and opens another as soon as one closes, until the test ends.
func silentHost(t *testing.T, ip string, ap netip.AddrPort, k int) {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	for range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				conn, err := d.Dial("tcp", ap.String())
				if err != nil {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				go func() { <-stop; conn.Close() }()
				io.Copy(io.Discard, conn) // until the agent closes it
				conn.Close()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	t.Cleanup(func() { close(stop); wg.Wait() })
}

// TestOneHostCannotHoldTheHandshakes: a host that keeps eight silent
// connections open to an agent, reopened as they close, holds at most its
// share of the nickname exchanges, and real calls from elsewhere connect.
func TestOneHostCannotHoldTheHandshakes(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", nil)
	b := newTestAgent(t, n, "pau@cc.org", nil)
	silentHost(t, "127.0.0.2", b.ChatAddr(), DefaultMaxHandshakes)
	time.Sleep(100 * time.Millisecond) // they are in
	const calls = 5
	failed := 0
	for i := range calls {
		if err := callVia(t, n, a, b); err != nil {
			failed++
			t.Errorf("call %d of %d with a host holding silent connections: %v", i+1, calls, err)
			continue
		}
		want(t, a, EventLocating)
		want(t, a, EventLocated)
		want(t, a, EventConnected)
		for e := next(t, b); e.Kind != EventConnected; e = next(t, b) {
			if e.Kind != EventError || e.Reason != ErrHandshake.Word() {
				t.Fatalf("callee: %+v", e) // the silent connections' timeouts are said, nothing else
			}
		}
		a.Hangup()
		want(t, a, EventHangup)
		for e := next(t, b); e.Kind != EventHangup; e = next(t, b) {
		}
	}
	t.Logf("FIGURE calls failed with %d silent connections reopened from one host: %d of %d", DefaultMaxHandshakes, failed, calls)
}

// TestHandshakesPerSource: a source holds at most MaxHandshakesPerSource
// exchanges; a new source, when all are taken, takes the oldest's place.
func TestHandshakesPerSource(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", func(c *Config) { c.HandshakeTimeout, c.MaxHandshakes = time.Minute, 4 })
	from := func(ip string) net.Conn { return dialRawFrom(t, a, ip) }
	first := from("127.0.0.2")
	from("127.0.0.2")
	waitHandshakes(t, a, 2)
	wantClosed(t, from("127.0.0.2"), "a third connection from one source")
	from("127.0.0.3")
	from("127.0.0.4")
	waitHandshakes(t, a, 4)
	// All four taken: a new source takes the oldest's place.
	late := from("127.0.0.5")
	wantClosed(t, first, "the oldest exchange, when a new source came")
	waitHandshakes(t, a, 4)
	wire.NewWriter(late).WriteMessage(&wire.Nick{Nick: "pau"})
	if e := want(t, a, EventConnected); e.PeerNick != "pau" {
		t.Errorf("%+v", e)
	}
}

// TestSilentConversationGivesWay: an incoming conversation in which the
// peer has said nothing after its nickname and the user has typed nothing
// keeps the agent busy for SilentGrace, then gives way to the next caller.
// One in which either has spoken, or that the user started, does not.
func TestSilentConversationGivesWay(t *testing.T) {
	const grace = 300 * time.Millisecond
	setup := func(t *testing.T) (*plumitest.Node, *Agent) {
		n := plumitest.NewNode(t)
		return n, newTestAgent(t, n, "laura@bb.com", func(c *Config) { c.SilentGrace = grace })
	}
	caller := func(t *testing.T, n *plumitest.Node, a *Agent, who string) (wire.LocateReply, net.Conn) {
		rl := askLocate(t, n, a, who)
		if rl.Code != wire.LocateFound {
			return rl, nil
		}
		conn, _ := dialPeerAt(t, a, netip.AddrPortFrom(rl.IP, rl.Port), "joan")
		return rl, conn
	}

	t.Run("silent both ways", func(t *testing.T) {
		n, a := setup(t)
		silent, _ := dialPeer(t, a, "mallory")
		want(t, a, EventConnected)
		if rl := askLocate(t, n, a, "joan@cc.org"); rl.Code != wire.LocateBusy {
			t.Errorf("within the grace: %+v, want RL1", rl)
		}
		time.Sleep(grace)
		start := time.Now()
		if rl, _ := caller(t, n, a, "joan@cc.org"); rl.Code != wire.LocateFound {
			t.Fatalf("after the grace: %+v, want RL0", rl)
		}
		if e := want(t, a, EventNotice); e.Reason != NoticeSilentReplaced {
			t.Errorf("%+v", e)
		}
		if e := want(t, a, EventHangup); e.By != ByLocal {
			t.Errorf("%+v", e)
		}
		if e := want(t, a, EventConnected); e.PeerNick != "joan" {
			t.Errorf("%+v", e)
		}
		wantClosed(t, silent, "the silent conversation")
		t.Logf("FIGURE a silent conversation gave way %v after the grace ended", time.Since(start).Round(time.Millisecond))
	})
	t.Run("the peer spoke", func(t *testing.T) {
		n, a := setup(t)
		conn, _ := dialPeer(t, a, "pau")
		want(t, a, EventConnected)
		wire.NewWriter(conn).WriteLine("hola")
		want(t, a, EventLine)
		time.Sleep(grace)
		if rl := askLocate(t, n, a, "joan@cc.org"); rl.Code != wire.LocateBusy {
			t.Errorf("%+v, want RL1", rl)
		}
	})
	t.Run("the user typed", func(t *testing.T) {
		n, a := setup(t)
		dialPeer(t, a, "pau")
		want(t, a, EventConnected)
		if err := a.Send("hola?"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(grace)
		if rl := askLocate(t, n, a, "joan@cc.org"); rl.Code != wire.LocateBusy {
			t.Errorf("%+v, want RL1", rl)
		}
	})
	t.Run("the user called", func(t *testing.T) {
		n, a := setup(t)
		b := newTestAgent(t, n, "pau@cc.org", nil)
		if err := callVia(t, n, a, b); err != nil {
			t.Fatal(err)
		}
		time.Sleep(grace)
		if rl := askLocate(t, n, a, "joan@cc.org"); rl.Code != wire.LocateBusy {
			t.Errorf("%+v, want RL1", rl)
		}
	})
}

// TestFailedHandshakesCounted: a host that opens and closes connections in
// a loop costs a few error events and one notice per period, not an event
// per connection.
func TestFailedHandshakesCounted(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", func(c *Config) { c.DropReport = 200 * time.Millisecond })
	const conns = 200
	for i := range conns {
		c := dialRawFrom(t, a, fmt.Sprintf("127.0.0.%d", 2+i%50))
		c.Close()
	}
	errs, notices, counted := 0, 0, 0
	for errs+counted < conns {
		switch e := next(t, a); {
		case e.Kind == EventError && e.Reason == ErrHandshake.Word():
			errs++
		case e.Kind == EventNotice && e.Reason == NoticeHandshakesFailed:
			notices++
			counted += e.Count
		default:
			t.Fatalf("%+v", e)
		}
	}
	t.Logf("FIGURE %d connections closed before their nickname: %d error events, %d notices", conns, errs, notices)
	if errs > 3*handshakeBurst || notices > 3 {
		t.Errorf("%d error events and %d notices for %d failed exchanges, want a few per period", errs, notices, conns)
	}
}
