package node

import (
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unsafe"

	"mi/lumi"
	"mi/wire"
)

// core is the node's state machine, without sockets or goroutines: each
// call takes one event (a datagram from a source at a time, a DNS answer, a
// sweep) and returns what to send and which domains to resolve. Its state
// is the table, whose shard locks make handle safe to call from every
// worker at once; each caller brings its own scratch.
type core struct {
	domain    string         // as configured
	domainKey string         // lower case, for comparisons
	self      netip.AddrPort // our own socket, when known: never forward to it
	ttl       time.Duration  // how long a forwarded PL waits for its RL
	log       *slog.Logger
	drops     *dropLog
	t         *table

	agentRate, peerRate *rateLimit // nil: no limit
	repeatGap           int64      // nanoseconds (Limits.RepeatGap)
	perShard            int        // locates in flight per pending shard
	probeWait           int64      // nanoseconds (Limits.ProbeWait)
	refuseFor           int64      // how long an answered check refuses takeovers
	guessLimit          int16      // Limits.GuessLimit
	guessWindow         int64      // nanoseconds (Limits.GuessWindow)
	freezeFor           int64      // nanoseconds (Limits.FreezeFor); negative: never frozen
	auth                *authState // nil: no user needs proof
	// cl is the domain's other nodes when it shares its bindings through
	// a store (-store); nil for a node alone, whose request path then
	// takes none of the branches that consult it.
	cl *clusterView
	// sourcePorts are the ports of the sockets that PLs to other domains'
	// nodes leave from, one drawn at random for each (sourceports.go);
	// none: they leave from the listening socket. peers is how those
	// nodes answer.
	sourcePorts []uint16
	peers       *sourcePeers
}

// scratch is what one goroutine's calls of the core reuse, so that a
// request allocates nothing.
type scratch struct {
	st       *counters // the goroutine's own
	out      outcome   // what handle did with its datagram
	d        wire.PLUMIDatagram
	buf      []byte // replies of one call, back to back
	sends    []send
	resolves []resolveRequest
	settles  []settleRequest // with a store: binding changes to write before answering
	key      []byte          // a folded name or pair of addresses
	rl       wire.LocateReply
	// in is the socket the goroutine reads: 0 the listening socket, i the
	// source port i (Node.readSource).
	in uint16
}

// newScratch returns a scratch that counts on st, or on counters of its
// own when st is nil.
func newScratch(st *counters) *scratch {
	if st == nil {
		st = new(counters)
	}
	return &scratch{st: st, buf: make([]byte, 0, 4*wire.PLUMIMax), key: make([]byte, 0, 4*wire.PLUMIMax)}
}

// send is one datagram to send. b points into the core's buffer and is
// valid until the next call.
type send struct {
	to netip.AddrPort
	b  []byte
	// via is the socket to send from: 0 the listening socket, i the
	// source port i.
	via uint16
}

// resolveRequest asks the owner to find the node of domain and then call
// resolved with the answer.
type resolveRequest struct {
	domain    string
	datagram  []byte // the PL to forward, a copy
	requester netip.AddrPort
	// failed is the node this locate went to last, which has not answered
	// it by the requester's retry: the node marks it down, so that the
	// retry goes to the domain's next target (RFC 3263, 4.3).
	failed netip.AddrPort
}

func newCore(cfg Config, ttl time.Duration, lim Limits, log *slog.Logger) *core {
	t := newTable(len(cfg.Users))
	for _, u := range cfg.Users {
		t.add(u)
	}
	return newCoreTable(cfg.Domain, t, ttl, lim, log)
}

// newCoreTable starts a core on a table already built (loadTable).
func newCoreTable(domain string, t *table, ttl time.Duration, lim Limits, log *slog.Logger) *core {
	lim = lim.withDefaults()
	return &core{
		domain:    domain,
		domainKey: strings.ToLower(domain),
		ttl:       ttl,
		log:       log,
		drops:     newDropLog(log),
		t:         t,
		agentRate: newRateLimit(lim.AgentRate),
		peerRate:  newRateLimit(lim.PeerRate),
		repeatGap: int64(lim.RepeatGap),
		perShard:  max(lim.MaxPending/shards, 1),
		probeWait: int64(lim.ProbeWait),
		refuseFor: int64(ttl),

		guessLimit:  int16(min(lim.GuessLimit, math.MaxInt16)),
		guessWindow: int64(lim.GuessWindow),
		freezeFor:   int64(lim.FreezeFor),
	}
}

func (c *core) ours(domain string) bool { return strings.EqualFold(domain, c.domainKey) }

// userKey folds user into the scratch key.
func (w *scratch) userKey(user string) []byte {
	w.key = fold(w.key[:0], user)
	return w.key
}

