package node

import (
	"net/netip"
	"strings"
	"sync"
	"time"

	"mi/internal/auth"
	"mi/wire"
)

// authState is the node's side of authenticated registration
// (spec/mi.spec, "Authenticated registration"): the users it requires proof
// of, and the challenges (RA) it has sent and not yet seen spent. It is off
// (nil) when the node holds no secret. The path is rare, so one lock will
// do.
type authState struct {
	secrets map[string][]byte // by lower-case user name; read only
	limit   *rateLimit        // RAs per source: an RA is longer than its PR

	mu         sync.Mutex
	challenges map[challengeKey]*challenge
}

// challengeKey is what a nonce is bound to: the source it was sent to, the
// user and the op.
type challengeKey struct {
	src  netip.AddrPort
	user string // lower case
	op   wire.AuthOp
}

// challenge is a nonce sent in an RA and, once a PA has spent it, the PA
// and its answer, sent again if the same PA comes again.
type challenge struct {
	nonce   string
	expires int64 // unix nanoseconds
	pa      []byte
	answer  []byte
}

// maxChallenges bounds the challenges held; past it new PRs of users who
// need proof go unanswered until some expire.
const maxChallenges = 1 << 16

// challengeRate is how many RAs a second one source gets.
const challengeRate = 5

func newAuthState(secrets map[string][]byte) *authState {
	if len(secrets) == 0 {
		return nil
	}
	return &authState{secrets: secrets, limit: newRateLimit(challengeRate), challenges: make(map[challengeKey]*challenge)}
}

// secret returns the secret of user, if the node requires proof of it.
func (a *authState) secret(user string) ([]byte, bool) {
	if a == nil {
		return nil, false
	}
	s, ok := a.secrets[strings.ToLower(user)]
	return s, ok
}

// challenge answers a PR or PD of addr from src, which needs proof, with an
// RA carrying a fresh nonce.
func (c *core) challenge(w *scratch, op wire.AuthOp, addr wire.Address, src netip.AddrPort, now time.Time) {
	a := c.auth
	t := now.UnixNano()
	if !a.limit.allow(src, t) {
		w.st.challenges[challengeLimited].Add(1)
		w.st.rateLimited[limitChallenge].Add(1)
		if c.drop(w, dropRate, src, nil) {
			c.log.Warn("challenge not sent: its source asks more than its rate", "from", src, "addr", addr.String())
		}
		return
	}
	ra := wire.AuthChallenge{Op: op, Addr: addr, Nonce: auth.NewNonce()}
	// A copy: addr may be a view of the read buffer (core.handle).
	k := challengeKey{src: src, user: strings.Clone(strings.ToLower(addr.User)), op: op}
	a.mu.Lock()
	full := len(a.challenges) >= maxChallenges
	if !full {
		a.challenges[k] = &challenge{nonce: ra.Nonce, expires: t + int64(wire.AuthNonceTTL)}
	}
	a.mu.Unlock()
	if full {
		w.st.challenges[challengeFull].Add(1)
		if c.drop(w, dropChallenges, src, nil) {
			c.log.Warn("challenge not sent: too many in flight", "from", src, "addr", addr.String())
		}
		return
	}
	start := len(w.buf)
	b, err := ra.Append(w.buf)
	if err != nil {
		c.log.Error("cannot encode a challenge", "addr", addr.String(), "err", err)
		return
	}
	w.buf = b
	w.st.challenges[challengeSent].Add(1)
	w.out = outChallenged
	w.queue(src, start)
}

// proof serves a PA: with the nonce the node sent src for that user and op,
// and the right mac, it does what the PR or PD asked; with a wrong mac it
// answers Denied. Either answer spends the nonce, and the same PA again
// gets the same answer. A PA the node holds no nonce for gets a fresh RA
// when the user needs proof, and nothing otherwise.
func (c *core) proof(w *scratch, m *wire.AuthProof, b []byte, src netip.AddrPort, now time.Time) {
	secret, needed := c.auth.secret(m.Addr.User)
	if !needed || !c.ours(m.Addr.Domain) {
		c.unserved(w, wire.TagAuthProof, b, src)
		return
	}
	t := now.UnixNano()
	k := challengeKey{src: src, user: strings.ToLower(m.Addr.User), op: m.Op}
	a := c.auth
	a.mu.Lock()
	ch, ok := a.challenges[k]
	if ok && (ch.nonce != m.Nonce || ch.expires <= t) {
		ok = false
	}
	var again []byte
	if ok && ch.answer != nil && string(ch.pa) == string(b) {
		again = ch.answer
	}
	a.mu.Unlock()
	switch {
	case again != nil:
		w.st.proofs[proofAgain].Add(1)
		w.reply(src, again, replyOutcome(again))
		return
	case !ok || ch.answer != nil:
		w.st.proofs[proofStale].Add(1)
		c.challenge(w, m.Op, m.Addr, src, now)
		return
	}
	valid := auth.Verify(secret, m)
	if valid {
		w.st.proofs[proofValid].Add(1)
	} else {
		w.st.proofs[proofInvalid].Add(1)
	}
	answer := c.proven(w, m, src, now, valid)
	a.mu.Lock()
	ch.pa, ch.answer = append([]byte(nil), b...), answer
	a.mu.Unlock()
	w.reply(src, answer, replyOutcome(answer))
}

// proven does what a PA asks once its mac is checked, and returns the
// answer.
func (c *core) proven(w *scratch, m *wire.AuthProof, src netip.AddrPort, now time.Time, valid bool) []byte {
	register := m.Op == wire.AuthOpRegister
	if !valid {
		c.log.Warn("proof refused: its mac does not hold the user's secret", "addr", m.Addr.String(), "from", src)
		if register {
			return replyRR2
		}
		return replyRD2
	}
	t := now.UnixNano()
	found := c.t.withUserShard(w.userKey(m.Addr.User), func(sh *userShard, u *userState) {
		// The proof is the user's word: it wins over any registration,
		// with no check of the agent registered before.
		delete(sh.takeovers, u.name)
		if register {
			c.accept(u, src, t)
		} else {
			u.online, u.silent, u.unanswered, u.lastSeen = false, false, 0, t
		}
	})
	switch {
	case !found && register:
		return replyRR1
	case !found:
		return replyRD1
	case register:
		c.log.Info("registered with proof", "addr", m.Addr.String(), "from", src)
		return replyRR0
	}
	c.log.Info("deregistered with proof", "addr", m.Addr.String(), "from", src)
	return replyRD0
}

// sweep forgets the challenges past their time.
func (a *authState) sweep(now int64) {
	if a == nil {
		return
	}
	a.mu.Lock()
	for k, ch := range a.challenges {
		if ch.expires <= now {
			delete(a.challenges, k)
		}
	}
	a.mu.Unlock()
	a.limit.sweep(now)
}
