package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mi/cluster"
)

// storeTimeout bounds one write of a binding: past it the store counts as
// unreachable, and the change is taken here alone (core.takeLocal).
const storeTimeout = 500 * time.Millisecond

// maxSettles bounds the binding changes being written at once, as
// MaxLookups bounds DNS lookups: a flood of PRs cannot start goroutines
// without end. One user has one at a time; a PR past either bound is not
// answered, and the agent's retry tries again.
const maxSettles = 1024

// storeState is a node's link to the store of its domain (-store).
type storeState struct {
	s        *cluster.Store
	up       atomic.Bool
	settled  [settleResults]atomic.Uint64
	mu       sync.Mutex
	inFlight map[string]struct{} // users whose change is being written
	digest   string              // of this node's user list
	warned   map[string]string   // node id -> the differing digest said
}

// openStore connects the node to its domain's store, takes every binding
// in it and makes the core consult its siblings.
func (n *Node) openStore(ctx context.Context, cfg cluster.Config, users []string) error {
	if !n.addr.Addr().IsValid() || n.addr.Addr().IsUnspecified() {
		return fmt.Errorf("with a store, the node must listen on the address its siblings reach, not %s (-listen HOST:PORT)", n.addr)
	}
	st := &storeState{inFlight: map[string]struct{}{}, digest: cluster.UsersDigest(users), warned: map[string]string{}}
	cfg.Domain, cfg.Addr, cfg.Users = n.core.domain, n.addr, st.digest
	if cfg.Logger == nil {
		cfg.Logger = n.log
	}
	cfg.OnState = n.storeState
	s, err := cluster.Open(ctx, cfg)
	if err != nil {
		return err
	}
	st.s = s
	st.up.Store(true)
	n.store = st
	deadAfter := cfg.DeadAfter
	if deadAfter <= 0 {
		deadAfter = cluster.DefaultDeadAfter
	}
	n.core.cl = newClusterView(cfg.NodeID, deadAfter)
	all, err := s.Load(ctx)
	switch {
	case errors.Is(err, cluster.ErrMalformed):
		// Values the node cannot read are someone else's writing: serve
		// the rest, and say which.
		n.log.Error("bindings in the store that do not decode are left out", "err", err)
	case err != nil:
		s.Close()
		return fmt.Errorf("store: %w", err)
	}
	now := time.Now().UnixNano()
	held := 0
	for _, b := range all {
		if n.core.apply(b, true, now) && b.Owner == cfg.NodeID && b.Online {
			held++
		}
	}
	n.log.Info("bindings loaded from the store", "node_id", cfg.NodeID, "bindings", len(all), "held_here", held)
	return nil
}

// settleResult is what became of a binding change written to the store.
type settleResult uint8

const (
	settleWon   settleResult = iota // the store took it
	settleLost                      // another node's binding stands
	settleLocal                     // the store was unreachable: taken here, written back later
	settleResults
)

var settleNames = [settleResults]string{settleWon: "won", settleLost: "lost", settleLocal: "local"}

// storeState is called by the store's goroutines when it becomes
// unreachable or reachable again: said once each way.
func (n *Node) storeState(up bool) {
	if n.store == nil || n.store.up.Swap(up) == up {
		return
	}
	if up {
		n.log.Info("store reachable again: changes taken meanwhile are written back")
		return
	}
	n.log.Warn("store unreachable: serving from memory; registrations are taken here and written back when it returns")
}

// runStore follows the store until ctx ends: its change feed, and the
// heartbeats of the domain's nodes.
func (n *Node) runStore(ctx context.Context, wg *sync.WaitGroup) {
	wg.Go(func() {
		err := n.store.s.Watch(ctx, func(b cluster.Binding) {
			n.core.apply(b, false, time.Now().UnixNano())
		}, func(all map[string]cluster.Binding) {
			for _, r := range n.core.reasserts(all, time.Now().UnixNano()) {
				n.settle(ctx, r)
			}
		})
		if err != nil && ctx.Err() == nil {
			n.log.Error("store change feed stopped", "err", err)
		}
	})
	wg.Go(func() {
		err := n.store.s.Heartbeat(ctx, n.setNodes)
		if err != nil && ctx.Err() == nil {
			n.log.Error("store heartbeat stopped", "err", err)
		}
	})
}

