package node

import (
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unsafe"

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
}

// scratch is what one goroutine's calls of the core reuse, so that a
// request allocates nothing.
type scratch struct {
	d        wire.PLUMIDatagram
	buf      []byte // replies of one call, back to back
	sends    []send
	resolves []resolveRequest
	key      []byte // a folded name or pair of addresses
	rl       wire.LocateReply
}

func newScratch() *scratch {
	return &scratch{buf: make([]byte, 0, 4*wire.PLUMIMax), key: make([]byte, 0, 4*wire.PLUMIMax)}
}

// send is one datagram to send. b points into the core's buffer and is
// valid until the next call.
type send struct {
	to netip.AddrPort
	b  []byte
}

// resolveRequest asks the owner to find the node of domain and then call
// resolved with the answer.
type resolveRequest struct {
	domain    string
	datagram  []byte // the PL to forward, a copy
	requester netip.AddrPort
}

func newCore(cfg Config, ttl time.Duration, log *slog.Logger) *core {
	t := newTable(len(cfg.Users))
	for _, u := range cfg.Users {
		t.add(u)
	}
	return newCoreTable(cfg.Domain, t, ttl, log)
}

// newCoreTable starts a core on a table already built (loadTable).
func newCoreTable(domain string, t *table, ttl time.Duration, log *slog.Logger) *core {
	return &core{
		domain:    domain,
		domainKey: strings.ToLower(domain),
		ttl:       ttl,
		log:       log,
		drops:     newDropLog(log),
		t:         t,
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
	w.buf = w.buf[:0]
	w.sends = w.sends[:0]
	w.resolves = w.resolves[:0]
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

// locateReply queues an RL with code and no address for the locate m.
func (c *core) locateReply(w *scratch, to netip.AddrPort, code wire.LocateCode, m *wire.Locate) {
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
		if c.drops.note(dropBad, src, b) {
			c.log.Warn("bad datagram dropped", "from", src, "datagram", shown(b), "err", err.Error())
		}
		return nil, nil, false
	}
	if src == c.self {
		if c.drops.note(dropSelf, src, b) {
			c.log.Warn("datagram from this node's own socket dropped", "datagram", shown(b))
		}
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
	default:
		c.unserved(d.Tag, b, src)
	}
	return w.sends, w.resolves, true
}

// unserved logs the drop of a valid datagram whose type the node does not
// handle, saying by the type's role in the spec what it was.
func (c *core) unserved(tag string, b []byte, src netip.AddrPort) {
	if !c.drops.note(dropUnserved, src, b) {
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
)

func mustAppend(m wire.Message) []byte {
	b, err := m.Append(nil)
	if err != nil {
		panic(err)
	}
	return b
}

func (c *core) register(w *scratch, a wire.Address, src netip.AddrPort, now time.Time) {
	var name string
	var old netip.AddrPort
	var takeover bool
	ok := c.ours(a.Domain) && c.t.withUser(w.userKey(a.User), func(u *userState) {
		name, old = u.name, u.agent()
		takeover = u.online && old != src
		u.online, u.unanswered, u.lastSeen = true, 0, now.UnixNano()
		u.setAgent(src)
	})
	if !ok {
		c.log.Info("registration refused: not a user of this domain", "addr", a.String(), "from", src)
		w.forward(src, replyRR1)
		return
	}
	if takeover {
		c.log.Info("registration takeover: user online from another address", "user", name, "old", old, "new", src)
	}
	w.forward(src, replyRR0)
}

func (c *core) deregister(w *scratch, a wire.Address, src netip.AddrPort, now time.Time) {
	var name string
	var agent netip.AddrPort
	var done bool
	ok := c.ours(a.Domain) && c.t.withUser(w.userKey(a.User), func(u *userState) {
		name, agent = u.name, u.agent()
		// Only the agent the user registered from may take it offline.
		// The address is kept after a PD, so a retried PD is answered RD0
		// again.
		if agent == src {
			u.online, u.unanswered, u.lastSeen = false, 0, now.UnixNano()
			done = true
		}
	})
	switch {
	case !ok:
		c.log.Info("deregistration refused: not a user of this domain", "addr", a.String(), "from", src)
	case !done:
		c.log.Warn("deregistration refused: not from the user's registered address", "user", name, "agent", agent, "from", src)
	default:
		w.forward(src, replyRD0)
		return
	}
	w.forward(src, replyRD1)
}

func (c *core) locate(w *scratch, m *wire.Locate, b []byte, src netip.AddrPort, now time.Time) {
	switch {
	case c.ours(m.To.Domain):
		c.locateHere(w, m, b, src, now)
	case c.ours(m.From.Domain):
		// One of our agents asks for another domain: find its node off
		// the request path, then forward (resolved). The request keeps
		// copies: b is a reused buffer.
		w.resolves = append(w.resolves, resolveRequest{
			domain:    strings.Clone(m.To.Domain),
			datagram:  slices.Clone(b),
			requester: src,
		})
	default:
		if c.drops.note(dropRelay, src, b) {
			c.log.Warn("PL between two other domains dropped: this node is no relay", "from", src, "datagram", shown(b))
		}
	}
}

// locateHere answers or forwards a PL for one of our users, whoever asks.
func (c *core) locateHere(w *scratch, m *wire.Locate, b []byte, src netip.AddrPort, now time.Time) {
	var (
		agent              netip.AddrPort
		online, markedDown bool
		name               string
		unanswered         int16
	)
	known := c.t.withUser(w.userKey(m.To.User), func(u *userState) {
		switch {
		case !u.online:
		case u.unanswered+1 >= wire.OfflineAfter:
			name, agent, unanswered = u.name, u.agent(), u.unanswered
			u.online, u.unanswered = false, 0
			markedDown = true
		default:
			u.unanswered++
			agent, online = u.agent(), true
		}
	})
	switch {
	case !known:
		c.locateReply(w, src, wire.LocateUnknown, m)
	case markedDown:
		c.log.Info("user marked offline: locates unanswered", "user", name, "agent", agent, "unanswered", unanswered)
		c.locateReply(w, src, wire.LocateOffline, m)
	case !online:
		c.locateReply(w, src, wire.LocateOffline, m)
	default:
		c.t.putPending(c.keyOf(w, m.From, m.To), pendingLocate{
			forwardedTo: agent,
			requester:   src,
			expires:     now.Add(c.ttl).UnixNano(),
		})
		w.forward(agent, b)
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
		c.log.Warn("cannot find the node of a domain", "domain", r.domain, "err", err)
		c.locateReply(w, r.requester, wire.LocateUnknown, m)
	case ap == c.self || !ap.IsValid():
		c.log.Warn("domain resolves to this node itself", "domain", r.domain, "addr", ap)
		c.locateReply(w, r.requester, wire.LocateUnknown, m)
	default:
		c.t.putPending(c.keyOf(w, m.From, m.To), pendingLocate{
			forwardedTo: ap,
			requester:   r.requester,
			expires:     now.Add(c.ttl).UnixNano(),
		})
		w.forward(ap, r.datagram)
	}
	return w.sends
}

// routeReply forwards an RL to whoever asked, if it answers a PL this node
// forwarded and comes from where the PL went.
func (c *core) routeReply(w *scratch, m *wire.LocateReply, b []byte, src netip.AddrPort, now time.Time) {
	t := now.UnixNano()
	if c.ours(m.To.Domain) {
		c.t.withUser(w.userKey(m.To.User), func(u *userState) {
			if u.agentPort != 0 && u.agent() == src {
				// The user's agent answers: it is alive.
				u.unanswered, u.lastSeen = 0, t
			}
		})
	}
	p, found, taken := c.t.takePending(c.keyOf(w, m.From, m.To), src, t)
	switch {
	case taken:
		w.forward(p.requester, b)
	case !found:
		if c.drops.note(dropNoPL, src, b) {
			c.log.Warn("RL dropped: no PL forwarded for it", "from", src, "datagram", shown(b))
		}
	default:
		if c.drops.note(dropWrongSource, src, b) {
			c.log.Warn("RL dropped: not from where its PL was forwarded", "from", src, "want", p.forwardedTo, "datagram", shown(b))
		}
	}
}

// sweep forgets the locates that have waited too long, and ends the drop
// log's window.
func (c *core) sweep(now time.Time) {
	c.t.sweep(now.UnixNano())
	c.drops.flush(now)
}

// unsafeString is b as a string without a copy, for decoding in place. The string
// changes when b does, so nothing made from it may outlive the call that
// decodes it: what the core keeps it copies, and what it logs is copied by
// the log call.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
