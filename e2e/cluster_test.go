package e2e

// A domain on several nodes (docs/cluster.md), with real processes: three
// lumi-node of bb.test sharing their bindings through one redis-server,
// DNS publishing the three as SRV targets of equal priority, mi-agent
// processes, and raw UDP sockets where a test must say exactly what is
// sent and what comes back.

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mi/cluster/clustertest"
	"mi/lumi/dnszone"

	"github.com/miekg/dns"
)

const (
	clusterDomain = "bb.test"
	// The nodes' -heartbeat and -dead-after: a node killed is dead to the
	// others within about a second.
	clusterHeartbeat = 100 * time.Millisecond
	clusterDeadAfter = time.Second
	// clusterRefresh is the -refresh of the agents whose node is killed:
	// their refresh finds it gone and moves them to the next SRV target.
	clusterRefresh = 500 * time.Millisecond
	// clusterWait bounds each wait for the domain to settle: generous for
	// a loaded machine running -race, but far from the ten seconds an
	// agent's request may take.
	clusterWait = 10 * time.Second
)

// clusterIDs are the nodes' ids, in the order of the default DNS view.
var clusterIDs = []string{"n1", "n2", "n3"}

// clusterUsers is every node's config: the same users everywhere.
var clusterUsers = []string{
	"laura", "pau", "marc", "joan", "anna", "abe", "ghost",
	"ask-n1", "ask-n2", "ask-n3",
	"race0", "race1", "race2", "race3", "race4", "race5", "race6", "race7", "race8",
}

// clusterWorld is a running domain of three nodes.
type clusterWorld struct {
	*world // its nodes are keyed by node id
	redis  *clustertest.Redis
	addr   map[string]netip.AddrPort // node id -> its -listen
	views  map[string]string         // an SRV order ("n2,n3,n1") -> the DNS server that answers it
	askers map[string]*rawAgent      // node id -> ask-ID, registered there, for locates through it
}

// newCluster starts a redis-server (skipping the test without one), DNS
// and the three nodes, registers a raw asker at each, and waits until
// every node relays a locate to every other: the domain is formed.
func newCluster(t *testing.T) *clusterWorld {
	t.Helper()
	redis := clustertest.StartRedis(t)
	c := &clusterWorld{
		world: &world{t: t, dir: t.TempDir(), ports: map[string]int{}, users: map[string][]string{clusterDomain: clusterUsers},
			nodes: map[string]*nodeProc{}},
		redis: redis, addr: map[string]netip.AddrPort{}, views: map[string]string{}, askers: map[string]*rawAgent{},
	}
	for _, id := range clusterIDs {
		c.addr[id] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(freeUDPPort(t)))
	}
	c.zone = c.viewZone(clusterIDs)
	for _, id := range clusterIDs {
		c.startMember(id)
	}
	for _, id := range clusterIDs {
		a := newRawAgent(t, "ask-"+id+"@"+clusterDomain)
		a.ask(c.addr[id], "PR"+a.user, "RR0")
		c.askers[id] = a
	}
	for _, from := range clusterIDs {
		for _, to := range clusterIDs {
			if from != to {
				c.askers[from].waitLocate(c.addr[from], c.askers[to].user, "RL0", clusterWait)
			}
		}
	}
	return c
}

// viewZone starts a DNS server whose SRV answer for the domain lists the
// nodes in order, all of priority 0 and weight 0: a resolver takes records
// of one priority and weight 0 in the order the server sent them, so an
// agent asking it registers with order[0] and fails over to order[1],
// then order[2]. A DNS server that rotates its answers (round robin)
// gives its clients such different orders; here each agent asks the view
// it is given, so that every run is the same.
func (c *clusterWorld) viewZone(order []string) *dnszone.Server {
	t := c.t
	t.Helper()
	d := clusterDomain
	rrs := []dns.RR{dnszone.MustRR(fmt.Sprintf("%s. 60 IN SOA ns.%s. admin.%s. 1 60 60 60 5", d, d, d))}
	for _, id := range order {
		rrs = append(rrs, dnszone.MustRR(fmt.Sprintf("_lumi._udp.%s. 60 IN SRV 0 0 %d %s.%s.", d, c.addr[id].Port(), id, d)))
	}
	for _, id := range order {
		rrs = append(rrs, dnszone.MustRR(fmt.Sprintf("%s.%s. 60 IN A 127.0.0.1", id, d)))
	}
	zone, err := dnszone.Start("127.0.0.1:0", rrs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zone.Close() })
	c.views[strings.Join(order, ",")] = zone.Addr()
	return zone
}

