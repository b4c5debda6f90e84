package node

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mi/internal/spoof"
	"mi/internal/syncbuf"
	"mi/wire"
)

// Off-path attackers forging RLs between nodes (issue 21, item 4): pau of
// a.test locates laura of b.test, and an attacker who forges b's node's
// address sprays RLs that say laura chats at its own address.
const (
	forgePL      = "PLpau@a.test:laura@b.test"
	forgeGenuine = "RL0pau@a.test:laura@b.test:127.0.0.1:7777"
	forgeForged  = "RL0pau@a.test:laura@b.test:6.6.6.6:666"
)

// forgeIP is node a's address.
const forgeIP = "127.0.44.1"

// forgeWorld is two nodes, a.test and b.test, in this process, a's with b
// as a static peer, and an agent at each: pau at a, and laura at b, who
// answers every PL with forgeGenuine after delay (a slow link: the time an
// attacker has to win).
type forgeWorld struct {
	t     *testing.T
	a, b  *testNode
	pau   *agent
	logs  *syncbuf.Buffer // a's log
	key   pendingKey      // the locate pau -> laura at a
	delay time.Duration
}

func newForgeWorld(t *testing.T, delay time.Duration, change func(*Options)) *forgeWorld {
	t.Helper()
	w := &forgeWorld{t: t, logs: new(syncbuf.Buffer), delay: delay}
	// The same locate again at once: the bursts the limit stops are not
	// what these tests are about.
	limits := Limits{RepeatGap: -1}
	w.b = startNode(t, "127.0.0.1:0", "b.test", []string{"laura"}, func(o *Options) { o.Limits = limits })
	// a has a loopback address of its own, so that a spray at every port
	// of it hits a's sockets and no other test's.
	w.a = startNode(t, forgeIP+":0", "a.test", []string{"pau"}, func(o *Options) {
		o.Peers = map[string]netip.AddrPort{"b.test": w.b.Addr()}
		o.Limits = limits
		o.Logger = slog.New(slog.NewTextHandler(w.logs, nil))
		o.SourcePorts = DefaultSourcePorts // on its own address: the pool the attacks are measured against
		if change != nil {
			change(o)
		}
	})
	w.key = w.a.core.t.pendingKeyOf([]byte("pau@a.test\x00laura@b.test"))
	w.pau = newAgent(t)
	w.pau.ask(w.a.Addr(), "PRpau@a.test", "RR0")
	laura := newAgent(t)
	laura.ask(w.b.Addr(), "PRlaura@b.test", "RR0")
	go func() {
		buf := make([]byte, readBuf)
		for {
			laura.conn.SetReadDeadline(time.Time{})
			k, _, err := laura.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return // closed at the test's end
			}
			if string(buf[:k]) == forgePL {
				time.AfterFunc(w.delay, func() { laura.conn.WriteToUDPAddrPort([]byte(forgeGenuine), w.b.Addr()) })
			}
		}
	}()
	return w
}

// locate sends pau's PL and returns the first RL that a sends back within
// wait, or "" if none came.
func (w *forgeWorld) locate(wait time.Duration) string {
	w.t.Helper()
	buf := make([]byte, readBuf)
	// An RL that came too late for the locate before is not this one's.
	w.pau.conn.SetReadDeadline(time.Now())
	for {
		if _, _, err := w.pau.conn.ReadFromUDPAddrPort(buf); err != nil {
			break
		}
	}
	w.pau.send(w.a.Addr(), forgePL)
	deadline := time.Now().Add(wait)
	for {
		w.pau.conn.SetReadDeadline(deadline)
		k, src, err := w.pau.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return ""
		}
		if got := string(buf[:k]); src == w.a.Addr() && strings.HasPrefix(got, "RL") {
			return got
		}
	}
}

