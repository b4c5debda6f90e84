package node

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/lumi"
	"mi/wire"
	"mi/wire/wiregen"
)

// Addresses in the state machine tests.
var (
	agentU1  = netip.MustParseAddrPort("10.0.0.1:5001")
	agentU1b = netip.MustParseAddrPort("10.0.0.1:5002") // u1's agent after a restart
	agentU2  = netip.MustParseAddrPort("10.0.0.2:6001")
	intruder = netip.MustParseAddrPort("10.0.0.66:6666")
	nodeC    = netip.MustParseAddrPort("10.0.1.1:3344") // the node of c.com
	t0       = time.Unix(1_700_000_000, 0)
)

// sent is a send as tests compare it.
type sent struct{ To, Datagram string }

// view is a user as tests compare it.
type view struct {
	Agent      string
	Online     bool
	Unanswered int
}

type harness struct {
	t    *testing.T
	c    *core
	w    *scratch
	logs *bytes.Buffer
	now  time.Time
}

// newHarness starts a core for bb.com with users u1, u2, Laura.
func newHarness(t *testing.T) *harness {
	t.Helper()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	c := newCore(harnessConfig, DefaultPendingTTL, Limits{}, log)
	return &harness{t: t, c: c, w: newScratch(nil), logs: &logs, now: t0}
}

// harnessConfig is the node of the state machine tests; remoteDomain is
// another domain, whose node is nodeC.
var harnessConfig = Config{Domain: "bb.com", Users: []string{"u1", "u2", "Laura"}}

const remoteDomain = "c.com"

// recv runs datagram from src and returns what the core sends.
func (h *harness) recv(datagram string, src netip.AddrPort) ([]sent, []resolveRequest) {
	h.t.Helper()
	sends, resolves, _ := h.c.handle(h.w, []byte(datagram), src, h.now)
	checkInvariants(h.t, h.c)
	return copySends(sends), resolves
}

func copySends(sends []send) []sent {
	var out []sent
	for _, s := range sends {
		out = append(out, sent{s.to.String(), string(s.b)})
	}
	return out
}

// expect runs datagram from src and checks that exactly want is sent.
func (h *harness) expect(datagram string, src netip.AddrPort, want ...sent) {
	h.t.Helper()
	got, res := h.recv(datagram, src)
	if len(res) != 0 {
		h.t.Errorf("%s from %v: unexpected resolve requests %v", datagram, src, res)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		h.t.Errorf("%s from %v: sends (-want +got):\n%s", datagram, src, diff)
	}
}

// sweep runs the sweep at h.now and returns what it sends.
func (h *harness) sweep() []sent {
	h.t.Helper()
	sends, _ := h.c.sweep(h.w, h.now)
	got := copySends(sends)
	checkInvariants(h.t, h.c)
	return got
}

func (h *harness) table() map[string]view {
	m := make(map[string]view)
	h.c.t.each(func(u userState) {
		v := view{Online: u.online, Unanswered: int(u.unanswered)}
		if a := u.agent(); a.IsValid() {
			v.Agent = a.String()
		}
		m[u.name] = v
	})
	return m
}

func (h *harness) checkTable(want map[string]view) {
	h.t.Helper()
	if diff := cmp.Diff(want, h.table()); diff != "" {
		h.t.Errorf("table (-want +got):\n%s", diff)
	}
}

func (h *harness) checkLogged(substr string) {
	h.t.Helper()
	if !strings.Contains(h.logs.String(), substr) {
		h.t.Errorf("log lacks %q; log:\n%s", substr, h.logs)
	}
}

func to(ap netip.AddrPort, datagram string) sent { return sent{ap.String(), datagram} }

// checkInvariants holds after every event, whatever the input.
func checkInvariants(t testing.TB, c *core) {
	t.Helper()
	for i := range c.t.users {
		sh := &c.t.users[i]
		if len(sh.index) != len(sh.list) {
			t.Fatalf("shard %d: %d names indexed, %d users", i, len(sh.index), len(sh.list))
		}
		for k, j := range sh.index {
			u := sh.list[j]
			if k != strings.ToLower(u.name) {
				t.Fatalf("user %q under key %q", u.name, k)
			}
			if c.t.userShard([]byte(k)) != sh {
				t.Fatalf("user %q in the wrong shard", u.name)
			}
			if err := wire.CheckUser(u.name); err != nil {
				t.Fatalf("user %q: %v", u.name, err)
			}
			if u.unanswered < 0 || u.unanswered >= wire.OfflineAfter {
				t.Fatalf("user %q: %d unanswered", u.name, u.unanswered)
			}
			if u.online && !u.agent().IsValid() {
				t.Fatalf("user %q online without an agent address", u.name)
			}
			if !u.online && u.unanswered != 0 {
				t.Fatalf("user %q offline with %d unanswered", u.name, u.unanswered)
			}
			if u.online && u.silent {
				t.Fatalf("user %q online and silent", u.name)
			}
		}
		for name, tk := range sh.takeovers {
			if sh.byName(name) == nil || !tk.from.IsValid() {
				t.Fatalf("takeover %q: %+v", name, tk)
			}
		}
	}
	c.t.eachPending(func(k pendingKey, p pendingLocate) {
		// A check of an agent (probe) is the node's own: no requester.
		if !p.forwardedTo.IsValid() || !p.requester.IsValid() && p.user == "" {
			t.Fatalf("pending %v: invalid address %+v", k, p)
		}
		if c.t.pendingShard(k) != &c.t.pending[k[0]%shards] {
			t.Fatalf("pending %v in the wrong shard", k)
		}
	})
}

