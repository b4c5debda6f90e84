package agent

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/plumi/plumitest"
	"mi/wire"
)

// longHandshake leaves a nickname exchange a minute, so that a connection
// the tests see closed was closed by the agent's choice, not its deadline.
func longHandshake(c *Config) { c.HandshakeTimeout = time.Minute }

// TestSilentConnectionDoesNotBlockACall: a connection that never sends its
// nickname neither makes the agent busy for a caller nor stops its own
// call; the conversation that starts closes it.
func TestSilentConnectionDoesNotBlockACall(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", nil)
	b := newTestAgent(t, n, "pau@cc.org", longHandshake)
	for _, tc := range []struct {
		name           string
		caller, callee *Agent
	}{
		{"called", a, b},
		{"calling", b, a},
	} {
		t.Run(tc.name, func(t *testing.T) {
			silent := dialRaw(t, b)
			waitHandshakes(t, b, 1)
			if err := callVia(t, n, tc.caller, tc.callee); err != nil {
				t.Fatalf("call with a silent connection open: %v", err)
			}
			want(t, tc.caller, EventLocating)
			want(t, tc.caller, EventLocated)
			want(t, a, EventConnected)
			want(t, b, EventConnected)
			wantClosed(t, silent, "the silent connection")
			a.Send("hola")
			if e := want(t, b, EventLine); e.Text != "hola" {
				t.Errorf("%+v", e)
			}
			a.Hangup()
			want(t, a, EventHangup)
			want(t, b, EventHangup)
		})
	}
}

// TestConcurrentHandshakes: MaxHandshakes exchanges go on at once (from
// sources holding their share each), one more connection from one of them
// is closed at once, the agent stays free, and the first nickname to come,
// from the last connection, wins.
func TestConcurrentHandshakes(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", longHandshake)
	source := func(i int) string { return fmt.Sprintf("127.0.0.%d", 2+i/DefaultPerSource) }
	var others []net.Conn
	for i := 0; i < DefaultMaxHandshakes-1; i++ {
		others = append(others, dialRawFrom(t, a, source(i)))
	}
	winner := dialRawFrom(t, a, source(DefaultMaxHandshakes-1))
	waitHandshakes(t, a, DefaultMaxHandshakes)
	wantClosed(t, dialRawFrom(t, a, source(0)), "a connection over the limit")
	if rl := askLocate(t, n, a, "pau@cc.org"); rl.Code != wire.LocateFound {
		t.Errorf("with only nickname exchanges going: %+v, want RL0", rl)
	}
	if err := wire.NewWriter(winner).WriteMessage(&wire.Nick{Nick: "pau"}); err != nil {
		t.Fatal(err)
	}
	winner.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := wire.NewReader(winner)
	if m, err := r.ReadMessage(); err != nil || m.Tag() != wire.TagNick {
		t.Fatalf("the first nickname was answered %v, %v", m, err)
	}
	if e := want(t, a, EventConnected); e.PeerNick != "pau" {
		t.Errorf("%+v", e)
	}
	wire.NewWriter(others[0]).WriteMessage(&wire.Nick{Nick: "late"})
	for _, c := range others {
		wantClosed(t, c, "another nickname exchange")
	}
	if rl := askLocate(t, n, a, "joan@cc.org"); rl.Code != wire.LocateBusy {
		t.Errorf("in the conversation: %+v, want RL1", rl)
	}
	wire.NewWriter(winner).WriteLine("hola")
	if e := want(t, a, EventLine); e.Text != "hola" || e.From != "pau" {
		t.Errorf("%+v", e)
	}
}

// TestStalledMessage: a conversation may be idle for longer than the
// message deadline, but a message begun and not finished ends it within the
// deadline, and the next call is answered.
func TestStalledMessage(t *testing.T) {
	n := plumitest.NewNode(t)
	const deadline = 300 * time.Millisecond
	a := newTestAgent(t, n, "laura@bb.com", func(c *Config) { c.MessageTimeout = deadline })
	conn, _ := dialPeer(t, a, "pau")
	want(t, a, EventConnected)
	time.Sleep(3 * deadline)
	wire.NewWriter(conn).WriteLine("still here")
	if e := want(t, a, EventLine); e.Text != "still here" {
		t.Fatalf("after a pause: %+v", e)
	}
	half, err := (&wire.Line{Text: "abcdefghij"}).Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write(half[:wire.PMIHeaderLen+3])
	if e := want(t, a, EventError); e.Reason != ErrStalled.Word() {
		t.Fatalf("%+v, want %s", e, ErrStalled.Word())
	}
	if e := want(t, a, EventHangup); e.By != ByPeer {
		t.Errorf("%+v", e)
	}
	wantClosed(t, conn, "the stalled conversation")
	if rl := askLocate(t, n, a, "joan@cc.org"); rl.Code != wire.LocateFound {
		t.Errorf("after: %+v, want RL0", rl)
	}
	dialPeer(t, a, "joan")
	if e := want(t, a, EventConnected); e.PeerNick != "joan" {
		t.Errorf("%+v", e)
	}
}

