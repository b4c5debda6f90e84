package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mi/internal/datalog"
	"mi/internal/syncbuf"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"mi/lumi"
	"mi/lumi/dnszone"
	"mi/wire"
	"mi/wire/wiregen"
)

// wait bounds every read in these tests; nothing waits longer.
const wait = 10 * time.Second

type testNode struct {
	*Node
	t       *testing.T
	logPath string
	cfgPath string
	stop    func() // stops the node and waits for Run to return
}

// startNode writes a config for domain and users and serves it on listen.
// change, if not nil, adjusts the options.
func startNode(t *testing.T, listen, domain string, users []string, change func(*Options)) *testNode {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "nodelumi.cfg")
	if err := (Config{Domain: domain, Users: users}).WriteFile(cfgPath); err != nil {
		t.Fatal(err)
	}
	opts := Options{
		ConfigPath: cfgPath,
		Listen:     listen,
		LogPath:    filepath.Join(dir, DefaultLogPath(domain)),
		HostsFile:  "-",
		DNSServer:  "127.0.0.1:1", // nothing answers there; tests that need DNS set it
		// A small pool: the tests of other packages that run meanwhile
		// reserve ports they bind later. The pool's own tests set theirs.
		SourcePorts: 8,
	}
	if change != nil {
		change(&opts)
	}
	n, err := New(opts)
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
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(wait):
			t.Errorf("node %s did not stop", domain)
		}
	}
	t.Cleanup(stop)
	return &testNode{Node: n, t: t, logPath: opts.LogPath, cfgPath: cfgPath, stop: stop}
}

// agent is a raw UDP socket playing an agent.
type agent struct {
	t    *testing.T
	conn *net.UDPConn
}

func newAgent(t *testing.T) *agent { return newAgentAt(t, net.IPv4(127, 0, 0, 1)) }

// newAgentAt is newAgent on loopback address ip: tests that spoof sources
// keep to an address of their own, so that the answers to their forged
// datagrams reach no other test's sockets.
func newAgentAt(t *testing.T, ip net.IP) *agent {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &agent{t: t, conn: conn}
}

func (a *agent) addr() netip.AddrPort { return a.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (a *agent) send(to netip.AddrPort, datagram string) {
	a.t.Helper()
	if _, err := a.conn.WriteToUDPAddrPort([]byte(datagram), to); err != nil {
		a.t.Fatal(err)
	}
}

// recv returns the next datagram and its source.
func (a *agent) recv() (string, netip.AddrPort) {
	a.t.Helper()
	buf := make([]byte, 2048)
	a.conn.SetReadDeadline(time.Now().Add(wait))
	n, src, err := a.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		a.t.Fatalf("agent %v: %v", a.addr(), err)
	}
	return string(buf[:n]), src
}

// expect checks that the next datagram is want, from from.
func (a *agent) expect(from netip.AddrPort, want string) {
	a.t.Helper()
	got, src := a.recv()
	if got != want || src != from {
		a.t.Fatalf("agent %v got %q from %v, want %q from %v", a.addr(), got, src, want, from)
	}
}

// ask sends datagram to node and expects reply from it.
func (a *agent) ask(node netip.AddrPort, datagram, reply string) {
	a.t.Helper()
	a.send(node, datagram)
	a.expect(node, reply)
}

// quiet checks that nothing arrives for a short while. It can only miss a
// datagram, never fail wrongly.
func (a *agent) quiet() {
	a.t.Helper()
	buf := make([]byte, 2048)
	a.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, src, err := a.conn.ReadFromUDPAddrPort(buf); err == nil {
		a.t.Fatalf("agent %v got unexpected %q from %v", a.addr(), buf[:n], src)
	}
}

func logLine(dir string, peer netip.AddrPort, datagram string) string {
	return fmt.Sprintf("%s: %s:UDP:%d, %s, %d\n", dir, peer.Addr(), peer.Port(), datagram, len(datagram))
}

// loggedPeer returns the peer of the first line of the datagram log at
// path in direction dir ("R" or "E") for datagram.
func loggedPeer(t *testing.T, path, dir, datagram string) netip.AddrPort {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		var ip string
		var port uint16
		if _, err := fmt.Sscanf(line, dir+": %s", &ip); err != nil || !strings.HasSuffix(line, loggedAs(datagram)) {
			continue
		}
		host, p, ok := strings.Cut(strings.TrimSuffix(ip, ","), ":UDP:")
		if _, err := fmt.Sscan(p, &port); ok && err == nil {
			return netip.AddrPortFrom(netip.MustParseAddr(host), port)
		}
	}
	t.Fatalf("%s: no %s line for %s", path, dir, datagram)
	return netip.AddrPort{}
}

