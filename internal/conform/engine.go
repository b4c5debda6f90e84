package conform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"mi/wire"
)

// Config says what is under test and which scenarios to play.
type Config struct {
	Target string // "node" or "agent"

	// A node under test.
	NodeAddr     string   // its UDP host:port
	Domain       string   // its domain
	Users        []string // users of Domain in its config, at least 3: $user1, $user2, $user3
	RemoteDomain string   // optional: a domain the tool plays the node of; the node under test must reach it at RemoteListen
	RemoteListen string   // the UDP host:port the tool plays RemoteDomain's node on; scenarios that need it are skipped without it

	// An agent under test.
	NodeListen string // the UDP host:port the tool plays the agent's node on
	Addr       string // the agent's address, user@domain
	// Exec, if set, is the shell command (sh -c) that starts the agent,
	// with {node} and {addr} replaced by NodeListen (as ip:port) and Addr;
	// its stdin is a pipe, its output is kept. Without it scenarios with
	// Exec set are skipped and the others run, in order, against the one
	// agent the operator starts.
	Exec string
	// RegisterTimeout is how long the agent of the scenarios without Exec
	// has to register (PR), which the tool answers RR0 before the first of
	// them; default 10s with Exec, 30s without.
	RegisterTimeout time.Duration

	Classes []string // the classes to play; empty: all
	// Features are the optional features to play the scenarios of (see
	// Features); a scenario that needs one not chosen is skipped.
	Features []string
	// LocateWait is how long the node under test waits for the RL to a
	// PL it forwarded (lumi-node -locate-wait), the duration
	// "locate_wait" of the scenarios that time the node's locates
	// (offline detection); default DefaultLocateWait.
	LocateWait time.Duration
	Run        *regexp.Regexp // only the scenarios whose ID matches; nil: all

	Timeout         time.Duration // the window of a step that gives no Max; default 2s
	ScenarioTimeout time.Duration // the deadline of one scenario; default the sum of its steps' windows plus 5s
	ProbeTimeout    time.Duration // how long a node has to answer the probe; default 2s

	Log io.Writer // notes for people while the run goes (what the tool waits for); nil: none
}

// Defaults.
const (
	DefaultTimeout      = 2 * time.Second
	DefaultProbeTimeout = 2 * time.Second
	DefaultLocateWait   = 6 * time.Second        // lumi-node's -locate-wait default
	execRegister        = 10 * time.Second       // RegisterTimeout with Exec
	operatorRegister    = 30 * time.Second       // RegisterTimeout without: a person starts the agent
	closeLinger         = time.Second            // after the tool's FIN, the peer has this long to close its side
	stopGrace           = 2 * time.Second        // an agent has this long to exit after its stdin closes
	cleanupWait         = 1 * time.Second        // for the RD of a cleanup PD
	scenarioSlack       = 5 * time.Second        // added to the sum of a scenario's windows
	byteGap             = 2 * time.Millisecond   // between the writes of a Bytewise write
	probeRetry          = 500 * time.Millisecond // the probe is sent again this often
)

// Names the tool gives the users it makes up.
const (
	unknownUser = "conform-nobody"  // a user the node under test must not know
	remoteUser  = "conform-peer"    // a user of the remote domain
	otherDomain = "conform.invalid" // $remote_domain without a remote domain: a domain that is not the node's
	callerUser  = "conform"         // agents: who calls the agent under test
	callerUser2 = "conform2"
	callerHome  = "conform.test"
)

// ErrSetup is the error of a run that could not be played: bad
// configuration, a scenario that does not check, an implementation that
// never answered. Every error Run returns matches it.
var ErrSetup = errors.New("setup error")

func setupf(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrSetup, fmt.Sprintf(format, a...))
}

