package lumi

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func cacheKeys[V any](c *boundedCache[string, V]) []string {
	var keys []string
	for k := range c.items {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// When full, an insert drops the expired entries first, then the oldest.
func TestBoundedCacheEviction(t *testing.T) {
	clock := newFakeClock()
	c := newBoundedCache[string, int](3)
	var removed []string
	c.removed = func(k string, _ int, expired bool) { removed = append(removed, fmt.Sprint(k, " expired=", expired)) }
	now := clock.Now()
	c.put("live1", 1, now.Add(time.Hour), now)
	c.put("short", 2, now.Add(time.Second), now)
	c.put("live2", 3, now.Add(time.Hour), now)
	clock.Advance(time.Minute)
	now = clock.Now()
	c.put("new1", 4, now.Add(time.Hour), now) // "short" has expired: it goes
	c.put("new2", 5, now.Add(time.Hour), now) // none expired: the oldest, "live1", goes
	c.put("new2", 6, now.Add(time.Hour), now) // a replacement evicts nothing
	if diff := cmp.Diff([]string{"live2", "new1", "new2"}, cacheKeys(c)); diff != "" {
		t.Errorf("keys mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"short expired=true", "live1 expired=false"}, removed); diff != "" {
		t.Errorf("removed mismatch (-want +got):\n%s", diff)
	}
	if v, ok := c.get("new2", now); !ok || v != 6 {
		t.Errorf("get(new2) = %v, %v; want 6", v, ok)
	}
	if n := c.sweep(now.Add(2 * time.Hour)); n != 3 || c.len() != 0 || c.byAge.Len() != 0 || len(c.byExp) != 0 {
		t.Errorf("sweep removed %d, left %d (%d, %d); want all 3", n, c.len(), c.byAge.Len(), len(c.byExp))
	}
}

// Entries expired by the time of an insert go even when there is room.
func TestBoundedCacheDropsExpiredOnInsert(t *testing.T) {
	clock := newFakeClock()
	c := newBoundedCache[string, int](10)
	expired := 0
	c.removed = func(string, int, bool) { expired++ }
	c.put("short", 1, clock.Now().Add(time.Second), clock.Now())
	clock.Advance(time.Second)
	c.put("other", 2, clock.Now().Add(time.Second), clock.Now())
	if diff := cmp.Diff([]string{"other"}, cacheKeys(c)); diff != "" || expired != 1 {
		t.Errorf("keys mismatch (-want +got):\n%s\n%d removals reported, want 1", diff, expired)
	}
}
