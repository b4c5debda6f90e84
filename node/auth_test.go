package node

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mi/internal/auth"
	"mi/internal/droplog"
	"mi/internal/spoof"
	"mi/plumi"
	"mi/wire"
)

var u1Secret = []byte("u1's secret, long enough")

// authHarness is a harness whose node requires proof of u1.
func authHarness(t *testing.T) *harness {
	h := newHarness(t)
	h.c.auth = newAuthState(map[string][]byte{"u1": u1Secret})
	return h
}

// challenged sends datagram from src and returns the nonce of the RA that
// must be its only answer.
func (h *harness) challenged(datagram string, src netip.AddrPort, op wire.AuthOp) string {
	h.t.Helper()
	got, _ := h.recv(datagram, src)
	if len(got) != 1 || got[0].To != src.String() {
		h.t.Fatalf("%s from %v: sends %v, want one RA", datagram, src, got)
	}
	var ra wire.AuthChallenge
	if err := ra.Decode([]byte(got[0].Datagram)); err != nil || ra.Op != op || !strings.EqualFold(ra.Addr.User, "u1") {
		h.t.Fatalf("%s from %v: answered %q (%v), want an RA of op %v for u1", datagram, src, got[0].Datagram, err, op)
	}
	return ra.Nonce
}

// proof is the PA for nonce, with the mac secret makes.
func proof(t *testing.T, op wire.AuthOp, nonce string, secret []byte) string {
	t.Helper()
	p := wire.AuthProof{Op: op, Addr: wire.Address{User: "u1", Domain: "bb.com"}, Nonce: nonce}
	mac, err := auth.MAC(secret, &p)
	if err != nil {
		t.Fatal(err)
	}
	p.MAC = mac
	b, err := p.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAuthenticatedRegistration(t *testing.T) {
	h := authHarness(t)
	nonce := h.challenged("PRu1@bb.com", agentU1, wire.AuthOpRegister)
	pa := proof(t, wire.AuthOpRegister, nonce, u1Secret)
	h.expect(pa, agentU1, to(agentU1, "RR0"))
	h.checkTable(map[string]view{"u1": {Agent: agentU1.String(), Online: true}, "u2": {}, "Laura": {}})
	// The same PA again: the same answer, nothing more; from another
	// source, the nonce is not its own: a fresh challenge.
	h.expect(pa, agentU1, to(agentU1, "RR0"))
	h.challenged(pa, intruder, wire.AuthOpRegister)
	// A stranger's PR is challenged, not checked against the agent, and
	// changes nothing.
	h.challenged("PRu1@bb.com", intruder, wire.AuthOpRegister)
	h.checkTable(map[string]view{"u1": {Agent: agentU1.String(), Online: true}, "u2": {}, "Laura": {}})
	// A wrong mac is denied each time it comes, and changes nothing.
	nonce = h.challenged("PRu1@bb.com", intruder, wire.AuthOpRegister)
	bad := proof(t, wire.AuthOpRegister, nonce, []byte("a guess, long enough!"))
	h.expect(bad, intruder, to(intruder, "RR2"))
	h.expect(bad, intruder, to(intruder, "RR2"))
	h.checkTable(map[string]view{"u1": {Agent: agentU1.String(), Online: true}, "u2": {}, "Laura": {}})
	// The proof of a registration does not deregister.
	nonce = h.challenged("PDu1@bb.com", agentU1, wire.AuthOpDeregister)
	h.challenged(proof(t, wire.AuthOpRegister, nonce, u1Secret), agentU1, wire.AuthOpRegister)
	nonce = h.challenged("PDu1@bb.com", agentU1, wire.AuthOpDeregister)
	h.expect(proof(t, wire.AuthOpDeregister, nonce, u1Secret), agentU1, to(agentU1, "RD0"))
	h.checkTable(map[string]view{"u1": {Agent: agentU1.String()}, "u2": {}, "Laura": {}})
	// Users without a secret register as ever.
	h.expect("PRu2@bb.com", agentU2, to(agentU2, "RR0"))
}

func TestAuthNonceExpires(t *testing.T) {
	h := authHarness(t)
	nonce := h.challenged("PRu1@bb.com", agentU1, wire.AuthOpRegister)
	pa := proof(t, wire.AuthOpRegister, nonce, u1Secret)
	h.now = h.now.Add(wire.AuthNonceTTL)
	h.challenged(pa, agentU1, wire.AuthOpRegister)
	h.checkTable(map[string]view{"u1": {}, "u2": {}, "Laura": {}})
	// Spent, it expires too: the same PA after its time is a stranger.
	h.now = h.now.Add(time.Second)
	nonce = h.challenged("PRu1@bb.com", agentU1, wire.AuthOpRegister)
	pa = proof(t, wire.AuthOpRegister, nonce, u1Secret)
	h.expect(pa, agentU1, to(agentU1, "RR0"))
	h.now = h.now.Add(wire.AuthNonceTTL - time.Millisecond)
	h.expect(pa, agentU1, to(agentU1, "RR0"))
	h.now = h.now.Add(time.Millisecond)
	h.challenged(pa, agentU1, wire.AuthOpRegister)
	h.sweep()
	if n := h.spent(); n != 0 {
		t.Errorf("%d spent nonces kept past their time", n)
	}
}

// spent is how many spent nonces the node holds.
func (h *harness) spent() int {
	n := 0
	for _, u := range h.c.auth.users {
		u.mu.Lock()
		n += len(u.spent)
		u.mu.Unlock()
	}
	return n
}

// A nonce holds only for the source, user and op it was made for, and only
// as the node made it: a PA with any other, even with the right mac (the
// user's secret in the wrong hands), gets a fresh challenge.
func TestAuthForgedNonce(t *testing.T) {
	h := authHarness(t)
	nonce := h.challenged("PRu1@bb.com", agentU1, wire.AuthOpRegister)
	v, err := strconv.ParseUint(nonce, 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	forged := []string{"0123456789abcdef", fmt.Sprintf("%016x", v^1), fmt.Sprintf("%016x", v^1<<63), fmt.Sprintf("%016x", v+1<<48)}
	for _, f := range forged {
		h.challenged(proof(t, wire.AuthOpRegister, f, u1Secret), agentU1, wire.AuthOpRegister)
	}
	h.challenged(proof(t, wire.AuthOpRegister, nonce, u1Secret), agentU1b, wire.AuthOpRegister)
	h.challenged(proof(t, wire.AuthOpDeregister, nonce, u1Secret), agentU1, wire.AuthOpDeregister)
	h.checkTable(map[string]view{"u1": {}, "u2": {}, "Laura": {}})
	// A node restarted has another key: its nonces before are strangers.
	h.c.auth = newAuthState(map[string][]byte{"u1": u1Secret})
	pa := proof(t, wire.AuthOpRegister, nonce, u1Secret)
	nonce = h.challenged(pa, agentU1, wire.AuthOpRegister)
	h.expect(proof(t, wire.AuthOpRegister, nonce, u1Secret), agentU1, to(agentU1, "RR0"))
}

// A PA replayed does nothing: from another source its nonce does not hold,
// and from its own (an attacker on the path can send from there) it gets
// the answer it got, without doing again what it asked.
func TestAuthReplay(t *testing.T) {
	h := authHarness(t)
	nonce := h.challenged("PRu1@bb.com", agentU1, wire.AuthOpRegister)
	pa := proof(t, wire.AuthOpRegister, nonce, u1Secret)
	h.expect(pa, agentU1, to(agentU1, "RR0"))
	nonce = h.challenged("PDu1@bb.com", agentU1, wire.AuthOpDeregister)
	h.expect(proof(t, wire.AuthOpDeregister, nonce, u1Secret), agentU1, to(agentU1, "RD0"))
	offline := map[string]view{"u1": {Agent: agentU1.String()}, "u2": {}, "Laura": {}}
	h.checkTable(offline)
	h.challenged(pa, intruder, wire.AuthOpRegister)
	h.expect(pa, agentU1, to(agentU1, "RR0"))
	h.checkTable(offline)
	// The agent registering again in the same millisecond gets a nonce
	// of its own, not the spent one.
	again := h.challenged("PRu1@bb.com", agentU1, wire.AuthOpRegister)
	if again == nonceOf(t, pa) {
		t.Fatalf("nonce %s, spent, sent again", again)
	}
	h.expect(proof(t, wire.AuthOpRegister, again, u1Secret), agentU1, to(agentU1, "RR0"))
	h.checkTable(map[string]view{"u1": {Agent: agentU1.String(), Online: true}, "u2": {}, "Laura": {}})
}

func nonceOf(t *testing.T, pa string) string {
	var p wire.AuthProof
	if err := p.Decode([]byte(pa)); err != nil {
		t.Fatal(err)
	}
	return p.Nonce
}

// Challenges leave no state: after a PR from each of 100,000 sources in 2
// seconds, the node holds nothing for them (the rate limits' tables have a
// fixed size), and the agent's PR gets its challenge and its proof
// registers.
func TestChallengesLeaveNoState(t *testing.T) {
	h := authHarness(t)
	for i := range 100_000 {
		h.now = h.now.Add(20 * time.Microsecond)
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), uint16(1024+i%60000))
		got, _, _ := h.c.handle(h.w, []byte("PRu1@bb.com"), src, h.now)
		if len(got) != 1 {
			t.Fatalf("PR %d from %v: %d datagrams sent, want an RA", i, src, len(got))
		}
	}
	if n := h.spent(); n != 0 {
		t.Errorf("%d spent nonces, want none", n)
	}
	nonce := h.challenged("PRu1@bb.com", agentU1, wire.AuthOpRegister)
	h.expect(proof(t, wire.AuthOpRegister, nonce, u1Secret), agentU1, to(agentU1, "RR0"))
}