// Select returns the scenarios of target in the classes given (all if
// none) whose ID matches run (all if nil), in table order.
func Select(scenarios []Scenario, target string, classes []string, run *regexp.Regexp) ([]Scenario, error) {
	for _, c := range classes {
		if !slices.Contains(Classes, c) {
			return nil, setupf("unknown class %q (the classes are %s)", c, strings.Join(Classes, ", "))
		}
	}
	var out []Scenario
	for _, sc := range scenarios {
		if sc.Target != target || len(classes) > 0 && !slices.Contains(classes, sc.Class) || run != nil && !run.MatchString(sc.ID) {
			continue
		}
		out = append(out, sc)
	}
	return out, nil
}

// Run plays the scenarios that cfg selects, in table order, reporting each
// to rep (if not nil) as it ends, and returns their results. Its error,
// always a setup error (ErrSetup), means the run is void: bad
// configuration, a scenario that does not check (a role not played, a
// variable neither bound by the tool nor captured earlier, a pattern that
// does not compile), an implementation that never answered.
//
// A node is probed first: a PR for a user it does not know must get some
// reply within ProbeTimeout. Each role played as agent is a UDP socket of
// its own, bound to the local ip that reaches the node; the role played
// as node is the socket on RemoteListen, kept for the run. After each node
// scenario the tool deregisters (PD, from the same socket, waiting for the
// RD) every address a role registered (RR0 to its PR) and did not
// deregister, so that a run can be repeated.
//
// An agent scenario's role node is the socket on NodeListen. A send goes
// to where the agent last sent from. The scenarios without Exec share one
// agent: before the first of them the tool starts it (Exec) or waits for
// the operator's, wants its PR within RegisterTimeout and answers RR0. A
// scenario with Exec starts its own (start) and the tool stops it at the
// end: stdin closed, its PD answered RD0, killed after 2s. A run in which
// no datagram reached NodeListen is void.
//
// A step that receives takes the next datagram (or message) of its role
// not taken yet, even one that arrived before the step began, which then
// counts as arriving at the step's start; it must arrive within the
// window [Min, Max] (Max 0: Timeout) and match the whole pattern. Every
// scenario has a deadline, the sum of its steps' windows plus 5s (or
// ScenarioTimeout). Between scenarios what was not taken is dropped, and
// connections the tool opened are closed: FIN first, the peer given a
// second to close its side, as the close step does.
func Run(ctx context.Context, cfg Config, scenarios []Scenario, rep Reporter) ([]Result, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.ProbeTimeout <= 0 {
		cfg.ProbeTimeout = DefaultProbeTimeout
	}
	if cfg.RegisterTimeout <= 0 {
		cfg.RegisterTimeout = operatorRegister
		if cfg.Exec != "" {
			cfg.RegisterTimeout = execRegister
		}
	}
	scenarios = Positions(scenarios)
	if cfg.LocateWait <= 0 {
		cfg.LocateWait = DefaultLocateWait
	}
	for _, f := range cfg.Features {
		if !slices.Contains(Features, f) && !slices.ContainsFunc(scenarios, func(sc Scenario) bool { return slices.Contains(sc.Features, f) }) {
			return nil, setupf("unknown feature %q (the features are %s)", f, strings.Join(Features, ", "))
		}
	}
	r := &runner{cfg: cfg, rep: rep, durations: map[string]time.Duration{"locate_wait": cfg.LocateWait}}
	if err := r.configure(); err != nil {
		return nil, err
	}
	selected, err := Select(scenarios, cfg.Target, cfg.Classes, cfg.Run)
	if err != nil {
		return nil, err
	}
	if len(selected) == 0 {
		return nil, setupf("no %s scenario is selected", cfg.Target)
	}
	skips := make([]string, len(selected))
	for i := range selected {
		if skips[i] = r.skip(&selected[i]); skips[i] == "" {
			r.timeSteps(&selected[i])
			if err := r.check(&selected[i]); err != nil {
				return nil, err
			}
		}
	}
	if err := r.open(ctx); err != nil {
		r.close()
		return nil, err
	}
	defer r.close()
	if rep != nil {
		rep.Begin(len(selected))
	}
	results := make([]Result, 0, len(selected))
	played := false
	for i := range selected {
		sc := &selected[i]
		var res Result
		if skips[i] != "" {
			res = Result{Status: Skip, Reason: skips[i]}
		} else {
			if ctx.Err() != nil {
				err := setupf("interrupted: %v", ctx.Err())
				if rep != nil {
					rep.Bail(err)
				}
				return results, err
			}
			var err error
			if res, err = r.play(ctx, sc); err != nil {
				if rep != nil {
					rep.Bail(err)
				}
				return results, err
			}
			played = true
		}
		res.ID, res.Title, res.Target, res.Class, res.Line = sc.ID, sc.Title, sc.Target, sc.Class, sc.Line
		results = append(results, res)
		if rep != nil {
			rep.Result(i+1, &results[len(results)-1])
		}
	}
	if cfg.Target == "agent" {
		r.stopAgent(nil, r.shared)
		r.shared = nil
		if played && !r.node.heardAny() {
			err := setupf("the agent never sent a datagram to %s", r.nodeListen)
			if rep != nil {
				rep.Bail(err)
			}
			return results, err
		}
	}
	return results, nil
}

