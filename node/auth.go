package node

import (
	"hash/maphash"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mi/internal/auth"
	"mi/wire"
)

// authState is the node's side of authenticated registration
// (spec/mi.spec, "Authenticated registration"): the users it requires proof
// of, and the nonces their proofs have spent. It is off (nil) when the node
// holds no secret.
//
// A challenge (RA) leaves nothing behind: its nonce carries its own proof
// (auth.Nonces), bound to the source it was sent to, the user, the op and
// the time, so that RAs sent to spoofed sources fill nothing. A PA is
// served when its nonce checks out for its source and its mac holds the
// user's secret; only then is the nonce remembered as spent, with the
// answer, until it would expire anyway: a retransmitted PA gets the same
// answer, and the same PA replayed does nothing more. Spending needs the
// secret, and each user may have at most maxSpent nonces spent at once,
// so the state grows with the users who prove themselves, never with the
// datagrams.
type authState struct {
	users  map[string]*authUser // by lower-case name; the map is read only
	nonces *auth.Nonces
	// limit bounds the RAs to one source (an RA is longer than its PR),
	// guesses the PAs whose mac one source makes the node check: as many
	// as it could answer when each RA took one guess.
	limit, guesses *sourceLimit

	mu     sync.Mutex
	active map[*authUser]struct{} // users with spent nonces, for the sweep
}

// authUser is a user the node requires proof of.
type authUser struct {
	name   string // lower case: what the nonces are bound to
	secret []byte

	mu    sync.Mutex
	spent []spentNonce // at most maxSpent
}

// spentNonce is a nonce a PA with the right mac has spent, and its answer,
// sent again if the same PA comes again.
type spentNonce struct {
	nonce   string
	src     netip.AddrPort
	expires int64  // unix nanoseconds: when the nonce no longer checks out
	pa      []byte // the PA that spent it
	answer  []byte // nil while that PA is being served
}

// maxSpent bounds the nonces one user can have spent at once (within
// wire.AuthNonceTTL): an agent spends one per registration, refresh or
// deregistration. Past it a PA with the right mac is dropped until some
// expire; only the user's secret can get there. The node's memory for
// spent nonces is at most maxSpent entries of at most a PA each per user
// with a secret.
const maxSpent = 16

// challengeRate is how many RAs a second one source gets, and how many
// PAs of one source a second the node checks the mac of.
const challengeRate = 5

func newAuthState(secrets map[string][]byte) *authState {
	if len(secrets) == 0 {
		return nil
	}
	a := &authState{
		users:   make(map[string]*authUser, len(secrets)),
		nonces:  auth.NewNonces(),
		limit:   newSourceLimit(challengeRate),
		guesses: newSourceLimit(challengeRate),
		active:  make(map[*authUser]struct{}),
	}
	for name, secret := range secrets {
		name = strings.ToLower(name)
		a.users[name] = &authUser{name: name, secret: secret}
	}
	return a
}

// user returns the user whose name is user, if the node requires proof of
// it.
func (a *authState) user(user string) (*authUser, bool) {
	if a == nil {
		return nil, false
	}
	u, ok := a.users[strings.ToLower(user)]
	return u, ok
}

// secret returns the secret of user, if the node requires proof of it.
func (a *authState) secret(user string) ([]byte, bool) {
	u, ok := a.user(user)
	if !ok {
		return nil, false
	}
	return u.secret, true
}

// challenge answers a PR or PD of addr from src, which needs proof, with an
// RA carrying a nonce made for src, the user and op at now.
func (c *core) challenge(w *scratch, op wire.AuthOp, addr wire.Address, src netip.AddrPort, now time.Time) {
	a := c.auth
	if !a.limit.allow(src, now.UnixNano()) {
		w.st.challenges[challengeLimited].Add(1)
		w.st.rateLimited[limitChallenge].Add(1)
		if c.drop(w, dropRate, src, nil) {
			c.log.Warn("challenge not sent: its source asks more than its rate", "from", src, "addr", addr.String())
		}
		return
	}
	u, _ := a.user(addr.User)
	ra := wire.AuthChallenge{Op: op, Addr: addr, Nonce: u.nonce(a.nonces, src, op, now)}
	start := len(w.buf)
	b, err := ra.Append(w.buf)
	if err != nil {
		// An address that decoded encodes again, so this is a bug; say
		// so, a few times a window, rather than send half a datagram.
		if c.drops.note(dropChallengeUnsent, src, nil) {
			c.log.Error("cannot encode a challenge", "from", src, "addr", addr.String(), "err", err)
		}
		return
	}
	w.buf = b
	w.st.challenges[challengeSent].Add(1)
	w.out = outChallenged
	w.queue(src, start)
}

