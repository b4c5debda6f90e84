package conform

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var testUsers = []string{"u1", "u2", "u3"}

// freeUDP returns a loopback UDP address nobody listens on (as far as
// the system says now).
func freeUDP(t *testing.T) netip.AddrPort {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().(*net.UDPAddr).AddrPort()
}

// nodeSetup starts a mock node of bb.com whose other domain, cc.org, the
// tool plays.
func nodeSetup(t *testing.T) (*mockNode, Config) {
	t.Helper()
	remote := freeUDP(t)
	n := startMockNode(t, "bb.com", testUsers, remote)
	return n, Config{Target: "node", NodeAddr: n.addr(), Domain: "bb.com", Users: testUsers,
		RemoteDomain: "cc.org", RemoteListen: remote.String(), ProbeTimeout: 500 * time.Millisecond}
}

func run(t *testing.T, cfg Config, scenarios []Scenario) ([]Result, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var tap bytes.Buffer
	res, err := Run(ctx, cfg, scenarios, NewTAP(&tap))
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, tap.String())
	}
	parseTAP(t, tap.String())
	return res, tap.String()
}

func statuses(res []Result) map[string]Status {
	m := map[string]Status{}
	for _, r := range res {
		m[r.ID] = r.Status
	}
	return m
}

// want is every scenario of target passing, but for the exceptions.
func want(target string, except map[string]Status) map[string]Status {
	m := map[string]Status{}
	for _, sc := range sample {
		if sc.Target == target {
			m[sc.ID] = Pass
		}
	}
	for id, s := range except {
		m[id] = s
	}
	return m
}

func TestNodePasses(t *testing.T) {
	n, cfg := nodeSetup(t)
	start := time.Now()
	res, tap := run(t, cfg, sample)
	if diff := cmp.Diff(want("node", nil), statuses(res)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s\n%s", diff, tap)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the run took %v", d)
	}
	// The cleanup deregistered what the scenarios registered.
	if on := n.online(); len(on) > 0 {
		t.Errorf("users left online: %v", on)
	}
	// And again: a run is reproducible.
	res, tap = run(t, cfg, sample)
	if diff := cmp.Diff(want("node", nil), statuses(res)); diff != "" {
		t.Errorf("second run (-want +got):\n%s\n%s", diff, tap)
	}
}

func TestNodeBroken(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*mockNode, *Config) // called with the node's lock held
		want  map[string]Status
	}{
		{"refuses everyone", func(n *mockNode, _ *Config) { n.refuse = true },
			map[string]Status{"REG-OK": Fail, "LOC-FOUND": Fail, "LOC-REMOTE": Fail, "ROB-GARBAGE": Fail, "STR-DEREG-OTHER": Fail}},
		{"users unknown to the node", func(_ *mockNode, c *Config) { c.Users = []string{"u1", "x2", "u3"} },
			map[string]Status{"LOC-FOUND": Fail}},
		{"no remote domain", func(_ *mockNode, c *Config) { c.RemoteDomain, c.RemoteListen = "", "" },
			map[string]Status{"LOC-REMOTE": Skip}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, cfg := nodeSetup(t)
			n.mu.Lock()
			tt.setup(n, &cfg)
			n.mu.Unlock()
			res, tap := run(t, cfg, sample)
			if diff := cmp.Diff(want("node", tt.want), statuses(res)); diff != "" {
				t.Errorf("statuses (-want +got):\n%s\n%s", diff, tap)
			}
		})
	}
}

// TestFailure checks what a failure says: the step, the bytes, the
// transcript (the cleanup's PD included).
func TestFailure(t *testing.T) {
	_, cfg := nodeSetup(t)
	cfg.Users = []string{"u1", "x2", "u3"}
	cfg.Run = regexp.MustCompile("^LOC-FOUND$")
	res, _ := run(t, cfg, sample)
	if len(res) != 1 {
		t.Fatalf("%d results", len(res))
	}
	r := res[0]
	if r.Status != Fail || r.Reason != `a2: got "RR1", want "RR0"` {
		t.Errorf("status %s, reason %q", r.Status, r.Reason)
	}
	wantF := &Failure{Step: 5, Op: "expect", Role: "a2", Line: 1026, Expected: "RR0", Arrived: true, Got: "RR1"}
	if diff := cmp.Diff(wantF, r.Failure); diff != "" {
		t.Errorf("failure (-want +got):\n%s", diff)
	}
	wantT := []Entry{
		{Role: "a1", Dir: DirSend, Peer: cfg.NodeAddr, Bytes: "PRu1@bb.com"},
		{Role: "a1", Dir: DirRecv, Peer: cfg.NodeAddr, Bytes: "RR0"},
		{Role: "a2", Dir: DirSend, Peer: cfg.NodeAddr, Bytes: "PRx2@bb.com"},
		{Role: "a2", Dir: DirRecv, Peer: cfg.NodeAddr, Bytes: "RR1"},
		{Role: "a1", Dir: DirSend, Peer: cfg.NodeAddr, Bytes: "PDu1@bb.com"}, // the cleanup
		{Role: "a1", Dir: DirRecv, Peer: cfg.NodeAddr, Bytes: "RD0"},
	}
	if diff := cmp.Diff(wantT, r.Transcript, cmpopts.IgnoreFields(Entry{}, "At")); diff != "" {
		t.Errorf("transcript (-want +got):\n%s", diff)
	}
	for i := 1; i < len(r.Transcript); i++ {
		if r.Transcript[i].At < r.Transcript[i-1].At || r.Transcript[i].At < 0 {
			t.Errorf("transcript out of order at %d: %v", i, r.Transcript)
		}
	}
}

