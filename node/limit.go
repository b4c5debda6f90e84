package node

import (
	"math"
	"net/netip"
	"sync"
	"time"

	"mi/wire"
)

// rateLimit is a token bucket per source address: each source may send
// rate datagrams a second, in bursts of up to burst. Sources are tracked in
// a bounded table; when it is full, the sources it does not hold share one
// bucket, so a flood from spoofed addresses cannot grow the table or spend
// the budget of the sources already known.
type rateLimit struct {
	perNano float64 // tokens earned per nanosecond
	burst   float64
	max     int // sources tracked per shard
	shards  [limitShards]limitShard
}

// limitShards spreads the sources over independently locked maps, as the
// table does, so that workers do not queue on one lock.
const limitShards = 16

type limitShard struct {
	mu       sync.Mutex
	m        map[netip.AddrPort]bucket
	peak     int // the most m has held since it was made
	overflow bucket
	_        [64 - 8 - 8 - 8 - 16]byte
}

type bucket struct {
	tokens float64
	at     int64 // unix nanoseconds of the last refill
}

// maxSources is how many sources a limit tracks one by one.
const maxSources = 1 << 16

// newRateLimit returns a limit of rate per second per source, or nil (no
// limit) when rate is not positive.
func newRateLimit(rate float64) *rateLimit {
	if rate <= 0 {
		return nil
	}
	l := &rateLimit{perNano: rate / 1e9, burst: max(2*rate, 1), max: maxSources / limitShards}
	for i := range l.shards {
		l.shards[i].m = make(map[netip.AddrPort]bucket)
	}
	return l
}

// allow spends one token of src's bucket at now and says whether it had
// one. A nil limit allows everything.
func (l *rateLimit) allow(src netip.AddrPort, now int64) bool {
	if l == nil {
		return true
	}
	sh := &l.shards[limitShardOf(src)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b, ok := sh.m[src]
	switch {
	case ok:
	case len(sh.m) < l.max:
		b = bucket{tokens: l.burst, at: now}
		sh.peak = max(sh.peak, len(sh.m)+1)
	default:
		return l.spend(&sh.overflow, now)
	}
	allowed := l.spend(&b, now)
	sh.m[src] = b
	return allowed
}

// spend refills b up to now and takes one token if there is one.
func (l *rateLimit) spend(b *bucket, now int64) bool {
	if now > b.at {
		b.tokens = min(l.burst, b.tokens+float64(now-b.at)*l.perNano)
		b.at = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep forgets the sources whose bucket has refilled by now: they are
// indistinguishable from a source never seen. It says whether it gave a
// flood's memory back.
func (l *rateLimit) sweep(now int64) (shrunk bool) {
	if l == nil {
		return false
	}
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for src, b := range sh.m {
			if b.tokens+float64(now-b.at)*l.perNano >= l.burst {
				delete(sh.m, src)
			}
		}
		if m, ok := shrink(sh.m, sh.peak); ok {
			sh.m, sh.peak, shrunk = m, len(m), true
		}
		sh.mu.Unlock()
	}
	return shrunk
}

// limitShardOf mixes the address's last bytes and the port: enough to
// spread sources, and no hash seed is needed as nothing is keyed by it but
// the shard.
func limitShardOf(ap netip.AddrPort) int {
	a := ap.Addr().As16()
	return int(a[15]^a[14]^byte(ap.Port())^byte(ap.Port()>>8)) % limitShards
}

// Limits bound what one source can make the node do. A zero field takes
// its default; a negative one turns that limit off.
type Limits struct {
	// AgentRate is how many PLs a second one of the domain's agents may
	// send; each may cost a DNS lookup and a forward to another node.
	AgentRate float64
	// PeerRate is how many PLs a second one address may send for the
	// domain's users on behalf of another domain: a node of a busy domain
	// sends all of its users' locates from one address.
	PeerRate float64
	// RepeatGap is how soon the same locate (one asker, one target) may be
	// forwarded again: a burst costs one forward, an agent's retry (after
	// wire.RetryInterval) goes through.
	RepeatGap time.Duration
	// MaxPending bounds the locates in flight.
	MaxPending int
	// MaxLookups bounds the DNS lookups in flight, and SourceLookups those
	// one source's PLs started.
	MaxLookups, SourceLookups int
	// ProbeWait is how long the registered agent of a user has to answer
	// the node's check before a PR from another address takes the
	// registration over.
	ProbeWait time.Duration
	// GuessLimit is how many refused requests for one user from addresses
	// other than its registered one (PDs, takeover PRs, RLs that answer
	// nothing) within GuessWindow freeze its registration for FreezeFor:
	// a PD or a takeover is refused then, whatever its address, so that
	// an attacker sweeping the ports of the agent's host cannot land on
	// the right one. The agent's own retries come from its registered
	// address and never count.
	GuessLimit  int
	GuessWindow time.Duration
	FreezeFor   time.Duration
}

// The default limits.
const (
	DefaultAgentRate     = 100
	DefaultPeerRate      = 1000
	DefaultRepeatGap     = wire.RetryInterval / 2
	DefaultMaxPending    = 100_000
	DefaultMaxLookups    = 4096
	DefaultSourceLookups = 16
	DefaultProbeWait     = wire.RetryInterval / 2
	DefaultGuessLimit    = 16
	DefaultGuessWindow   = 10 * time.Second
	DefaultFreezeFor     = time.Minute
)

// withDefaults fills the zero fields with the defaults and turns the
// negative ones into no limit: a negative rate or duration stays negative,
// which its user reads as none, and a count becomes the largest. Applied
// twice it changes nothing more.
func (l Limits) withDefaults() Limits {
	l.AgentRate = orDefault(l.AgentRate, DefaultAgentRate, -1)
	l.PeerRate = orDefault(l.PeerRate, DefaultPeerRate, -1)
	l.RepeatGap = orDefault(l.RepeatGap, DefaultRepeatGap, -1)
	l.MaxPending = orDefault(l.MaxPending, DefaultMaxPending, math.MaxInt)
	l.MaxLookups = orDefault(l.MaxLookups, DefaultMaxLookups, math.MaxInt32)
	l.SourceLookups = orDefault(l.SourceLookups, DefaultSourceLookups, math.MaxInt32)
	l.ProbeWait = orDefault(l.ProbeWait, DefaultProbeWait, -1)
	l.GuessLimit = orDefault(l.GuessLimit, DefaultGuessLimit, math.MaxInt16)
	l.GuessWindow = orDefault(l.GuessWindow, DefaultGuessWindow, DefaultGuessWindow)
	l.FreezeFor = orDefault(l.FreezeFor, DefaultFreezeFor, -1)
	return l
}

// orDefault is v, or def when v is zero, or off when v is negative.
func orDefault[T int | float64 | time.Duration](v, def, off T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return off
	}
	return v
}