// What the spent nonces hold is bounded per user: past maxSpent at once,
// a proof is dropped until some expire.
func TestSpentBound(t *testing.T) {
	h := authHarness(t)
	for i := range maxSpent + 1 {
		src := netip.AddrPortFrom(agentU1.Addr(), uint16(7000+i))
		nonce := h.challenged("PRu1@bb.com", src, wire.AuthOpRegister)
		pa := proof(t, wire.AuthOpRegister, nonce, u1Secret)
		if i < maxSpent {
			h.expect(pa, src, to(src, "RR0"))
			continue
		}
		h.expect(pa, src)
		if n := h.spent(); n != maxSpent {
			t.Fatalf("%d spent nonces, want %d", n, maxSpent)
		}
		h.now = h.now.Add(wire.AuthNonceTTL)
		h.sweep()
		nonce = h.challenged("PRu1@bb.com", src, wire.AuthOpRegister)
		h.expect(proof(t, wire.AuthOpRegister, nonce, u1Secret), src, to(src, "RR0"))
	}
}

// Guesses of the secret from one source are limited as challenges are:
// a wrong mac spends nothing, so its rate does.
func TestGuessRate(t *testing.T) {
	h := authHarness(t)
	nonce := h.challenged("PRu1@bb.com", intruder, wire.AuthOpRegister)
	denied := 0
	for i := range 10 * challengeRate {
		got, _ := h.recv(proof(t, wire.AuthOpRegister, nonce, []byte(fmt.Sprintf("guess %d, long enough", i))), intruder)
		denied += len(got)
	}
	if denied != 2*challengeRate {
		t.Errorf("%d guesses checked in a burst, want %d", denied, 2*challengeRate)
	}
	nonce = h.challenged("PRu1@bb.com", agentU1, wire.AuthOpRegister)
	h.expect(proof(t, wire.AuthOpRegister, nonce, u1Secret), agentU1, to(agentU1, "RR0"))
}

