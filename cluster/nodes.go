package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
)

// beatScript renews a node's entry, atomically and by the store's clock.
// KEYS[1] the nodes hash, KEYS[2] the node's alive key; ARGV[1] the node
// id, ARGV[2] "ADDR USERS", ARGV[3] the address, ARGV[4] the alive key's
// TTL in milliseconds. The entry becomes "ADDR USERS BEAT", BEAT the
// store's time in Unix milliseconds.
var beatScript = rueidis.NewLuaScript(`
local t = redis.call('TIME')
local ms = t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ms)
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
return 1
`)

// checkSelf says why this store cannot speak for a node.
func (s *Store) checkSelf() error {
	if s.cfg.NodeID == "" {
		return ErrObserver
	}
	a := s.cfg.Addr
	if !a.IsValid() || a.Addr().IsUnspecified() || a.Port() == 0 {
		return fmt.Errorf("cluster: %w config: node %s: address %v is not one that siblings can send to", ErrInvalid, s.cfg.NodeID, a)
	}
	return nil
}

// beat renews this node's entry and heartbeat.
func (s *Store) beat(ctx context.Context) error {
	start := s.begin()
	addr := s.cfg.Addr.String()
	err := beatScript.Exec(ctx, s.client,
		[]string{s.keys.nodes, s.keys.alive + s.cfg.NodeID},
		[]string{s.cfg.NodeID, addr + " " + s.cfg.Users, addr, strconv.FormatInt(s.cfg.DeadAfter.Milliseconds(), 10)}).Error()
	return s.done(ctx, start, err)
}

// Heartbeat runs until ctx ends, and then returns nil. Every
// Config.Heartbeat it renews this node's entry in the registry (its
// address and users digest, and an alive key that expires after
// Config.DeadAfter) and reads every node's, and calls onNodes (if not nil)
// with all of them, this node included, sorted by id. An error of the
// store is not fatal: it tries again the next period, and Config.OnState
// hears of it. It returns at once, with an error, on a store opened
// without a NodeID or with no address, or after Close.
func (s *Store) Heartbeat(ctx context.Context, onNodes func([]Node)) error {
	if err := s.checkSelf(); err != nil {
		return err
	}
	t := time.NewTicker(s.cfg.Heartbeat)
	defer t.Stop()
	logged := make(map[string]bool) // malformed entries already reported
	for {
		// A beat later than DeadAfter is worthless: give up on it then.
		opCtx, cancel := withTimeout(ctx, s.cfg.DeadAfter)
		err := s.beat(opCtx)
		var nodes []Node
		if err == nil {
			nodes, err = s.Nodes(opCtx)
		}
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrClosed):
			return err
		case nodes != nil && onNodes != nil:
			onNodes(nodes)
		}
		switch {
		case errors.Is(err, ErrMalformed):
			// Someone else's entries: say so once, not every period.
			if msg := err.Error(); !logged[msg] && len(logged) < 100 {
				logged[msg] = true
				s.log.Warn("cluster registry", "store", s.url, "err", err)
			}
		case err != nil:
			// OnState and the log have heard of a store that is down.
			s.log.Debug("cluster heartbeat", "store", s.url, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Leave deletes this node's alive key, so that the other nodes take it
// for dead at their next reading instead of after DeadAfter: for a node
// that shuts down. Its entry stays, so that a node restarted with the
// same id resumes it.
func (s *Store) Leave(ctx context.Context) error {
	if s.cfg.NodeID == "" {
		return ErrObserver
	}
	start := s.begin()
	err := s.client.Do(ctx, s.client.B().Del().Key(s.keys.alive+s.cfg.NodeID).Build()).Error()
	return s.done(ctx, start, err)
}

// Nodes reads the registry: every node of the domain, sorted by id, with
// whether its heartbeat is current. Entries that do not decode are left
// out and reported in an error that wraps ErrMalformed, returned with the
// nodes that did decode; any other error comes with nil nodes.
func (s *Store) Nodes(ctx context.Context) ([]Node, error) {
	start := s.begin()
	entries, err := s.client.Do(ctx, s.client.B().Hgetall().Key(s.keys.nodes).Build()).AsStrMap()
	if err := s.done(ctx, start, err); err != nil {
		return nil, err
	}
	nodes := make([]Node, 0, len(entries))
	var beats []int64
	var bad malformed
	for _, id := range slices.Sorted(maps.Keys(entries)) {
		n, beat, err := decodeNode(s.keys.nodes, id, entries[id])
		if err != nil {
			bad.add(err)
			continue
		}
		nodes = append(nodes, n)
		beats = append(beats, beat)
	}
	if len(nodes) == 0 {
		return nodes, bad.err()
	}
	// The store's time is read after the alive keys, so that a node found
	// dead has Since >= its DeadAfter.
	alive := make([]string, len(nodes))
	for i, n := range nodes {
		alive[i] = s.keys.alive + n.ID
	}
	start = s.begin()
	rs := s.client.DoMulti(ctx, s.client.B().Mget().Key(alive...).Build(), s.client.B().Time().Build())
	vs, err := rs[0].ToArray()
	var now []int64
	if err == nil {
		now, err = rs[1].AsIntSlice()
	}
	if err := s.done(ctx, start, err); err != nil {
		return nil, err
	}
	if len(vs) != len(nodes) || len(now) != 2 {
		return nil, fmt.Errorf("cluster: store %s: MGET and TIME replied %d and %d values for %d keys", s.url, len(vs), len(now), len(nodes))
	}
	nowMs := now[0]*1000 + now[1]/1000
	for i := range nodes {
		nodes[i].Alive = !vs[i].IsNil()
		if beats[i] >= 0 {
			nodes[i].Since = max(0, time.Duration(nowMs-beats[i])*time.Millisecond)
		}
	}
	return nodes, bad.err()
}

// decodeNode decodes the registry entry v of node id: "ADDR USERS BEAT",
// or "ADDR USERS" without the time of the last heartbeat (beat then -1).
// BEAT is the store's time in Unix milliseconds.
func decodeNode(key, id, v string) (n Node, beat int64, err error) {
	bad := func(field, reason string) (Node, int64, error) {
		return Node{}, 0, &DecodeError{Key: key + "[" + quote(id) + "]", Field: field, Reason: reason}
	}
	if why := checkID(id); why != "" {
		return bad("id", why)
	}
	f := strings.Split(v, " ")
	if len(f) != 2 && len(f) != 3 {
		return bad("value", fmt.Sprintf("%s: %d fields, want 2 or 3", quote(v), len(f)))
	}
	n = Node{ID: id, Users: f[1], Since: -1}
	if n.Addr, err = netip.ParseAddrPort(f[0]); err != nil {
		return bad("addr", fmt.Sprintf("%s: not an address and port", quote(f[0])))
	}
	if why := checkID(n.Users); why != "" {
		return bad("users", fmt.Sprintf("%s: %s", quote(n.Users), why))
	}
	beat = -1
	if len(f) == 3 {
		if beat, err = strconv.ParseInt(f[2], 10, 64); err != nil || beat < 0 {
			return bad("beat", fmt.Sprintf("%s: not a time in Unix milliseconds", quote(f[2])))
		}
	}
	return n, beat, nil
}