// inFlightPort is the source port of a that pau's locate left from while
// it is in flight, or 0.
func (w *forgeWorld) inFlightPort() uint16 {
	c := w.a.core
	sh := c.t.pendingShard(w.key)
	sh.mu.Lock()
	p, ok := sh.m[w.key]
	sh.mu.Unlock()
	if !ok || p.via == 0 {
		return 0
	}
	return c.sourcePorts[p.via-1]
}

// sprayer sends forgeForged from b's node's address to ports of a's
// address, one after another and round again, rate a second (0: as fast
// as it can), skipping the port skip returns, if any.
type sprayer struct {
	s     *spoof.Sender
	from  netip.AddrPort
	to    netip.Addr
	ports []uint16
	rate  float64
	skip  func() uint16
	sent  atomic.Int64
	done  chan struct{}
	stop  chan struct{}
}

func (w *forgeWorld) spray(s *spoof.Sender, ports []uint16, rate float64, skip func() uint16) *sprayer {
	sp := &sprayer{s: s, from: w.b.Addr(), to: w.a.Addr().Addr(), ports: ports, rate: rate, skip: skip, done: make(chan struct{}), stop: make(chan struct{})}
	go sp.run()
	w.t.Cleanup(sp.end)
	return sp
}

func (sp *sprayer) run() {
	defer close(sp.done)
	start := time.Now()
	b := []byte(forgeForged)
	for i := 0; ; i++ {
		select {
		case <-sp.stop:
			return
		default:
		}
		port := sp.ports[i%len(sp.ports)]
		if sp.skip != nil {
			// The attacker sprays the ports other than the one a locate
			// in flight left from; between locates it waits, so that
			// nothing it sent is still unread when the next locate
			// draws its port (locates drains), which would be a guess
			// it cannot make.
			cur := sp.skip()
			if cur == 0 {
				time.Sleep(100 * time.Microsecond)
				continue
			}
			if port == cur {
				continue
			}
		}
		if sp.s.Send(sp.from, netip.AddrPortFrom(sp.to, port), b) == nil {
			sp.sent.Add(1)
		}
		if sp.rate > 0 {
			if d := time.Until(start.Add(time.Duration(float64(sp.sent.Load()) / sp.rate * float64(time.Second)))); d > 0 {
				time.Sleep(d)
			}
		}
	}
}

// end stops the spray and waits until it has stopped; it may be called
// more than once.
func (sp *sprayer) end() {
	select {
	case <-sp.stop:
	default:
		close(sp.stop)
	}
	<-sp.done
}

// ephemeralPorts are the ports the kernel draws a socket's port from, which
// an attacker who knows no source port of a node sweeps.
func ephemeralPorts() []uint16 {
	lo, hi := 32768, 60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			lo, _ = strconv.Atoi(f[0])
			hi, _ = strconv.Atoi(f[1])
		}
	}
	var ports []uint16
	for p := lo; p <= hi; p++ {
		ports = append(ports, uint16(p))
	}
	return ports
}

// drain waits until a's source ports have read what was sprayed at them:
// their count of RLs dropped as on the wrong port stops moving for 20 ms
// (bounded by wait).
func (w *forgeWorld) drain() {
	read := func() uint64 { return w.a.dropped(dropWrongPort) }
	last, since := read(), time.Now()
	for deadline := time.Now().Add(wait); time.Since(since) < 20*time.Millisecond && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		if n := read(); n != last {
			last, since = n, time.Now()
		}
	}
}

// tally counts what n locates got.
type tally struct{ genuine, forged, none int }

// locates makes n locates, one after another. Each next one begins after
// laura's answer to the one before has had time to arrive, as people's
// locates come seconds apart, not in one round trip.
func (w *forgeWorld) locates(n int, wait time.Duration) (tl tally, forgedAt []int) {
	for i := range n {
		start := time.Now()
		got := w.locate(wait)
		time.Sleep(time.Until(start.Add(w.delay + 10*time.Millisecond)))
		w.drain()
		switch got {
		case forgeGenuine:
			tl.genuine++
		case forgeForged:
			tl.forged++
			forgedAt = append(forgedAt, i)
		case "":
			tl.none++
		default:
			w.t.Fatalf("locate %d got %q", i, got)
		}
	}
	return tl, forgedAt
}

