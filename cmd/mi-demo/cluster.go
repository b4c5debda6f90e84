package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"mi/agent"
	"mi/internal/sdnotify"
	"mi/internal/supervise"
	"mi/lumi"
	"mi/lumi/dnszone"
	"mi/node"
	"mi/plumi"
)

// The -cluster demo: one domain on three lumi-node processes that share
// their registrations through a redis-server (docs/cluster.md).
const (
	clusterDomain = "bb.test"
	// The nodes' -heartbeat and -dead-after, and the agents' refresh:
	// short, so that a node's death is over in about a second.
	clusterHeartbeat = 200 * time.Millisecond
	clusterDeadAfter = time.Second
	clusterRefresh   = 500 * time.Millisecond
	// clusterRetry is the agents' wait for a LUMI reply before they send
	// again (wire.RetryInterval is a second).
	clusterRetry = 250 * time.Millisecond
	// clusterCallRetry is how long a caller waits before calling again a
	// user the domain says is offline, while its agent moves.
	clusterCallRetry = 250 * time.Millisecond
)

// clusterNodes are the nodes' ids, in the order DNS lists them.
var clusterNodes = []string{"n1", "n2", "n3"}

// clusterPeople are the users who chat, each with the node its agent
// registers with: the first its DNS lists.
var clusterPeople = []struct{ user, node string }{{"laura", "n1"}, {"pau", "n2"}, {"marc", "n3"}}

// errMissing is the error of a program the demo needs and cannot find.
var errMissing = errors.New("missing program")

// clusterPrograms are the programs -cluster runs.
type clusterPrograms struct {
	redisServer string
	lumiNode    string
}

// findPrograms finds redis-server in $PATH, and lumi-node at lumiNode if
// it is given, else beside this program, else in $PATH.
func findPrograms(lumiNode string) (clusterPrograms, error) {
	var p clusterPrograms
	var err error
	if p.redisServer, err = exec.LookPath("redis-server"); err != nil {
		return p, fmt.Errorf("%w: -cluster needs Debian's redis-server in $PATH (apt-get install redis-server): %v", errMissing, err)
	}
	if lumiNode != "" {
		if p.lumiNode, err = exec.LookPath(lumiNode); err != nil {
			return p, fmt.Errorf("%w: -lumi-node %s: %v", errMissing, lumiNode, err)
		}
		return p, nil
	}
	if self, err := os.Executable(); err == nil {
		if path, err := exec.LookPath(filepath.Join(filepath.Dir(self), "lumi-node")); err == nil {
			p.lumiNode = path
			return p, nil
		}
	}
	if p.lumiNode, err = exec.LookPath("lumi-node"); err != nil {
		return p, fmt.Errorf("%w: -cluster runs lumi-node processes, and there is none beside mi-demo or in $PATH: run make demo-cluster, or build it (go build -o bin/ ./cmd/...) and give -lumi-node bin/lumi-node", errMissing)
	}
	return p, nil
}

// clusterDomainRun is the running store, DNS and nodes of the domain.
type clusterDomainRun struct {
	redis   *supervise.Process
	store   string                     // the store's URL
	views   map[string]*dnszone.Server // node id -> DNS listing it first
	addr    map[string]netip.AddrPort  // node id -> where it serves
	nodes   map[string]*supervise.Process
	metrics map[string]string // node id -> the URL of its /metrics
}

// nodeOf is the id of the node at ap, or ap.
func (d *clusterDomainRun) nodeOf(ap netip.AddrPort) string {
	for id, a := range d.addr {
		if a == ap {
			return id
		}
	}
	return ap.String()
}

// close stops the nodes, the store and DNS, and waits for them.
func (d *clusterDomainRun) close() {
	var ps []*supervise.Process
	for _, p := range d.nodes {
		ps = append(ps, p)
	}
	supervise.StopAll(ps...)
	if d.redis != nil {
		d.redis.Stop()
	}
	for _, z := range d.views {
		z.Close()
	}
}