// eachPending calls f with every locate in flight.
func (t *table) eachPending(f func(k pendingKey, p pendingLocate)) {
	for i := range t.pending {
		sh := &t.pending[i]
		sh.mu.Lock()
		for k, p := range sh.m {
			f(k, p)
		}
		sh.mu.Unlock()
	}
}

// pendingCount is how many locates are in flight.
func pendingCount(c *core) int {
	n := 0
	c.t.eachPending(func(pendingKey, pendingLocate) { n++ })
	return n
}

func TestRegister(t *testing.T) {
	h := newHarness(t)
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	h.expect("PRnobody@bb.com", agentU2, to(agentU2, "RR1"))
	h.expect("PRu2@elsewhere", agentU2, to(agentU2, "RR1")) // the reference said RR0
	h.expect("PRLAURA@BB.COM", agentU2, to(agentU2, "RR0")) // names and domains without case
	h.checkTable(map[string]view{
		"u1":    {Agent: agentU1.String(), Online: true},
		"u2":    {},
		"Laura": {Agent: agentU2.String(), Online: true},
	})
}

// The check the node sends u1's agent before another address may take the
// registration over, and the agent's answer.
const (
	checkU1 = "PLu1@bb.com:u1@bb.com"
	aliveU1 = "RL0u1@bb.com:u1@bb.com:10.0.0.1:7000"
)

func TestTakeoverRefusedWhileAgentAnswers(t *testing.T) {
	h := newHarness(t)
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	h.expect("PRu1@bb.com", intruder, to(agentU1, checkU1))
	h.expect("PRu1@bb.com", intruder) // its retry while the check is in flight
	h.expect(aliveU1, agentU1, to(intruder, "RR1"))
	h.checkLogged(`msg="registration takeover refused: the registered agent answers" user=u1 agent=10.0.0.1:5001 refused=10.0.0.66:6666`)
	if strings.Contains(h.logs.String(), "RL dropped") {
		t.Errorf("the answer to the check was logged as a drop:\n%s", h.logs)
	}
	// Refused at once for a while, without asking the agent again.
	h.now = h.now.Add(time.Second)
	h.expect("PRu1@bb.com", intruder, to(intruder, "RR1"))
	h.checkTable(map[string]view{"u1": {Agent: agentU1.String(), Online: true}, "u2": {}, "Laura": {}})
	// Then checked again.
	h.now = h.now.Add(DefaultPendingTTL)
	h.expect("PRu1@bb.com", intruder, to(agentU1, checkU1))
}

func TestTakeoverRefusedByAgentPR(t *testing.T) {
	h := newHarness(t)
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	h.expect("PRu1@bb.com", intruder, to(agentU1, checkU1))
	h.expect("PRu1@bb.com", agentU1, to(intruder, "RR1"), to(agentU1, "RR0"))
	h.now = h.now.Add(DefaultProbeWait)
	if got := h.sweep(); len(got) != 0 {
		t.Errorf("sweep sent %v", got)
	}
	h.checkTable(map[string]view{"u1": {Agent: agentU1.String(), Online: true}, "u2": {}, "Laura": {}})
}

// An agent that restarted on a new port gets the registration once the old
// one has been silent for ProbeWait: at the sweep, or at its own retry.
func TestTakeoverWhenAgentSilent(t *testing.T) {
	for _, retry := range []bool{false, true} {
		t.Run(fmt.Sprintf("retry=%v", retry), func(t *testing.T) {
			h := newHarness(t)
			h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
			h.expect("PRu1@bb.com", agentU1b, to(agentU1, checkU1))
			h.now = h.now.Add(DefaultProbeWait - time.Millisecond)
			if got := h.sweep(); len(got) != 0 {
				t.Errorf("sweep before the check ended sent %v", got)
			}
			h.now = h.now.Add(time.Millisecond)
			if retry {
				h.expect("PRu1@bb.com", agentU1b, to(agentU1b, "RR0"))
			} else if diff := cmp.Diff([]sent{to(agentU1b, "RR0")}, h.sweep()); diff != "" {
				t.Errorf("sweep (-want +got):\n%s", diff)
			}
			h.checkLogged(`msg="registration moved: the registered agent did not answer the check" user=u1 old=10.0.0.1:5001 new=10.0.0.1:5002`)
			h.checkTable(map[string]view{"u1": {Agent: agentU1b.String(), Online: true}, "u2": {}, "Laura": {}})
			// The old agent's late answer changes nothing.
			h.expect(aliveU1, agentU1)
			h.checkTable(map[string]view{"u1": {Agent: agentU1b.String(), Online: true}, "u2": {}, "Laura": {}})
		})
	}
}

