package node

import (
	"net/netip"
	"strings"
	"testing"

	"mi/internal/auth"
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
	// A wrong mac is denied and spends the nonce.
	nonce = h.challenged("PRu1@bb.com", intruder, wire.AuthOpRegister)
	bad := proof(t, wire.AuthOpRegister, nonce, []byte("a guess, long enough!"))
	h.expect(bad, intruder, to(intruder, "RR2"))
	h.expect(bad, intruder, to(intruder, "RR2"))
	h.challenged(proof(t, wire.AuthOpRegister, nonce, u1Secret), intruder, wire.AuthOpRegister)
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
	h.now = h.now.Add(wire.AuthNonceTTL)
	h.sweep()
	h.challenged(proof(t, wire.AuthOpRegister, nonce, u1Secret), agentU1, wire.AuthOpRegister)
	h.checkTable(map[string]view{"u1": {}, "u2": {}, "Laura": {}})
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