// startRedis runs redis-server on a free port of 127.0.0.1, with no
// persistence, and waits until it says it is ready (READY=1, as it tells
// systemd with --supervised systemd).
func startRedis(ctx context.Context, bin, dir string, out io.Writer) (*supervise.Process, string, error) {
	var lastErr error
	for range 3 { // the free port may be taken before the server binds it
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, "", err
		}
		port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
		l.Close()
		p, err := supervise.Start(ctx, supervise.Config{
			Path: bin,
			Args: []string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
				"--dir", dir, "--daemonize", "no", "--supervised", "systemd", "--logfile", ""},
			Stdout: out,
		})
		if err == nil {
			return p, net.JoinHostPort("127.0.0.1", port), nil
		}
		if errors.Is(err, supervise.ErrNotReady) {
			return nil, "", fmt.Errorf("%w (it runs with --supervised systemd; a redis-server built without systemd's support never says it: use Debian's)", err)
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, "", lastErr
}

// startClusterDomain starts the store, DNS and the nodes, printing each.
func startClusterDomain(ctx context.Context, w io.Writer, dir string, progs clusterPrograms, nodeOut io.Writer) (*clusterDomainRun, error) {
	d := &clusterDomainRun{views: map[string]*dnszone.Server{}, addr: map[string]netip.AddrPort{},
		nodes: map[string]*supervise.Process{}, metrics: map[string]string{}}
	redis, redisAddr, err := startRedis(ctx, progs.redisServer, dir, nodeOut)
	if err != nil {
		return nil, step("start redis-server", err)
	}
	d.redis, d.store = redis, "redis://"+redisAddr
	fmt.Fprintf(w, "redis-server on %s: the domain's store (%s)\n", redisAddr, progs.redisServer)

	for _, id := range clusterNodes {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			d.close()
			return nil, step("reserve node ports", err)
		}
		d.addr[id] = pc.LocalAddr().(*net.UDPAddr).AddrPort()
		pc.Close()
	}
	for i, first := range clusterNodes {
		order := append(append([]string(nil), clusterNodes[i:]...), clusterNodes[:i]...)
		z, err := startZone(d.records(order))
		if err != nil {
			d.close()
			return nil, step("start DNS", err)
		}
		d.views[first] = z
	}
	fmt.Fprintf(w, "DNS: _lumi._udp.%s has three SRV records of priority 0 and weight 0, for", clusterDomain)
	for i, id := range clusterNodes {
		sep := map[bool]string{true: " and", false: ","}[i == len(clusterNodes)-1]
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(w, "%s %s.%s:%d", sep, id, clusterDomain, d.addr[id].Port())
	}
	fmt.Fprintln(w, ".\n  A resolver tries targets of one priority and weight 0 in the order the server gives them. Here three")
	fmt.Fprintln(w, "  servers give three orders, as a round-robin DNS server's answers would, the same on every run:")
	for _, p := range clusterPeople {
		fmt.Fprintf(w, "  %s lists %s first, for %s's agent\n", d.views[p.node].Addr(), p.node, p.user)
	}
	fmt.Fprintln(w, "  An agent registers with the first target, and with the next when a refresh goes unanswered.")

	users := []string{"laura", "pau", "marc", "joan"}
	for _, id := range clusterNodes {
		cfg := filepath.Join(dir, "nodelumi-"+id+".cfg")
		if err := (node.Config{Domain: clusterDomain, Users: users}).WriteFile(cfg); err != nil {
			d.close()
			return nil, step("write the config of "+id, err)
		}
		args := []string{"-config", cfg, "-listen", d.addr[id].String(),
			"-store", d.store, "-node-id", id,
			"-heartbeat", clusterHeartbeat.String(), "-dead-after", clusterDeadAfter.String(),
			"-metrics", "127.0.0.1:0", "-source-ports", strconv.Itoa(demoSourcePorts),
			"-dns", d.views[clusterNodes[0]].Addr(), "-hosts", "-", "-log", filepath.Join(dir, node.DefaultLogPath(id))}
		p, err := supervise.Start(ctx, supervise.Config{Path: progs.lumiNode, Args: args, Stdout: nodeOut})
		if err != nil {
			d.close()
			return nil, step("start node "+id, err)
		}
		d.nodes[id], d.metrics[id] = p, "http://"+p.Ready()[sdnotify.MetricsKey]+"/metrics"
		fmt.Fprintf(w, "node %s serves %s on %s: lumi-node %s\n", id, clusterDomain, d.addr[id], strings.Join(args[:12], " "))
	}
	// A node learns of the others from the store at its heartbeats: the
	// domain is formed once each sees the two others alive.
	for _, id := range clusterNodes {
		if err := waitSiblings(ctx, d.metrics[id], len(clusterNodes)-1); err != nil {
			d.close()
			return nil, step("wait for node "+id+" to see the others", err)
		}
	}
	fmt.Fprintf(w, "every node sees the two others alive (%s 2 in its /metrics)\n", siblingsAlive)
	return d, nil
}