// runner is one run.
type runner struct {
	cfg       Config
	rep       Reporter
	vars      map[string]string        // bound by the tool
	durations map[string]time.Duration // bound by the tool: what a step's Of names

	// node target
	nodeAP  netip.AddrPort // the node under test
	localIP netip.Addr     // where agent roles bind: the local ip that reaches the node
	remote  *udpSock       // RemoteListen, when set

	// agent target
	node       *udpSock       // NodeListen
	nodeListen string         // NodeListen as {node} says it
	addr       wire.Address   // the agent's
	shared     *agentProc     // the agent of the scenarios without Exec, if the tool started it
	sharedFrom netip.AddrPort // where that agent sends from
	sharedUp   bool           // it has registered
	agent      *agentProc     // the agent the scenario with Exec being played started
}

// configure checks cfg and binds the tool's variables.
func (r *runner) configure() error {
	c := &r.cfg
	switch c.Target {
	case "node":
		if c.NodeAddr == "" || c.Domain == "" {
			return setupf("a node needs its address and domain")
		}
		ua, err := net.ResolveUDPAddr("udp", c.NodeAddr)
		if err != nil {
			return setupf("node address %q: %v", c.NodeAddr, err)
		}
		r.nodeAP = unmap(ua.AddrPort())
		if err := wire.CheckDomain(c.Domain); err != nil {
			return setupf("domain %q: %v", c.Domain, err)
		}
		if len(c.Users) < 3 {
			return setupf("need 3 users of %s in the node's config, got %d", c.Domain, len(c.Users))
		}
		r.vars = map[string]string{"domain": c.Domain}
		seen := map[string]bool{}
		for i, u := range c.Users {
			if err := wire.CheckUser(u); err != nil {
				return setupf("user %q: %v", u, err)
			}
			if seen[strings.ToLower(u)] {
				return setupf("user %q given twice", u)
			}
			seen[strings.ToLower(u)] = true
			r.vars["user"+strconv.Itoa(i+1)] = u
		}
		unknown := unknownUser
		for n := 2; seen[unknown]; n++ {
			unknown = unknownUser + strconv.Itoa(n)
		}
		r.vars["unknown"] = unknown
		if (c.RemoteDomain == "") != (c.RemoteListen == "") {
			return setupf("give both the remote domain and the address to play its node on, or neither")
		}
		if c.RemoteDomain != "" {
			if err := wire.CheckDomain(c.RemoteDomain); err != nil {
				return setupf("remote domain %q: %v", c.RemoteDomain, err)
			}
			if strings.EqualFold(c.RemoteDomain, c.Domain) {
				return setupf("the remote domain must not be the node's own")
			}
			r.vars["remote_domain"], r.vars["ruser"] = c.RemoteDomain, remoteUser
		} else {
			r.vars["remote_domain"], r.vars["ruser"] = otherDomain, remoteUser
		}
	case "agent":
		if c.NodeListen == "" {
			return setupf("an agent needs the address to play its node on")
		}
		a, err := wire.ParseAddress(c.Addr)
		if err != nil {
			return setupf("agent address %q: %v", c.Addr, err)
		}
		r.addr = a
		home := callerHome
		if strings.EqualFold(a.Domain, home) {
			home = "conform.example"
		}
		r.vars = map[string]string{
			"addr": a.String(), "user": a.User, "domain": a.Domain,
			"caller": callerUser + "@" + home, "caller2": callerUser2 + "@" + home,
		}
	default:
		return setupf("target must be node or agent, not %q", c.Target)
	}
	return nil
}

