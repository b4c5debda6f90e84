package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"mi/agent"
	"mi/lumi"
	"mi/lumi/dnszone"
	"mi/node"
	"mi/wire"

	"github.com/miekg/dns"
)

// domain is one demo domain: its node's config and the users who chat.
type domain struct {
	name  string
	users []string
}

var demoDomains = []domain{
	{"bb.com", []string{"laura", "marc"}},
	{"cc.org", []string{"pau", "joan"}},
}

// system is DNS and one running node per demo domain.
type system struct {
	dir   string
	zone  *dnszone.Server
	nodes []*node.Node
	logs  []string // each node's datagram log
	stop  context.CancelFunc
	done  sync.WaitGroup
	errs  chan error
}

// stepError names the step of the demo that failed.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return fmt.Sprintf("step %q: %v", e.step, e.err) }
func (e *stepError) Unwrap() error { return e.err }

func step(name string, err error) error {
	if err == nil {
		return nil
	}
	return &stepError{name, err}
}

// startSystem starts DNS and the nodes on loopback, and returns once every
// node serves (Node.Ready), or with the error of one that failed or the
// end of ctx. Each node gets a free port, published in its domain's SRV
// record _lumi._udp, so the system needs no fixed port and no address
// other than 127.0.0.1.
func startSystem(ctx context.Context, dir string, logger *slog.Logger) (*system, error) {
	var lastErr error
	for try := 0; try < 5; try++ { // a reserved port may be taken before the node binds it
		s, err := tryStartSystem(ctx, dir, logger)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	return nil, lastErr
}

func tryStartSystem(ctx context.Context, dir string, logger *slog.Logger) (*system, error) {
	ports := make([]int, len(demoDomains))
	var held []net.PacketConn
	for i := range ports {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return nil, step("reserve node ports", err)
		}
		held = append(held, pc)
		ports[i] = pc.LocalAddr().(*net.UDPAddr).Port
	}
	for _, pc := range held {
		pc.Close()
	}
	var rrs []string
	for i, d := range demoDomains {
		rrs = append(rrs,
			fmt.Sprintf("%s. 60 IN SOA ns.%s. admin.%s. 1 60 60 60 5", d.name, d.name, d.name),
			fmt.Sprintf("_lumi._udp.%s. 60 IN SRV 0 0 %d node.%s.", d.name, ports[i], d.name),
			fmt.Sprintf("node.%s. 60 IN A 127.0.0.1", d.name))
	}
	zone, err := startZone(rrs)
	if err != nil {
		return nil, step("start DNS", err)
	}
	s := &system{dir: dir, zone: zone, errs: make(chan error, len(demoDomains))}
	runCtx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	for i, d := range demoDomains {
		cfgPath := filepath.Join(dir, "nodelumi-"+d.name+".cfg")
		if err := (node.Config{Domain: d.name, Users: d.users}).WriteFile(cfgPath); err != nil {
			s.close()
			return nil, step("write the config of "+d.name, err)
		}
		logPath := filepath.Join(dir, node.DefaultLogPath(d.name))
		n, err := node.New(node.Options{
			ConfigPath: cfgPath,
			Listen:     fmt.Sprintf("127.0.0.1:%d", ports[i]),
			DNSServer:  zone.Addr(),
			HostsFile:  "-",
			LogPath:    logPath,
			Logger:     logger.With("node", d.name),
			// The nodes' ports were reserved before any node started;
			// 256 ephemeral source ports per node could take the next
			// node's meanwhile. Eight still show the mechanism.
			SourcePorts: demoSourcePorts,
		})
		if err != nil {
			s.close()
			return nil, step("start the node of "+d.name, err)
		}
		s.nodes = append(s.nodes, n)
		s.logs = append(s.logs, logPath)
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			if err := n.Run(runCtx); err != nil {
				s.errs <- err
			}
		}()
	}
	for i, n := range s.nodes {
		select {
		case <-n.Ready():
		case err := <-s.errs:
			s.close()
			return nil, step("run the nodes", err)
		case <-ctx.Done():
			s.close()
			return nil, step("wait for the node of "+demoDomains[i].name+" to serve", ctx.Err())
		}
	}
	return s, nil
}