// A PD from the registered agent ends the check: the user is offline, and
// the new address registers at its retry.
func TestTakeoverAfterPD(t *testing.T) {
	h := newHarness(t)
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	h.expect("PRu1@bb.com", agentU1b, to(agentU1, checkU1))
	h.expect("PDu1@bb.com", agentU1, to(agentU1, "RD0"))
	h.expect("PRu1@bb.com", agentU1b, to(agentU1b, "RR0"))
	h.checkTable(map[string]view{"u1": {Agent: agentU1b.String(), Online: true}, "u2": {}, "Laura": {}})
}

func TestDeregister(t *testing.T) {
	h := newHarness(t)
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	h.expect("PDnobody@bb.com", agentU1, to(agentU1, "RD1"))
	h.expect("PDu1@elsewhere", agentU1, to(agentU1, "RD1"))
	h.expect("PDu2@bb.com", agentU2, to(agentU2, "RD1")) // never registered
	h.expect("PDu1@bb.com", agentU1, to(agentU1, "RD0"))
	h.expect("PDu1@bb.com", agentU1, to(agentU1, "RD0")) // a retry after a lost RD0
	h.checkTable(map[string]view{"u1": {Agent: agentU1.String()}, "u2": {}, "Laura": {}})
}

func TestDeregisterOnlyFromRegisteredAddress(t *testing.T) {
	h := newHarness(t)
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	h.expect("PDu1@bb.com", intruder, to(intruder, "RD1"))
	h.checkLogged(`msg="deregistration refused: not from the user's registered address" user=u1 agent=10.0.0.1:5001 from=10.0.0.66:6666`)
	h.checkTable(map[string]view{"u1": {Agent: agentU1.String(), Online: true}, "u2": {}, "Laura": {}})
}

func TestLocateSameDomain(t *testing.T) {
	h := newHarness(t)
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	h.expect("PRu2@bb.com", agentU2, to(agentU2, "RR0"))
	// found: forwarded to u2's agent, which answers; the answer goes to u1.
	h.expect("PLu1@bb.com:u2@bb.com", agentU1, to(agentU2, "PLu1@bb.com:u2@bb.com"))
	h.checkTable(map[string]view{
		"u1":    {Agent: agentU1.String(), Online: true},
		"u2":    {Agent: agentU2.String(), Online: true},
		"Laura": {},
	})
	h.expect("RL0u1@bb.com:u2@bb.com:10.0.0.2:40000", agentU2, to(agentU1, "RL0u1@bb.com:u2@bb.com:10.0.0.2:40000"))
	// busy
	h.expect("PLu1@bb.com:u2@bb.com", agentU1, to(agentU2, "PLu1@bb.com:u2@bb.com"))
	h.expect("RL1u1@bb.com:u2@bb.com", agentU2, to(agentU1, "RL1u1@bb.com:u2@bb.com"))
	// unknown and offline
	h.expect("PLu1@bb.com:nobody@bb.com", agentU1, to(agentU1, "RL2u1@bb.com:nobody@bb.com"))
	h.expect("PLu1@bb.com:Laura@bb.com", agentU1, to(agentU1, "RL3u1@bb.com:Laura@bb.com"))
	h.checkTable(map[string]view{
		"u1":    {Agent: agentU1.String(), Online: true},
		"u2":    {Agent: agentU2.String(), Online: true},
		"Laura": {},
	})
}

// unanswered forwards a PL of u1 for u2 to u2's agent and lets it end
// with no answer.
func (h *harness) unanswered() {
	h.t.Helper()
	h.expect("PLu1@bb.com:u2@bb.com", agentU1, to(agentU2, "PLu1@bb.com:u2@bb.com"))
	h.now = h.now.Add(DefaultPendingTTL)
	if got := h.sweep(); len(got) != 0 {
		h.t.Errorf("sweep sent %v", got)
	}
}

// offlineSetup registers u1 and u2 and lets four locates of u2 end with no
// answer from its agent.
func offlineSetup(t *testing.T) *harness {
	h := newHarness(t)
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	h.expect("PRu2@bb.com", agentU2, to(agentU2, "RR0"))
	for range wire.OfflineAfter - 1 {
		h.unanswered()
	}
	h.checkTable(map[string]view{
		"u1":    {Agent: agentU1.String(), Online: true},
		"u2":    {Agent: agentU2.String(), Online: true, Unanswered: wire.OfflineAfter - 1},
		"Laura": {},
	})
	return h
}

func TestOfflineAfterFiveSilentLocates(t *testing.T) {
	h := offlineSetup(t)
	h.unanswered()
	h.checkLogged(`msg="user marked offline: locates unanswered" user=u2 agent=10.0.0.2:6001 unanswered=5`)
	h.checkTable(map[string]view{
		"u1":    {Agent: agentU1.String(), Online: true},
		"u2":    {Agent: agentU2.String()},
		"Laura": {},
	})
	h.expect("PLu1@bb.com:u2@bb.com", agentU1, to(agentU1, "RL3u1@bb.com:u2@bb.com"))
	// An RL that answers no locate in flight is no sign of life: anyone
	// can send one from the agent's address.
	h.expect("RL1u1@bb.com:u2@bb.com", agentU2)
	h.expect("PLu1@bb.com:u2@bb.com", agentU1, to(agentU1, "RL3u1@bb.com:u2@bb.com"))
	// The agent's next registration brings the user back.
	h.expect("PRu2@bb.com", agentU2, to(agentU2, "RR0"))
	h.expect("PLu1@bb.com:u2@bb.com", agentU1, to(agentU2, "PLu1@bb.com:u2@bb.com"))
}

