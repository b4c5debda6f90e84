package lumi

import (
	"container/heap"
	"container/list"
	"time"
)

// boundedCache maps keys to values that expire, holding at most max of
// them: lookups of many distinct names are easy to cause with forged
// requests, and must not grow memory without bound. An insert drops the
// entries expired by then, and when still full the oldest one. Each
// operation is O(log n), amortized for the expired entries it drops. It is
// not safe for concurrent use.
type boundedCache[K comparable, V any] struct {
	max     int
	items   map[K]*cacheItem[K, V]
	byAge   *list.List // *cacheItem, oldest insert first
	byExp   expiryHeap[K, V]
	removed func(key K, val V, expired bool) // if set, told of each entry that goes, but not of those replaced or deleted
}

type cacheItem[K comparable, V any] struct {
	key     K
	val     V
	expires time.Time
	age     *list.Element
	heapIdx int
}

func newBoundedCache[K comparable, V any](max int) *boundedCache[K, V] {
	return &boundedCache[K, V]{max: max, items: make(map[K]*cacheItem[K, V]), byAge: list.New()}
}

func (c *boundedCache[K, V]) len() int { return len(c.items) }

// get returns the value of key if it has not expired at now. An expired
// entry stays until swept or evicted, so that its removal is reported.
func (c *boundedCache[K, V]) get(key K, now time.Time) (V, bool) {
	it, ok := c.items[key]
	if !ok || !now.Before(it.expires) {
		var zero V
		return zero, false
	}
	return it.val, true
}

// put stores val for key until expires, replacing any entry of key.
func (c *boundedCache[K, V]) put(key K, val V, expires, now time.Time) {
	c.delete(key)
	c.sweep(now)
	if len(c.items) >= c.max {
		c.evict(c.byAge.Front().Value.(*cacheItem[K, V]), false)
	}
	it := &cacheItem[K, V]{key: key, val: val, expires: expires}
	it.age = c.byAge.PushBack(it)
	heap.Push(&c.byExp, it)
	c.items[key] = it
}

// delete removes key, if present, without reporting it.
func (c *boundedCache[K, V]) delete(key K) (V, bool) {
	it, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.unlink(it)
	return it.val, true
}

// sweep removes the entries expired at now and returns how many went.
func (c *boundedCache[K, V]) sweep(now time.Time) int {
	n := 0
	for len(c.byExp) > 0 && !now.Before(c.byExp[0].expires) {
		c.evict(c.byExp[0], true)
		n++
	}
	return n
}

func (c *boundedCache[K, V]) evict(it *cacheItem[K, V], expired bool) {
	c.unlink(it)
	if c.removed != nil {
		c.removed(it.key, it.val, expired)
	}
}

func (c *boundedCache[K, V]) unlink(it *cacheItem[K, V]) {
	delete(c.items, it.key)
	c.byAge.Remove(it.age)
	heap.Remove(&c.byExp, it.heapIdx)
}

// expiryHeap orders items by expiry, the soonest first (container/heap).
type expiryHeap[K comparable, V any] []*cacheItem[K, V]

func (h expiryHeap[K, V]) Len() int           { return len(h) }
func (h expiryHeap[K, V]) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }

func (h expiryHeap[K, V]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}

func (h *expiryHeap[K, V]) Push(x any) {
	it := x.(*cacheItem[K, V])
	it.heapIdx = len(*h)
	*h = append(*h, it)
}

func (h *expiryHeap[K, V]) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}