func startZone(rrs []string) (*dnszone.Server, error) {
	var records []dns.RR
	for _, r := range rrs {
		records = append(records, dnszone.MustRR(r))
	}
	return dnszone.Start("127.0.0.1:0", records...)
}

// close stops the nodes (which ends their logs) and DNS.
func (s *system) close() {
	if s.stop != nil {
		s.stop()
	}
	s.done.Wait()
	s.zone.Close()
}

// resolver is what agents use to find their nodes: the demo's DNS only.
func (s *system) resolver() (*lumi.Resolver, error) {
	return lumi.NewResolver(lumi.Config{DNSServer: s.zone.Addr(), HostsFile: "-", Timeout: time.Second})
}

// runDemo runs the scripted conversation and prints it.
func runDemo(ctx context.Context, out io.Writer, logger *slog.Logger) error {
	w := &lockedWriter{w: out} // both agents print as their events come
	dir, err := os.MkdirTemp("", "mi-demo-")
	if err != nil {
		return step("make a temporary directory", err)
	}
	defer os.RemoveAll(dir)
	s, err := startSystem(ctx, dir, logger)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			s.close()
		}
	}()
	fmt.Fprintf(w, "DNS on %s: ", s.zone.Addr())
	for i, n := range s.nodes {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%s -> node %s", demoDomains[i].name, n.Addr())
	}
	fmt.Fprintln(w)

	res, err := s.resolver()
	if err != nil {
		return step("make a resolver", err)
	}
	laura, err := newDemoAgent(ctx, w, "laura@bb.com", res, dir, logger)
	if err != nil {
		return step("start laura@bb.com", err)
	}
	defer laura.close()
	pau, err := newDemoAgent(ctx, w, "pau@cc.org", res, dir, logger)
	if err != nil {
		return step("start pau@cc.org", err)
	}
	defer pau.close()

	for _, a := range []*demoAgent{laura, pau} {
		if err := a.Register(ctx); err != nil {
			return step("register "+a.Addr().String(), err)
		}
		if _, err := a.wait(ctx, agent.EventRegistered); err != nil {
			return step("register "+a.Addr().String(), err)
		}
	}
	if err := converse(ctx, laura, pau, []string{"Hola Pau! Com va per cc.org?", "Bé! Parlem demà. Adéu!"},
		[]string{"Hola Laura! Tot bé, i per bb.com?"}); err != nil {
		return err
	}
	if err := converse(ctx, pau, laura, []string{"Laura, una cosa més: 🎉 funciona!"},
		[]string{"Visca! Adéu, Pau."}); err != nil {
		return err
	}
	for _, a := range []*demoAgent{laura, pau} {
		if err := a.Deregister(ctx); err != nil {
			return step("deregister "+a.Addr().String(), err)
		}
		if _, err := a.wait(ctx, agent.EventDeregistered); err != nil {
			return step("deregister "+a.Addr().String(), err)
		}
	}
	laura.close()
	pau.close()
	s.close()
	closed = true
	select {
	case err := <-s.errs:
		return step("run the nodes", err)
	default:
	}
	for _, path := range s.logs {
		b, err := os.ReadFile(path)
		if err != nil {
			return step("read the node logs", err)
		}
		fmt.Fprintf(w, "\n%s:\n%s", filepath.Base(path), b)
	}
	fmt.Fprintln(w, "\ndemo OK")
	return nil
}

// converse: caller calls callee, they exchange lines (the caller's first,
// alternating while both have some), and the caller hangs up.
func converse(ctx context.Context, caller, callee *demoAgent, callerLines, calleeLines []string) error {
	return converseAs(ctx, caller.Addr().User+" calls "+callee.Addr().String(), false, caller, callee, callerLines, calleeLines, nil)
}