// A burst of PLs is one forward, and an agent's retries are one locate: five
// PLs in a burst, or five attempts, cannot mark a user offline.
func TestBurstAndRetriesAreOneLocate(t *testing.T) {
	h := newHarness(t)
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	h.expect("PRu2@bb.com", agentU2, to(agentU2, "RR0"))
	h.expect("PLu1@bb.com:u2@bb.com", agentU1, to(agentU2, "PLu1@bb.com:u2@bb.com"))
	for range 2 * wire.OfflineAfter {
		h.expect("PLu1@bb.com:u2@bb.com", agentU1)
	}
	h.checkLogged(`msg="PL not forwarded again: the same locate was forwarded just before"`)
	for range wire.Attempts - 1 {
		h.now = h.now.Add(wire.RetryInterval)
		h.expect("PLu1@bb.com:u2@bb.com", agentU1, to(agentU2, "PLu1@bb.com:u2@bb.com"))
		h.sweep()
	}
	h.now = h.now.Add(DefaultPendingTTL)
	h.sweep()
	h.checkTable(map[string]view{
		"u1":    {Agent: agentU1.String(), Online: true},
		"u2":    {Agent: agentU2.String(), Online: true, Unanswered: 1},
		"Laura": {},
	})
}

// A locate that ends unanswered while the agent answers others is the link's
// loss, not the agent's silence.
func TestUnansweredLocateOfLiveAgent(t *testing.T) {
	h := offlineSetup(t)
	h.expect("PLu1@bb.com:u2@bb.com", agentU1, to(agentU2, "PLu1@bb.com:u2@bb.com"))
	h.expect("PLx@c.com:u2@bb.com", nodeC, to(agentU2, "PLx@c.com:u2@bb.com"))
	h.now = h.now.Add(time.Millisecond)
	h.expect("RL1x@c.com:u2@bb.com", agentU2, to(nodeC, "RL1x@c.com:u2@bb.com"))
	h.now = h.now.Add(DefaultPendingTTL)
	h.sweep()
	h.checkTable(map[string]view{
		"u1":    {Agent: agentU1.String(), Online: true},
		"u2":    {Agent: agentU2.String(), Online: true},
		"Laura": {},
	})
}

func TestOfflineCountResetByRL(t *testing.T) {
	h := offlineSetup(t)
	h.expect("PLu1@bb.com:u2@bb.com", agentU1, to(agentU2, "PLu1@bb.com:u2@bb.com"))
	h.expect("RL1u1@bb.com:u2@bb.com", agentU2, to(agentU1, "RL1u1@bb.com:u2@bb.com"))
	h.unanswered()
	h.checkTable(map[string]view{
		"u1":    {Agent: agentU1.String(), Online: true},
		"u2":    {Agent: agentU2.String(), Online: true, Unanswered: 1},
		"Laura": {},
	})
}

// TestOfflineCountNotResetByPR: a refresh from the registered address is
// answered, but is no sign of life (anyone can send it from there): the
// count of unanswered locates goes on, and the fifth marks the user
// offline. An answer to a locate resets it (TestOfflineCountResetByRL).
func TestOfflineCountNotResetByPR(t *testing.T) {
	h := offlineSetup(t)
	h.expect("PRu2@bb.com", agentU2, to(agentU2, "RR0"))
	h.checkTable(map[string]view{
		"u1":    {Agent: agentU1.String(), Online: true},
		"u2":    {Agent: agentU2.String(), Online: true, Unanswered: wire.OfflineAfter - 1},
		"Laura": {},
	})
	h.unanswered()
	h.checkLogged(`msg="user marked offline: locates unanswered" user=u2 agent=10.0.0.2:6001 unanswered=5`)
}

// A PL whose asker claims this domain is served only from the asker's
// registered address.
func TestForgedAskerDropped(t *testing.T) {
	h := newHarness(t)
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	h.expect("PRu2@bb.com", agentU2, to(agentU2, "RR0"))
	for _, pl := range []string{
		"PLu1@bb.com:u2@bb.com",    // u1 is online elsewhere
		"PLLaura@bb.com:u2@bb.com", // Laura is not registered
		"PLu1@BB.com:x@c.com",      // no forward to another domain either
		"PLnobody@bb.com:u2@bb.com",
	} {
		got, res := h.recv(pl, intruder)
		if len(got) != 0 || len(res) != 0 {
			t.Errorf("%s from a stranger: sends %v, resolves %v", pl, got, res)
		}
	}
	h.checkLogged(`msg="PL dropped: its asker is a user of this domain registered elsewhere or not at all" from=10.0.0.66:6666 datagram=PLu1@bb.com:u2@bb.com`)
	// From the asker's own address it goes through, even after a PD.
	h.expect("PLu1@bb.com:u2@bb.com", agentU1, to(agentU2, "PLu1@bb.com:u2@bb.com"))
	h.expect("PDu1@bb.com", agentU1, to(agentU1, "RD0"))
	h.expect("PLu1@bb.com:Laura@bb.com", agentU1, to(agentU1, "RL3u1@bb.com:Laura@bb.com"))
}