// view returns the DNS server that lists the nodes in order.
func (c *clusterWorld) view(order ...string) string {
	c.t.Helper()
	if addr, ok := c.views[strings.Join(order, ",")]; ok {
		return addr
	}
	return c.viewZone(order).Addr()
}

// startMember starts (or restarts) node id with the same config, store,
// id and -listen.
func (c *clusterWorld) startMember(id string) *nodeProc {
	t := c.t
	t.Helper()
	cfg := filepath.Join(c.dir, "nodelumi-"+id+".cfg")
	if _, err := os.Stat(cfg); err != nil {
		if err := os.WriteFile(cfg, []byte(clusterDomain+"\n"+strings.Join(clusterUsers, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := c.runNode(id, c.addr[id].String(), []string{
		"-config", cfg, "-log", c.memberLog(id),
		"-store", c.redis.URL(), "-node-id", id,
		"-heartbeat", clusterHeartbeat.String(), "-dead-after", clusterDeadAfter.String(),
		// Every locate is forwarded, even one repeated within half a
		// second: the waits below poll every 100 ms, and the times they
		// measure are then the poll's, not the repeat gap's.
		"-repeat-gap", "-1s",
	})
	c.nodes[id] = p
	return p
}

// memberLog is the datagram log of node id, across its runs.
func (c *clusterWorld) memberLog(id string) string {
	return filepath.Join(c.dir, "nodelumi-"+id+".log")
}

// lastRun is the part of node id's datagram log written by its last run.
func (c *clusterWorld) lastRun(id string) string {
	b, _ := os.ReadFile(c.memberLog(id))
	s := string(b)
	if i := strings.LastIndex(s, "------ INICI LOG ------"); i >= 0 {
		return s[i:]
	}
	return s
}

// agent starts mi-agent for user, asking DNS for the nodes in order (the
// first node, then the others in the order of clusterIDs after it), and
// checks that it registered with order[0].
func (c *clusterWorld) agent(user string, order []string, extra ...string) *agentProc {
	t := c.t
	t.Helper()
	a := c.launchAgentAsking(c.view(order...), user+"@"+clusterDomain, extra...)
	if e := a.want("registered"); e.str("node") != c.addr[order[0]].String() {
		t.Fatalf("%s registered with %s, want %s (%s)", user, e.str("node"), order[0], c.addr[order[0]])
	}
	return a
}

// known waits until every node finds each user of users (user@domain):
// the store's feed has brought their bindings everywhere.
func (c *clusterWorld) known(users ...string) {
	c.t.Helper()
	for _, u := range users {
		for _, id := range clusterIDs {
			c.askers[id].waitLocate(c.addr[id], u, "RL0", clusterWait)
		}
	}
}

// startingAt is the SRV order that starts at node id and goes round
// clusterIDs.
func startingAt(id string) []string {
	for i, x := range clusterIDs {
		if x == id {
			return append(append([]string(nil), clusterIDs[i:]...), clusterIDs[:i]...)
		}
	}
	panic("no node " + id)
}

// talk has a say text and b hear it.
func talk(t *testing.T, a, b *agentProc, text string) {
	t.Helper()
	a.say(text)
	if e := b.want("line"); e.str("text") != text || e.str("from") != a.name {
		t.Fatalf("%s heard %v, want %q from %s", b.name, e, text, a.name)
	}
}

// hangup has a end the conversation, and b see it ended.
func hangup(t *testing.T, a, b *agentProc) {
	t.Helper()
	a.say("/hangup")
	if e := a.want("hangup"); e.str("by") != "local" {
		t.Errorf("%s: %v", a.name, e)
	}
	if e := b.want("hangup"); e.str("by") != "peer" {
		t.Errorf("%s: %v", b.name, e)
	}
}

// noEvents fails if a has said anything that has not been read.
func noEvents(t *testing.T, a *agentProc) {
	t.Helper()
	select {
	case e := <-a.events:
		t.Fatalf("%s: unexpected %v", a.name, e)
	default:
	}
}

// rawAgent is a UDP socket playing one user's agent: it sends what it is
// told and, while alive, answers every PL for its user (a locate, or a
// node's check of the agent) with RL0 and its own port as the chat port,
// as an agent does.
type rawAgent struct {
	t     *testing.T
	user  string // user@domain
	conn  *net.UDPConn
	port  uint16      // the socket's port, given as the chat port
	in    chan string // what it received, but the PLs for its user
	alive atomic.Bool
	pls   atomic.Int32 // PLs for its user received
}

func newRawAgent(t *testing.T, user string) *rawAgent {
	t.Helper()
	conn := udpSocket(t)
	a := &rawAgent{t: t, user: user, conn: conn, port: uint16(conn.LocalAddr().(*net.UDPAddr).Port), in: make(chan string, 1024)}
	a.alive.Store(true)
	go a.read()
	return a
}

func (a *rawAgent) read() {
	buf := make([]byte, 2048)
	for {
		n, src, err := a.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if isClosed(err) {
				return
			}
			continue // ICMP port unreachable from a node that died
		}
		d := string(buf[:n])
		if from, to, ok := strings.Cut(strings.TrimPrefix(d, "PL"), ":"); ok && strings.HasPrefix(d, "PL") && strings.EqualFold(to, a.user) {
			a.pls.Add(1)
			if a.alive.Load() {
				a.conn.WriteToUDPAddrPort(fmt.Appendf(nil, "RL0%s:%s:127.0.0.1:%d", from, to, a.port), src)
			}
			continue
		}
		select {
		case a.in <- d:
		default: // nobody reads: the test has what it wanted
		}
	}
}

// found is the RL0 of a locate of a by asker.
func (a *rawAgent) found(asker string) string {
	return fmt.Sprintf("RL0%s:%s:127.0.0.1:%d", asker, a.user, a.port)
}

// send sends d to node.
func (a *rawAgent) send(node netip.AddrPort, d string) {
	a.t.Helper()
	if _, err := a.conn.WriteToUDPAddrPort([]byte(d), node); err != nil {
		a.t.Fatalf("%s: %v", a.user, err)
	}
}

// await returns the first datagram received within d that starts with
// prefix, dropping others; "" if none came.
func (a *rawAgent) await(prefix string, d time.Duration) string {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case got := <-a.in:
			if strings.HasPrefix(got, prefix) {
				return got
			}
		case <-timer.C:
			return ""
		}
	}
}

// ask sends req to node as an agent does, five times a second apart until
// a reply of its kind (its first letter and R) comes, and fails unless
// that reply is want.
func (a *rawAgent) ask(node netip.AddrPort, req, want string) {
	a.t.Helper()
	kind := "R" + req[1:2]
	for range 5 {
		a.send(node, req)
		if got := a.await(kind, time.Second); got != "" {
			if got != want {
				a.t.Fatalf("%s: %s to %v: got %q, want %q", a.user, req, node, got, want)
			}
			return
		}
	}
	a.t.Fatalf("%s: %s to %v: no answer", a.user, req, node)
}

// pollEvery is how often waitLocate asks: the resolution of the times
// measured.
const pollEvery = 25 * time.Millisecond

// waitLocate locates target through node every pollEvery until the answer
// starts with want (which may be a whole RL), failing after d. It returns
// the answer.
func (a *rawAgent) waitLocate(node netip.AddrPort, target, want string, d time.Duration) string {
	a.t.Helper()
	got, err := a.pollLocate(node, target, want, d)
	if err != nil {
		a.t.Fatal(err)
	}
	return got
}

// pollLocate is waitLocate for any goroutine: it returns an error rather
// than failing the test. A late answer to one PL is taken as the answer
// to the next.
func (a *rawAgent) pollLocate(node netip.AddrPort, target, want string, d time.Duration) (string, error) {
	deadline := time.Now().Add(d)
	var last string
	for time.Now().Before(deadline) {
		start := time.Now()
		a.conn.WriteToUDPAddrPort([]byte("PL"+a.user+":"+target), node)
		got := a.await("RL", pollEvery)
		if strings.HasPrefix(got, want) && strings.Contains(got, target) {
			return got, nil
		}
		if got != "" {
			last = got
			time.Sleep(pollEvery - time.Since(start))
		}
	}
	return "", fmt.Errorf("%s: locate of %s through %v: no %s within %v (last answer %q)", a.user, target, node, want, d, last)
}

// TestClusterCallAcrossNodes: agents registered at different nodes call
// each other: the caller's node relays the PL to the callee's, which
// alone speaks to the callee's agent, and the RL comes back the same way;
// the call connects and carries lines both ways.
func TestClusterCallAcrossNodes(t *testing.T) {
	c := newCluster(t)
	laura := c.agent("laura", startingAt("n1"))
	pau := c.agent("pau", startingAt("n2"))
	marc := c.agent("marc", startingAt("n3"))
	c.known("laura@"+clusterDomain, "pau@"+clusterDomain, "marc@"+clusterDomain)

	call(t, laura, pau, "pau@"+clusterDomain)
	talk(t, laura, pau, "Hola Pau! Soc a n1.")
	talk(t, pau, laura, "I jo a n2.")
	hangup(t, laura, pau)
	// The PL went from laura's node to pau's, from n1's address.
	relayed := fmt.Sprintf("R: 127.0.0.1:UDP:%d, PLlaura@%s:pau@%s,", c.addr["n1"].Port(), clusterDomain, clusterDomain)
	waitFor(t, 5*time.Second, "n2's log to show the PL relayed by n1", func() bool {
		return strings.Contains(c.lastRun("n2"), relayed)
	})

	call(t, marc, laura, "laura@"+clusterDomain)
	talk(t, marc, laura, "Des de n3.")
	talk(t, laura, marc, "Rebut a n1.")
	hangup(t, laura, marc)
	call(t, pau, marc, "marc@"+clusterDomain)
	talk(t, pau, marc, "n2 a n3")
	hangup(t, marc, pau)
	for _, a := range []*agentProc{laura, pau, marc} {
		a.quit()
	}
}

// TestClusterDeregisterSeenEverywhere: an agent that quits (PD at its
// node) is then offline at every node: each answers RL3 itself.
func TestClusterDeregisterSeenEverywhere(t *testing.T) {
	c := newCluster(t)
	pau := c.agent("pau", startingAt("n2"))
	target := "pau@" + clusterDomain
	for _, id := range clusterIDs {
		c.askers[id].waitLocate(c.addr[id], target, "RL0", clusterWait)
	}
	pau.quit()
	for _, id := range clusterIDs {
		got := c.askers[id].waitLocate(c.addr[id], target, "RL3", clusterWait)
		if want := "RL3" + c.askers[id].user + ":" + target; got != want {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
}

// TestClusterTakeoverAtAnotherNode: a PR for laura at another node than
// hers, from another address, is refused while her agent answers: that
// node checks her agent through hers. Had the agent been silent, the new
// address would have won.
func TestClusterTakeoverAtAnotherNode(t *testing.T) {
	c := newCluster(t)
	laura := c.agent("laura", startingAt("n1"))
	pau := c.agent("pau", startingAt("n2"))
	c.known("laura@" + clusterDomain)
	stranger := newRawAgent(t, "laura@"+clusterDomain)
	for _, id := range []string{"n2", "n3"} {
		stranger.ask(c.addr[id], "PRlaura@"+clusterDomain, "RR1")
	}
	if n := stranger.pls.Load(); n != 0 {
		t.Errorf("the stranger got %d PLs for laura", n)
	}
	call(t, pau, laura, "laura@"+clusterDomain)
	talk(t, pau, laura, "Encara ets tu?")
	hangup(t, pau, laura)
	noEvents(t, laura) // no node_lost: her binding never moved

	// abe's agent at n1 is silent: a PR for abe at n2 wins once the check
	// through n1 has gone unanswered, and the domain then finds abe there.
	abe := newRawAgent(t, "abe@"+clusterDomain)
	abe.ask(c.addr["n1"], "PR"+abe.user, "RR0")
	c.askers["n3"].waitLocate(c.addr["n3"], abe.user, abe.found(c.askers["n3"].user), clusterWait)
	abe.alive.Store(false)
	abe2 := newRawAgent(t, abe.user)
	abe2.ask(c.addr["n2"], "PR"+abe.user, "RR0")
	if abe.pls.Load() == 0 {
		t.Errorf("abe's first agent was not checked")
	}
	for _, id := range clusterIDs {
		asker := c.askers[id]
		asker.waitLocate(c.addr[id], abe.user, abe2.found(asker.user), clusterWait)
	}
}

// TestClusterRacingPRs: PRs for one user from two addresses at two nodes
// at once: exactly one is answered RR0, the other RR1, and every node
// then sends that user's locates to the winner.
func TestClusterRacingPRs(t *testing.T) {
	c := newCluster(t)
	wins := map[string]int{}
	for i := range 9 {
		user := fmt.Sprintf("race%d@%s", i, clusterDomain)
		na, nb := clusterIDs[i%3], clusterIDs[(i+1)%3]
		x, y := newRawAgent(t, user), newRawAgent(t, user)
		var start sync.WaitGroup
		start.Add(1)
		var wg sync.WaitGroup
		var rx, ry string
		pr := func(a *rawAgent, node netip.AddrPort) string {
			start.Wait()
			a.conn.WriteToUDPAddrPort([]byte("PR"+user), node)
			return a.await("RR", 3*time.Second)
		}
		wg.Go(func() { rx = pr(x, c.addr[na]) })
		wg.Go(func() { ry = pr(y, c.addr[nb]) })
		start.Done()
		wg.Wait()
		var winner *rawAgent
		switch {
		case rx == "RR0" && ry == "RR1":
			winner = x
			wins[na]++
		case ry == "RR0" && rx == "RR1":
			winner = y
			wins[nb]++
		default:
			t.Fatalf("%s: %s answered %q and %s %q; exactly one RR0 and one RR1 wanted", user, na, rx, nb, ry)
		}
		for _, id := range clusterIDs {
			asker := c.askers[id]
			asker.waitLocate(c.addr[id], user, winner.found(asker.user), clusterWait)
		}
	}
	t.Logf("racing PRs won per node: %v", wins)
}

// TestClusterNodeKilled: a node killed with SIGKILL. Once its heartbeat
// lapses (-dead-after) the others answer RL3 for its users, at once; its
// agents' refreshes find it gone and register them with the domain's
// next SRV target, after which they are found again through any node and
// calls to them connect. The times are logged.
func TestClusterNodeKilled(t *testing.T) {
	c := newCluster(t)
	refresh := []string{"-refresh", clusterRefresh.String(), "-v"}
	laura := c.agent("laura", []string{"n1", "n2", "n3"}, refresh...)
	joan := c.agent("joan", []string{"n1", "n3", "n2"}, refresh...)
	pau := c.agent("pau", startingAt("n2"))
	marc := c.agent("marc", startingAt("n3"))
	// ghost's agent registered at n1 and never refreshes: it shows what
	// the others answer for n1's users.
	ghost := newRawAgent(t, "ghost@"+clusterDomain)
	ghost.ask(c.addr["n1"], "PR"+ghost.user, "RR0")
	for _, id := range []string{"n2", "n3"} {
		c.askers[id].waitLocate(c.addr[id], ghost.user, ghost.found(c.askers[id].user), clusterWait)
		c.askers[id].waitLocate(c.addr[id], "laura@"+clusterDomain, "RL0", clusterWait)
		c.askers[id].waitLocate(c.addr[id], "joan@"+clusterDomain, "RL0", clusterWait)
	}

	// ghost is polled through n2 and n3 from sockets of its own, since
	// an asker polls one target at a time.
	rl3 := map[string]*rawAgent{"n2": newRawAgent(t, "anna@"+clusterDomain), "n3": newRawAgent(t, "abe@"+clusterDomain)}
	for id, a := range rl3 {
		a.ask(c.addr[id], "PR"+a.user, "RR0")
	}

	ghostPLs := ghost.pls.Load()
	c.nodes["n1"].kill()
	killed := time.Now()
	var mu sync.Mutex
	times := map[string]time.Duration{}
	// measure polls through node until a locate of target is answered
	// want, and notes when.
	measure := func(what string, a *rawAgent, node, target, want string) func() {
		return func() {
			got, err := a.pollLocate(c.addr[node], target, want, clusterWait)
			mu.Lock()
			defer mu.Unlock()
			times[what] = time.Since(killed)
			if err != nil {
				t.Error(err)
			} else if strings.HasPrefix(want, "RL3") && got != want {
				t.Errorf("%s: %q, want %q", what, got, want)
			}
		}
	}
	var wg sync.WaitGroup
	for _, id := range []string{"n2", "n3"} {
		a := rl3[id]
		wg.Go(measure("ghost RL3 at "+id, a, id, ghost.user, "RL3"+a.user+":"+ghost.user))
	}
	wg.Go(measure("laura found through n3", c.askers["n3"], "n3", "laura@"+clusterDomain, "RL0"))
	wg.Go(measure("joan found through n2", c.askers["n2"], "n2", "joan@"+clusterDomain, "RL0"))
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, k := range []string{"ghost RL3 at n2", "ghost RL3 at n3", "laura found through n3", "joan found through n2"} {
		t.Logf("node killed: %s after %v (-heartbeat %v, -dead-after %v, agents' -refresh %v)",
			k, times[k].Round(time.Millisecond), clusterHeartbeat, clusterDeadAfter, clusterRefresh)
	}
	// Each moved to the next node of its own SRV order.
	for _, m := range []struct {
		a  *agentProc
		to string
	}{{laura, "n2"}, {joan, "n3"}} {
		want := "next=" + c.addr[m.to].String()
		waitFor(t, 5*time.Second, m.a.name+"'s log to say it moved to "+m.to, func() bool {
			return strings.Contains(m.a.stderr.String(), want)
		})
		waitFor(t, 5*time.Second, m.to+"'s log to show "+m.a.name+"'s PR", func() bool {
			return strings.Contains(c.lastRun(m.to), ", PR"+m.a.name+"@"+clusterDomain+",")
		})
	}
	for _, a := range []*agentProc{laura, joan} {
		drainNotices(t, a)
	}

	call(t, pau, laura, "laura@"+clusterDomain)
	talk(t, pau, laura, "Ara ets a n2?")
	talk(t, laura, pau, "Sí.")
	hangup(t, laura, pau)
	call(t, marc, joan, "joan@"+clusterDomain)
	talk(t, marc, joan, "I tu a n3.")
	hangup(t, joan, marc)
	call(t, laura, joan, "joan@"+clusterDomain)
	talk(t, laura, joan, "De n2 a n3.")
	hangup(t, laura, joan)

	// A dead node's user may register anywhere at once: no check of its
	// old agent, which only the dead node could reach.
	start := time.Now()
	ghost2 := newRawAgent(t, ghost.user)
	ghost2.ask(c.addr["n3"], "PR"+ghost.user, "RR0")
	t.Logf("node killed: a PR for its user at another node answered RR0 after %v", time.Since(start).Round(10*time.Microsecond))
	if n := ghost.pls.Load() - ghostPLs; n != 0 {
		t.Errorf("ghost's old agent got %d PLs after its node died", n)
	}
}

// drainNotices reads what a has said so far, failing on anything but a
// notice (a refresh that went unanswered, answered again).
func drainNotices(t *testing.T, a *agentProc) {
	t.Helper()
	for {
		select {
		case e := <-a.events:
			if e.kind() != "notice" {
				t.Fatalf("%s: unexpected %v", a.name, e)
			}
			t.Logf("%s: %s: %s", a.name, e.str("reason"), e.str("message"))
		default:
			return
		}
	}
}

// TestClusterStoreRestart: the store killed; locates go on from every
// node's copy and registrations are taken where they come; the store
// started again, empty: every node writes back what it holds, and every
// node then knows the registrations made during the outage.
func TestClusterStoreRestart(t *testing.T) {
	c := newCluster(t)
	laura := c.agent("laura", startingAt("n1"))
	pau := c.agent("pau", startingAt("n2"))
	c.known("laura@"+clusterDomain, "pau@"+clusterDomain)

	c.redis.Kill()
	call(t, laura, pau, "pau@"+clusterDomain)
	talk(t, laura, pau, "Sense magatzem.")
	hangup(t, laura, pau)
	marc := c.agent("marc", startingAt("n3"))
	anna := newRawAgent(t, "anna@"+clusterDomain)
	anna.ask(c.addr["n1"], "PR"+anna.user, "RR0")
	// Taken where they came, and nowhere else until the store is back.
	if got, want := c.askers["n1"].waitLocate(c.addr["n1"], "marc@"+clusterDomain, "RL", clusterWait), "RL3ask-n1@"+clusterDomain+":marc@"+clusterDomain; got != want {
		t.Errorf("n1, store down, marc registered at n3: %q, want %q", got, want)
	}

	c.redis.Start()
	restarted := time.Now()
	for _, id := range clusterIDs {
		asker := c.askers[id]
		asker.waitLocate(c.addr[id], "marc@"+clusterDomain, "RL0", clusterWait)
		asker.waitLocate(c.addr[id], anna.user, anna.found(asker.user), clusterWait)
		asker.waitLocate(c.addr[id], "laura@"+clusterDomain, "RL0", clusterWait)
		asker.waitLocate(c.addr[id], "pau@"+clusterDomain, "RL0", clusterWait)
	}
	t.Logf("store restarted empty: every node found every user after %v", time.Since(restarted).Round(time.Millisecond))
	call(t, pau, marc, "marc@"+clusterDomain)
	talk(t, pau, marc, "El magatzem ha tornat.")
	hangup(t, pau, marc)
	for _, a := range []*agentProc{laura, pau, marc} {
		a.quit()
	}
}

// TestClusterNodeRestartSameID: a node stopped (SIGTERM) or killed
// (SIGKILL) and started again with the same id and -listen takes back the
// bindings it held: its users are found through every node, itself
// included, with no new PR from their agents.
func TestClusterNodeRestartSameID(t *testing.T) {
	for _, how := range []string{"stopped", "killed"} {
		t.Run(how, func(t *testing.T) {
			c := newCluster(t)
			laura := c.agent("laura", startingAt("n1"), "-refresh", "1h")
			pau := c.agent("pau", startingAt("n2"))
			anna := newRawAgent(t, "anna@"+clusterDomain)
			anna.ask(c.addr["n1"], "PR"+anna.user, "RR0")
			c.known(anna.user, "laura@"+clusterDomain)

			if how == "stopped" {
				c.nodes["n1"].stop(t)
			} else {
				c.nodes["n1"].kill()
			}
			c.startMember("n1")
			for _, id := range clusterIDs {
				asker := c.askers[id]
				asker.waitLocate(c.addr[id], anna.user, anna.found(asker.user), clusterWait)
				asker.waitLocate(c.addr[id], "laura@"+clusterDomain, "RL0", clusterWait)
			}
			call(t, pau, laura, "laura@"+clusterDomain)
			talk(t, pau, laura, "Has tornat?")
			hangup(t, pau, laura)
			if log := c.lastRun("n1"); strings.Contains(log, ", PRlaura@") || strings.Contains(log, ", PRanna@") {
				t.Errorf("the restarted n1 got a PR from laura or anna:\n%s", log)
			}
			noEvents(t, laura)
		})
	}
}