// converseAs is converse under the heading title. With again, a call
// that fails for a reason callAgain accepts is made again every
// clusterCallRetry until it connects or ctx ends. connected, if not nil,
// is set to when the caller connected.
func converseAs(ctx context.Context, title string, again bool, caller, callee *demoAgent, callerLines, calleeLines []string, connected *time.Time) error {
	name := caller.Addr().User + " calls " + callee.Addr().String()
	fmt.Fprintf(caller.w, "\n== %s\n", title)
	for {
		err := caller.Call(ctx, callee.Addr().String())
		if err == nil {
			break
		}
		if !again || !callAgain(err) {
			return step(name, err)
		}
		if _, err := caller.wait(ctx, agent.EventError); err != nil { // the error, printed
			return step(name, err)
		}
		fmt.Fprintf(caller.w, "[%-5s] calling again in %v\n", caller.Nick(), clusterCallRetry)
		select {
		case <-time.After(clusterCallRetry):
		case <-ctx.Done():
			return step(name, ctx.Err())
		}
	}
	if _, err := callee.wait(ctx, agent.EventConnected); err != nil {
		return step(name, err)
	}
	if _, err := caller.wait(ctx, agent.EventConnected); err != nil {
		return step(name, err)
	}
	if connected != nil {
		*connected = time.Now()
	}
	say := func(from, to *demoAgent, text string) error {
		name := from.Nick() + " says " + fmt.Sprintf("%q", text)
		if err := from.Send(text); err != nil {
			return step(name, err)
		}
		e, err := to.wait(ctx, agent.EventLine)
		if err != nil {
			return step(name, err)
		}
		if e.Text != text || e.From != from.Nick() {
			return step(name, fmt.Errorf("%s got %q from %s", to.Nick(), e.Text, e.From))
		}
		return nil
	}
	for i := 0; i < max(len(callerLines), len(calleeLines)); i++ {
		if i < len(callerLines) {
			if err := say(caller, callee, callerLines[i]); err != nil {
				return err
			}
		}
		if i < len(calleeLines) {
			if err := say(callee, caller, calleeLines[i]); err != nil {
				return err
			}
		}
	}
	name = caller.Nick() + " hangs up"
	if err := caller.Hangup(); err != nil {
		return step(name, err)
	}
	if _, err := caller.wait(ctx, agent.EventHangup); err != nil {
		return step(name, err)
	}
	if e, err := callee.wait(ctx, agent.EventHangup); err != nil || e.By != agent.ByPeer {
		return step(name, fmt.Errorf("%s: hangup %+v, %v", callee.Nick(), e, err))
	}
	return nil
}

// demoAgent is an agent whose events are printed as they come and can be
// waited for.
type demoAgent struct {
	*agent.Agent
	w      io.Writer
	events chan agent.Event
	once   sync.Once
}

// newDemoAgent starts the agent of addr; change, if given, changes its
// configuration first.
func newDemoAgent(ctx context.Context, w io.Writer, addr string, res *lumi.Resolver, dir string, logger *slog.Logger, change ...func(*agent.Config)) (*demoAgent, error) {
	a0, err := wire.ParseAddress(addr)
	if err != nil {
		return nil, err
	}
	cfg := agent.Config{
		Addr: a0, Resolver: res, Listen: "127.0.0.1:0",
		LogPath: filepath.Join(dir, "p2p-"+a0.User+".log"), Logger: logger.With("agent", addr),
	}
	for _, f := range change {
		f(&cfg)
	}
	a, err := agent.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	d := &demoAgent{Agent: a, w: w, events: make(chan agent.Event, 64)}
	go func() {
		defer close(d.events)
		for e := range a.Events() {
			printEvent(w, a.Nick(), e)
			d.events <- e
		}
	}()
	return d, nil
}