// keyOf is the pending key of the locate from -> to.
func (c *core) keyOf(w *scratch, from, to wire.Address) pendingKey {
	k := fold(w.key[:0], from.User)
	k = append(k, '@')
	k = fold(k, from.Domain)
	k = append(k, 0)
	k = fold(k, to.User)
	k = append(k, '@')
	k = fold(k, to.Domain)
	w.key = k
	return c.t.pendingKeyOf(k)
}

// reset starts the outputs of one call.
func (w *scratch) reset() {
	w.out = outNone
	w.buf = w.buf[:0]
	w.sends = w.sends[:0]
	w.resolves = w.resolves[:0]
	w.settles = w.settles[:0]
}

// queue queues for to the datagram that ends w.buf, from start.
func (w *scratch) queue(to netip.AddrPort, start int) {
	w.sends = append(w.sends, send{to: to, b: w.buf[start:len(w.buf):len(w.buf)]})
}

// forward queues the datagram b unchanged for to.
func (w *scratch) forward(to netip.AddrPort, b []byte) {
	start := len(w.buf)
	w.buf = append(w.buf, b...)
	w.queue(to, start)
}

// forwardFrom queues the datagram b unchanged for to, to send from the
// socket via (send.via).
func (w *scratch) forwardFrom(via uint16, to netip.AddrPort, b []byte) {
	w.forward(to, b)
	w.sends[len(w.sends)-1].via = via
}

// drop makes reason r the outcome of the datagram b from src, which
// counts it (scratch.count, or resolved for a PL dropped after its lookup),
// and says whether to log it in full (dropLog.note).
func (c *core) drop(w *scratch, r dropReason, src netip.AddrPort, b []byte) bool {
	w.out = outDropped + outcome(r)
	return c.drops.note(r, src, b)
}

// count counts the datagram just handled, of type tag, with its outcome.
func (w *scratch) count(tag string) {
	if i := wire.PLUMITagIndex(tag); i >= 0 {
		w.st.requests[i][w.out].Add(1)
	}
}

// reply queues one of the fieldless replies for to, as the outcome o of
// the datagram being handled.
func (w *scratch) reply(to netip.AddrPort, b []byte, o outcome) {
	w.out = o
	w.forward(to, b)
}

// locateReply queues an RL with code and no address for the locate m.
func (c *core) locateReply(w *scratch, to netip.AddrPort, code wire.LocateCode, m *wire.Locate) {
	w.out = locateOutcome(code)
	w.rl = wire.LocateReply{Code: code, From: m.From, To: m.To}
	start := len(w.buf)
	b, err := w.rl.Append(w.buf)
	if err != nil {
		// Every field comes from a decoded datagram, so this is a bug;
		// say so rather than send half a datagram.
		c.log.Error("cannot encode reply", "to", to, "err", err)
		return
	}
	w.buf = b
	w.queue(to, start)
}

// handle runs one datagram b received from src at now. The results are
// valid until w's next call; valid says whether b decoded. b is decoded in
// place: nothing handle keeps refers to it.
func (c *core) handle(w *scratch, b []byte, src netip.AddrPort, now time.Time) (_ []send, _ []resolveRequest, valid bool) {
	w.reset()
	d := &w.d
	if err := d.DecodeString(unsafeString(b)); err != nil {
		if c.drop(w, dropBad, src, b) {
			c.log.Warn("bad datagram dropped", "from", src, "datagram", shown(b), "err", err.Error())
		}
		w.st.requests[invalidType][w.out].Add(1)
		return nil, nil, false
	}
	if src == c.self {
		if c.drop(w, dropSelf, src, b) {
			c.log.Warn("datagram from this node's own socket dropped", "datagram", shown(b))
		}
		w.count(d.Tag)
		return nil, nil, true
	}
	switch d.Tag {
	case wire.TagRegister:
		c.register(w, d.Register.Addr, src, now)
	case wire.TagDeregister:
		c.deregister(w, d.Deregister.Addr, src, now)
	case wire.TagLocate:
		c.locate(w, &d.Locate, b, src, now)
	case wire.TagLocateReply:
		c.routeReply(w, &d.LocateReply, b, src, now)
	case wire.TagAuthProof:
		c.proof(w, &d.AuthProof, b, src, now)
	default:
		c.unserved(w, d.Tag, b, src)
	}
	w.count(d.Tag)
	return w.sends, w.resolves, true
}

// unserved logs the drop of a valid datagram whose type the node does not
// handle, saying by the type's role in the spec what it was.
func (c *core) unserved(w *scratch, tag string, b []byte, src netip.AddrPort) {
	if !c.drop(w, dropUnserved, src, b) {
		return
	}
	role, answers := wire.PLUMIRole(tag)
	if role == wire.RoleReply {
		c.log.Warn(unservedMsg(role), "tag", tag, "answers", answers, "from", src, "datagram", shown(b))
		return
	}
	c.log.Warn(unservedMsg(role), "tag", tag, "from", src, "datagram", shown(b))
}