// open opens the sockets of the run and, for a node, probes it.
func (r *runner) open(ctx context.Context) error {
	if r.cfg.Target == "agent" {
		s, err := listenUDP(r.cfg.NodeListen)
		if err != nil {
			return setupf("listen on %s: %v", r.cfg.NodeListen, err)
		}
		r.node = s
		ap := s.addr()
		if ap.Addr().IsUnspecified() {
			ap = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), ap.Port())
		}
		r.nodeListen = ap.String()
		return nil
	}
	probe, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(r.nodeAP))
	if err != nil {
		return setupf("no route to the node at %s: %v", r.nodeAP, err)
	}
	r.localIP = unmap(probe.LocalAddr().(*net.UDPAddr).AddrPort()).Addr()
	probe.Close()
	if r.cfg.RemoteListen != "" {
		if r.remote, err = listenUDP(r.cfg.RemoteListen); err != nil {
			return setupf("listen on %s for %s: %v", r.cfg.RemoteListen, r.cfg.RemoteDomain, err)
		}
	}
	return r.probe(ctx)
}

// probe checks that the node answers anything to a registration of a user
// it does not know.
func (r *runner) probe(ctx context.Context) error {
	s, err := listenUDP(netip.AddrPortFrom(r.localIP, 0).String())
	if err != nil {
		return setupf("open a socket: %v", err)
	}
	defer s.close()
	b, err := (&wire.Register{Addr: wire.Address{User: r.vars["unknown"], Domain: r.cfg.Domain}}).Append(nil)
	if err != nil {
		return setupf("probe: %v", err)
	}
	deadline := time.Now().Add(r.cfg.ProbeTimeout)
	for sent := 0; time.Now().Before(deadline); sent++ {
		if _, err := s.conn.WriteToUDPAddrPort(b, r.nodeAP); err != nil {
			return setupf("probe the node at %s: %v", r.nodeAP, err)
		}
		wait := time.Now().Add(probeRetry)
		if wait.After(deadline) {
			wait = deadline
		}
		if _, ok := s.next(ctx, wait); ok {
			return nil
		}
		if ctx.Err() != nil {
			return setupf("interrupted: %v", ctx.Err())
		}
	}
	return setupf("the node at %s never answered: no reply to %s within %v", r.nodeAP, strconv.Quote(string(b)), r.cfg.ProbeTimeout)
}

func (r *runner) close() {
	for _, a := range []*agentProc{r.agent, r.shared} {
		if a != nil {
			a.kill()
		}
	}
	r.agent, r.shared = nil, nil
	for _, s := range []*udpSock{r.remote, r.node} {
		if s != nil {
			s.close()
		}
	}
}

// skip says why sc cannot be played with this configuration, or "".
func (r *runner) skip(sc *Scenario) string {
	for _, f := range sc.Features {
		if !slices.Contains(r.cfg.Features, f) {
			return fmt.Sprintf("needs feature %s, which is optional (-features %s)", f, f)
		}
	}
	if sc.Target == "agent" {
		if sc.Exec && r.cfg.Exec == "" {
			return "needs the tool to start the agent (-exec)"
		}
		return ""
	}
	if r.cfg.RemoteDomain != "" {
		return ""
	}
	for _, st := range sc.Steps {
		if st.Op == OpPlay && st.Text == "node" {
			return "plays the node of another domain: needs -remote-domain and -remote-listen"
		}
	}
	return ""
}

