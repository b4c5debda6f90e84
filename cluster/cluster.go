// Package cluster keeps the shared state of a domain served by several
// LUMI nodes in Redis: each user's binding (the node that owns the agent's
// registration, the agent's address, online or not), the registry of the
// domain's nodes with their heartbeats, and a change feed that keeps every
// node's copy of the bindings current.
//
// The store is the source of truth for bindings; each node's table is a
// copy that Watch keeps current, so that a locate never waits on the
// network. A change is settled with CompareAndSet, whose version check
// lets exactly one of two racing writers win. Every key of a domain
// carries the hash tag {lumi:DOMAIN}, so that a domain's keys live in one
// slot of a Redis Cluster and its scripts may touch several of them.
package cluster

import (
	"log/slog"
	"net/netip"
	"time"
)

// Binding is where one user of the domain is registered.
type Binding struct {
	User    string         // the user's name folded to lower case: the key
	Owner   string         // the id of the node that holds the agent's registration
	Agent   netip.AddrPort // where the agent registered from, at its owner
	Online  bool           // false after a PD, or silence at the owner
	Version uint64         // the store's count of changes to this binding; 0: none stored
}

// Node is one node of the domain, as the registry knows it.
type Node struct {
	ID    string
	Addr  netip.AddrPort // where it serves PLUMI: siblings relay locates there
	Alive bool           // its heartbeat is current
	// Users is a digest of the node's user list (UsersDigest), so that
	// nodes whose configs differ can say so; "-" if the node gave none.
	Users string
	// Since is how long before the reading the node's last heartbeat was
	// written, by the store's clock (so the reader's clock does not
	// matter); negative if the entry does not say when.
	Since time.Duration
}

// Defaults of Config.
const (
	DefaultHeartbeat = time.Second     // how often a node renews its entry and reads the others'
	DefaultDeadAfter = 5 * time.Second // a node whose entry is older is dead
)

// Config says which store and who this node is.
type Config struct {
	// URL is the store: redis://[user:pass@]host:port[/db],
	// rediss://... (TLS), unix:///path, and the forms of rueidis.ParseURL
	// for Sentinel and Cluster.
	URL       string
	Domain    string         // a DNS name, folded to lower case in the keys
	NodeID    string         // unique within the domain: [A-Za-z0-9._-], 1 to 64 bytes; "": an observer (Open)
	Addr      netip.AddrPort // this node's PLUMI address, which siblings relay to (Heartbeat needs it)
	Users     string         // UsersDigest of this node's user list; "": none given
	Heartbeat time.Duration  // default DefaultHeartbeat
	DeadAfter time.Duration  // default DefaultDeadAfter
	Logger    *slog.Logger   // nil: discard

	// OnState, if not nil, is told when the store becomes unreachable
	// (up false: the first operation of any method that fails to reach
	// it after it was reached) and when it is reachable again (up true).
	// It is called only on a change, never twice with the same value in a
	// row, from the goroutine of the operation that saw the change, one
	// call at a time; it must return quickly and must not call the Store.
	// The store is up when Open returns. An operation whose own context
	// ends first says nothing of the store; Heartbeat's, which wait at
	// most DeadAfter, find a store that hangs.
	OnState func(up bool)
}