func TestRateLimits(t *testing.T) {
	h := newHarness(t)
	h.c = newCore(harnessConfig, DefaultPendingTTL, Limits{AgentRate: 10, PeerRate: 5}, slog.New(slog.NewTextHandler(h.logs, nil)))
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	cases := []struct {
		name  string
		src   netip.AddrPort
		from  string
		burst int
	}{
		{"agent", agentU1, "u1@bb.com", 20},
		{"peer", nodeC, "x@c.com", 10},
	}
	for _, tc := range cases {
		pl := func(i int) string { return fmt.Sprintf("PL%s:nobody%d@bb.com", tc.from, i) }
		rl := func(i int) sent { return to(tc.src, fmt.Sprintf("RL2%s:nobody%d@bb.com", tc.from, i)) }
		for i := range tc.burst {
			h.expect(pl(i), tc.src, rl(i))
		}
		h.expect(pl(tc.burst), tc.src)
		h.now = h.now.Add(time.Second / 4) // a token or more each
		h.expect(pl(tc.burst+1), tc.src, rl(tc.burst+1))
	}
	h.checkLogged(`msg="PL dropped: its source sends more than its rate" from=10.0.0.1:5001`)
	h.checkLogged(`msg="PL dropped: its source sends more than its rate" from=10.0.1.1:3344`)
	// Another source has its own budget.
	h.expect("PLy@d.com:nobody@bb.com", intruder, to(intruder, "RL2y@d.com:nobody@bb.com"))
}

func TestMaxPending(t *testing.T) {
	h := newHarness(t)
	h.c = newCore(harnessConfig, DefaultPendingTTL, Limits{MaxPending: shards, PeerRate: -1}, slog.New(slog.NewTextHandler(h.logs, nil)))
	h.expect("PRu2@bb.com", agentU2, to(agentU2, "RR0"))
	forwarded := 0
	for i := range 10 * shards {
		got, _ := h.recv(fmt.Sprintf("PLx%d@c.com:u2@bb.com", i), nodeC)
		forwarded += len(got)
	}
	if n := pendingCount(h.c); forwarded != n || n > shards {
		t.Errorf("%d forwarded, %d pending, want at most %d", forwarded, n, shards)
	}
	h.checkLogged(`msg="PL dropped: too many locates in flight"`)
	h.now = h.now.Add(DefaultPendingTTL)
	h.sweep()
	h.expect("PRu2@bb.com", agentU2, to(agentU2, "RR0")) // its agent was silent throughout
	h.expect("PLy@c.com:u2@bb.com", nodeC, to(agentU2, "PLy@c.com:u2@bb.com"))
}

func TestRLWithoutForwardedPLDropped(t *testing.T) {
	h := newHarness(t)
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	h.expect("RL0u1@bb.com:u2@bb.com:10.0.0.66:1", intruder)
	h.checkLogged(`msg="RL dropped: no PL forwarded for it" from=10.0.0.66:6666`)
}

func TestRLFromWrongAddressDropped(t *testing.T) {
	h := newHarness(t)
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	h.expect("PRu2@bb.com", agentU2, to(agentU2, "RR0"))
	h.expect("PLu1@bb.com:u2@bb.com", agentU1, to(agentU2, "PLu1@bb.com:u2@bb.com"))
	h.expect("RL0u1@bb.com:u2@bb.com:10.0.0.66:1", intruder)
	h.checkLogged(`msg="RL dropped: not from where its PL was forwarded" from=10.0.0.66:6666 want=10.0.0.2:6001`)
	// The real answer still goes through.
	h.expect("RL0u1@bb.com:u2@bb.com:10.0.0.2:1", agentU2, to(agentU1, "RL0u1@bb.com:u2@bb.com:10.0.0.2:1"))
	// And only once.
	h.expect("RL0u1@bb.com:u2@bb.com:10.0.0.2:1", agentU2)
}

func TestRLAfterPendingExpiryDropped(t *testing.T) {
	h := newHarness(t)
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	h.expect("PRu2@bb.com", agentU2, to(agentU2, "RR0"))
	h.expect("PLu1@bb.com:u2@bb.com", agentU1, to(agentU2, "PLu1@bb.com:u2@bb.com"))
	h.now = h.now.Add(DefaultPendingTTL)
	h.expect("RL0u1@bb.com:u2@bb.com:10.0.0.2:1", agentU2)
	h.sweep()
	if pendingCount(h.c) != 0 {
		t.Errorf("sweep left %d pending locates", pendingCount(h.c))
	}
}

