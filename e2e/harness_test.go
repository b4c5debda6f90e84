// Package e2e runs the built binaries (lumi-node, mi-agent, lumictl) as
// processes on loopback, with an in-process DNS server, and drives them as
// a person or a script would: mi-agent through stdin and its -json stdout.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"mi/internal/supervise"
	"mi/internal/syncbuf"

	"mi/lumi/dnszone"

	"github.com/miekg/dns"
)

// bin holds the binaries, built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mi-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gobin, err := exec.LookPath("go")
	if err != nil && os.Getenv("GOROOT") != "" {
		gobin, err = filepath.Join(os.Getenv("GOROOT"), "bin", "go"), nil
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: no go command in PATH to build the binaries:", err)
		os.Exit(1)
	}
	cmd := exec.Command(gobin, "build", "-o", dir+"/", "mi/cmd/lumi-node", "mi/cmd/mi-agent", "mi/cmd/lumictl")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	bin = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// world is DNS plus the nodes of some domains, all on 127.0.0.1.
type world struct {
	t     *testing.T
	dir   string
	zone  *dnszone.Server
	ports map[string]int // domain -> node UDP port
	users map[string][]string
	nodes map[string]*nodeProc
	flags []string // more flags of every node
}

// newWorld reserves a port per domain, publishes it in the domain's SRV
// record and starts every node.
func newWorld(t *testing.T, domains map[string][]string, nodeFlags ...string) *world {
	t.Helper()
	w := &world{t: t, dir: t.TempDir(), ports: map[string]int{}, users: domains, nodes: map[string]*nodeProc{}, flags: nodeFlags}
	var rrs []dns.RR
	for d := range domains {
		w.ports[d] = freeUDPPort(t)
		rrs = append(rrs,
			dnszone.MustRR(fmt.Sprintf("%s. 60 IN SOA ns.%s. admin.%s. 1 60 60 60 5", d, d, d)),
			dnszone.MustRR(fmt.Sprintf("_lumi._udp.%s. 60 IN SRV 0 0 %d node.%s.", d, w.ports[d], d)),
			dnszone.MustRR(fmt.Sprintf("node.%s. 60 IN A 127.0.0.1", d)))
	}
	zone, err := dnszone.Start("127.0.0.1:0", rrs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zone.Close() })
	w.zone = zone
	for d := range domains {
		w.startNode(d)
	}
	return w
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// nodeAddr is the node of domain d.
func (w *world) nodeAddr(d string) string { return fmt.Sprintf("127.0.0.1:%d", w.ports[d]) }

// nodeLog is the path of domain d's datagram log.
func (w *world) nodeLog(d string) string { return filepath.Join(w.dir, "nodelumi-"+d+".log") }

// nodeProc is a running lumi-node with its console on a pipe.
type nodeProc struct {
	proc   *supervise.Process
	out    *syncbuf.Buffer // console answers
	errOut *syncbuf.Buffer // its log
}

// nodeReadyTimeout bounds the wait for a node's READY=1.
const nodeReadyTimeout = 5 * time.Second

