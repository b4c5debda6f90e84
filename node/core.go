package node

import (
	"cmp"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"mi/wire"
)

// core is the node's state machine, without sockets or goroutines: the
// registration table and the locates in flight. Each call takes one event
// (a datagram from a source at a time, a DNS answer, an admin change) and
// returns what to send and which domains to resolve. Only the goroutine
// that owns the core calls it, so it needs no locks.
type core struct {
	domain    string         // as configured
	domainKey string         // lower case, for comparisons
	self      netip.AddrPort // our own socket, when known: never forward to it
	ttl       time.Duration  // how long a forwarded PL waits for its RL
	log       *slog.Logger

	users   map[string]userState // key: lower-cased user name
	pending map[pendingKey]pendingLocate

	d        wire.PLUMIDatagram // reused by every handle
	buf      []byte             // replies of one call, back to back
	sends    []send
	resolves []resolveRequest
}

// userState is one user of the domain. It is kept small (no pointers but the
// name) so that a million users fit in well under 100 MB.
type userState struct {
	name       string         // as configured
	agent      netip.AddrPort // where the agent registered from; zero if never
	lastSeen   int64          // unix nanoseconds of the last PR, PD or RL heard; 0 if never
	unanswered int32          // PLs forwarded to the agent since its last RL or PR
	online     bool
}

// pendingKey names a locate by its two addresses, lower-cased.
type pendingKey struct{ fromUser, fromDomain, toUser, toDomain string }

// pendingLocate is a PL this node forwarded and whose RL it will route.
type pendingLocate struct {
	forwardedTo netip.AddrPort // the RL must come from here
	requester   netip.AddrPort // and goes back there
	expires     int64          // unix nanoseconds
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
	users := make(map[string]userState, len(cfg.Users))
	for _, u := range cfg.Users {
		users[strings.ToLower(u)] = userState{name: u}
	}
	return newCoreTable(cfg.Domain, users, ttl, log)
}

// newCoreTable starts a core on a table already built (loadTable).
func newCoreTable(domain string, users map[string]userState, ttl time.Duration, log *slog.Logger) *core {
	return &core{
		domain:    domain,
		domainKey: strings.ToLower(domain),
		ttl:       ttl,
		log:       log,
		users:     users,
		pending:   make(map[pendingKey]pendingLocate),
		buf:       make([]byte, 0, 4*wire.PLUMIMax),
	}
}

func (c *core) ours(domain string) bool { return strings.EqualFold(domain, c.domainKey) }

func keyOf(from, to wire.Address) pendingKey {
	return pendingKey{
		strings.ToLower(from.User), strings.ToLower(from.Domain),
		strings.ToLower(to.User), strings.ToLower(to.Domain),
	}
}

// reset starts the outputs of one call.
func (c *core) reset() {
	c.buf = c.buf[:0]
	c.sends = c.sends[:0]
	c.resolves = c.resolves[:0]
}

// emit queues the datagram m for to.
func (c *core) emit(to netip.AddrPort, m wire.Message) {
	start := len(c.buf)
	b, err := m.Append(c.buf)
	if err != nil {
		// Every field comes from a decoded datagram or a valid config, so
		// this is a bug; say so rather than send half a datagram.
		c.log.Error("cannot encode reply", "to", to, "err", err)
		return
	}
	c.buf = b
	c.sends = append(c.sends, send{to: to, b: b[start:len(b):len(b)]})
}

// forward queues the datagram b unchanged for to.
func (c *core) forward(to netip.AddrPort, b []byte) {
	start := len(c.buf)
	c.buf = append(c.buf, b...)
	c.sends = append(c.sends, send{to: to, b: c.buf[start:len(c.buf):len(c.buf)]})
}