func checkLog(t *testing.T, path string, lines ...string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := datalog.Start + strings.Join(lines, "") + datalog.End
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// isSource says whether ap is one of n's source ports, which its PLs to
// other domains' nodes leave from.
func (n *testNode) isSource(ap netip.AddrPort) bool {
	return ap.Addr() == n.Addr().Addr() && slices.Contains(n.core.sourcePorts, ap.Port())
}

// shortWait makes forwarded PLs wait 100 ms for their RL, for tests that
// let locates end unanswered.
func shortWait(o *Options) { o.PendingTTL = 100 * time.Millisecond }

// waitPendingEnd waits until no locate is in flight: those forwarded have
// ended, answered or not, and been swept.
func (n *testNode) waitPendingEnd() {
	n.t.Helper()
	deadline := time.Now().Add(wait)
	for n.core.t.pendingLen() > 0 {
		if time.Now().After(deadline) {
			n.t.Fatalf("%d locates still in flight after %v", n.core.t.pendingLen(), wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func startZone(t *testing.T, records ...string) *dnszone.Server {
	t.Helper()
	var rrs []dns.RR
	for _, r := range records {
		rrs = append(rrs, dnszone.MustRR(r))
	}
	z, err := dnszone.Start("127.0.0.1:0", rrs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { z.Close() })
	return z
}

// TestTwoNodesLikeTheCaptures replays the captured exchange (register,
// locate across domains, found, deregister) between two nodes that find
// each other through DNS SRV records, and checks both logs byte for byte.
func TestTwoNodesLikeTheCaptures(t *testing.T) {
	// The zone needs the nodes' ports and the nodes need the zone: start
	// the nodes on fixed loopback addresses with ports from the OS first.
	nc := startNode(t, "127.0.0.1:0", "PC-c", []string{"u1"}, nil)
	nd := startNode(t, "127.0.0.1:0", "PC-d", []string{"u2"}, nil)
	z := startZone(t,
		fmt.Sprintf("_lumi._udp.PC-c. 60 IN SRV 0 0 %d host-c.test.", nc.Addr().Port()),
		fmt.Sprintf("_lumi._udp.PC-d. 60 IN SRV 0 0 %d host-d.test.", nd.Addr().Port()),
		"host-c.test. 60 IN A 127.0.0.1",
		"host-d.test. 60 IN A 127.0.0.1",
	)
	// Swap in resolvers that use the zone.
	setResolver(t, nc, z.Addr())
	setResolver(t, nd, z.Addr())

	a1, a2 := newAgent(t), newAgent(t)
	c, d := nc.Addr(), nd.Addr()
	a1.ask(c, "PRu1@PC-c", "RR0")
	a2.ask(d, "PRu2@PC-d", "RR0")
	a1.send(c, "PLu1@PC-c:u2@PC-d")
	a2.expect(d, "PLu1@PC-c:u2@PC-d")
	rl := "RL0u1@PC-c:u2@PC-d:127.0.0.1:43038"
	a2.send(d, rl)
	a1.expect(c, rl)
	a1.ask(c, "PDu1@PC-c", "RD0")
	a2.ask(d, "PDu2@PC-d", "RD0")
	nc.stop()
	nd.stop()
	// PC-c's PL left from one of its source ports, drawn at random, and
	// PC-d answered there: the reference's nodes both used port 3344.
	cs := loggedPeer(t, nd.logPath, "R", "PLu1@PC-c:u2@PC-d")
	if !nc.isSource(cs) {
		t.Errorf("PC-d got the PL from %v, not from a source port of PC-c (%v)", cs, c)
	}
	checkLog(t, nc.logPath,
		logLine("R", a1.addr(), "PRu1@PC-c"),
		logLine("E", a1.addr(), "RR0"),
		logLine("R", a1.addr(), "PLu1@PC-c:u2@PC-d"),
		logLine("E", d, "PLu1@PC-c:u2@PC-d"),
		logLine("R", d, rl),
		logLine("E", a1.addr(), rl),
		logLine("R", a1.addr(), "PDu1@PC-c"),
		logLine("E", a1.addr(), "RD0"),
	)
	checkLog(t, nd.logPath,
		logLine("R", a2.addr(), "PRu2@PC-d"),
		logLine("E", a2.addr(), "RR0"),
		logLine("R", cs, "PLu1@PC-c:u2@PC-d"),
		logLine("E", a2.addr(), "PLu1@PC-c:u2@PC-d"),
		logLine("R", a2.addr(), rl),
		logLine("E", cs, rl),
		logLine("R", a2.addr(), "PDu2@PC-d"),
		logLine("E", a2.addr(), "RD0"),
	)
}

// setResolver points n at the DNS server addr.
func setResolver(t *testing.T, n *testNode, addr string) {
	t.Helper()
	r, err := lumi.NewResolver(lumi.Config{DNSServer: addr, HostsFile: "-", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	n.resolver.Store(r)
}

// TestSameDomainRows covers the rows of one node: register ok/unknown,
// deregister ok/unknown, locate found/busy/offline/unknown, offline
// detection after the 5th silent locate and its resets, malformed datagrams between
// valid ones.
func TestSameDomainRows(t *testing.T) {
	n := startNode(t, "127.0.0.1:0", "bb.com", []string{"u1", "u2", "u3"}, shortWait)
	addr := n.Addr()
	a1, a2, a3 := newAgent(t), newAgent(t), newAgent(t)
	a1.ask(addr, "PRu1@bb.com", "RR0")
	a1.ask(addr, "PRnobody@bb.com", "RR1")
	a1.ask(addr, "PRu1@elsewhere", "RR1")
	a2.ask(addr, "PRu2@bb.com", "RR0")
	a3.ask(addr, "PRu3@bb.com", "RR0")
	a3.ask(addr, "PDnobody@bb.com", "RD1")
	a3.ask(addr, "PDu3@bb.com", "RD0")

	// the spec's invalid datagrams between valid ones: dropped, nothing
	// answered.
	for _, inv := range wiregen.Invalids {
		if inv.Proto == "PLUMI" {
			a1.send(addr, inv.Input)
		}
	}
	// found
	a1.send(addr, "PLu1@bb.com:u2@bb.com")
	a2.expect(addr, "PLu1@bb.com:u2@bb.com")
	a2.send(addr, "RL0u1@bb.com:u2@bb.com:127.0.0.1:4000")
	a1.expect(addr, "RL0u1@bb.com:u2@bb.com:127.0.0.1:4000")
	// busy
	a1.send(addr, "PLu1@bb.com:u2@bb.com")
	a2.expect(addr, "PLu1@bb.com:u2@bb.com")
	a2.send(addr, "RL1u1@bb.com:u2@bb.com")
	a1.expect(addr, "RL1u1@bb.com:u2@bb.com")
	// offline, unknown
	a1.ask(addr, "PLu1@bb.com:u3@bb.com", "RL3u1@bb.com:u3@bb.com")
	a1.ask(addr, "PLu1@bb.com:zz@bb.com", "RL2u1@bb.com:zz@bb.com")

	// offline detection: locates of u2 that end with no word from its
	// agent; the fifth marks it offline.
	unanswered := func(k int) {
		for range k {
			a1.send(addr, "PLu1@bb.com:u2@bb.com")
			a2.expect(addr, "PLu1@bb.com:u2@bb.com")
			n.waitPendingEnd()
		}
	}
	unanswered(4)
	// reset by RL: the agent answers a locate, the count starts again.
	a1.send(addr, "PLu1@bb.com:u2@bb.com")
	a2.expect(addr, "PLu1@bb.com:u2@bb.com")
	a2.send(addr, "RL1u1@bb.com:u2@bb.com")
	a1.expect(addr, "RL1u1@bb.com:u2@bb.com")
	unanswered(4)
	// A refresh is answered, but is no sign of life: the count goes on.
	a2.ask(addr, "PRu2@bb.com", "RR0")
	unanswered(1)
	eventually(t, "u2 marked offline", func() bool { return !n.Users()[1].Online })
	a1.ask(addr, "PLu1@bb.com:u2@bb.com", "RL3u1@bb.com:u2@bb.com")
	a2.quiet()
	users := n.Users()
	if users[1].Name != "u2" || users[1].Online {
		t.Errorf("u2 after the 5th PL: %+v", users[1])
	}
	n.stop()
	b, err := os.ReadFile(n.logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), loggedAs(`PRu1@bb.com`)) || !strings.HasSuffix(string(b), datalog.End) {
		t.Errorf("log:\n%s", b)
	}
	for _, inv := range wiregen.Invalids {
		if inv.Proto == "PLUMI" && strings.Contains(string(b), loggedAs(inv.Input)) {
			t.Errorf("invalid datagram %q logged:\n%s", inv.Input, b)
		}
	}
}

// loggedAs is the end of the datagram log's line of datagram.
func loggedAs(datagram string) string { return fmt.Sprintf(", %s, %d\n", datagram, len(datagram)) }

// TestThreeNodes locates across domains found by an SRV record, by an A
// record on the spec's port (the node on its own 127.0.0.x address) and by a
// static peer: found, busy, offline, unknown user, unknown domain.
func TestThreeNodes(t *testing.T) {
	// b.test is found by its A record, so its node must be on the spec's port.
	var nb *testNode
	for x := 101; x < 140 && nb == nil; x++ {
		listen := fmt.Sprintf("127.0.0.%d:%d", x, wire.PLUMIPort)
		if c, err := net.ListenPacket("udp4", listen); err == nil {
			c.Close()
			nb = startNode(t, listen, "b.test", []string{"bob", "bea"}, nil)
		}
	}
	if nb == nil {
		t.Skipf("no free 127.0.0.x:%d", wire.PLUMIPort)
	}
	nc := startNode(t, "127.0.0.1:0", "c.test", []string{"cat"}, shortWait)
	z := startZone(t,
		fmt.Sprintf("b.test. 60 IN A %s", nb.Addr().Addr()),
		fmt.Sprintf("_lumi._udp.c.test. 60 IN SRV 0 0 %d nodec.c.test.", nc.Addr().Port()),
		"nodec.c.test. 60 IN A 127.0.0.1",
		"c.test. 60 IN SOA ns.c.test. h.c.test. 1 60 60 60 60",
	)
	na := startNode(t, "127.0.0.1:0", "a.test", []string{"ann"}, func(o *Options) {
		shortWait(o)
		o.DNSServer = z.Addr()
	})
	setResolver(t, nb, z.Addr())
	setResolver(t, nc, z.Addr())

	ann, bob, cat := newAgent(t), newAgent(t), newAgent(t)
	a, b, c := na.Addr(), nb.Addr(), nc.Addr()
	ann.ask(a, "PRann@a.test", "RR0")
	bob.ask(b, "PRbob@b.test", "RR0")
	cat.ask(c, "PRcat@c.test", "RR0")

	// found, through the A record
	ann.send(a, "PLann@a.test:bob@b.test")
	bob.expect(b, "PLann@a.test:bob@b.test")
	bob.send(b, "RL0ann@a.test:bob@b.test:127.0.0.1:5555")
	ann.expect(a, "RL0ann@a.test:bob@b.test:127.0.0.1:5555")
	// busy, through the SRV record
	ann.send(a, "PLann@a.test:cat@c.test")
	cat.expect(c, "PLann@a.test:cat@c.test")
	cat.send(c, "RL1ann@a.test:cat@c.test")
	ann.expect(a, "RL1ann@a.test:cat@c.test")
	// offline and unknown user: answered by the remote node, routed back
	ann.ask(a, "PLann@a.test:bea@b.test", "RL3ann@a.test:bea@b.test")
	ann.ask(a, "PLann@a.test:nobody@b.test", "RL2ann@a.test:nobody@b.test")
	// unknown domain: NXDOMAIN
	ann.ask(a, "PLann@a.test:x@nowhere.test", "RL2ann@a.test:x@nowhere.test")
	// offline detection across domains
	for range wire.OfflineAfter {
		ann.send(a, "PLann@a.test:cat@c.test")
		cat.expect(c, "PLann@a.test:cat@c.test")
		nc.waitPendingEnd()
		na.waitPendingEnd()
	}
	ann.ask(a, "PLann@a.test:cat@c.test", "RL3ann@a.test:cat@c.test")
	// An RL for a locate that node a never forwarded is not routed.
	cat.send(a, "RL0ann@a.test:cat@c.test:127.0.0.1:1")
	ann.quiet()
}

// TestDeadDNSDoesNotStallOthers: a DNS server that reads and never answers
// holds up the locate for its domain only; registrations and a locate for
// a domain known as a static peer go on, and the stuck one ends in RL2.
func TestDeadDNSDoesNotStallOthers(t *testing.T) {
	dead, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	go func() { // read and drop
		buf := make([]byte, 4096)
		for {
			if _, _, err := dead.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	nc := startNode(t, "127.0.0.1:0", "c.test", []string{"cat"}, shortWait)
	r, err := lumi.NewResolver(lumi.Config{
		DNSServer: dead.LocalAddr().String(),
		HostsFile: "-",
		Timeout:   2 * time.Second,
		Peers:     map[string]netip.AddrPort{"c.test": nc.Addr()},
	})
	if err != nil {
		t.Fatal(err)
	}
	na := startNode(t, "127.0.0.1:0", "a.test", []string{"ann", "amy"}, func(o *Options) { o.Resolver = r })
	ann, amy, cat := newAgent(t), newAgent(t), newAgent(t)
	a, c := na.Addr(), nc.Addr()
	ann.ask(a, "PRann@a.test", "RR0")
	cat.ask(c, "PRcat@c.test", "RR0")

	ann.send(a, "PLann@a.test:x@dead.test") // stuck in DNS for seconds
	amy.ask(a, "PRamy@a.test", "RR0")       // not delayed
	amy.send(a, "PLamy@a.test:cat@c.test")
	cat.expect(c, "PLamy@a.test:cat@c.test")
	cat.send(c, "RL0amy@a.test:cat@c.test:127.0.0.1:7")
	amy.expect(a, "RL0amy@a.test:cat@c.test:127.0.0.1:7")
	// Only now does the dead domain give up.
	ann.expect(a, "RL2ann@a.test:x@dead.test")
}

// TestAdminPersists: admin changes go through the running node and are in
// the config file when the call returns.
func TestAdminPersists(t *testing.T) {
	n := startNode(t, "127.0.0.1:0", "bb.com", []string{"u1"}, nil)
	if err := n.AddUser("Nou"); err != nil {
		t.Fatal(err)
	}
	if err := n.AddUser("NOU"); !errors.Is(err, ErrUserExists) {
		t.Errorf("AddUser(NOU) = %v, want ErrUserExists", err)
	}
	if err := n.AddUser("a@b"); err == nil {
		t.Error("AddUser(a@b) succeeded")
	}
	if err := n.RemoveUser("nobody"); !errors.Is(err, ErrUnknownUser) {
		t.Errorf("RemoveUser(nobody) = %v, want ErrUnknownUser", err)
	}
	cfg, err := LoadConfig(n.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Config{Domain: "bb.com", Users: []string{"u1", "Nou"}}, cfg); diff != "" {
		t.Errorf("config after add (-want +got):\n%s", diff)
	}
	ag := newAgent(t)
	ag.ask(n.Addr(), "PRnou@bb.com", "RR0")
	if err := n.RemoveUser("u1"); err != nil {
		t.Fatal(err)
	}
	ag.ask(n.Addr(), "PRu1@bb.com", "RR1")
	cfg, err = LoadConfig(n.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Config{Domain: "bb.com", Users: []string{"Nou"}}, cfg); diff != "" {
		t.Errorf("config after remove (-want +got):\n%s", diff)
	}
	users := n.Users()
	if len(users) != 1 || users[0].Name != "Nou" || !users[0].Online || users[0].Agent != ag.addr() {
		t.Errorf("Users() = %+v", users)
	}
	n.stop()
	if err := n.AddUser("late"); !errors.Is(err, ErrStopped) {
		t.Errorf("AddUser after stop = %v, want ErrStopped", err)
	}
}

// A datagram log that fails (here a full disk) is said once in the node's
// log, while the node goes on serving, and Run's error names it at the end.
func TestDatagramLogFailureReported(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "nodelumi.cfg")
	if err := (Config{Domain: "bb.com", Users: []string{"u1"}}).WriteFile(cfgPath); err != nil {
		t.Fatal(err)
	}
	var logs syncbuf.Buffer
	n, err := New(Options{ConfigPath: cfgPath, Listen: "127.0.0.1:0", LogPath: "/dev/full", HostsFile: "-",
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	a := newAgent(t)
	for deadline := time.Now().Add(wait); !strings.Contains(logs.String(), "datagram log failed"); {
		if time.Now().After(deadline) {
			t.Fatalf("no word of the failed log:\n%s", logs.String())
		}
		a.ask(n.Addr(), "PRu1@bb.com", "RR0") // serving all the while
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(1200 * time.Millisecond) // another sweep
	cancel()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "log") {
		t.Errorf("Run = %v, want the log's error", err)
	}
	if c := strings.Count(logs.String(), "datagram log failed"); c != 1 {
		t.Errorf("said %d times, want once:\n%s", c, logs.String())
	}
}