// startNode starts (or restarts) the node of domain d.
func (w *world) startNode(d string) *nodeProc {
	t := w.t
	t.Helper()
	cfg := filepath.Join(w.dir, "nodelumi-"+d+".cfg")
	if _, err := os.Stat(cfg); err != nil {
		if err := os.WriteFile(cfg, []byte(d+"\n"+strings.Join(w.users[d], "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := w.runNode(d, w.nodeAddr(d), append([]string{"-config", cfg, "-log", w.nodeLog(d)}, w.flags...))
	w.nodes[d] = p
	return p
}

// testSourcePorts is the size of each node's source-port pool in these
// tests: the tests reserve ports for the nodes they start later, and a
// pool of 256 ephemeral ports per node makes it likelier that another
// node takes a reserved one meanwhile (node/ tests the pool itself).
const testSourcePorts = "8"

// runNode starts lumi-node, named name in failures, serving on listen with
// the world's DNS and the flags given, and waits for its READY=1 with that
// address.
func (w *world) runNode(name, listen string, flags []string) *nodeProc {
	t := w.t
	t.Helper()
	p := &nodeProc{out: &syncbuf.Buffer{}, errOut: &syncbuf.Buffer{}}
	proc, err := supervise.Start(context.Background(), supervise.Config{
		Path:   filepath.Join(bin, "lumi-node"),
		Args:   append([]string{"-listen", listen, "-dns", w.zone.Addr(), "-hosts", "-", "-source-ports", testSourcePorts}, flags...),
		Stdout: p.out, Stderr: p.errOut, Stdin: true, ReadyTimeout: nodeReadyTimeout,
	})
	if err != nil {
		t.Fatalf("node %s: %v", name, err)
	}
	p.proc = proc
	t.Cleanup(p.kill)
	if addr, err := proc.Ready().Addr(); err != nil || addr.String() != listen {
		t.Fatalf("node %s: ready at %v (%v), want %s", name, addr, err, listen)
	}
	return p
}

// stop ends the node with SIGTERM, so that it closes its log.
func (p *nodeProc) stop(t *testing.T) {
	t.Helper()
	if err := p.proc.Stop(); errors.Is(err, supervise.ErrKilled) {
		t.Fatalf("node did not stop on SIGTERM: %v", err)
	}
}

func (p *nodeProc) kill() { p.proc.Kill() }

// console sends a console command and returns what the node answered
// to it within a short while.
func (p *nodeProc) console(t *testing.T, cmd, want string) string {
	t.Helper()
	before := len(p.out.String())
	fmt.Fprintln(p.proc.Stdin(), cmd)
	var got string
	waitFor(t, 3*time.Second, fmt.Sprintf("console %q to show %q", cmd, want), func() bool {
		got = p.out.String()[before:]
		return strings.Contains(got, want)
	})
	return got
}

// agentProc is a running mi-agent -json.
type agentProc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan event
	stderr *syncbuf.Buffer
	done   chan struct{}
	code   int
}

// event is one -json object.
type event map[string]any

func (e event) kind() string { return e.str("event") }

func (e event) str(k string) string {
	s, _ := e[k].(string)
	return s
}

// eventFields are the exact fields of each kind, beyond event and time;
// the ones ending in ? may be absent.
var eventFields = map[string][]string{
	"registered":   {"addr", "node"},
	"locating":     {"target"},
	"located":      {"target", "ip", "port"},
	"connected":    {"peer_nick", "peer_addr?", "claimed?", "local", "remote", "initiator"},
	"line":         {"from", "text"},
	"hangup":       {"by"},
	"error":        {"reason", "cause?", "message"},
	"deregistered": {"addr"},
	"notice":       {"reason", "count", "message"},
}

// checkSchema reports how the object breaks the -json schema.
func checkSchema(e event) error {
	want, ok := eventFields[e.kind()]
	if !ok {
		return fmt.Errorf("unknown event %q", e.kind())
	}
	if _, err := time.Parse(time.RFC3339, e.str("time")); err != nil {
		return fmt.Errorf("time: %v", err)
	}
	for _, f := range want {
		if !strings.HasSuffix(f, "?") {
			if _, ok := e[f]; !ok {
				return fmt.Errorf("missing %q", f)
			}
		}
	}
	for k := range e {
		if k != "event" && k != "time" && !slices.Contains(want, k) && !slices.Contains(want, k+"?") {
			return fmt.Errorf("unexpected field %q", k)
		}
	}
	return nil
}

// startAgent starts mi-agent -json for addr, finding its node through DNS
// (or at node, if not empty), and waits for its registration.
func (w *world) startAgent(addr string, extra ...string) *agentProc {
	w.t.Helper()
	return w.startAgentAsking(w.zone.Addr(), addr, extra...)
}

// startAgentAsking is startAgent with the agent asking the DNS server at
// dnsServer rather than the world's.
func (w *world) startAgentAsking(dnsServer, addr string, extra ...string) *agentProc {
	w.t.Helper()
	a := w.launchAgentAsking(dnsServer, addr, extra...)
	a.want("registered")
	return a
}

// launchAgent starts mi-agent without waiting for anything.
func (w *world) launchAgent(addr string, extra ...string) *agentProc {
	w.t.Helper()
	return w.launchAgentAsking(w.zone.Addr(), addr, extra...)
}

// launchAgentAsking is launchAgent with the agent asking the DNS server at
// dnsServer.
func (w *world) launchAgentAsking(dnsServer, addr string, extra ...string) *agentProc {
	t := w.t
	t.Helper()
	user, _, _ := strings.Cut(addr, "@")
	args := []string{"-addr", addr, "-json", "-dns", dnsServer, "-hosts", "-", "-listen", "127.0.0.1:0",
		"-log", filepath.Join(w.dir, "p2p-"+user+".log"), "-retry", "200ms", "-handshake-timeout", "2s"}
	args = append(args, extra...)
	a := &agentProc{t: t, name: user, events: make(chan event, 256), stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	a.cmd = exec.Command(filepath.Join(bin, "mi-agent"), args...)
	a.cmd.Env = append(os.Environ(), "NO_COLOR=1")
	stdin, err := a.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := a.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	a.stdin = stdin
	a.cmd.Stderr = a.stderr
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(a.events)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var e event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Errorf("%s: stdout line is not JSON: %q", user, sc.Text())
				continue
			}
			if err := checkSchema(e); err != nil {
				t.Errorf("%s: %s: %v", user, sc.Text(), err)
			}
			a.events <- e
		}
	}()
	go func() {
		a.cmd.Wait()
		a.code = a.cmd.ProcessState.ExitCode()
		close(a.done)
	}()
	t.Cleanup(func() {
		a.cmd.Process.Kill()
		<-a.done
		if t.Failed() {
			t.Logf("%s (exit status %d) stderr:\n%s", user, a.code, a.stderr.String())
		}
	})
	return a
}

// say writes a line to the agent's stdin.
func (a *agentProc) say(line string) {
	a.t.Helper()
	if _, err := io.WriteString(a.stdin, line+"\n"); err != nil {
		a.t.Fatalf("%s: write stdin: %v", a.name, err)
	}
}

// next returns the agent's next event.
func (a *agentProc) next(timeout time.Duration) event {
	a.t.Helper()
	select {
	case e, ok := <-a.events:
		if !ok {
			a.t.Fatalf("%s: stdout ended", a.name)
		}
		return e
	case <-time.After(timeout):
		a.t.Fatalf("%s: no event within %v", a.name, timeout)
	}
	return nil
}

// want returns the next event, which must be of the kind given.
func (a *agentProc) want(kind string) event {
	a.t.Helper()
	e := a.next(10 * time.Second)
	if e.kind() != kind {
		a.t.Fatalf("%s: got %v, want a %q event", a.name, e, kind)
	}
	return e
}

// quit ends stdin and waits for the agent to deregister and exit.
func (a *agentProc) quit() {
	a.t.Helper()
	a.stdin.Close()
	e := a.next(10 * time.Second)
	if e.kind() == "hangup" { // it was in a conversation
		if e.str("by") != "local" {
			a.t.Errorf("%s: %v", a.name, e)
		}
		e = a.next(10 * time.Second)
	}
	if e.kind() != "deregistered" {
		a.t.Fatalf("%s: got %v, want a deregistered event", a.name, e)
	}
	select {
	case <-a.done:
	case <-time.After(5 * time.Second):
		a.t.Fatalf("%s did not exit", a.name)
	}
	if a.code != 0 {
		a.t.Errorf("%s exit status %d", a.name, a.code)
	}
}

// waitFor polls cond until it holds or fails the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lumictl runs lumictl and returns its exit status and output.
func lumictl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "lumictl"), args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}
