package node

import (
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"pgregory.net/rapid"
)

// fold must agree with strings.ToLower on every string, or a name loaded
// from the config (keyed by strings.ToLower) would not be found by a
// datagram naming it (looked up by fold).
func TestFoldIsToLower(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.OneOf(rapid.String(), rapid.StringOf(rapid.RuneFrom([]rune("aZİıKkſßΣσς\xff")))).Draw(t, "s")
		if got, want := string(fold(nil, s)), strings.ToLower(s); got != want {
			t.Fatalf("fold(%q) = %q, strings.ToLower = %q", s, got, want)
		}
	})
}

// The table behaves as a map from folded name to name, whatever the order
// of adds and removes (remove moves the last user of a shard into the
// hole, which must keep the index right).
func TestTableAsMap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tb := newTable(rapid.IntRange(0, 100).Draw(t, "hint"))
		model := map[string]string{}
		name := rapid.StringOf(rapid.RuneFrom([]rune("abAB1é"))).Filter(func(s string) bool { return s != "" })
		for range rapid.IntRange(0, 200).Draw(t, "steps") {
			n := name.Draw(t, "name")
			k := strings.ToLower(n)
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0:
				have, added := tb.add(n)
				if old, ok := model[k]; ok != !added || (ok && have != old) {
					t.Fatalf("add(%q) = %q, %v; model has %q, %v", n, have, added, old, ok)
				}
				if added {
					model[k] = n
				}
			case 1:
				have, ok := tb.remove(n)
				if old, mok := model[k]; ok != mok || have != old {
					t.Fatalf("remove(%q) = %q, %v; model has %q, %v", n, have, ok, old, mok)
				}
				delete(model, k)
			case 2:
				have, ok := tb.lookup(n)
				if old, mok := model[k]; ok != mok || have != old {
					t.Fatalf("lookup(%q) = %q, %v; model has %q, %v", n, have, ok, old, mok)
				}
			}
			if tb.len() != len(model) {
				t.Fatalf("%d users, model %d", tb.len(), len(model))
			}
		}
		for k, n := range model {
			if have, ok := tb.withUserName(k); !ok || have != n {
				t.Fatalf("user %q: %q, %v", k, have, ok)
			}
		}
	})
}

// withUserName looks a folded key up the way requests do.
func (t *table) withUserName(key string) (string, bool) {
	var have string
	ok := t.withUser(fold(nil, key), func(u *userState) { have = u.name })
	return have, ok
}

// Limits.withDefaults fills zeros, turns negatives into no limit, and
// changes nothing when applied again (the node and its core both apply it).
func TestLimitsWithDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Limits
		want Limits
	}{
		{"zero", Limits{}, Limits{AgentRate: DefaultAgentRate, PeerRate: DefaultPeerRate, RepeatGap: DefaultRepeatGap,
			MaxPending: DefaultMaxPending, MaxLookups: DefaultMaxLookups, SourceLookups: DefaultSourceLookups, ProbeWait: DefaultProbeWait,
			GuessLimit: DefaultGuessLimit, GuessWindow: DefaultGuessWindow, FreezeFor: DefaultFreezeFor}},
		{"off", Limits{AgentRate: -1, PeerRate: -5, RepeatGap: -1, MaxPending: -1, MaxLookups: -1, SourceLookups: -1, ProbeWait: -1, GuessLimit: -1, GuessWindow: -1, FreezeFor: -1},
			Limits{AgentRate: -1, PeerRate: -1, RepeatGap: -1, MaxPending: math.MaxInt, MaxLookups: math.MaxInt32, SourceLookups: math.MaxInt32, ProbeWait: -1,
				GuessLimit: math.MaxInt16, GuessWindow: DefaultGuessWindow, FreezeFor: -1}},
		{"set", Limits{AgentRate: 3, MaxPending: 7, ProbeWait: time.Second, GuessLimit: 5}, Limits{AgentRate: 3, PeerRate: DefaultPeerRate, RepeatGap: DefaultRepeatGap,
			MaxPending: 7, MaxLookups: DefaultMaxLookups, SourceLookups: DefaultSourceLookups, ProbeWait: time.Second,
			GuessLimit: 5, GuessWindow: DefaultGuessWindow, FreezeFor: DefaultFreezeFor}},
	} {
		once := tc.in.withDefaults()
		if diff := cmp.Diff(tc.want, once); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
		if diff := cmp.Diff(once, once.withDefaults()); diff != "" {
			t.Errorf("%s applied twice (-once +twice):\n%s", tc.name, diff)
		}
	}
	if newRateLimit(-1) != nil {
		t.Error("a negative rate is a limit")
	}
}

// TestAdmitRetryFromAnotherPort: a node forwards each retry of a PL from
// a source port of its own drawing; at the target's node the retries are
// still one locate (its first forward kept), not a new locate each, which
// would count an agent's silence once per retry.
func TestAdmitRetryFromAnotherPort(t *testing.T) {
	tb := newTable(1)
	k := tb.pendingKeyOf([]byte("a@x\x00b@y"))
	agent := netip.MustParseAddrPort("10.0.0.2:7000")
	first := pendingLocate{forwardedTo: agent, requester: netip.MustParseAddrPort("10.0.0.9:40001"), expires: 10_000, user: "b"}
	if got := tb.admit(k, first, 1_000, 100, 100); got != admitted {
		t.Fatalf("first forward: %v", got)
	}
	retry := first
	retry.requester = netip.MustParseAddrPort("10.0.0.9:51234") // the same node, another source port
	if got := tb.admit(k, retry, 2_000, 100, 100); got != admitted {
		t.Fatalf("retry: %v", got)
	}
	p := tb.pending[k[0]%shards].m[k]
	if p.since != 1_000 || p.requester != retry.requester {
		t.Errorf("after the retry: since %d, requester %v; want the first forward's since (1000) and the retry's requester", p.since, p.requester)
	}
	other := first
	other.requester = netip.MustParseAddrPort("10.0.0.8:40001") // another node
	tb.admit(k, other, 3_000, 100, 100)
	if p := tb.pending[k[0]%shards].m[k]; p.since != 3_000 {
		t.Errorf("another asker's PL: since %d, want a new locate (3000)", p.since)
	}
}