// unservedMsg is the log message of a datagram dropped because the node
// does not handle its type, by the type's role.
func unservedMsg(role wire.Role) string {
	switch role {
	case wire.RoleRequest:
		return "request type not served here"
	case wire.RoleReply:
		return "reply sent to the node dropped"
	}
	return "message type not handled by the node dropped"
}

// The replies without fields, encoded once.
var (
	replyRR0 = mustAppend(&wire.RegisterReply{Code: wire.RegisterOK})
	replyRR1 = mustAppend(&wire.RegisterReply{Code: wire.RegisterRefused})
	replyRD0 = mustAppend(&wire.DeregisterReply{Code: wire.DeregisterOK})
	replyRD1 = mustAppend(&wire.DeregisterReply{Code: wire.DeregisterRefused})
	replyRR2 = mustAppend(&wire.RegisterReply{Code: wire.RegisterDenied})
	replyRD2 = mustAppend(&wire.DeregisterReply{Code: wire.DeregisterDenied})
)

func mustAppend(m wire.Message) []byte {
	b, err := m.Append(nil)
	if err != nil {
		panic(err)
	}
	return b
}

func (c *core) register(w *scratch, a wire.Address, src netip.AddrPort, now time.Time) {
	if c.needsProof(w, a) {
		c.challenge(w, wire.AuthOpRegister, a, src, now)
		return
	}
	var r registration
	ok := c.ours(a.Domain) && c.t.withUserShard(w.userKey(a.User), func(sh *userShard, u *userState) {
		r = c.registerUser(sh, u, src, now.UnixNano())
	})
	if !ok {
		if c.drops.note(dropUnknownUser, src, nil) {
			c.log.Info("registration refused: not a user of this domain", "addr", a.String(), "from", src)
		}
		w.reply(src, replyRR1, outRR1)
		return
	}
	if r.froze {
		c.frozenLog(w, r.name)
	}
	if r.settle {
		// The binding changes: the store says whether this PR wins, off
		// the reading goroutine; the answer comes then (Node.settle).
		w.out = outSettling
		w.settles = append(w.settles, settleRequest{name: r.name, agent: src, online: true, base: r.base, to: src, won: replyRR0, lost: replyRR1})
		if r.refuse.IsValid() {
			w.st.takeovers[takeoverRefused].Add(1)
			w.forward(r.refuse, replyRR1)
		}
		return
	}
	switch r.outcome {
	case regAccepted:
		if r.refuse.IsValid() {
			c.log.Warn("registration takeover refused: the registered agent registered again", "user", r.name, "agent", src, "refused", r.refuse)
			w.st.takeovers[takeoverRefused].Add(1)
			w.forward(r.refuse, replyRR1)
		}
		w.reply(src, replyRR0, outRR0)
	case regMoved:
		if c.probeWait >= 0 {
			c.log.Warn("registration moved: the registered agent did not answer the check", "user", r.name, "old", r.old, "new", src)
			w.st.takeovers[takeoverMoved].Add(1)
		}
		w.reply(src, replyRR0, outRR0)
	case regCheck:
		c.log.Info("registration from a new address: checking the registered agent", "user", r.name, "agent", r.old, "from", src)
		w.st.takeovers[takeoverStarted].Add(1)
		w.out = outCheck
		to, kind := r.old, toAgent
		if r.owner != ownerSelf {
			to, kind = c.cl.owner(r.owner).addr, toSibling // through the sibling that holds the agent
		}
		c.probe(w, r.name, to, kind, now)
	case regRefused:
		if c.drops.note(dropTakeover, src, nil) {
			c.log.Warn("registration takeover refused: the registered agent answers", "user", r.name, "agent", r.old, "from", src)
		}
		w.reply(src, replyRR1, outRR1)
	case regWait:
		// The check is in flight; the agent's retry gets the verdict.
		w.out = outCheckPending
	}
}

// needsProof says whether a PR or PD for a is answered with a challenge:
// the node holds a secret for that user of its domain.
func (c *core) needsProof(w *scratch, a wire.Address) bool {
	if c.auth == nil || !c.ours(a.Domain) {
		return false
	}
	if _, ok := c.auth.secret(a.User); !ok {
		return false
	}
	return c.t.withUser(w.userKey(a.User), func(*userState) {})
}

// registration is what a PR did to a user, for register to answer and log
// once the lock is released.
type registration struct {
	outcome registrationOutcome
	name    string
	old     netip.AddrPort // the registered agent before the PR
	refuse  netip.AddrPort // a takeover to refuse now
	owner   int16          // who holds the binding: the check goes to its agent here, or through the sibling
	// settle: with a store, the PR changes the binding, which is written
	// there (at version base) before it is taken and answered.
	settle bool
	base   uint64
	froze  bool // this PR froze the user (guess)
}