// Denied proofs from many sources cost a few lines a window, and then one
// that sums up the rest.
func TestDeniedProofsLogBounded(t *testing.T) {
	h := authHarness(t)
	h.sweep() // the window starts
	for i := range 1000 {
		src := netip.AddrPortFrom(intruder.Addr(), uint16(10000+i))
		nonce := h.challenged("PRu1@bb.com", src, wire.AuthOpRegister)
		h.expect(proof(t, wire.AuthOpRegister, nonce, []byte("a guess, long enough!")), src, to(src, "RR2"))
	}
	if n := strings.Count(h.logs.String(), "proof refused"); n != dropBurst {
		t.Errorf("%d denied proofs logged in full, want %d", n, dropBurst)
	}
	h.now = h.now.Add(droplog.Window)
	h.sweep()
	if !strings.Contains(h.logs.String(), `reason="proof refused: wrong mac" count=1000 logged=5`) {
		t.Errorf("no summary of the denied proofs in:\n%s", h.logs)
	}
}

// A node that requires no proof drops a PA, as any unserved request.
func TestPADroppedWithoutAuth(t *testing.T) {
	h := newHarness(t)
	h.expect(proof(t, wire.AuthOpRegister, "0123456789abcdef", u1Secret), agentU1)
	h.checkTable(map[string]view{"u1": {}, "u2": {}, "Laura": {}})
}