// TestPausedReadingIsNoStall: while the user is behind, the agent stops
// reading the peer and says so once; the time it waits does not count
// against a message the peer has begun, and no line is lost.
func TestPausedReadingIsNoStall(t *testing.T) {
	n := plumitest.NewNode(t)
	const deadline = time.Second
	a := newTestAgent(t, n, "laura@bb.com", func(c *Config) {
		c.MessageTimeout, c.EventQueue, c.LineRate = deadline, 4, math.Inf(1)
	})
	conn, _ := dialPeer(t, a, "pau")
	const lines = 20
	var b []byte
	for i := 0; i <= lines; i++ {
		b, _ = (&wire.Line{Text: streamLine(i)}).Append(b)
	}
	cut := len(b) - wire.MaxLineLen/2 // the last line half sent
	conn.Write(b[:cut])
	time.Sleep(3 * deadline) // the user is away
	want(t, a, EventConnected)
	var paused int
	for got := 0; got < lines; {
		switch e := next(t, a); {
		case e.Kind == EventLine && e.Text == streamLine(got):
			got++
		case e.Kind == EventNotice && e.Reason == NoticeReadingPaused:
			paused++
		default:
			t.Fatalf("after %d lines: %+v", got, e)
		}
	}
	conn.Write(b[cut:])
	if e := want(t, a, EventLine); e.Text != streamLine(lines) {
		t.Errorf("the line begun before the pause: %+v", e)
	}
	if paused != 1 {
		t.Errorf("said %d times that it stopped reading the peer, want once", paused)
	}
}

// TestLineFloodRateLimited: lines beyond the rate and burst are dropped, and
// counted in a notice per period, not one per line.
func TestLineFloodRateLimited(t *testing.T) {
	n := plumitest.NewNode(t)
	const burst, flood = 10, 300
	a := newTestAgent(t, n, "laura@bb.com", func(c *Config) {
		c.LineRate, c.LineBurst, c.DropReport = 5, burst, 100*time.Millisecond
	})
	conn, _ := dialPeer(t, a, "pau")
	want(t, a, EventConnected)
	var b []byte
	for i := 0; i < flood; i++ {
		b, _ = (&wire.Line{Text: streamLine(i)}).Append(b)
	}
	conn.Write(b)
	var got []string
	dropped, notices := 0, 0
	for len(got)+dropped < flood {
		switch e := next(t, a); e.Kind {
		case EventLine:
			got = append(got, e.Text)
		case EventNotice:
			if e.Reason != NoticeLinesDropped || e.Count <= 0 {
				t.Fatalf("%+v", e)
			}
			dropped += e.Count
			notices++
		default:
			t.Fatalf("%+v", e)
		}
	}
	if len(got) < burst || dropped == 0 || len(got)+dropped != flood {
		t.Errorf("%d lines passed, %d dropped, of %d (burst %d)", len(got), dropped, flood, burst)
	}
	for i := 0; i < burst; i++ {
		if got[i] != streamLine(i) {
			t.Errorf("line %d of the burst: %.20q...", i, got[i])
		}
	}
	if notices >= 10 {
		t.Errorf("%d notices for %d dropped lines, want one per period", notices, dropped)
	}
}

func TestTokenBucket(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	cases := []struct {
		name        string
		rate        float64
		burst       int
		times       []int // ms since t0
		wantAllowed []bool
	}{
		{"burst then the rate", 10, 3, []int{0, 0, 0, 0, 50, 100, 100, 150},
			[]bool{true, true, true, false, false, true, false, false}},
		{"refills to the burst only", 10, 2, []int{0, 0, 5000, 5000, 5000},
			[]bool{true, true, true, true, false}},
		{"time going back takes nothing", 10, 1, []int{1000, 0, 0, 1100},
			[]bool{true, false, false, true}},
		{"no limit", math.Inf(1), 1, []int{0, 0, 0, 0}, []bool{true, true, true, true}},
	}
	for _, tc := range cases {
		b := newTokenBucket(tc.rate, tc.burst, t0)
		var got []bool
		for _, ms := range tc.times {
			got = append(got, b.allow(at(ms)))
		}
		if d := cmp.Diff(tc.wantAllowed, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
	}
}

// TestNodeLivenessLocate: the node checks that the agent is alive with a PL
// from and to the agent's own address; the agent answers it as any other
// (RL0 free, RL1 in a conversation), and it names no caller.
func TestNodeLivenessLocate(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", nil)
	self := a.Addr()
	addrs := cmp.Comparer(func(x, y netip.Addr) bool { return x == y })
	wantFree := wire.LocateReply{Code: wire.LocateFound, From: self, To: self, IP: a.ChatAddr().Addr(), Port: a.ChatAddr().Port()}
	if d := cmp.Diff(wantFree, askLocate(t, n, a, self.String()), addrs); d != "" {
		t.Errorf("free (-want +got):\n%s", d)
	}
	dialPeer(t, a, "pau")
	if e := want(t, a, EventConnected); e.PeerAddr != "" {
		t.Errorf("the caller after a liveness check is taken for %q", e.PeerAddr)
	}
	wantBusy := wire.LocateReply{Code: wire.LocateBusy, From: self, To: self}
	if d := cmp.Diff(wantBusy, askLocate(t, n, a, self.String()), addrs); d != "" {
		t.Errorf("in a conversation (-want +got):\n%s", d)
	}
}