func TestProbe(t *testing.T) {
	n, cfg := nodeSetup(t)
	n.mu.Lock()
	n.mute = true
	n.mu.Unlock()
	start := time.Now()
	_, err := Run(context.Background(), cfg, sample, nil)
	if !errors.Is(err, ErrSetup) || !strings.Contains(err.Error(), "the node at "+cfg.NodeAddr+" never answered") {
		t.Errorf("Run: %v", err)
	}
	if d := time.Since(start); d < cfg.ProbeTimeout || d > cfg.ProbeTimeout+time.Second {
		t.Errorf("the probe took %v, want about %v", d, cfg.ProbeTimeout)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if !slices.Contains(n.got, "PRconform-nobody@bb.com") {
		t.Errorf("the node got %q", n.got)
	}
}

// TestSetupErrors: what makes a run void before it starts.
func TestSetupErrors(t *testing.T) {
	node := Config{Target: "node", NodeAddr: "127.0.0.1:9", Domain: "bb.com", Users: testUsers}
	agent := Config{Target: "agent", NodeListen: "127.0.0.1:0", Addr: "laura@bb.com"}
	one := func(target string, steps ...Step) []Scenario {
		return []Scenario{{ID: "T-1", Target: target, Class: "core", Line: 7, Steps: steps}}
	}
	play := Step{Op: OpPlay, Role: "a1", Text: "agent", Line: 8}
	tests := []struct {
		name      string
		cfg       Config
		edit      func(*Config)
		scenarios []Scenario
		err       string
	}{
		{"target", node, func(c *Config) { c.Target = "server" }, sample, `target must be node or agent, not "server"`},
		{"two users", node, func(c *Config) { c.Users = c.Users[:2] }, sample, "need 3 users of bb.com"},
		{"bad user", node, func(c *Config) { c.Users = []string{"a b", "c", "d"} }, sample, `user "a b"`},
		{"user twice", node, func(c *Config) { c.Users = []string{"a", "b", "A"} }, sample, `user "A" given twice`},
		{"bad domain", node, func(c *Config) { c.Domain = "bb com" }, sample, `domain "bb com"`},
		{"remote half", node, func(c *Config) { c.RemoteDomain = "cc.org" }, sample, "give both the remote domain"},
		{"remote is us", node, func(c *Config) { c.RemoteDomain, c.RemoteListen = "BB.com", "127.0.0.1:0" }, sample, "must not be the node's own"},
		{"agent address", agent, func(c *Config) { c.Addr = "laura" }, sample, `agent address "laura"`},
		{"class", node, func(c *Config) { c.Classes = []string{"core", "fast"} }, sample, `unknown class "fast"`},
		{"nothing selected", node, func(c *Config) { c.Run = regexp.MustCompile("NOPE") }, sample, "no node scenario is selected"},
		{"unbound variable", node, nil, one("node", play, Step{Op: OpSend, Role: "a1", Text: "PR$nobody@$domain", Line: 9}),
			"scenario T-1 (spec/mi.spec:7), step 2 send (line 9): variable $nobody is not bound"},
		{"agent variable in a node scenario", node, nil, one("node", play, Step{Op: OpSend, Role: "a1", Text: "PR$addr", Line: 9}),
			"variable $addr is not bound"},
		{"captured later", node, nil, one("node", play,
			Step{Op: OpSend, Role: "a1", Text: "$ip", Line: 9}, Step{Op: OpExpect, Role: "a1", Text: "{ip}", Line: 10}),
			"variable $ip is not bound"},
		{"capture of a tool variable", node, nil, one("node", play, Step{Op: OpExpect, Role: "a1", Text: "RR{domain}", Line: 9}),
			"{domain} would rebind a variable the tool binds"},
		{"adjacent captures", node, nil, one("node", play, Step{Op: OpExpect, Role: "a1", Text: "N{n}{nick}", Line: 9}),
			"{n} is followed by {nick}"},
		{"role not played", node, nil, one("node", Step{Op: OpSend, Role: "a9", Text: "RR0", Line: 9}), `role "a9" is not played`},
		{"role played twice", node, nil, one("node", play, play), `role "a1" played twice`},
		{"played as what", node, nil, one("node", Step{Op: OpPlay, Role: "a1", Text: "server"}), `played as agent or node, not "server"`},
		{"process step in a node scenario", node, nil, one("node", Step{Op: OpStdin, Text: "x"}), "only agent scenarios have this step"},
		{"play in an agent scenario", agent, nil, one("agent", play), "only node scenarios play roles"},
		{"connection not opened", agent, nil, one("agent", Step{Op: OpRead, Role: "c", Text: "N{x}"}), `connection "c" is not opened`},
		{"window upside down", agent, nil, one("agent", Step{Op: OpExpect, Role: "node", Text: "PR$addr", Min: time.Second, Max: time.Millisecond}),
			"window [1s, 1ms] is upside down"},
		{"unknown op", agent, nil, one("agent", Step{Op: 99}), "unknown op 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			_, err := Run(context.Background(), cfg, tt.scenarios, nil)
			if !errors.Is(err, ErrSetup) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Run: %v, want a setup error with %q", err, tt.err)
			}
		})
	}
}

