package node

import (
	"cmp"
	"hash/maphash"
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// shards is how many independently locked parts the table has. Every
// request takes one or two shard locks, each for a few map operations; with
// W workers the chance that two of them want the same shard at once is
// about W/shards, so 64 keeps contention negligible well past 16 workers
// while costing only 64 small maps.
const shards = 64

// table is the node's state, shared by every worker: the users of the
// domain and the locates in flight, each split into shards by a hash of the
// key under its own lock. No lock is held while another is taken, and none
// around blocking work (sockets, DNS, disk).
type table struct {
	seed    maphash.Seed
	seed2   maphash.Seed // the second half of a pending key
	users   [shards]userShard
	pending [shards]pendingShard
}

// userShard holds the users whose folded name hashes to it. The index maps
// a folded name to its place in list, so that a request updates a user in
// place: the key it looks up with may be a view of a reused read buffer,
// which a map assignment would keep.
type userShard struct {
	mu    sync.Mutex
	index map[string]int32
	list  []userState
	// takeovers holds the PRs from new addresses for users online
	// elsewhere, by the user's configured name, while the node checks
	// whether the registered agent is alive (core.register). Nil until the
	// first; they are rare.
	takeovers map[string]takeover
	_         [64 - 8 - 8 - 24 - 8]byte // one cache line per shard's hot fields
}

// takeover is a PR for a user online at another address, held while the
// registered agent is asked (a PL for its own user) whether it is alive.
type takeover struct {
	from    netip.AddrPort // the address that wants the registration
	expires int64          // unix nanoseconds: the check ends, or the refusal does
	refused bool           // the registered agent answered
}

// pendingShard holds locates in flight under their pendingKey.
type pendingShard struct {
	mu   sync.Mutex
	m    map[pendingKey]pendingLocate
	peak int // the most m has held since it was made
	_    [64 - 8 - 8 - 8]byte
}

// userState is one user of the domain. It holds no pointer but the name, so
// that a million users cost the garbage collector little; the agent's
// address is kept as 16 bytes and a port rather than a netip.AddrPort.
type userState struct {
	name       string   // as configured
	version    uint64   // with a store: the binding's version there (cluster.Binding)
	lastSeen   int64    // unix nanoseconds of the last PR, PD or RL heard; 0 if never
	agentIP    [16]byte // where the agent registered from (IPv4 mapped)
	agentPort  uint16   // zero if it never registered
	unanswered int16    // locates forwarded to the agent that ended with no word from it
	online     bool
	silent     bool  // offline because locates went unanswered, not by a PD
	owner      int16 // the node that holds the binding: ownerSelf, or a sibling (clusterView)
	dirty      bool  // taken while the store was unreachable: re-asserted when it is back
	guesses    int16 // refused requests from other addresses since guessFrom (core.guess)
	guessFrom  int64 // unix nanoseconds: the window of guesses began
	frozen     int64 // unix nanoseconds until which a PD or a takeover is refused
}

func (u *userState) agent() netip.AddrPort {
	if u.agentPort == 0 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(netip.AddrFrom16(u.agentIP).Unmap(), u.agentPort)
}

func (u *userState) setAgent(ap netip.AddrPort) {
	u.agentIP, u.agentPort = ap.Addr().As16(), ap.Port()
}

// pendingKey names a locate by a 128-bit keyed hash of its two folded
// addresses. Two seeds chosen at start make a collision as unlikely as
// guessing them, and a fixed-size key costs no allocation per locate.
type pendingKey [2]uint64

// pendingLocate is a PL this node forwarded and whose RL it will route.
type pendingLocate struct {
	forwardedTo netip.AddrPort // the RL must come from here
	requester   netip.AddrPort // and goes back there
	expires     int64          // unix nanoseconds
	since       int64          // the locate's first forward (its retries keep it)
	last        int64          // its latest forward
	// user is the configured name of the user of this domain the PL went
	// to, or "" when it went to another node: when the locate ends
	// unanswered, that user's agent was silent (core.sweep). It shares
	// the table's string, so a forward allocates nothing.
	user string
	kind forwardKind // where it went, for the metrics
	// via is the socket the PL left from, to which its RL must come: 0
	// the listening socket, i the source port i (sourcePorts), drawn at
	// random for each PL to another domain's node.
	via uint16
}

// admission is what admit did with a locate.
type admission int

const (
	admitted    admission = iota
	admitRepeat           // the same locate was forwarded less than the gap ago
	admitFull             // the shard holds its share of the locates in flight
)

// newTable returns an empty table with room for about n users.
func newTable(n int) *table {
	t := &table{seed: maphash.MakeSeed(), seed2: maphash.MakeSeed()}
	// A shard gets n/shards users give or take a few standard deviations
	// of the hash's spread; room for that keeps a full load from doubling
	// half the lists.
	per := n / shards
	per += 4*int(math.Sqrt(float64(per))) + 8
	for i := range t.users {
		t.users[i].index = make(map[string]int32, per)
		t.users[i].list = make([]userState, 0, per)
		t.pending[i].m = make(map[pendingKey]pendingLocate)
	}
	return t
}

// fold appends s lower-cased to dst, as strings.ToLower would write it, so
// that names are compared the way the config's duplicates are found.
func fold(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			for _, r := range s[i:] {
				dst = utf8.AppendRune(dst, unicode.ToLower(r))
			}
			return dst
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func (t *table) userShard(key []byte) *userShard {
	return &t.users[maphash.Bytes(t.seed, key)%shards]
}

func (t *table) pendingShard(k pendingKey) *pendingShard {
	return &t.pending[k[0]%shards]
}

// pendingKeyOf hashes a folded "from\x00to" (see core.keyOf).
func (t *table) pendingKeyOf(folded []byte) pendingKey {
	return pendingKey{maphash.Bytes(t.seed, folded), maphash.Bytes(t.seed2, folded)}
}

// withUser runs f on the user whose folded name is key, under its shard's
// lock, and reports whether there is one. f must not block.
func (t *table) withUser(key []byte, f func(u *userState)) bool {
	return t.withUserShard(key, func(_ *userShard, u *userState) { f(u) })
}

// withUserShard is withUser for f that also needs the user's shard (its
// takeovers).
func (t *table) withUserShard(key []byte, f func(sh *userShard, u *userState)) bool {
	sh := t.userShard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i, ok := sh.index[string(key)]
	if ok {
		f(sh, &sh.list[i])
	}
	return ok
}

func (sh *userShard) setTakeover(name string, tk takeover) {
	if sh.takeovers == nil {
		sh.takeovers = make(map[string]takeover)
	}
	sh.takeovers[name] = tk
}

// byName returns the user of configured name, under sh's lock held by the
// caller, or nil.
func (sh *userShard) byName(name string) *userState {
	i, ok := sh.index[strings.ToLower(name)]
	if !ok {
		return nil
	}
	return &sh.list[i]
}

// eachTakeover calls f with every takeover of every shard under the
// shard's lock, for the sweep; f says whether to keep it.
func (t *table) eachTakeover(f func(sh *userShard, name string, tk takeover) (keep bool)) {
	for i := range t.users {
		sh := &t.users[i]
		sh.mu.Lock()
		for name, tk := range sh.takeovers {
			if !f(sh, name, tk) {
				delete(sh.takeovers, name)
			}
		}
		sh.mu.Unlock()
	}
}

// add adds a user named name, unless one of that folded name exists; it
// returns the existing user's name and false then.
func (t *table) add(name string) (string, bool) {
	key := strings.ToLower(name)
	sh := t.userShard([]byte(key))
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i, ok := sh.index[key]; ok {
		return sh.list[i].name, false
	}
	sh.index[key] = int32(len(sh.list))
	sh.list = append(sh.list, userState{name: name})
	return name, true
}

// remove removes the user of folded name key and returns its name.
func (t *table) remove(name string) (string, bool) {
	key := strings.ToLower(name)
	sh := t.userShard([]byte(key))
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i, ok := sh.index[key]
	if !ok {
		return "", false
	}
	have := sh.list[i].name
	last := len(sh.list) - 1
	if int(i) != last {
		sh.list[i] = sh.list[last]
		sh.index[strings.ToLower(sh.list[i].name)] = i
	}
	sh.list[last] = userState{}
	sh.list = sh.list[:last]
	delete(sh.index, key)
	delete(sh.takeovers, have)
	return have, true
}

// lookup returns the configured name of the user name.
func (t *table) lookup(name string) (string, bool) {
	var have string
	ok := t.withUser([]byte(strings.ToLower(name)), func(u *userState) { have = u.name })
	return have, ok
}

// each calls f with a copy of every user, one shard at a time.
func (t *table) each(f func(u userState)) {
	for i := range t.users {
		sh := &t.users[i]
		sh.mu.Lock()
		for _, u := range sh.list {
			f(u)
		}
		sh.mu.Unlock()
	}
}

// len returns the number of users.
func (t *table) len() int {
	n := 0
	for i := range t.users {
		sh := &t.users[i]
		sh.mu.Lock()
		n += len(sh.list)
		sh.mu.Unlock()
	}
	return n
}

// list returns every user, sorted by name.
func (t *table) list() []UserInfo {
	var list []UserInfo
	t.each(func(u userState) {
		info := UserInfo{Name: u.name, Agent: u.agent(), Online: u.online}
		if u.lastSeen != 0 {
			info.LastSeen = time.Unix(0, u.lastSeen)
		}
		list = append(list, info)
	})
	slices.SortFunc(list, func(a, b UserInfo) int { return cmp.Compare(a.Name, b.Name) })
	return list
}

// admit records the locate k, about to be forwarded as p (its since and
// last set to now), unless the asker's same PL was forwarded to the same
// place less than gap ago, so that a burst costs one forward and not five,
// or the shard already holds perShard locates. A retry keeps the locate's
// first forward time.
func (t *table) admit(k pendingKey, p pendingLocate, now, gap int64, perShard int) admission {
	sh := t.pendingShard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p.since, p.last = now, now
	old, found := sh.m[k]
	switch {
	case !found || old.expires <= now:
		if !found && len(sh.m) >= perShard {
			return admitFull
		}
		sh.peak = max(sh.peak, len(sh.m)+1)
	case old.forwardedTo != p.forwardedTo || old.requester.Addr() != p.requester.Addr():
		// Another locate. The same asker's retry is the same locate even
		// from another port: a node sends each forward of a PL from a
		// source port of its own drawing (sourceports.go), and the RL then
		// goes to the latest.
	case now-old.last < gap:
		return admitRepeat
	default:
		p.since = old.since
	}
	sh.m[k] = p
	return admitted
}

// takeReply removes and returns the locate k if it is in flight at now
// and its RL comes from src to socket in (0 the listening socket, i the
// source port i): the socket its PL left from, or with listen the
// listening socket whatever it left from (a node that answers there, as
// the original C node does). Otherwise it says why not: found false means
// no such locate (or it expired), and a found one from elsewhere or on
// another socket is left in place and returned for the log.
func (t *table) takeReply(k pendingKey, src netip.AddrPort, in uint16, listen bool, now int64) (p pendingLocate, found, taken bool) {
	sh := t.pendingShard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p, found = sh.m[k]
	switch {
	case !found || p.expires <= now:
		return p, false, false
	case p.forwardedTo != src:
		return p, true, false
	case p.via != in && !(listen && in == 0):
		return p, true, false
	}
	delete(sh.m, k)
	return p, true, true
}

// retryOf looks at the locate k from requester at now before it is sent to
// another node: repeat if the same was forwarded less than gap ago, else
// failed, the node it went to, if it is in flight unanswered.
func (t *table) retryOf(k pendingKey, requester netip.AddrPort, now, gap int64) (failed netip.AddrPort, repeat bool) {
	sh := t.pendingShard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p, found := sh.m[k]
	switch {
	case !found || p.expires <= now || p.requester != requester || p.user != "":
		return netip.AddrPort{}, false
	case now-p.last < gap:
		return netip.AddrPort{}, true
	}
	return p.forwardedTo, false
}

// sweep forgets the locates that have waited too long, one shard at a time,
// and returns those that had gone to one of the domain's agents, and
// whether it gave a flood's memory back (shrink).
//
// Each is counted in ended (by where it went) before it leaves the table,
// so that whoever sees it gone sees it counted.
func (t *table) sweep(now int64, ended *[forwardKinds]atomic.Uint64) (unanswered []pendingLocate, shrunk bool) {
	for i := range t.pending {
		sh := &t.pending[i]
		sh.mu.Lock()
		for k, p := range sh.m {
			if p.expires <= now {
				delete(sh.m, k)
				ended[p.kind].Add(1)
				if p.user != "" {
					unanswered = append(unanswered, p)
				}
			}
		}
		if m, ok := shrink(sh.m, sh.peak); ok {
			sh.m, sh.peak, shrunk = m, len(m), true
		}
		sh.mu.Unlock()
	}
	return unanswered, shrunk
}

// shrinkAbove is the size from which a map that has emptied is rebuilt:
// a Go map keeps the room of its largest size, so after a flood the table
// would hold the flood's memory for good.
const shrinkAbove = 256

// shrink returns a copy of m sized for what it holds when it holds under a
// quarter of its peak and the peak was large.
func shrink[K comparable, V any](m map[K]V, peak int) (map[K]V, bool) {
	if peak < shrinkAbove || len(m) > peak/4 {
		return m, false
	}
	c := make(map[K]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c, true
}

// counts returns how many users the domain has and how many of them are
// online, one shard at a time.
func (t *table) counts() (users, online int) {
	for i := range t.users {
		sh := &t.users[i]
		sh.mu.Lock()
		users += len(sh.list)
		for j := range sh.list {
			if sh.list[j].online {
				online++
			}
		}
		sh.mu.Unlock()
	}
	return users, online
}

// pendingLen is how many locates are in flight.
func (t *table) pendingLen() int {
	n := 0
	for i := range t.pending {
		sh := &t.pending[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
