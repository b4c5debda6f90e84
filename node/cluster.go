package node

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mi/cluster"
)

// ownerSelf is the owner of a binding this node holds, and of every
// binding of a node without a store.
const ownerSelf = 0

// sibling is another node of the domain, as the registry last said.
type sibling struct {
	id        string
	addr      netip.AddrPort
	alive     bool
	lastAlive int64 // unix nanoseconds the registry last said so
}

// clusterView is what the core knows of the domain's other nodes. The
// request path reads it through one atomic load; the store's goroutines
// replace it whole.
type clusterView struct {
	self      string // this node's id
	deadAfter int64  // nanoseconds (cluster.Config.DeadAfter)

	sibs atomic.Pointer[[]sibling] // by owner index; [ownerSelf] is this node

	mu  sync.Mutex       // guards idx and the writers of sibs
	idx map[string]int16 // node id -> owner index
}

func newClusterView(self string, deadAfter time.Duration) *clusterView {
	v := &clusterView{self: self, deadAfter: int64(deadAfter), idx: map[string]int16{self: ownerSelf}}
	sibs := []sibling{{id: self, alive: true}}
	v.sibs.Store(&sibs)
	return v
}

// index returns the owner index of node id, making one if it is new.
func (v *clusterView) index(id string) int16 {
	v.mu.Lock()
	defer v.mu.Unlock()
	if i, ok := v.idx[id]; ok {
		return i
	}
	sibs := slices.Clone(*v.sibs.Load())
	i := int16(len(sibs))
	sibs = append(sibs, sibling{id: id})
	v.idx[id] = i
	v.sibs.Store(&sibs)
	return i
}

// setNodes takes the registry's view at now: each node's address and
// whether its heartbeat is current (its alive key outlives a heartbeat by
// DeadAfter; a node that left deleted it). A node the registry does not
// list at all stays alive until DeadAfter after it was last seen so: a
// store that restarted empty lists nobody until each node beats again.
func (v *clusterView) setNodes(nodes []cluster.Node, now int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	sibs := slices.Clone(*v.sibs.Load())
	for i := range sibs {
		if i != ownerSelf {
			sibs[i].alive = now-sibs[i].lastAlive < v.deadAfter
		}
	}
	for _, n := range nodes {
		if n.ID == v.self {
			continue
		}
		i, ok := v.idx[n.ID]
		if !ok {
			i = int16(len(sibs))
			v.idx[n.ID] = i
			sibs = append(sibs, sibling{id: n.ID})
		}
		sibs[i].addr, sibs[i].alive = unmap(n.Addr), n.Alive
		if n.Alive {
			sibs[i].lastAlive = now
		}
	}
	v.sibs.Store(&sibs)
}

// owner returns the sibling of owner index i.
func (v *clusterView) owner(i int16) sibling {
	sibs := *v.sibs.Load()
	if int(i) < len(sibs) {
		return sibs[i]
	}
	return sibling{}
}

// isSibling says whether src is the address of another node of the domain
// whose heartbeat is current: the only sources believed when they speak
// for the domain's users (docs/cluster.md, the trust model).
func (v *clusterView) isSibling(src netip.AddrPort) bool {
	for i, s := range *v.sibs.Load() {
		if i != ownerSelf && s.alive && s.addr == src {
			return true
		}
	}
	return false
}

// ownerAlive says whether the owner of u can be reached: this node, or a
// sibling whose heartbeat is current.
func (c *core) ownerAlive(u *userState) bool {
	return u.owner == ownerSelf || c.cl.owner(u.owner).alive
}

// settleRequest asks for a change of a binding that this node is to hold
// to be written to the store before the table takes it and the agent is
// answered (Node.settle): of two nodes that take a PR for one user at once,
// the store's compare-and-set lets exactly one win.
type settleRequest struct {
	name   string         // the user's configured name
	agent  netip.AddrPort // where its agent registered from
	online bool
	base   uint64         // the binding's version the change was decided on
	to     netip.AddrPort // who is answered; invalid: nobody (a change of the node's own)
	won    []byte         // the answer when the change is taken
	lost   []byte         // and when another node's binding stands
}

// binding is the change r as the store keeps it.
func (c *core) binding(r settleRequest) cluster.Binding {
	return cluster.Binding{User: strings.ToLower(r.name), Owner: c.cl.self, Agent: r.agent, Online: r.online, Version: r.base}
}

// apply takes b, the store's binding of a user, into the table: who holds
// it, where its agent is, whether it is online. A binding no newer than the
// table's is left unless force (the store's word after a re-read, whose
// versions start again if the store lost its data). It says whether b was
// taken; a user the config does not have is not.
func (c *core) apply(b cluster.Binding, force bool, now int64) bool {
	owner := c.cl.index(b.Owner)
	taken := false
	c.t.withUser([]byte(b.User), func(u *userState) {
		if !force && b.Version <= u.version {
			return
		}
		taken = true
		c.setBinding(u, b, owner, now)
	})
	return taken
}

// setBinding makes u what b says, under u's shard lock.
func (c *core) setBinding(u *userState, b cluster.Binding, owner int16, now int64) {
	held := owner == ownerSelf && b.Online && (u.owner != ownerSelf || !u.online || u.agent() != b.Agent)
	u.version, u.owner, u.dirty = b.Version, owner, false
	u.online, u.silent, u.unanswered = b.Online, false, 0
	u.setAgent(b.Agent)
	if held {
		u.lastSeen = now
	}
}

// takeLocal takes the change r here alone, because the store cannot be
// reached; the binding is dirty until the store has it again (resync).
func (c *core) takeLocal(r settleRequest, now int64) {
	c.t.withUserShard([]byte(strings.ToLower(r.name)), func(sh *userShard, u *userState) {
		u.owner, u.dirty = ownerSelf, true
		if r.online {
			c.accept(u, r.agent, now)
		} else {
			u.online, u.silent, u.unanswered, u.lastSeen = false, false, 0, now
		}
		delete(sh.takeovers, u.name)
	})
}

// reasserts takes the bindings of a full read of the store, all, and
// returns the changes to write back: the bindings this node holds that
// the store lacks (it lost its data) and those taken while the store was
// away whose stored version is still the one they were decided on. A
// stored binding changed meanwhile by another node stands.
func (c *core) reasserts(all map[string]cluster.Binding, now int64) []settleRequest {
	var out []settleRequest
	for i := range c.t.users {
		sh := &c.t.users[i]
		sh.mu.Lock()
		for j := range sh.list {
			u := &sh.list[j]
			b, ok := all[strings.ToLower(u.name)]
			mine := u.owner == ownerSelf && u.agentPort != 0 && (u.online || u.dirty)
			switch {
			case mine && (!ok || (u.dirty && b.Version == u.version)):
				out = append(out, settleRequest{name: u.name, agent: u.agent(), online: u.online, base: b.Version})
			case ok:
				c.setBinding(u, b, c.cl.index(b.Owner), now)
			}
		}
		sh.mu.Unlock()
	}
	return out
}