func TestLocateOtherDomain(t *testing.T) {
	h := newHarness(t)
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	const pl = "PLu1@bb.com:x@c.com"
	got, res := h.recv(pl, agentU1)
	if len(got) != 0 {
		t.Fatalf("sends before resolving: %v", got)
	}
	if len(res) != 1 || res[0].domain != "c.com" || string(res[0].datagram) != pl || res[0].requester != agentU1 {
		t.Fatalf("resolve requests = %+v", res)
	}
	sends := copySends(h.c.resolved(h.w, res[0], nodeC, nil, h.now))
	if diff := cmp.Diff([]sent{to(nodeC, pl)}, sends); diff != "" {
		t.Fatalf("after resolving (-want +got):\n%s", diff)
	}
	// Only the node it was forwarded to may answer, and the answer goes
	// to the requester.
	h.expect("RL0u1@bb.com:x@c.com:10.0.1.7:9", intruder)
	h.expect("RL0u1@bb.com:x@c.com:10.0.1.7:9", nodeC, to(agentU1, "RL0u1@bb.com:x@c.com:10.0.1.7:9"))
}

func TestLocateUnresolvableDomain(t *testing.T) {
	h := newHarness(t)
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	_, res := h.recv("PLu1@bb.com:x@nowhere.example", agentU1)
	if len(res) != 1 {
		t.Fatalf("resolve requests = %+v", res)
	}
	dnsDown := &lumi.LookupError{Domain: "nowhere.example", Kind: lumi.ErrDNSFailure}
	sends := copySends(h.c.resolved(h.w, res[0], netip.AddrPort{}, dnsDown, h.now))
	if diff := cmp.Diff([]sent{to(agentU1, "RL2u1@bb.com:x@nowhere.example")}, sends); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// RL2 on the wire; the log says it was DNS.
	h.checkLogged(`msg="cannot find the node of a domain; PL answered RL2" domain=nowhere.example reason=dns_failure`)
	if pendingCount(h.c) != 0 {
		t.Errorf("%d pending locates", pendingCount(h.c))
	}
}

func TestLocateFromOtherNode(t *testing.T) {
	h := newHarness(t)
	h.expect("PRu2@bb.com", agentU2, to(agentU2, "RR0"))
	h.expect("PLx@c.com:nobody@bb.com", nodeC, to(nodeC, "RL2x@c.com:nobody@bb.com"))
	h.expect("PLx@c.com:Laura@bb.com", nodeC, to(nodeC, "RL3x@c.com:Laura@bb.com"))
	h.expect("PLx@c.com:u2@bb.com", nodeC, to(agentU2, "PLx@c.com:u2@bb.com"))
	h.expect("RL1x@c.com:u2@bb.com", agentU2, to(nodeC, "RL1x@c.com:u2@bb.com"))
}

func TestNoRelayBetweenOtherDomains(t *testing.T) {
	h := newHarness(t)
	h.expect("PLx@c.com:y@d.com", nodeC)
	h.checkLogged(`PL between two other domains dropped`)
}

func TestSelfLoopRefused(t *testing.T) {
	h := newHarness(t)
	h.c.self = netip.MustParseAddrPort("10.0.0.9:3344")
	h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
	_, res := h.recv("PLu1@bb.com:x@c.com", agentU1)
	sends := copySends(h.c.resolved(h.w, res[0], h.c.self, nil, h.now))
	if diff := cmp.Diff([]sent{to(agentU1, "RL2u1@bb.com:x@c.com")}, sends); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	h.expect("PRu1@bb.com", h.c.self)
}

// TestBadDatagramsDropped sends every invalid PLUMI input of the spec: the
// node drops it, saying which field is wrong, and goes on as before.
func TestBadDatagramsDropped(t *testing.T) {
	for _, inv := range wiregen.Invalids {
		if inv.Proto != "PLUMI" {
			continue
		}
		t.Run(inv.Input, func(t *testing.T) {
			h := newHarness(t)
			h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
			before := h.table()
			h.expect(inv.Input, intruder)
			h.checkTable(before)
			var d wire.PLUMIDatagram
			err := d.Decode([]byte(inv.Input))
			if !errors.Is(err, inv.Err) {
				t.Fatalf("Decode(%q) = %v, want %v", inv.Input, err, inv.Err)
			}
			h.checkLogged(`msg="bad datagram dropped" from=10.0.0.66:6666 datagram=`)
			h.checkLogged(`err=` + strconv.Quote(err.Error()))
			h.checkLogged(`field \"` + inv.Field + `\"`)
			h.expect("PRu2@bb.com", agentU2, to(agentU2, "RR0"))
		})
	}
}

// served are the PLUMI types the node acts on; it drops the others.
var served = map[string]bool{
	wire.TagRegister:    true,
	wire.TagDeregister:  true,
	wire.TagLocate:      true,
	wire.TagLocateReply: true,
}