// TestForgedRLsRefused: once b's node has answered a locate, forged RLs
// sprayed from its address at a's listening port and at every source port
// of a but the one the locate in flight left from (the attacker's one
// chance is to guess it) win none of 10 locates, and every locate gets
// laura's answer. Before source ports, every locate was the attacker's.
func TestForgedRLsRefused(t *testing.T) {
	s := spoof.NewForTest(t)
	w := newForgeWorld(t, 20*time.Millisecond, nil)
	if got := w.locate(wait); got != forgeGenuine {
		t.Fatalf("first locate, before the attack: %q, want %q", got, forgeGenuine)
	}
	main := w.spray(s, []uint16{w.a.Addr().Port()}, 2000, nil) // 40 in each locate's 20 ms
	sweep := w.spray(s, w.a.core.sourcePorts, 20000, w.inFlightPort)
	tl, _ := w.locates(10, 2*time.Second)
	main.end()
	sweep.end()
	t.Logf("sprayed %d at the listening port, %d at the other source ports; locates: %+v", main.sent.Load(), sweep.sent.Load(), tl)
	if tl.genuine != 10 {
		t.Errorf("locates got %+v, want 10 genuine", tl)
	}
	if n := w.a.dropped(dropWrongPort); n == 0 {
		t.Errorf("no RL dropped as on the wrong port")
	}
}

// dropped is how many datagrams n dropped for reason r.
func (n *testNode) dropped(r dropReason) uint64 {
	var sum uint64
	for _, st := range n.allCounters() {
		for i := range st.requests {
			sum += st.requests[i][outDropped+outcome(r)].Load()
		}
	}
	return sum
}

// TestForgedRLsFromTheStart: an attacker sprays forged RLs at a's
// listening port from before the first locate, when a cannot know yet
// whether b's node answers there (the original C node does). The first
// locate may be the attacker's; b's own RL, on the source port, then
// shows the forgery, which a logs, and no other locate is lost. Before:
// every locate was the attacker's.
func TestForgedRLsFromTheStart(t *testing.T) {
	s := spoof.NewForTest(t)
	w := newForgeWorld(t, 20*time.Millisecond, nil)
	sp := w.spray(s, []uint16{w.a.Addr().Port()}, 2000, nil)
	tl, forgedAt := w.locates(10, 2*time.Second)
	sp.end()
	t.Logf("sprayed %d; locates: %+v, forged at %v", sp.sent.Load(), tl, forgedAt)
	if tl.forged > 1 || (tl.forged == 1 && forgedAt[0] != 0) || tl.genuine+tl.forged != 10 {
		t.Errorf("locates got %+v, forged at %v; want at most the first forged, the others genuine", tl, forgedAt)
	}
	if tl.forged == 1 && !strings.Contains(w.logs.String(), "was forged") {
		t.Errorf("the forged RL routed was not logged:\n%s", w.logs.String())
	}
}

// TestLegacyPeerAnswersOnListeningPort: the original C node sends its RL
// from its port to a's listening port, whatever port the PL came from.
// Its RLs are still routed, locate after locate.
func TestLegacyPeerAnswersOnListeningPort(t *testing.T) {
	cnode := newAgent(t) // the C node of c.test, on its "3344"
	a := startNode(t, "127.0.0.1:0", "a.test", []string{"pau"}, func(o *Options) {
		o.Peers = map[string]netip.AddrPort{"c.test": cnode.addr()}
	})
	pau := newAgent(t)
	pau.ask(a.Addr(), "PRpau@a.test", "RR0")
	for i := range 3 {
		pl := "PLpau@a.test:marta@c.test"
		pau.send(a.Addr(), pl)
		got, src := cnode.recv()
		if got != pl || !a.isSource(src) {
			t.Fatalf("locate %d: the C node got %q from %v, want %q from a source port of %v", i, got, src, pl, a.Addr())
		}
		rl := fmt.Sprintf("RL0pau@a.test:marta@c.test:10.0.0.3:%d", 4000+i)
		cnode.send(a.Addr(), rl)
		pau.expect(a.Addr(), rl)
	}
}