// nonce returns a nonce for an RA of op to src at now, that no PA of u has
// spent: the same source, user and op in the same millisecond make the
// same nonce, so one made just after a proof spent it is made a
// millisecond later instead.
func (u *authUser) nonce(n *auth.Nonces, src netip.AddrPort, op wire.AuthOp, now time.Time) string {
	for {
		nonce := n.Make(src, u.name, op, now)
		u.mu.Lock()
		spent := u.find(nonce, src) >= 0
		u.mu.Unlock()
		if !spent {
			return nonce
		}
		now = now.Add(time.Millisecond)
	}
}

// find returns the index of the spent nonce from src, or -1. u.mu is held.
func (u *authUser) find(nonce string, src netip.AddrPort) int {
	for i := range u.spent {
		if u.spent[i].nonce == nonce && u.spent[i].src == src {
			return i
		}
	}
	return -1
}

// proof serves a PA. Its nonce must check out for its source, user and op
// (auth.Nonces.Check); else the PA gets a fresh RA when the user needs
// proof, and nothing otherwise. The same PA as one that spent its nonce
// gets the same answer again; another PA with a spent nonce gets a fresh
// RA. Otherwise a right mac does what the PR or PD asked and spends the
// nonce; a wrong one is answered Denied, which spends nothing and changes
// nothing: the guesses one source makes are limited by rate instead.
func (c *core) proof(w *scratch, m *wire.AuthProof, b []byte, src netip.AddrPort, now time.Time) {
	a := c.auth
	u, needed := a.user(m.Addr.User)
	if !needed || !c.ours(m.Addr.Domain) {
		c.unserved(w, wire.TagAuthProof, b, src)
		return
	}
	made, ok := a.nonces.Check(m.Nonce, src, u.name, m.Op, now)
	if !ok {
		w.st.proofs[proofStale].Add(1)
		c.challenge(w, m.Op, m.Addr, src, now)
		return
	}
	u.mu.Lock()
	var again []byte
	i := u.find(m.Nonce, src)
	same := i >= 0 && string(u.spent[i].pa) == string(b)
	if same {
		again = u.spent[i].answer
	}
	u.mu.Unlock()
	switch {
	case again != nil:
		w.st.proofs[proofAgain].Add(1)
		w.reply(src, again, replyOutcome(again))
		return
	case same:
		return // another worker serves the same PA: its answer is on its way
	case i >= 0:
		w.st.proofs[proofStale].Add(1)
		c.challenge(w, m.Op, m.Addr, src, now)
		return
	}
	t := now.UnixNano()
	if !a.guesses.allow(src, t) {
		w.st.rateLimited[limitChallenge].Add(1)
		if c.drop(w, dropRate, src, b) {
			c.log.Warn("proof not checked: its source sends more than its rate", "from", src, "addr", m.Addr.String())
		}
		return
	}
	register := m.Op == wire.AuthOpRegister
	if !auth.Verify(u.secret, m) {
		w.st.proofs[proofInvalid].Add(1)
		if c.drops.note(dropProofDenied, src, nil) {
			c.log.Warn("proof refused: its mac does not hold the user's secret", "addr", m.Addr.String(), "from", src)
		}
		if register {
			w.reply(src, replyRR2, outRR2)
		} else {
			w.reply(src, replyRD2, outRD2)
		}
		return
	}
	if !a.spend(u, m.Nonce, src, b, made.Add(wire.AuthNonceTTL).UnixNano(), t) {
		if c.drops.note(dropProofFull, src, nil) {
			c.log.Warn("proof not served: the user has spent as many nonces as it may at once", "addr", m.Addr.String(), "from", src, "max", maxSpent)
		}
		return
	}
	w.st.proofs[proofValid].Add(1)
	answer := c.proven(w, m, src, now)
	u.mu.Lock()
	if i := u.find(m.Nonce, src); i >= 0 {
		u.spent[i].answer = answer
	}
	u.mu.Unlock()
	w.reply(src, answer, replyOutcome(answer))
}