// siblingsAlive is the series of a node's /metrics that counts the other
// nodes of its domain it sees alive.
const siblingsAlive = `lumi_node_cluster_nodes{state="alive"}`

// waitSiblings polls a node's /metrics until it sees n other nodes alive.
func waitSiblings(ctx context.Context, metricsURL string, n int) error {
	want := fmt.Sprintf("\n%s %d\n", siblingsAlive, n)
	client := &http.Client{Timeout: time.Second}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	last := "nothing"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err != nil {
			last = err.Error()
		} else {
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && strings.Contains(string(b), want) {
				return nil
			}
			last = fmt.Sprintf("%s without %q", resp.Status, strings.TrimSpace(want))
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("%w; last: %s", ctx.Err(), last)
		}
	}
}

// records are the zone's records, with the nodes' SRV records in order.
func (d *clusterDomainRun) records(order []string) []string {
	dom := clusterDomain
	rrs := []string{fmt.Sprintf("%s. 60 IN SOA ns.%s. admin.%s. 1 60 60 60 5", dom, dom, dom)}
	for _, id := range order {
		rrs = append(rrs, fmt.Sprintf("_lumi._udp.%s. 60 IN SRV 0 0 %d %s.%s.", dom, d.addr[id].Port(), id, dom))
	}
	for _, id := range order {
		rrs = append(rrs, fmt.Sprintf("%s.%s. 60 IN A 127.0.0.1", id, dom))
	}
	return rrs
}