// handle runs one datagram b received from src at now. The results are
// valid until the next call; valid says whether b decoded.
func (c *core) handle(b []byte, src netip.AddrPort, now time.Time) (_ []send, _ []resolveRequest, valid bool) {
	c.reset()
	d := &c.d
	if err := d.Decode(b); err != nil {
		c.log.Warn("bad datagram dropped", "from", src, "datagram", string(b), "err", err)
		return nil, nil, false
	}
	if src == c.self {
		c.log.Warn("datagram from this node's own socket dropped", "datagram", string(b))
		return nil, nil, true
	}
	switch d.Tag {
	case wire.TagRegister:
		c.register(d.Register.Addr, src, now)
	case wire.TagDeregister:
		c.deregister(d.Deregister.Addr, src, now)
	case wire.TagLocate:
		c.locate(&d.Locate, b, src, now)
	case wire.TagLocateReply:
		c.locateReply(&d.LocateReply, b, src, now)
	default:
		c.unserved(d.Tag, b, src)
	}
	return c.sends, c.resolves, true
}

// unserved logs the drop of a valid datagram whose type the node does not
// handle, saying by the type's role in the spec what it was.
func (c *core) unserved(tag string, b []byte, src netip.AddrPort) {
	role, answers := wire.PLUMIRole(tag)
	if role == wire.RoleReply {
		c.log.Warn(unservedMsg(role), "tag", tag, "answers", answers, "from", src, "datagram", string(b))
		return
	}
	c.log.Warn(unservedMsg(role), "tag", tag, "from", src, "datagram", string(b))
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

func (c *core) register(a wire.Address, src netip.AddrPort, now time.Time) {
	k := strings.ToLower(a.User)
	u, ok := c.users[k]
	if !ok || !c.ours(a.Domain) {
		c.log.Info("registration refused: not a user of this domain", "addr", a, "from", src)
		c.emit(src, &wire.RegisterReply{Code: wire.RegisterRefused})
		return
	}
	if u.online && u.agent != src {
		c.log.Info("registration takeover: user online from another address", "user", u.name, "old", u.agent, "new", src)
	}
	u.online, u.agent, u.unanswered, u.lastSeen = true, src, 0, now.UnixNano()
	c.users[k] = u
	c.emit(src, &wire.RegisterReply{Code: wire.RegisterOK})
}

func (c *core) deregister(a wire.Address, src netip.AddrPort, now time.Time) {
	k := strings.ToLower(a.User)
	u, ok := c.users[k]
	switch {
	case !ok || !c.ours(a.Domain):
		c.log.Info("deregistration refused: not a user of this domain", "addr", a, "from", src)
	case u.agent != src:
		// Only the agent the user registered from may take it offline. The
		// address is kept after a PD, so a retried PD is answered RD0 again.
		c.log.Warn("deregistration refused: not from the user's registered address", "user", u.name, "agent", u.agent, "from", src)
	default:
		u.online, u.unanswered, u.lastSeen = false, 0, now.UnixNano()
		c.users[k] = u
		c.emit(src, &wire.DeregisterReply{Code: wire.DeregisterOK})
		return
	}
	c.emit(src, &wire.DeregisterReply{Code: wire.DeregisterRefused})
}

func (c *core) locate(m *wire.Locate, b []byte, src netip.AddrPort, now time.Time) {
	switch {
	case c.ours(m.To.Domain):
		c.locateHere(m, b, src, now)
	case c.ours(m.From.Domain):
		// One of our agents asks for another domain: find its node off
		// the owner's loop, then forward (resolved).
		c.resolves = append(c.resolves, resolveRequest{
			domain:    m.To.Domain,
			datagram:  slices.Clone(b),
			requester: src,
		})
	default:
		c.log.Warn("PL between two other domains dropped: this node is no relay", "from", src, "datagram", string(b))
	}
}

// locateHere answers or forwards a PL for one of our users, whoever asks.
func (c *core) locateHere(m *wire.Locate, b []byte, src netip.AddrPort, now time.Time) {
	k := strings.ToLower(m.To.User)
	u, ok := c.users[k]
	switch {
	case !ok:
		c.emit(src, &wire.LocateReply{Code: wire.LocateUnknown, From: m.From, To: m.To})
	case !u.online:
		c.emit(src, &wire.LocateReply{Code: wire.LocateOffline, From: m.From, To: m.To})
	case u.unanswered+1 >= wire.OfflineAfter:
		c.log.Info("user marked offline: locates unanswered", "user", u.name, "agent", u.agent, "unanswered", u.unanswered)
		u.online, u.unanswered = false, 0
		c.users[k] = u
		c.emit(src, &wire.LocateReply{Code: wire.LocateOffline, From: m.From, To: m.To})
	default:
		u.unanswered++
		c.users[k] = u
		c.pending[keyOf(m.From, m.To)] = pendingLocate{
			forwardedTo: u.agent,
			requester:   src,
			expires:     now.Add(c.ttl).UnixNano(),
		}
		c.forward(u.agent, b)
	}
}

// resolved goes on with a PL of ours for another domain once that domain's
// node is known (ap) or is known not to be found (err).
func (c *core) resolved(r resolveRequest, ap netip.AddrPort, err error, now time.Time) []send {
	c.reset()
	if err := c.d.Decode(r.datagram); err != nil || c.d.Tag != wire.TagLocate {
		c.log.Error("resolved a datagram that is not a PL", "datagram", string(r.datagram), "err", err)
		return nil
	}
	m := &c.d.Locate
	switch {
	case err != nil:
		c.log.Warn("cannot find the node of a domain", "domain", r.domain, "err", err)
		c.emit(r.requester, &wire.LocateReply{Code: wire.LocateUnknown, From: m.From, To: m.To})
	case ap == c.self || !ap.IsValid():
		c.log.Warn("domain resolves to this node itself", "domain", r.domain, "addr", ap)
		c.emit(r.requester, &wire.LocateReply{Code: wire.LocateUnknown, From: m.From, To: m.To})
	default:
		c.pending[keyOf(m.From, m.To)] = pendingLocate{
			forwardedTo: ap,
			requester:   r.requester,
			expires:     now.Add(c.ttl).UnixNano(),
		}
		c.forward(ap, r.datagram)
	}
	return c.sends
}

func (c *core) locateReply(m *wire.LocateReply, b []byte, src netip.AddrPort, now time.Time) {
	if c.ours(m.To.Domain) {
		k := strings.ToLower(m.To.User)
		if u, ok := c.users[k]; ok && u.agent == src && u.agent.IsValid() {
			// The user's agent answers: it is alive.
			u.unanswered, u.lastSeen = 0, now.UnixNano()
			c.users[k] = u
		}
	}
	pk := keyOf(m.From, m.To)
	p, ok := c.pending[pk]
	switch {
	case !ok || p.expires <= now.UnixNano():
		c.log.Warn("RL dropped: no PL forwarded for it", "from", src, "datagram", string(b))
		return
	case p.forwardedTo != src:
		c.log.Warn("RL dropped: not from where its PL was forwarded", "from", src, "want", p.forwardedTo, "datagram", string(b))
		return
	}
	delete(c.pending, pk)
	c.forward(p.requester, b)
}

// sweep forgets the locates that have waited too long.
func (c *core) sweep(now time.Time) {
	t := now.UnixNano()
	for k, p := range c.pending {
		if p.expires <= t {
			delete(c.pending, k)
		}
	}
}

// lookupUser returns the configured name of user name.
func (c *core) lookupUser(name string) (string, bool) {
	u, ok := c.users[strings.ToLower(name)]
	return u.name, ok
}

func (c *core) addUser(name string) {
	c.users[strings.ToLower(name)] = userState{name: name}
}

func (c *core) removeUser(name string) {
	delete(c.users, strings.ToLower(name))
}

// userList returns every user, sorted by name.
func (c *core) userList() []UserInfo {
	list := make([]UserInfo, 0, len(c.users))
	for _, u := range c.users {
		info := UserInfo{Name: u.name, Agent: u.agent, Online: u.online}
		if u.lastSeen != 0 {
			info.LastSeen = time.Unix(0, u.lastSeen)
		}
		list = append(list, info)
	}
	slices.SortFunc(list, func(a, b UserInfo) int { return cmp.Compare(a.Name, b.Name) })
	return list
}