// spend records that the PA pa from src spent nonce, which expires at
// expires, before the PA is served; it says no when the nonce is spent
// already (a worker serves the same PA) or u has spent maxSpent.
func (a *authState) spend(u *authUser, nonce string, src netip.AddrPort, pa []byte, expires, now int64) bool {
	u.mu.Lock()
	if u.find(nonce, src) >= 0 {
		u.mu.Unlock()
		return false
	}
	u.spent = u.expire(now)
	full := len(u.spent) >= maxSpent
	if !full {
		u.spent = append(u.spent, spentNonce{nonce: strings.Clone(nonce), src: src, expires: expires, pa: append([]byte(nil), pa...)})
	}
	u.mu.Unlock()
	if !full {
		a.mu.Lock()
		a.active[u] = struct{}{}
		a.mu.Unlock()
	}
	return !full
}

// expire returns u's spent nonces without those expired at now. u.mu is
// held.
func (u *authUser) expire(now int64) []spentNonce {
	kept := u.spent[:0]
	for _, s := range u.spent {
		if s.expires > now {
			kept = append(kept, s)
		}
	}
	clear(u.spent[len(kept):])
	return kept
}

// proven does what a PA with the right mac asks, and returns the answer.
func (c *core) proven(w *scratch, m *wire.AuthProof, src netip.AddrPort, now time.Time) []byte {
	register := m.Op == wire.AuthOpRegister
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

// sweep forgets the spent nonces past their time and ends the event log's
// window.
func (a *authState) sweep(now int64) {
	if a == nil {
		return
	}
	a.mu.Lock()
	for u := range a.active {
		u.mu.Lock()
		u.spent = u.expire(now)
		if len(u.spent) == 0 {
			u.spent = nil
			delete(a.active, u)
		}
		u.mu.Unlock()
	}
	a.mu.Unlock()
}

// sourceLimit lets each source send rate datagrams a second, in bursts of
// up to 2*rate, with a fixed table of cells (GCRA: each holds when its
// next datagram is due) indexed by a keyed hash of the source. A flood
// from spoofed sources neither grows it nor spends a budget that sources
// new to it share, as a table of the sources seen does once full
// (rateLimit): a source shares its cell with those that hash to it, one
// in limitCells of the flood, under one datagram a second at 50,000 a
// second. Lock free: a cell changes by compare-and-swap.
type sourceLimit struct {
	seed      maphash.Seed
	interval  int64 // nanoseconds between two datagrams at the rate
	tolerance int64 // how far past now a cell may be due: the burst
	cells     []atomic.Int64
}

// limitCells is the size of a sourceLimit's table: 512 KiB.
const limitCells = 1 << 16

func newSourceLimit(rate float64) *sourceLimit {
	interval := int64(float64(time.Second) / rate)
	return &sourceLimit{seed: maphash.MakeSeed(), interval: interval, tolerance: (2*int64(rate) - 1) * interval,
		cells: make([]atomic.Int64, limitCells)}
}

// allow says whether src may send a datagram at now, and counts it.
func (l *sourceLimit) allow(src netip.AddrPort, now int64) bool {
	var b [18]byte
	a := src.Addr().As16()
	copy(b[:], a[:])
	b[16], b[17] = byte(src.Port()>>8), byte(src.Port())
	c := &l.cells[maphash.Bytes(l.seed, b[:])%limitCells]
	for {
		due := c.Load()
		next := max(due, now)
		if next-now > l.tolerance {
			return false
		}
		if c.CompareAndSwap(due, next+l.interval) {
			return true
		}
	}
}