// plumiInputs returns valid datagrams of every PLUMI type: the spec's
// examples and n generated ones a type.
func plumiInputs(t *testing.T, n int) []wiregen.Example {
	t.Helper()
	var ins []wiregen.Example
	for _, ex := range wiregen.Examples {
		if ex.Proto == "PLUMI" {
			ins = append(ins, ex)
		}
	}
	for _, c := range wiregen.Cases {
		if c.Proto != "PLUMI" {
			continue
		}
		for i := range n {
			b, err := c.Valid.Example(i).Append(nil)
			if err != nil {
				t.Fatalf("%s example %d: %v", c.Tag, i, err)
			}
			ins = append(ins, wiregen.Example{Proto: c.Proto, Tag: c.Tag, Input: string(b)})
		}
	}
	return ins
}

// unservedLogged is the log of handle for a datagram of type tag that the
// node does not serve, from src.
func unservedLogged(tag string, src netip.AddrPort) string {
	role, answers := wire.PLUMIRole(tag)
	s := fmt.Sprintf("msg=%q tag=%s", unservedMsg(role), tag)
	if role == wire.RoleReply {
		s += " answers=" + answers
	}
	return s + " from=" + src.String()
}

// TestUnservedDropped sends a valid datagram of every PLUMI type to the
// node. One of a type it does not serve is dropped, and the log says what
// the spec makes of it (a reply names its request); one it serves is not.
func TestUnservedDropped(t *testing.T) {
	for _, in := range plumiInputs(t, 20) {
		h := newHarness(t)
		h.expect("PRu1@bb.com", agentU1, to(agentU1, "RR0"))
		h.logs.Reset()
		before := h.table()
		if !served[in.Tag] {
			h.expect(in.Input, intruder)
			h.checkTable(before)
			h.checkLogged(unservedLogged(in.Tag, intruder))
			continue
		}
		h.recv(in.Input, intruder)
		for _, role := range []wire.Role{wire.RoleRequest, wire.RoleReply, wire.RoleOther} {
			if msg := fmt.Sprintf("msg=%q", unservedMsg(role)); strings.Contains(h.logs.String(), msg) {
				t.Errorf("%s, of a type the node serves, logged %s", in.Input, msg)
			}
		}
	}
}

// TestUnservedMessages checks the drop message of every role, and the log
// of a drop of every PLUMI type, served or not.
func TestUnservedMessages(t *testing.T) {
	seen := map[string]wire.Role{}
	for _, tc := range []struct {
		role wire.Role
		want string
	}{
		{wire.RoleRequest, "request type not served here"},
		{wire.RoleReply, "reply sent to the node dropped"},
		{wire.RoleOther, "message type not handled by the node dropped"},
	} {
		got := unservedMsg(tc.role)
		if got != tc.want {
			t.Errorf("unservedMsg(%d) = %q, want %q", tc.role, got, tc.want)
		}
		if r, ok := seen[got]; ok {
			t.Errorf("roles %d and %d log the same %q", r, tc.role, got)
		}
		seen[got] = tc.role
	}
	for _, c := range wiregen.Cases {
		if c.Proto != "PLUMI" {
			continue
		}
		h := newHarness(t)
		h.c.unserved(newScratch(nil), c.Tag, []byte(c.Tag), intruder)
		h.checkLogged(unservedLogged(c.Tag, intruder))
	}
}

func TestAdminChanges(t *testing.T) {
	h := newHarness(t)
	h.c.t.add("Nou")
	if name, ok := h.c.t.lookup("NOU"); !ok || name != "Nou" {
		t.Errorf("lookupUser(NOU) = %q, %v", name, ok)
	}
	h.expect("PRnou@bb.com", agentU1, to(agentU1, "RR0"))
	h.c.t.remove("nou")
	h.expect("PRnou@bb.com", agentU1, to(agentU1, "RR1"))
	got := h.c.t.list()
	var names []string
	for _, u := range got {
		names = append(names, u.Name)
	}
	if diff := cmp.Diff([]string{"Laura", "u1", "u2"}, names); diff != "" {
		t.Errorf("userList (-want +got):\n%s", diff)
	}
}