type registrationOutcome int

const (
	regAccepted registrationOutcome = iota // from the registered address, or the user was offline
	regMoved                               // the registered agent did not answer the check: src wins
	regCheck                               // a check of the registered agent starts
	regWait                                // a check is in flight
	regRefused                             // the registered agent answered the check
)

// registerUser decides a PR from src for u, under its shard's lock. A PR
// from the registered address, or for a user offline, is accepted at once.
// One from elsewhere for a user online starts a check (core.probe): the
// registered agent answering it refuses the takeover (routeReply), its
// silence for ProbeWait lets the new address in, at the sweep or at the new
// agent's retry, whichever comes first.
func (c *core) registerUser(sh *userShard, u *userState, src netip.AddrPort, now int64) registration {
	r := registration{name: u.name, old: u.agent(), owner: u.owner, base: u.version}
	online := u.online
	if c.cl != nil && u.owner != ownerSelf {
		// Held by a sibling, whose death frees it.
		online = online && c.ownerAlive(u)
	}
	tk, checking := sh.takeovers[u.name]
	switch {
	case !online || r.old == src:
		switch {
		case !checking:
		case online && !tk.refused:
			// The registered agent speaks while its check is in flight.
			r.refuse = tk.from
			sh.setTakeover(u.name, takeover{from: tk.from, expires: now + c.refuseFor, refused: true})
		case !online:
			delete(sh.takeovers, u.name)
		}
		c.take(u, src, now, &r)
		r.outcome = regAccepted
	case now < u.frozen:
		// Too many refused attempts from other addresses: no takeover.
		r.outcome, r.froze = regRefused, c.guess(u, now)
	case c.probeWait < 0: // no check: the new address wins at once
		c.take(u, src, now, &r)
		r.outcome = regMoved
	case !checking || (tk.refused && (now >= tk.expires || tk.from != src)):
		// A refusal holds against the address refused, not against an
		// agent of the user that comes back from a new one.
		sh.setTakeover(u.name, takeover{from: src, expires: now + c.probeWait})
		r.outcome = regCheck
	case tk.refused:
		r.outcome, r.froze = regRefused, c.guess(u, now)
	case now < tk.expires:
		r.outcome = regWait
	default:
		delete(sh.takeovers, u.name)
		c.take(u, src, now, &r)
		r.outcome = regMoved
	}
	return r
}

// take registers u at src: at once for a node alone; with a store the
// change is to be settled there first (r.settle). A refresh from the
// registered address at the node that holds it changes nothing.
func (c *core) take(u *userState, src netip.AddrPort, now int64, r *registration) {
	if u.owner == ownerSelf && u.online && u.agent() == src {
		// A refresh: the registration stands as it is. It is no sign of
		// life, as anyone can send it from the agent's address: only
		// answers to locates are (answered).
		return
	}
	if c.cl == nil {
		c.accept(u, src, now)
		return
	}
	r.settle = true
}

// accept registers u at src.
func (c *core) accept(u *userState, src netip.AddrPort, now int64) {
	u.online, u.silent, u.unanswered, u.lastSeen = true, false, 0, now
	u.setAgent(src)
}

// probe asks the agent at agent (or the sibling that holds it) whether it
// is alive: a PL for its own user, which every agent answers with an RL.
// The PL is recorded as a locate of the node's own, so that only its
// answer, from where it went and in time, counts (answered).
func (c *core) probe(w *scratch, name string, agent netip.AddrPort, kind forwardKind, now time.Time) {
	a := wire.Address{User: name, Domain: c.domain}
	p := pendingLocate{forwardedTo: agent, expires: now.Add(c.ttl).UnixNano(), user: name, kind: kind}
	if c.t.admit(c.keyOf(w, a, a), p, now.UnixNano(), c.repeatGap, c.perShard) != admitted {
		return // one in flight already, or no room: the takeover waits for its verdict anyway
	}
	pl := wire.Locate{From: a, To: a}
	start := len(w.buf)
	b, err := pl.Append(w.buf)
	if err != nil {
		c.log.Error("cannot encode the check of an agent", "user", name, "err", err)
		return
	}
	w.buf = b
	w.queue(agent, start)
}