// TestNodeAnswersWhereThePLCameFrom: a node answers another node's PL at
// the address and port it came from, be it its own answer (RL2, RL3) or
// its agent's RL routed back, so that two of our nodes always answer on
// each other's source ports.
func TestNodeAnswersWhereThePLCameFrom(t *testing.T) {
	b := startNode(t, "127.0.0.1:0", "b.test", []string{"laura", "marc"}, nil)
	laura := newAgent(t)
	laura.ask(b.Addr(), "PRlaura@b.test", "RR0")
	peer := newAgent(t) // a's node, from one of its source ports
	peer.send(b.Addr(), "PLpau@a.test:nobody@b.test")
	peer.expect(b.Addr(), "RL2pau@a.test:nobody@b.test")
	peer.send(b.Addr(), "PLpau@a.test:marc@b.test")
	peer.expect(b.Addr(), "RL3pau@a.test:marc@b.test")
	peer.send(b.Addr(), "PLpau@a.test:laura@b.test")
	laura.expect(b.Addr(), "PLpau@a.test:laura@b.test")
	rl := "RL0pau@a.test:laura@b.test:10.0.0.2:4000"
	laura.send(b.Addr(), rl)
	peer.expect(b.Addr(), rl)
}

// TestSourcePortsOff: with SourcePorts 1 (lumi-node -source-ports 0 or
// 1) a node forwards from its listening socket, as before source ports,
// and routes the RL that comes back there.
func TestSourcePortsOff(t *testing.T) {
	for _, k := range []int{1, -1} {
		peer := newAgent(t)
		a := startNode(t, "127.0.0.1:0", "a.test", []string{"pau"}, func(o *Options) {
			o.Peers = map[string]netip.AddrPort{"c.test": peer.addr()}
			o.SourcePorts = k
		})
		if len(a.sources) != 0 {
			t.Errorf("SourcePorts %d: %d source ports", k, len(a.sources))
		}
		pau := newAgent(t)
		pau.ask(a.Addr(), "PRpau@a.test", "RR0")
		pau.send(a.Addr(), "PLpau@a.test:marta@c.test")
		peer.expect(a.Addr(), "PLpau@a.test:marta@c.test")
		peer.send(a.Addr(), "RL3pau@a.test:marta@c.test")
		pau.expect(a.Addr(), "RL3pau@a.test:marta@c.test")
	}
}