// Challenges to one source are limited: an RA is longer than the PR it
// answers.
func TestChallengeRate(t *testing.T) {
	h := authHarness(t)
	sent := 0
	for range 10 * challengeRate {
		got, _ := h.recv("PRu1@bb.com", intruder)
		sent += len(got)
	}
	if sent != 2*challengeRate {
		t.Errorf("%d challenges sent in a burst, want %d", sent, 2*challengeRate)
	}
}

// floodRate is how many spoofed PRs a second TestChallengesUnderSpoofedFlood
// sends: twice the 50,000 that filled the challenge table of old, and a
// quarter of that when the race detector slows the node down tenfold.
func floodRate() int {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				return 25_000
			}
		}
	}
	return 100_000
}

// floodFor is how long the flood lasts: past the nonce's TTL, so that a
// nonce sent as it began has expired before it ends.
const floodFor = wire.AuthNonceTTL + 3*time.Second

// TestChallengesUnderSpoofedFlood: under -auth, PRs for u1 from a new
// spoofed source each, at floodRate for floodFor (at least 50,000), do not
// keep u1's agent out: it registers with its secret within two retries,
// again and again, while the node logs a few lines (at debug level, which
// once logged a line per PR). Meanwhile a thief at another address gets
// nothing out of PAs: the agent's own, replayed; one with a forged nonce;
// one whose nonce has expired; each gets a fresh challenge, and u1 stays
// at its agent.
func TestChallengesUnderSpoofedFlood(t *testing.T) {
	sp := spoof.NewForTest(t)
	stderr := &countingWriter{}
	n := startNode(t, "127.0.0.1:0", "bb.com", []string{"u1", "u2"}, func(o *Options) {
		o.Secrets = map[string][]byte{"u1": u1Secret}
		o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.LogPath = "-"
	})
	node := n.Addr()
	rate := floodRate()
	var sent atomic.Int64
	ctx, stop := context.WithTimeout(context.Background(), floodFor)
	defer stop()
	flooded := make(chan error, 1)
	go func() { flooded <- spoofPRs(ctx, sp, node, rate, &sent) }()
	began := time.Now()

	// A nonce sent as the flood begins, to answer once it has expired.
	thief := newAgent(t)
	late := challengeOf(t, thief, node, "PRu1@bb.com")
	for sent.Load() < 1<<16+1000 { // more than the old table held
		if time.Since(began) > floodFor/2 {
			t.Fatalf("only %d spoofed PRs sent in %v", sent.Load(), time.Since(began))
		}
		time.Sleep(10 * time.Millisecond)
	}

	u1 := wire.Address{User: "u1", Domain: "bb.com"}
	pas := &lastPA{}
	c, err := plumi.NewClient(plumi.Config{Node: node, Secret: u1Secret, Log: pas})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 3 {
		rctx, cancel := context.WithTimeout(context.Background(), 2*wire.RetryInterval+wire.RetryInterval/2)
		t0 := time.Now()
		err := c.Register(rctx, u1)
		cancel()
		if err != nil {
			t.Fatalf("registration %d, %v into the flood (%d PRs spoofed): %v", i+1, time.Since(began).Round(time.Millisecond), sent.Load(), err)
		}
		t.Logf("registration %d: %v", i+1, time.Since(t0).Round(time.Microsecond))
		time.Sleep(wire.RetryInterval / 2)
	}
	agentAt := c.LocalAddr()
	atAgent := func(what string) {
		t.Helper()
		for _, u := range n.Users() {
			if u.Name == "u1" && (!u.Online || u.Agent != agentAt) {
				t.Fatalf("after %s: u1 online %v at %v, want at its agent %v", what, u.Online, u.Agent, agentAt)
			}
		}
	}
	atAgent("the agent's registrations")

	pa := pas.get()
	challengeOf(t, thief, node, pa)
	atAgent("its PA replayed from another address")
	p := decodePA(t, pa)
	p.Nonce = p.Nonce[:15] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", p.Nonce[15])+1)%16])
	challengeOf(t, thief, node, proof(t, wire.AuthOpRegister, p.Nonce, u1Secret))
	atAgent("a PA with a forged nonce")
	time.Sleep(time.Until(late.at.Add(wire.AuthNonceTTL)))
	challengeOf(t, thief, node, proof(t, wire.AuthOpRegister, late.nonce, u1Secret))
	atAgent("a PA with an expired nonce")

	if err := <-flooded; err != nil {
		t.Fatal(err)
	}
	if got := sent.Load(); got < 50_000 {
		t.Fatalf("%d spoofed PRs sent in %v, want at least 50,000", got, floodFor)
	}
	// The node's startup, the three registrations and a few more lines.
	const maxStderr = 16 << 10
	t.Logf("%d spoofed PRs in %v; node's log: %d bytes", sent.Load(), floodFor, stderr.n.Load())
	if got := stderr.n.Load(); got > maxStderr {
		t.Errorf("the node logged %d bytes during the flood, want at most %d; it began:\n%s", got, maxStderr, stderr.head())
	}
}