func (c *core) deregister(w *scratch, a wire.Address, src netip.AddrPort, now time.Time) {
	if c.needsProof(w, a) {
		c.challenge(w, wire.AuthOpDeregister, a, src, now)
		return
	}
	var name string
	var agent netip.AddrPort
	var done bool
	var settle *settleRequest
	var froze, frozen bool
	t := now.UnixNano()
	ok := c.ours(a.Domain) && c.t.withUserShard(w.userKey(a.User), func(sh *userShard, u *userState) {
		name, agent = u.name, u.agent()
		// Only the agent the user registered from may take it offline,
		// at the node that holds it, and not while the user is frozen. The
		// address is kept after a PD, so a retried PD is answered RD0
		// again.
		if agent != src && u.agentPort != 0 {
			froze = c.guess(u, t)
		}
		if frozen = t < u.frozen; frozen || agent != src || u.owner != ownerSelf {
			return
		}
		if c.cl != nil && u.online {
			// With a store the change is settled there first.
			settle = &settleRequest{name: u.name, agent: src, online: false, base: u.version, to: src, won: replyRD0, lost: replyRD1}
			return
		}
		u.online, u.silent, u.unanswered, u.lastSeen = false, false, 0, now.UnixNano()
		delete(sh.takeovers, u.name) // a new address may register at once
		done = true
	})
	if settle != nil {
		w.out = outSettling
		w.settles = append(w.settles, *settle)
		return
	}
	if froze {
		c.frozenLog(w, name)
	}
	switch {
	case !ok:
		if c.drops.note(dropUnknownUser, src, nil) {
			c.log.Info("deregistration refused: not a user of this domain", "addr", a.String(), "from", src)
		}
	case frozen:
		// Said once, when it froze.
	case !done:
		if c.drops.note(dropRefusedPD, src, nil) {
			c.log.Warn("deregistration refused: not from the user's registered address", "user", name, "agent", agent, "from", src)
		}
	default:
		w.reply(src, replyRD0, outRD0)
		return
	}
	w.reply(src, replyRD1, outRD1)
}

func (c *core) locate(w *scratch, m *wire.Locate, b []byte, src netip.AddrPort, now time.Time) {
	fromUs, toUs := c.ours(m.From.Domain), c.ours(m.To.Domain)
	// A sibling relays only PLs for the users it does not hold, and is
	// believed for the domain's askers (docs/cluster.md).
	sib := c.cl != nil && c.cl.isSibling(src)
	switch {
	case !toUs && (!fromUs || sib):
		if c.drop(w, dropRelay, src, b) {
			c.log.Warn("PL between two other domains dropped: this node is no relay", "from", src, "datagram", shown(b))
		}
		return
	case fromUs && !sib && !c.isAgent(w, m.From.User, src):
		// Whoever claims to be one of our users must be at its
		// registered address: else the target's agent would believe a
		// stranger, and the stranger would learn where it chats.
		if c.drop(w, dropForged, src, b) {
			c.log.Warn("PL dropped: its asker is a user of this domain registered elsewhere or not at all", "from", src, "datagram", shown(b))
		}
		return
	case !sib && !c.rateFor(fromUs).allow(src, now.UnixNano()):
		w.st.rateLimited[limitOf(fromUs)].Add(1)
		if c.drop(w, dropRate, src, b) {
			c.log.Warn("PL dropped: its source sends more than its rate", "from", src, "datagram", shown(b))
		}
		return
	case toUs:
		c.locateHere(w, m, b, src, sib, now)
	default:
		c.locateRemote(w, m, b, src, now)
	}
}

// locateRemote sends a PL of one of our agents for another domain on: it
// asks for that domain's node to be found off the request path, and then
// forwards it (resolved). A retry of a locate the last target did not
// answer says which, for the failover; a repeat too soon goes no further.
// The request keeps copies: b is a reused buffer.
func (c *core) locateRemote(w *scratch, m *wire.Locate, b []byte, src netip.AddrPort, now time.Time) {
	failed, repeat := c.t.retryOf(c.keyOf(w, m.From, m.To), src, now.UnixNano(), c.repeatGap)
	if repeat {
		if c.drop(w, dropRepeat, src, b) {
			c.log.Info("PL not forwarded again: the same locate was forwarded just before", "from", src, "datagram", shown(b))
		}
		return
	}
	if failed.IsValid() {
		c.log.Warn("failover: the node of a domain left a locate unanswered until its retry; it is marked down, and the retry goes to the next target if there is one", "domain", m.To.Domain, "node", failed, "datagram", shown(b))
	}
	w.out = outResolving
	w.resolves = append(w.resolves, resolveRequest{
		domain:    strings.Clone(m.To.Domain),
		datagram:  slices.Clone(b),
		requester: src,
		failed:    failed,
	})
}

// limitOf is the kind of the rate limit of PLs whose asker is one of
// ours, or not.
func limitOf(fromUs bool) limitKind {
	if fromUs {
		return limitAgent
	}
	return limitPeer
}

// rateFor is the rate limit of PLs whose asker is one of ours, or not.
func (c *core) rateFor(fromUs bool) *rateLimit {
	if fromUs {
		return c.agentRate
	}
	return c.peerRate
}