// runCluster runs the -cluster demo and prints it.
func runCluster(ctx context.Context, out, nodeOut io.Writer, logger *slog.Logger, progs clusterPrograms) error {
	w := &lockedWriter{w: out}
	dir, err := os.MkdirTemp("", "mi-demo-cluster-")
	if err != nil {
		return step("make a temporary directory", err)
	}
	defer os.RemoveAll(dir)
	d, err := startClusterDomain(ctx, w, dir, progs, nodeOut)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			d.close()
		}
	}()

	agents := map[string]*demoAgent{}
	for _, p := range clusterPeople {
		addr := p.user + "@" + clusterDomain
		res, err := lumi.NewResolver(lumi.Config{DNSServer: d.views[p.node].Addr(), HostsFile: "-", Timeout: time.Second})
		if err != nil {
			return step("make a resolver", err)
		}
		a, err := newDemoAgent(ctx, w, addr, res, dir, logger, func(c *agent.Config) {
			c.Refresh, c.RetryInterval = clusterRefresh, clusterRetry
		})
		if err != nil {
			return step("start "+addr, err)
		}
		defer a.close()
		if err := a.Register(ctx); err != nil {
			return step("register "+addr, err)
		}
		if _, err := a.wait(ctx, agent.EventRegistered); err != nil {
			return step("register "+addr, err)
		}
		if got := d.nodeOf(a.Node()); got != p.node {
			return step("register "+addr, fmt.Errorf("registered with %s, want %s", got, p.node))
		}
		agents[p.user] = a
	}
	laura, pau, marc := agents["laura"], agents["pau"], agents["marc"]
	where := func(a *demoAgent) string { return d.nodeOf(a.Node()) }
	title := func(caller, callee *demoAgent) string {
		return fmt.Sprintf("%s (at %s) calls %s (at %s): %s relays the locate to %s, which alone speaks to %s's agent",
			caller.Nick(), where(caller), callee.Addr(), where(callee), where(caller), where(callee), callee.Nick())
	}
	if err := converseAs(ctx, title(laura, pau), true, laura, pau, []string{"Hola Pau! Sóc a n1."}, []string{"I jo a n2. Tot bé?"}, nil); err != nil {
		return err
	}
	if err := converseAs(ctx, title(marc, laura), true, marc, laura, []string{"Des de n3, Laura."}, []string{"Rebut a n1!"}, nil); err != nil {
		return err
	}

	// Its log is written every 100 ms: n1 is killed once it holds the
	// last datagram n1 sent, so that the log printed at the end shows
	// what n1 did.
	if err := waitLog(ctx, filepath.Join(dir, node.DefaultLogPath("n1")), ", RL0marc@"+clusterDomain+":laura@"+clusterDomain+":"); err != nil {
		return step("wait for n1's log", err)
	}
	fmt.Fprintf(w, "\n== node n1 killed (SIGKILL): laura's node. The others answer RL3 for its users once its heartbeat is %v old; laura's agent refreshes every %v\n",
		clusterDeadAfter, clusterRefresh)
	d.nodes["n1"].Kill()
	killed := time.Now()
	if err := waitMoved(ctx, laura, d.addr["n1"]); err != nil {
		return step("laura's agent moves to another node", err)
	}
	fmt.Fprintf(w, "[laura] her refresh found n1 silent: her agent registers with the next SRV target, %s (%v after the kill)\n",
		where(laura), time.Since(killed).Round(time.Millisecond))
	var found time.Time
	if err := converseAs(ctx, fmt.Sprintf("pau (at %s) calls laura@%s (now at %s)", where(pau), clusterDomain, where(laura)), true,
		pau, laura, []string{"Laura, n1 ha caigut. Em sents?"}, []string{"Et sento! Ara sóc a " + where(laura) + "."}, &found); err != nil {
		return err
	}
	fmt.Fprintf(w, "   (laura was found again, and the call connected, %v after n1 was killed)\n", found.Sub(killed).Round(time.Millisecond))
	if err := converseAs(ctx, title(laura, marc), true, laura, marc, []string{"Marc, tot continua funcionant."}, []string{"Perfecte. Adéu!"}, nil); err != nil {
		return err
	}

	for _, p := range clusterPeople {
		a := agents[p.user]
		if err := a.Deregister(ctx); err != nil {
			return step("deregister "+a.Addr().String(), err)
		}
		if _, err := a.wait(ctx, agent.EventDeregistered); err != nil {
			return step("deregister "+a.Addr().String(), err)
		}
		a.close()
	}
	d.close()
	closed = true
	for _, id := range clusterNodes {
		b, err := os.ReadFile(filepath.Join(dir, node.DefaultLogPath(id)))
		if err != nil {
			return step("read the node logs", err)
		}
		note := ""
		if id == "n1" {
			note = " (killed: the end of its log may be missing)"
		}
		fmt.Fprintf(w, "\n%s, node %s at %s%s:\n%s", node.DefaultLogPath(id), id, d.addr[id], note, b)
	}
	fmt.Fprintln(w, "\ndemo OK")
	return nil
}

// waitMoved waits until a's agent uses another node than old: its refresh
// found old silent and went on to the domain's next node.
func waitMoved(ctx context.Context, a *demoAgent, old netip.AddrPort) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for a.Node() == old {
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("still at %s: %w", old, ctx.Err())
		}
	}
	return nil
}

// waitLog waits until the datagram log at path holds want.
func waitLog(ctx context.Context, path, want string) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), want) {
			return nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("no %q in %s: %w", want, path, ctx.Err())
		}
	}
}

// callAgain says whether a call that failed with err is worth trying
// again while a node's death is settled: the callee is offline (its node
// is dead and its agent has not registered elsewhere yet) or nobody
// answered.
func callAgain(err error) bool {
	return errors.Is(err, plumi.ErrOffline) || errors.Is(err, plumi.ErrNodeTimeout)
}