// TestSourcePortTakesOnlyItsRLs: a source port serves the RLs of the PLs
// sent from it, from where they went; anything else that comes to it, a
// PL or an RL from elsewhere or for another port's PL, is dropped.
func TestSourcePortTakesOnlyItsRLs(t *testing.T) {
	peer := newAgent(t) // c.test's node, which answers on the source port
	a := startNode(t, "127.0.0.1:0", "a.test", []string{"pau"}, func(o *Options) {
		o.Peers = map[string]netip.AddrPort{"c.test": peer.addr()}
		o.SourcePorts = 4
	})
	if len(a.sources) != 4 {
		t.Fatalf("%d source ports, want 4", len(a.sources))
	}
	pau, stranger := newAgent(t), newAgent(t)
	pau.ask(a.Addr(), "PRpau@a.test", "RR0")
	pl := "PLpau@a.test:marta@c.test"
	pau.send(a.Addr(), pl)
	_, src := peer.recv()
	if !a.isSource(src) {
		t.Fatalf("the PL came from %v, not from a source port of %v", src, a.Addr())
	}
	rl := "RL0pau@a.test:marta@c.test:10.0.0.3:4000"
	stranger.send(src, rl) // from elsewhere
	stranger.send(src, "PRpau@a.test")
	stranger.send(src, pl)
	for _, s := range a.sources {
		if other := s.LocalAddr().(*net.UDPAddr).AddrPort(); other.Port() != src.Port() {
			peer.send(unmap(other), rl) // to another source port
		}
	}
	pau.quiet()
	stranger.quiet()
	peer.send(src, rl)
	pau.expect(a.Addr(), rl)
	// The node answers on the source port: from now on an RL from it on
	// the listening port is refused.
	pau.send(a.Addr(), pl)
	_, src = peer.recv()
	peer.send(a.Addr(), rl)
	pau.quiet()
	peer.send(src, rl)
	pau.expect(a.Addr(), rl)
	if got, want := a.dropped(dropWrongPort), uint64(2+3+1); got != want {
		t.Errorf("%d datagrams dropped as on the wrong port, want %d", got, want)
	}
	if got := a.dropped(dropWrongSource); got != 1 {
		t.Errorf("%d RLs dropped as from elsewhere, want 1", got)
	}
}

// TestMeasureForgedRLs measures how many of N locates an attacker wins, in
// a setting the environment gives; it runs only when MI_FORGE_MEASURE is
// set. MI_FORGE_N locates (30); MI_FORGE_RATE datagrams a second (0: as
// fast as the attacker can); MI_FORGE_DELAY, laura's answer's delay
// (0s); MI_FORGE_AT, what the attacker sprays: "main" (a's listening
// port), "range" (the listening port and the ephemeral port range, one
// after another), or "pool" (the listening port and a's source ports,
// which an attacker may learn); MI_FORGE_PORTS, a's SourcePorts (0:
// default); MI_FORGE_WARM=1: one locate before the spray.
func TestMeasureForgedRLs(t *testing.T) {
	if os.Getenv("MI_FORGE_MEASURE") == "" {
		t.Skip("set MI_FORGE_MEASURE=1 to measure")
	}
	env := func(k string, def float64) float64 {
		if v, err := strconv.ParseFloat(os.Getenv(k), 64); err == nil {
			return v
		}
		return def
	}
	n, rate := int(env("MI_FORGE_N", 30)), env("MI_FORGE_RATE", 0)
	delay, _ := time.ParseDuration(os.Getenv("MI_FORGE_DELAY"))
	at := os.Getenv("MI_FORGE_AT")
	s := spoof.NewForTest(t)
	w := newForgeWorld(t, delay, func(o *Options) { o.SourcePorts = int(env("MI_FORGE_PORTS", 0)) })
	if os.Getenv("MI_FORGE_WARM") == "1" {
		t.Logf("warm-up locate: %q", w.locate(wait))
	}
	ports := []uint16{w.a.Addr().Port()}
	switch at {
	case "range":
		ports = append(ports, ephemeralPorts()...)
	case "pool":
		ports = append(ports, w.a.core.sourcePorts...)
	}
	sp := w.spray(s, ports, rate, nil)
	time.Sleep(100 * time.Millisecond)
	start, sent0 := time.Now(), sp.sent.Load()
	tl, forgedAt := w.locates(n, wire.RetryInterval)
	took := time.Since(start)
	sent := sp.sent.Load() - sent0
	sp.end()
	t.Logf("at=%s ports=%d source_ports=%d delay=%v: %d datagrams in %v (%.0f/s); locates %d: genuine %d, hijacked %d (at %v), unanswered %d",
		at, len(ports), len(w.a.sources), delay, sent, took.Round(time.Millisecond), float64(sent)/took.Seconds(), n, tl.genuine, tl.forged, forgedAt, tl.none)
}