// isAgent says whether src is where user of this domain registered (and
// may since have deregistered from).
func (c *core) isAgent(w *scratch, user string, src netip.AddrPort) bool {
	is := false
	c.t.withUser(w.userKey(user), func(u *userState) { is = u.agentPort != 0 && u.agent() == src })
	return is
}

// locateHere answers or forwards a PL for one of our users, whoever asks;
// sib says it came from a sibling.
func (c *core) locateHere(w *scratch, m *wire.Locate, b []byte, src netip.AddrPort, sib bool, now time.Time) {
	var (
		agent  netip.AddrPort
		online bool
		name   string
		owner  int16
	)
	known := c.t.withUser(w.userKey(m.To.User), func(u *userState) {
		agent, online, name, owner = u.agent(), u.online, u.name, u.owner
	})
	switch {
	case !known:
		c.locateReply(w, src, wire.LocateUnknown, m)
	case owner != ownerSelf:
		c.locateOwned(w, m, b, src, sib, owner, online, now)
	case !online:
		c.locateReply(w, src, wire.LocateOffline, m)
	default:
		c.forwardLocate(w, m, b, src, agent, name, toAgent, now)
	}
}

// locateOwned relays a PL for a user whose agent registered at a sibling
// to that sibling, which alone speaks to the agent; its RL comes back as
// another domain's would. A dead sibling's users are offline, and a PL
// that a sibling relayed is never relayed on (their views differ for a
// moment: the feed settles it).
func (c *core) locateOwned(w *scratch, m *wire.Locate, b []byte, src netip.AddrPort, sib bool, owner int16, online bool, now time.Time) {
	o := c.cl.owner(owner)
	if sib || !online || !o.alive || !o.addr.IsValid() {
		c.locateReply(w, src, wire.LocateOffline, m)
		return
	}
	c.forwardLocate(w, m, b, src, o.addr, "", toSibling, now)
}

// forwardLocate forwards the PL b to to, of kind, and records it to route
// its RL back to requester; user is the target's name when to is its agent.
func (c *core) forwardLocate(w *scratch, m *wire.Locate, b []byte, requester, to netip.AddrPort, user string, kind forwardKind, now time.Time) {
	p := pendingLocate{forwardedTo: to, requester: requester, expires: now.Add(c.ttl).UnixNano(), user: user, kind: kind}
	if kind == toDomain && len(c.sourcePorts) > 0 {
		// A source port drawn anew for each PL, its retries too, with
		// math/rand/v2's generator: ChaCha8, one per thread, seeded by
		// the kernel's random bytes.
		p.via = uint16(1 + rand.IntN(len(c.sourcePorts)))
	}
	switch c.t.admit(c.keyOf(w, m.From, m.To), p, now.UnixNano(), c.repeatGap, c.perShard) {
	case admitted:
		w.out = outForwarded
		w.st.forwarded[kind].Add(1)
		w.forwardFrom(p.via, to, b)
	case admitRepeat:
		if c.drop(w, dropRepeat, requester, b) {
			c.log.Info("PL not forwarded again: the same locate was forwarded just before", "from", requester, "datagram", shown(b))
		}
	case admitFull:
		if c.drop(w, dropFull, requester, b) {
			c.log.Warn("PL dropped: too many locates in flight", "from", requester, "datagram", shown(b))
		}
	}
}

// resolved goes on with a PL of ours for another domain once that domain's
// node is known (ap) or is known not to be found (err).
func (c *core) resolved(w *scratch, r resolveRequest, ap netip.AddrPort, err error, now time.Time) []send {
	w.reset()
	if err := w.d.Decode(r.datagram); err != nil || w.d.Tag != wire.TagLocate {
		c.log.Error("resolved a datagram that is not a PL", "datagram", shown(r.datagram), "err", err)
		return nil
	}
	m := &w.d.Locate
	switch {
	case err != nil:
		// RL2 is all the protocol can say; the log says why.
		c.log.Warn("cannot find the node of a domain; PL answered RL2", "domain", r.domain, "reason", lookupReason(err), "err", err)
		c.locateReply(w, r.requester, wire.LocateUnknown, m)
	case ap == c.self || !ap.IsValid():
		c.log.Warn("domain resolves to this node itself", "domain", r.domain, "addr", ap)
		c.locateReply(w, r.requester, wire.LocateUnknown, m)
	default:
		c.forwardLocate(w, m, r.datagram, r.requester, ap, "", toDomain, now)
		if w.out >= outDropped {
			// Its request was counted resolving when it came.
			w.st.lateDrops[w.out-outDropped].Add(1)
		}
	}
	return w.sends
}

// lookupReason is the word of why a domain's node was not found: lumi's,
// or the node's own refusal to look it up.
func lookupReason(err error) string {
	switch {
	case errors.Is(err, errLookups), errors.Is(err, errSourceLookups):
		return "lookup_refused"
	case lumi.Reason(err) != "":
		return lumi.Reason(err)
	}
	return "error"
}

