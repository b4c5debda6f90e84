package lumi

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// downKey is one target of one domain marked down.
type downKey struct {
	domain string // lower-case FQDN
	addr   netip.AddrPort
}

// markEnd is a down mark that went, expired or evicted for room.
type markEnd struct {
	key     downKey
	expired bool
}

// MarkDown marks ap, a target of domain, down for Config.DownFor: Resolve,
// Known and Next skip it while another target is up. Marking a target
// again restarts its time. A target newly down is logged, and so is its
// mark's end (MarkUp, or Sweep once the time is over). An invalid domain
// is ignored. The marks are bounded like the cache (Config.MaxCache): when
// full, the oldest goes first.
func (r *Resolver) MarkDown(domain string, ap netip.AddrPort) {
	key, err := peerKey(domain)
	if err != nil {
		return
	}
	k := downKey{key, unmapAP(ap)}
	now := r.now()
	r.mu.Lock()
	was := r.isDown(key, k.addr, now)
	r.down.put(k, struct{}{}, now.Add(r.downFor), now)
	ups := r.takeUps()
	r.mu.Unlock()
	r.reportUps(ups)
	if !was {
		r.log.Info("lumi: target marked down", "domain", display(key), "target", k.addr, "for", r.downFor)
	}
}

// MarkUp ends ap's down mark, if it has one: say, when the node hears from
// it again.
func (r *Resolver) MarkUp(domain string, ap netip.AddrPort) {
	key, err := peerKey(domain)
	if err != nil {
		return
	}
	k := downKey{key, unmapAP(ap)}
	r.mu.Lock()
	was := r.isDown(key, k.addr, r.now())
	r.down.delete(k)
	r.mu.Unlock()
	if was {
		r.log.Info("lumi: target up", "domain", display(key), "target", k.addr, "reason", "marked up")
	}
}

// Next returns the target to try after failed, a target of domain that
// did not answer: the first one after failed in the order of Targets that
// is not marked down, going round to the start of the list; and if failed
// is not a target, the first one up. It does not mark failed down (see
// MarkDown). With no other target up, the error wraps ErrAllDown; lookup
// failures are those of Resolve.
func (r *Resolver) Next(ctx context.Context, domain string, failed netip.AddrPort) (netip.AddrPort, error) {
	ts, err := r.Targets(ctx, domain)
	if err != nil {
		return netip.AddrPort{}, err
	}
	failed = unmapAP(failed)
	start := 0
	for i, t := range ts {
		if t.Addr == failed {
			start = i + 1
		}
	}
	for i := range ts {
		if t := ts[(start+i)%len(ts)]; !t.Down && t.Addr != failed {
			return t.Addr, nil
		}
	}
	return netip.AddrPort{}, fmt.Errorf("%w: %s, after %v", ErrAllDown, domain, failed)
}

// isDown reports whether addr of domain is marked down at now; r.mu must
// be held.
func (r *Resolver) isDown(domain string, addr netip.AddrPort, now time.Time) bool {
	if r.down.len() == 0 {
		return false // the usual case, without hashing a key
	}
	_, down := r.down.get(downKey{domain, addr}, now)
	return down
}

// firstUp returns the first of ts not marked down, else the first; r.mu
// must be held and ts must not be empty.
func (r *Resolver) firstUp(domain string, ts []Target) netip.AddrPort {
	now := r.now()
	for _, t := range ts {
		if !r.isDown(domain, t.Addr, now) {
			return t.Addr
		}
	}
	return ts[0].Addr
}

// takeUps returns the marks ended since the last call; r.mu must be held.
func (r *Resolver) takeUps() []markEnd {
	ups := r.ups
	r.ups = nil
	return ups
}

// reportUps logs ended marks, without r.mu held since a handler may block.
func (r *Resolver) reportUps(ups []markEnd) {
	for _, u := range ups {
		reason := "down time over"
		if !u.expired {
			reason = "too many targets marked down"
		}
		r.log.Info("lumi: target up", "domain", display(u.key.domain), "target", u.key.addr, "reason", reason)
	}
}

func unmapAP(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