// spoofPRs sends PRu1@bb.com to node from a random loopback address and
// port each, at rate a second until ctx ends, counting them in sent.
func spoofPRs(ctx context.Context, sp *spoof.Sender, node netip.AddrPort, rate int, sent *atomic.Int64) error {
	pr := []byte("PRu1@bb.com")
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-tick.C:
			for want := int64(now.Sub(start).Seconds() * float64(rate)); sent.Load() < want; {
				a := rand.Uint32()
				src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, byte(a>>16) | 1, byte(a >> 8), byte(a) | 1}), uint16(1024+rand.IntN(60000)))
				if err := sp.Send(src, node, pr); err != nil {
					return err
				}
				sent.Add(1)
			}
		}
	}
}

// ra is a challenge received.
type ra struct {
	nonce string
	at    time.Time
}

// challengeOf sends datagram from a until the node answers, and checks
// that the answer is a challenge (RA), not a registration.
func challengeOf(t *testing.T, a *agent, node netip.AddrPort, datagram string) ra {
	t.Helper()
	buf := make([]byte, 2048)
	for range wire.Attempts {
		a.send(node, datagram)
		a.conn.SetReadDeadline(time.Now().Add(wire.RetryInterval))
		k, from, err := a.conn.ReadFromUDPAddrPort(buf)
		for err == nil && from != node {
			// For an earlier holder of the port, from another test's node.
			k, from, err = a.conn.ReadFromUDPAddrPort(buf)
		}
		if err != nil {
			continue // lost in the flood
		}
		var c wire.AuthChallenge
		if err := c.Decode(buf[:k]); err != nil {
			t.Fatalf("%s from %v: answered %q, want a challenge", datagram, a.addr(), buf[:k])
		}
		return ra{c.Nonce, time.Now()}
	}
	t.Fatalf("%s from %v: no answer in %d attempts", datagram, a.addr(), wire.Attempts)
	return ra{}
}

func decodePA(t *testing.T, pa string) wire.AuthProof {
	t.Helper()
	var p wire.AuthProof
	if err := p.Decode([]byte(pa)); err != nil {
		t.Fatal(err)
	}
	return p
}

// lastPA is a plumi.DatagramLog that keeps the last PA sent.
type lastPA struct {
	mu sync.Mutex
	pa string
}

func (l *lastPA) Sent(_ netip.AddrPort, b []byte) {
	if bytes.HasPrefix(b, []byte(wire.TagAuthProof)) {
		l.mu.Lock()
		l.pa = string(b)
		l.mu.Unlock()
	}
}

func (l *lastPA) Received(netip.AddrPort, []byte) {}

func (l *lastPA) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pa
}

// countingWriter counts what is written to it and keeps the first 4 KiB.
type countingWriter struct {
	n    atomic.Int64
	mu   sync.Mutex
	keep []byte
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	w.mu.Lock()
	if len(w.keep) < 4<<10 {
		w.keep = append(w.keep, p...)
	}
	w.mu.Unlock()
	return len(p), nil
}

func (w *countingWriter) head() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.keep)
}