// routeReply forwards an RL to whoever asked, if it answers a PL this node
// forwarded and comes from where the PL went, to the socket it left from
// (w.in): the PL's source port, or, from a node not known to answer there,
// the listening socket (sourceports.go). An RL that answers a locate
// forwarded to one of the domain's agents is the only sign of life the
// node takes from an agent (answered): anything else from its address
// could be anyone's.
func (c *core) routeReply(w *scratch, m *wire.LocateReply, b []byte, src netip.AddrPort, now time.Time) {
	t := now.UnixNano()
	k := c.keyOf(w, m.From, m.To)
	p, found, taken := c.t.takeReply(k, src, w.in, false, t)
	if found && !taken && w.in == 0 && p.via != 0 && p.forwardedTo == src && !c.peers.answersOnSource(src, t) {
		// Its PL left from a source port, but the node it went to has
		// not answered on one: it may answer on the listening port, as
		// the original C node does, and is believed there.
		if p, found, taken = c.t.takeReply(k, src, 0, true, t); taken {
			c.peers.routedOnListen(k, p, t)
		}
	}
	if taken && w.in != 0 && c.peers.sawOnSource(src, t) {
		c.log.Info("the node of a domain answers on the source port of its PL: its RLs on the listening port are refused from now on", "node", src, "port", c.portOf(w.in))
	}
	if taken && p.user != "" {
		c.answered(w, p, t)
	}
	switch {
	case taken && p.requester.IsValid():
		w.out = outForwarded
		w.st.routed.Add(1)
		w.forward(p.requester, b)
	case taken:
		// The answer to the node's own check of an agent (probe).
	case !found && w.in != 0 && c.peers.forged(k, src, w.in, t):
		c.drop(w, dropNoPL, src, b)
		c.log.Warn("an RL routed from the listening port was forged: the node it claimed to come from answers on the source port of its PL, and does so now; its RLs on the listening port are refused from now on", "node", src, "port", c.portOf(w.in), "datagram", shown(b))
	case !found:
		if c.drop(w, dropNoPL, src, b) {
			c.log.Warn("RL dropped: no PL forwarded for it", "from", src, "datagram", shown(b))
		}
		c.guessRL(w, m, src, now)
	case p.forwardedTo != src:
		if c.drop(w, dropWrongSource, src, b) {
			c.log.Warn("RL dropped: not from where its PL was forwarded", "from", src, "want", p.forwardedTo, "datagram", shown(b))
		}
		c.guessRL(w, m, src, now)
	default:
		if c.drop(w, dropWrongPort, src, b) {
			c.log.Warn("RL dropped: not on the port its PL left from", "from", src, "port", c.portOf(w.in), "want", c.portOf(p.via), "datagram", shown(b))
		}
	}
}

// portOf names the socket i for the log: the listening socket, or the
// source port i.
func (c *core) portOf(i uint16) any {
	if i == 0 {
		return "listening"
	}
	return c.sourcePorts[i-1]
}

// guessRL counts an RL that answered nothing, for its target if that is
// a user of this domain registered elsewhere: someone trying answers in
// its name.
func (c *core) guessRL(w *scratch, m *wire.LocateReply, src netip.AddrPort, now time.Time) {
	if !c.ours(m.To.Domain) {
		return
	}
	var froze bool
	var name string
	c.t.withUser(w.userKey(m.To.User), func(u *userState) {
		if u.agentPort != 0 && u.agent() != src {
			froze, name = c.guess(u, now.UnixNano()), u.name
		}
	})
	if froze {
		c.frozenLog(w, name)
	}
}

// guess counts, under u's lock, a refused request for u from an address
// other than its registered one, at now; GuessLimit of them within
// GuessWindow freeze u for FreezeFor, and each one more while it is frozen
// makes the freeze last. It says whether u was frozen by this one.
func (c *core) guess(u *userState, now int64) (froze bool) {
	if c.freezeFor < 0 {
		return false
	}
	if now-u.guessFrom > c.guessWindow {
		u.guesses, u.guessFrom = 0, now
	}
	if u.guesses < math.MaxInt16 {
		u.guesses++
	}
	if u.guesses >= c.guessLimit {
		froze = u.frozen <= now
		u.frozen = now + c.freezeFor
	}
	return froze
}

// frozenLog says once, when it begins, that a user's registration is
// frozen.
func (c *core) frozenLog(w *scratch, name string) {
	w.st.freezes.Add(1)
	c.log.Warn("registration frozen: too many refused requests for the user from other addresses; its PDs and takeovers are refused for a while", "user", name, "for", time.Duration(c.freezeFor))
}