// setNodes takes the registry's view of the domain's nodes, and says once
// per node when its user list differs from this node's.
func (n *Node) setNodes(nodes []cluster.Node) {
	n.core.cl.setNodes(nodes, time.Now().UnixNano())
	st := n.store
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, o := range nodes {
		if o.ID == n.core.cl.self || o.Users == st.digest || st.warned[o.ID] == o.Users {
			continue
		}
		st.warned[o.ID] = o.Users
		n.log.Warn("another node of the domain has a different user list: every node must have the same config", "node_id", o.ID, "its_users", o.Users, "ours", st.digest)
	}
}

// startSettle writes the change r off the reading goroutine and then
// answers from conn.
func (n *Node) startSettle(ctx context.Context, wg *sync.WaitGroup, conn *net.UDPConn, r settleRequest) {
	key := strings.ToLower(r.name)
	st := n.store
	st.mu.Lock()
	_, busy := st.inFlight[key]
	full := len(st.inFlight) >= maxSettles
	if !busy && !full {
		st.inFlight[key] = struct{}{}
	}
	st.mu.Unlock()
	if busy || full {
		n.bg.lateDrops[dropSettling].Add(1)
		return
	}
	wg.Go(func() {
		defer func() {
			st.mu.Lock()
			delete(st.inFlight, key)
			st.mu.Unlock()
		}()
		n.sendAll(conn, n.settle(ctx, r))
	})
}

// settle writes the change r to the store with a compare-and-set on the
// version it was decided on, takes what the store then holds, and returns
// the answer: r.won if the change stands, r.lost if another node's binding
// does. A binding that is offline or held by a dead node is tried once
// more on the store's version. Without the store the change is taken here
// and written back when the store returns.
func (n *Node) settle(ctx context.Context, r settleRequest) []send {
	c := n.core
	b := c.binding(r)
	answer := func(reply []byte) []send {
		if !r.to.IsValid() || reply == nil {
			return nil
		}
		return []send{{to: r.to, b: reply}}
	}
	for try := 0; ; try++ {
		cctx, cancel := context.WithTimeout(ctx, storeTimeout)
		cur, won, err := n.store.s.CompareAndSet(cctx, b)
		cancel()
		now := time.Now().UnixNano()
		switch {
		case err != nil && ctx.Err() != nil:
			return nil
		case errors.Is(err, cluster.ErrMalformed), errors.Is(err, cluster.ErrInvalid):
			// The store answers, but the binding there (or this one)
			// is not one the node can write over: refuse the change.
			n.log.Error("binding change refused", "user", r.name, "err", err)
			n.store.settled[settleLost].Add(1)
			return answer(r.lost)
		case err != nil:
			// The store is unreachable (the Store tells storeState).
			n.store.settled[settleLocal].Add(1)
			c.takeLocal(r, now)
			return answer(r.won)
		case won:
			n.store.settled[settleWon].Add(1)
			c.apply(cur, true, now)
			return answer(r.won)
		}
		c.apply(cur, true, now)
		if try == 0 && (!cur.Online || cur.Owner == c.cl.self || !c.cl.owner(c.cl.index(cur.Owner)).alive) {
			b.Version = cur.Version
			continue
		}
		n.log.Info("binding change lost to another node's", "user", r.name, "owner", cur.Owner, "agent", cur.Agent)
		n.store.settled[settleLost].Add(1)
		return answer(r.lost)
	}
}

// StoreReady says whether the node's store answers (nil without one), for
// /readyz: a node cut off from its store serves on from memory, but is no
// longer the one to send new registrations to.
func (n *Node) StoreReady(ctx context.Context) error {
	if n.store == nil {
		return nil
	}
	if err := n.store.s.Ping(ctx); err != nil {
		return errors.Join(errStoreDown, err)
	}
	return nil
}

var errStoreDown = errors.New("the store does not answer")