// timeSteps sets the time of the steps that last a percentage of a
// duration the tool binds (Step.Of), on a copy of sc's steps.
func (r *runner) timeSteps(sc *Scenario) {
	if !slices.ContainsFunc(sc.Steps, func(st Step) bool { return st.Of != "" }) {
		return
	}
	sc.Steps = slices.Clone(sc.Steps)
	for i := range sc.Steps {
		st := &sc.Steps[i]
		if d, ok := r.durations[st.Of]; ok && st.Of != "" {
			st.Max = d * time.Duration(st.Percent) / 100
		}
	}
}

// check finds what would make sc unplayable, before the run: unknown
// roles and connections, variables that are not bound, patterns that do
// not compile, steps of the other target, windows upside down.
func (r *runner) check(sc *Scenario) error {
	bound := map[string]bool{}
	for name := range r.vars {
		bound[name] = true
	}
	dummy := func(name string) (string, bool) { return "x", bound[name] }
	roles := map[string]bool{}
	if sc.Target == "agent" {
		roles["node"] = true
	}
	conns := map[string]bool{}
	for i, st := range sc.Steps {
		errf := func(format string, a ...any) error {
			return setupf("scenario %s (%s:%d), step %d %s (line %d): %s", sc.ID, SpecFile, sc.Line, i+1, st.Op, st.Line, fmt.Sprintf(format, a...))
		}
		if _, ok := r.durations[st.Of]; st.Of != "" && (!ok || st.Op != OpWait && st.Op != OpSilent) {
			return errf("%d%% of %q: no such duration is bound, or the step is not a wait or silent", st.Percent, st.Of)
		}
		if st.Max > 0 && st.Min > st.Max {
			return errf("window [%v, %v] is upside down", st.Min, st.Max)
		}
		text := func() error {
			if _, err := expand(st.Text, dummy); err != nil {
				return errf("%v", err)
			}
			return nil
		}
		pat := func() error {
			p, err := compile(st.Text, dummy)
			if err != nil {
				return errf("%v", err)
			}
			for _, name := range p.captures() {
				if _, ok := r.vars[name]; ok {
					return errf("{%s} would rebind a variable the tool binds", name)
				}
				bound[name] = true
			}
			return nil
		}
		role := func() error {
			if !roles[st.Role] {
				return errf("role %q is not played", st.Role)
			}
			return nil
		}
		conn := func() error {
			if !conns[st.Role] {
				return errf("connection %q is not opened", st.Role)
			}
			return nil
		}
		agentOnly := func() error {
			if sc.Target != "agent" {
				return errf("only agent scenarios have this step")
			}
			return nil
		}
		var err error
		switch st.Op {
		case OpPlay:
			switch {
			case sc.Target != "node":
				err = errf("only node scenarios play roles; an agent scenario has the role node")
			case st.Text != "agent" && st.Text != "node":
				err = errf("a role is played as agent or node, not %q", st.Text)
			case roles[st.Role] || st.Role == "":
				err = errf("role %q played twice or unnamed", st.Role)
			default:
				roles[st.Role] = true
			}
		case OpSend:
			if err = role(); err == nil && !st.Raw {
				err = text()
			}
		case OpSilent:
			if !conns[st.Role] {
				err = role()
			}
		case OpExpect:
			if err = role(); err == nil {
				err = pat()
			}
		case OpWait:
		case OpStart, OpEOF, OpExits:
			err = agentOnly()
		case OpStdin:
			if err = agentOnly(); err == nil {
				err = text()
			}
		case OpConnect:
			if err = text(); err == nil {
				conns[st.Role] = true
			}
		case OpWrite:
			if err = conn(); err == nil && !st.Raw {
				err = text()
			}
		case OpRead:
			if err = conn(); err == nil {
				err = pat()
			}
		case OpClosed, OpClose:
			err = conn()
		default:
			err = errf("unknown op %d", st.Op)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// window is the time a step may take.
func (r *runner) window(st *Step) time.Duration {
	if st.Max > 0 {
		return st.Max
	}
	return r.cfg.Timeout
}

// budget is the deadline of a scenario from its start.
func (r *runner) budget(sc *Scenario) time.Duration {
	if r.cfg.ScenarioTimeout > 0 {
		return r.cfg.ScenarioTimeout
	}
	d := scenarioSlack
	for i := range sc.Steps {
		st := &sc.Steps[i]
		switch st.Op {
		case OpSilent, OpWait:
			d += st.Max
		case OpStart:
			d += stopGrace + r.cfg.Timeout
		case OpClose:
			d += closeLinger
		case OpExpect, OpRead, OpClosed, OpExits, OpConnect, OpWrite, OpStdin:
			d += r.window(st)
		}
	}
	return d
}

// stopAgent ends a run of the agent: its stdin closes, then it has
// stopGrace to exit (the tool's node answers its deregistration, RD0,
// meanwhile), then its process group is killed.
func (r *runner) stopAgent(tr *transcript, a *agentProc) {
	if a == nil {
		return
	}
	a.stdin.Close()
	timer := time.NewTimer(stopGrace)
	defer timer.Stop()
	var rd []byte
wait:
	for {
		select {
		case <-a.done:
			break wait
		case <-timer.C:
			a.kill()
			break wait
		case d := <-r.node.in:
			tr.add(d.at, "node", DirRecv, d.from.String(), string(d.b))
			var m wire.Deregister
			if m.Decode(d.b) != nil {
				continue
			}
			if rd == nil {
				rd, _ = (&wire.DeregisterReply{Code: wire.DeregisterOK}).Append(nil)
			}
			tr.add(time.Now(), "node", DirSend, d.from.String(), string(rd))
			r.node.conn.WriteToUDPAddrPort(rd, d.from)
		}
	}
	tr.add(time.Now(), "agent", DirEvent, "", fmt.Sprintf("stopped: exit status %d", a.code))
}

// startAgent starts a run of -exec.
func (r *runner) startAgent(tr *transcript) (*agentProc, error) {
	cmd := strings.NewReplacer("{node}", shellQuote(r.nodeListen), "{addr}", shellQuote(r.vars["addr"])).Replace(r.cfg.Exec)
	tr.add(time.Now(), "agent", DirEvent, "", "start: sh -c "+cmd)
	a, err := startProc(cmd)
	return a, err
}

// registerShared brings up the agent of the scenarios without Exec, as
// setup: started with -exec (or by the operator), it must register within
// RegisterTimeout, and the tool answers RR0.
func (r *runner) registerShared(ctx context.Context, tr *transcript) error {
	if r.cfg.Exec != "" {
		a, err := r.startAgent(tr)
		if err != nil {
			return setupf("start the agent: %v", err)
		}
		r.shared = a
	} else if r.cfg.Log != nil {
		fmt.Fprintf(r.cfg.Log, "conform: playing the node of %s on %s: start the agent; waiting up to %v for its registration\n",
			r.addr, r.nodeListen, r.cfg.RegisterTimeout)
	}
	deadline := time.Now().Add(r.cfg.RegisterTimeout)
	var got []string
	for {
		d, ok := r.node.next(ctx, deadline)
		if !ok {
			break
		}
		tr.add(d.at, "node", DirRecv, d.from.String(), string(d.b))
		var m wire.Register
		if m.Decode(d.b) != nil || m.Addr != r.addr {
			got = append(got, strconv.Quote(string(d.b)))
			continue
		}
		rr, _ := (&wire.RegisterReply{Code: wire.RegisterOK}).Append(nil)
		tr.add(time.Now(), "node", DirSend, d.from.String(), string(rr))
		r.node.conn.WriteToUDPAddrPort(rr, d.from)
		r.sharedFrom, r.sharedUp = d.from, true
		return nil
	}
	msg := fmt.Sprintf("the agent never registered %s at %s within %v", r.addr, r.nodeListen, r.cfg.RegisterTimeout)
	if len(got) > 0 {
		msg += "; it sent " + strings.Join(got, ", ")
	}
	if r.shared != nil {
		if out := r.shared.out.last(); len(out) > 0 {
			q := make([]string, len(out))
			for i, l := range out {
				q[i] = strconv.Quote(l)
			}
			msg += "; its last output: " + strings.Join(q, " ")
		}
	}
	return setupf("%s", msg)
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