func agentConfig() Config {
	return Config{Target: "agent", NodeListen: "127.0.0.1:0", Addr: "laura@bb.com", Exec: fakeAgentExec()}
}

func TestAgentPasses(t *testing.T) {
	start := time.Now()
	res, tap := run(t, agentConfig(), sample)
	if diff := cmp.Diff(want("agent", nil), statuses(res)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s\n%s", diff, tap)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the run took %v", d)
	}
	// The scenarios without Exec share an agent that the tool registered.
	for _, r := range res {
		if r.ID != "AG-ACCEPT" {
			continue
		}
		var got []string
		for _, e := range r.Transcript[:3] {
			got = append(got, e.Dir+" "+e.Bytes)
		}
		if len(got) < 3 || !strings.HasPrefix(got[0], "event start: sh -c CONFORM_FAKE_AGENT=1 exec ") ||
			got[1] != "recv PRlaura@bb.com" || got[2] != "send RR0" {
			t.Errorf("AG-ACCEPT's setup: %q", got)
		}
	}
}

func TestAgentWithoutExec(t *testing.T) {
	cfg := agentConfig()
	cfg.Exec, cfg.RegisterTimeout = "", 300*time.Millisecond
	var log bytes.Buffer
	cfg.Log = &log
	var tap bytes.Buffer
	res, err := Run(context.Background(), cfg, sample, NewTAP(&tap))
	if !errors.Is(err, ErrSetup) || !strings.Contains(err.Error(), "the agent never registered laura@bb.com at 127.0.0.1:") {
		t.Errorf("Run: %v", err)
	}
	if diff := cmp.Diff(map[string]Status{"AG-REG": Skip, "AG-RETRY": Skip}, statuses(res)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	parseTAP(t, regexp.MustCompile(`(?m)^1\.\.\d+$`).ReplaceAllString(tap.String(), "1..2")) // bailed out after 2
	if !strings.Contains(tap.String(), "Bail out! setup error: the agent never registered") {
		t.Errorf("TAP:\n%s", tap.String())
	}
	if !strings.Contains(log.String(), "start the agent") {
		t.Errorf("no note for the operator: %q", log.String())
	}
}

// TestAgentFailure: a failure shows the agent's last lines of output.
func TestAgentFailure(t *testing.T) {
	sc := []Scenario{{ID: "AG-WRONG", Target: "agent", Class: "core", Exec: true, Line: 5, Steps: []Step{
		{Op: OpStart, Line: 6},
		{Op: OpExpect, Role: "node", Text: "PRsomeone@bb.com", Max: 5 * time.Second, Line: 7},
	}}}
	res, tap := run(t, agentConfig(), sc)
	r := res[0]
	if r.Status != Fail || r.Failure.Got != "PRlaura@bb.com" || r.Failure.Line != 7 {
		t.Fatalf("%+v\n%s", r, tap)
	}
	if len(r.Output) == 0 || !strings.HasPrefix(r.Output[0], "fake agent laura@bb.com starting, node 127.0.0.1:") {
		t.Errorf("output %q", r.Output)
	}
	if !strings.Contains(tap, "  output:\n    - \"fake agent laura@bb.com starting") {
		t.Errorf("TAP lacks the output:\n%s", tap)
	}
}

// TestAgentSilent: an agent that never sends a datagram voids the run.
func TestAgentSilent(t *testing.T) {
	cfg := agentConfig()
	cfg.Exec = "cat >/dev/null"
	sc := []Scenario{{ID: "AG-X", Target: "agent", Class: "core", Exec: true, Steps: []Step{
		{Op: OpStart},
		{Op: OpExpect, Role: "node", Text: "PR$addr", Max: 100 * time.Millisecond},
	}}}
	res, err := Run(context.Background(), cfg, sc, nil)
	if !errors.Is(err, ErrSetup) || !strings.Contains(err.Error(), "the agent never sent a datagram to 127.0.0.1:") {
		t.Errorf("Run: %v", err)
	}
	if len(res) != 1 || res[0].Status != Fail || res[0].Reason != "node: nothing arrived within 100ms" {
		t.Errorf("results %+v", res)
	}
}