// FuzzHandle sends arbitrary datagrams from a few sources to the state
// machine: it must never panic, and the table must keep its invariants
// and its set of users.
func FuzzHandle(f *testing.F) {
	srcs := []netip.AddrPort{agentU1, agentU2, nodeC, intruder}
	for _, b := range fuzzHandleSeeds(f) {
		for i := range srcs {
			f.Add(byte(i), b)
		}
	}
	c := newCore(harnessConfig, DefaultPendingTTL, Limits{}, slog.New(slog.DiscardHandler))
	c.auth = newAuthState(map[string][]byte{"laura": []byte("Laura's secret, long enough")}) // PA and RA are fuzzed too
	w := newScratch(nil)
	// Put state in place that the fuzzed datagrams can act on: u1 and u2
	// online, a PL of u1 forwarded to u2's agent and one to c.com's node.
	u1 := wire.Address{User: "u1", Domain: harnessConfig.Domain}
	u2 := wire.Address{User: "u2", Domain: harnessConfig.Domain}
	c.handle(w, encode(f, &wire.Register{Addr: u1}), agentU1, t0)
	c.handle(w, encode(f, &wire.Register{Addr: u2}), agentU2, t0)
	c.handle(w, encode(f, &wire.Locate{From: u1, To: u2}), agentU1, t0)
	_, res, _ := c.handle(w, encode(f, &wire.Locate{From: u1, To: wire.Address{User: "x", Domain: remoteDomain}}), agentU1, t0)
	for _, r := range res {
		c.resolved(w, r, nodeC, nil, t0)
	}
	if pendingCount(c) != 2 {
		f.Fatalf("setup left %d pending locates, want 2", pendingCount(c))
	}
	now := t0
	f.Fuzz(func(t *testing.T, from byte, b []byte) {
		now = now.Add(time.Millisecond)
		src := srcs[int(from)%len(srcs)]
		sends, resolves, _ := c.handle(w, b, src, now)
		for _, s := range sends {
			if len(s.b) > wire.PLUMIMax || !s.to.IsValid() {
				t.Fatalf("bad send %+v", s)
			}
			var d wire.PLUMIDatagram
			if err := d.Decode(s.b); err != nil {
				t.Fatalf("sent %q, which does not decode: %v", s.b, err)
			}
		}
		for i, r := range resolves {
			if i%2 == 0 {
				c.resolved(w, r, nodeC, nil, now)
			} else {
				c.resolved(w, r, netip.AddrPort{}, errors.New("no"), now)
			}
		}
		if from%16 == 0 {
			c.sweep(newScratch(nil), now)
		}
		checkInvariants(t, c)
		if n := c.t.len(); n != 3 {
			t.Fatalf("%d users after %q", n, b)
		}
		for _, name := range []string{"u1", "u2", "laura"} {
			if _, ok := c.t.lookup(name); !ok {
				t.Fatalf("user %s lost after %q", name, b)
			}
		}
	})
}

// encode returns the wire form of m.
func encode(t testing.TB, m wire.Message) []byte {
	t.Helper()
	b, err := m.Append(nil)
	if err != nil {
		t.Fatalf("encode %+v: %v", m, err)
	}
	return b
}

// fuzzHandleSeeds returns the seeds of FuzzHandle: every PLUMI example and
// invalid input of the spec, and the messages of the harness's users, of a
// user it does not have and of a user of another domain, in every case the
// node acts on.
func fuzzHandleSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, ex := range wiregen.Examples {
		if ex.Proto == "PLUMI" {
			seeds = append(seeds, []byte(ex.Input))
		}
	}
	for _, inv := range wiregen.Invalids {
		if inv.Proto == "PLUMI" {
			seeds = append(seeds, []byte(inv.Input))
		}
	}
	var ours []wire.Address
	for _, u := range append(slices.Clone(harnessConfig.Users), "nobody") {
		ours = append(ours, wire.Address{User: u, Domain: harnessConfig.Domain})
	}
	u1, remote := ours[0], wire.Address{User: "x", Domain: remoteDomain}
	add := func(m wire.Message) { seeds = append(seeds, encode(f, m)) }
	replies := func(from, to wire.Address) {
		for _, code := range []wire.LocateCode{wire.LocateFound, wire.LocateBusy, wire.LocateUnknown, wire.LocateOffline} {
			m := &wire.LocateReply{Code: code, From: from, To: to}
			if code == wire.LocateFound {
				m.IP, m.Port = agentU2.Addr(), agentU2.Port()
			}
			add(m)
		}
	}
	for _, a := range ours {
		add(&wire.Register{Addr: a})
		add(&wire.Deregister{Addr: a})
		add(&wire.Locate{From: u1, To: a})
		add(&wire.Locate{From: a, To: remote})
		add(&wire.Locate{From: remote, To: a})
		replies(u1, a)
		replies(a, remote)
		replies(remote, a)
	}
	add(&wire.Register{Addr: remote})
	add(&wire.RegisterReply{Code: wire.RegisterOK})
	add(&wire.DeregisterReply{Code: wire.DeregisterOK})
	return seeds
}

// After a flood of locates has expired, the sweep rebuilds the pending
// maps small and says so, so that the node can give the memory back.
func TestSweepShrinksAfterFlood(t *testing.T) {
	h := newHarness(t)
	h.c = newCore(harnessConfig, DefaultPendingTTL, Limits{PeerRate: -1}, slog.New(slog.DiscardHandler))
	h.expect("PRu2@bb.com", agentU2, to(agentU2, "RR0"))
	for i := range 2 * shrinkAbove * shards {
		h.c.handle(h.w, fmt.Appendf(nil, "PLx%d@c.com:u2@bb.com", i), nodeC, h.now)
	}
	if _, shrunk := h.c.sweep(h.w, h.now); shrunk {
		t.Fatal("shrunk while the locates were in flight")
	}
	h.now = h.now.Add(DefaultPendingTTL)
	if _, shrunk := h.c.sweep(h.w, h.now); !shrunk {
		t.Fatal("not shrunk once the flood had expired")
	}
	for i := range h.c.t.pending {
		if sh := &h.c.t.pending[i]; sh.peak != 0 || len(sh.m) != 0 {
			t.Fatalf("shard %d: peak %d, %d locates", i, sh.peak, len(sh.m))
		}
	}
	if _, shrunk := h.c.sweep(h.w, h.now); shrunk {
		t.Fatal("shrunk twice")
	}
}