// wait returns the next event of kind k; an error event or the end of ctx
// comes back as an error.
func (d *demoAgent) wait(ctx context.Context, k agent.Kind) (agent.Event, error) {
	for {
		select {
		case e, ok := <-d.events:
			if !ok {
				return e, fmt.Errorf("%s stopped", d.Nick())
			}
			if e.Kind == k {
				return e, nil
			}
			if e.Kind == agent.EventError {
				return e, fmt.Errorf("%s: %s: %s", d.Nick(), e.Reason, e.Message)
			}
		case <-ctx.Done():
			return agent.Event{}, fmt.Errorf("%s: waiting for %s: %w", d.Nick(), k, ctx.Err())
		}
	}
}

func (d *demoAgent) close() {
	d.once.Do(func() {
		d.Agent.Close()
		for range d.events {
		}
	})
}

// printEvent writes one event of the conversation for people.
func printEvent(w io.Writer, who string, e agent.Event) {
	var s string
	switch e.Kind {
	case agent.EventRegistered:
		s = fmt.Sprintf("registered %s with node %s", e.Addr, e.Node)
	case agent.EventLocating:
		s = "locating " + e.Target
	case agent.EventLocated:
		s = fmt.Sprintf("located %s at %s:%d", e.Target, e.IP, e.Port)
	case agent.EventConnected:
		s = fmt.Sprintf("connected with %s (%s), %s -> %s", e.PeerNick, orUnknown(e.PeerAddr), e.Local, e.Remote)
	case agent.EventLine:
		s = e.From + "> " + e.Text
	case agent.EventHangup:
		s = "hung up by " + e.By
	case agent.EventError:
		s = "error " + e.Reason + ": " + e.Message
	case agent.EventDeregistered:
		s = "deregistered " + e.Addr
	case agent.EventNotice:
		s = "notice " + e.Reason + ": " + e.Message
	}
	fmt.Fprintf(w, "[%-5s] %s\n", who, s)
}

func orUnknown(s string) string {
	if s == "" {
		return "address unknown"
	}
	return s
}

// runLive starts DNS and the nodes and prints how to chat by hand.
func runLive(ctx context.Context, w io.Writer, logger *slog.Logger) error {
	dir, err := os.MkdirTemp("", "mi-demo-live-")
	if err != nil {
		return step("make a temporary directory", err)
	}
	defer os.RemoveAll(dir) // after the nodes have stopped and closed their logs
	s, err := startSystem(ctx, dir, logger)
	if err != nil {
		if ctx.Err() != nil { // stopped while starting: as after
			return nil
		}
		return err
	}
	defer s.close()
	fmt.Fprintf(w, "DNS for %s and %s on %s; nodes:\n", demoDomains[0].name, demoDomains[1].name, s.zone.Addr())
	for i, n := range s.nodes {
		fmt.Fprintf(w, "  %-7s %s  users: %s\n", demoDomains[i].name, n.Addr(), strings.Join(demoDomains[i].users, " "))
	}
	fmt.Fprintf(w, "\nIn two other terminals, from this directory:\n\n")
	fmt.Fprintf(w, "  go run ./cmd/mi-agent -addr laura@bb.com -dns %s\n", s.zone.Addr())
	fmt.Fprintf(w, "  go run ./cmd/mi-agent -addr pau@cc.org -dns %s\n", s.zone.Addr())
	fmt.Fprintf(w, "\nthen type '/call pau@cc.org' in the first. /help lists the commands.\n")
	fmt.Fprintf(w, "Node logs in %s. Ctrl-C stops DNS and the nodes and removes it.\n", dir)
	select {
	case <-ctx.Done():
	case err := <-s.errs:
		return step("run the nodes", err)
	}
	fmt.Fprintf(w, "\nstopping; removing %s\n", dir)
	return nil
}

// lockedWriter serialises writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// demoSourcePorts is the size of each demo node's pool of source ports for
// PLs to other domains (lumi-node -source-ports).
const demoSourcePorts = 8