// answered takes the RL to the locate p, which went to a user's agent (or
// to the sibling that holds it), as the agent's word: it clears the
// user's unanswered locates, brings back a user marked offline by silence,
// and refuses a takeover being checked.
func (c *core) answered(w *scratch, p pendingLocate, t int64) {
	var (
		name   string
		back   bool
		refuse netip.AddrPort
	)
	c.t.withUserShard(w.userKey(p.user), func(sh *userShard, u *userState) {
		here := u.owner == ownerSelf && u.agentPort != 0 && u.agent() == p.forwardedTo
		via := c.cl != nil && u.owner != ownerSelf && c.cl.owner(u.owner).addr == p.forwardedTo
		if !here && !via {
			return
		}
		name = u.name
		if here {
			u.unanswered, u.lastSeen = 0, t
			if u.silent {
				u.online, u.silent, back = true, false, true
			}
		}
		if tk, ok := sh.takeovers[u.name]; ok && !tk.refused && u.online {
			refuse = tk.from
			sh.setTakeover(u.name, takeover{from: tk.from, expires: t + c.refuseFor, refused: true})
		}
	})
	if back {
		c.log.Info("user back online: its agent answered", "user", name, "agent", p.forwardedTo)
	}
	if refuse.IsValid() {
		c.log.Warn("registration takeover refused: the registered agent answers", "user", name, "agent", p.forwardedTo, "refused", refuse)
		w.st.takeovers[takeoverRefused].Add(1)
		w.forward(refuse, replyRR1)
	}
}

// sweep ends what has waited too long at now: the locates nobody answered,
// which count against their target's agent (silence), the takeover checks
// (a silent agent loses its registration to the new address, which is sent
// RR0), the rate limits' idle sources and the drop log's window. It
// returns what to send, and whether tables that a flood had grown were
// rebuilt smaller (so that the memory can go back to the system).
func (c *core) sweep(w *scratch, now time.Time) (_ []send, shrunk bool) {
	w.reset()
	t := now.UnixNano()
	unanswered, shrunk := c.t.sweep(t, &w.st.unanswered)
	for _, p := range unanswered {
		c.silence(w, p)
	}
	type move struct {
		name     string
		old, new netip.AddrPort
		base     uint64
	}
	var moves []move
	c.t.eachTakeover(func(sh *userShard, name string, tk takeover) bool {
		if tk.expires > t {
			return true
		}
		if u := sh.byName(name); u != nil && !tk.refused {
			moves = append(moves, move{name, u.agent(), tk.from, u.version})
			if c.cl == nil {
				c.accept(u, tk.from, t)
			}
		}
		return false
	})
	for _, m := range moves {
		c.log.Warn("registration moved: the registered agent did not answer the check", "user", m.name, "old", m.old, "new", m.new)
		w.st.takeovers[takeoverMoved].Add(1)
		if c.cl != nil {
			w.settles = append(w.settles, settleRequest{name: m.name, agent: m.new, online: true, base: m.base, to: m.new, won: replyRR0, lost: replyRR1})
			continue
		}
		w.forward(m.new, replyRR0)
	}
	c.auth.sweep(t)
	if c.agentRate.sweep(t) {
		shrunk = true
	}
	if c.peerRate.sweep(t) {
		shrunk = true
	}
	c.drops.flush(now)
	return w.sends, shrunk
}

// silence counts a locate that went to a user's agent and ended with no
// word from it since it began; OfflineAfter of them in a row mark the user
// offline. A burst of PLs or a lossy link cannot do that: a burst is one
// locate (admit), and any RL or PR from the agent starts the count again.
func (c *core) silence(w *scratch, p pendingLocate) {
	var off, counted bool
	var n int16
	var base uint64
	c.t.withUser(w.userKey(p.user), func(u *userState) {
		if !u.online || u.owner != ownerSelf || u.agent() != p.forwardedTo || u.lastSeen > p.since {
			return
		}
		u.unanswered++
		n, counted = u.unanswered, true
		if u.unanswered >= wire.OfflineAfter {
			u.online, u.silent, u.unanswered = false, true, 0
			off, base = true, u.version
		}
	})
	if off && c.cl != nil {
		// The other nodes learn it from the store, and answer RL3 too.
		w.settles = append(w.settles, settleRequest{name: p.user, agent: p.forwardedTo, online: false, base: base})
	}
	if counted {
		c.log.Debug("locate ended with no word from the agent", "user", p.user, "agent", p.forwardedTo, "unanswered", n)
	}
	if off {
		c.log.Info("user marked offline: locates unanswered", "user", p.user, "agent", p.forwardedTo, "unanswered", wire.OfflineAfter)
	}
}

// unsafeString is b as a string without a copy, for decoding in place. The string
// changes when b does, so nothing made from it may outlive the call that
// decodes it: what the core keeps it copies, and what it logs is copied by
// the log call.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
