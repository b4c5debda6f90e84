package cluster

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/rueidis"
)

// Backoff of Watch between two attempts to subscribe: doubled after each
// failure up to the maximum, back to the minimum once subscribed.
const (
	WatchBackoffMin = 100 * time.Millisecond
	WatchBackoffMax = 2 * time.Second
)

// errUnsubscribed ends a subscription that the store ended.
var errUnsubscribed = errors.New("cluster: unsubscribed by the store")

// Watch keeps a copy of the domain's bindings current, until ctx ends; it
// then returns nil (ErrClosed after Close). It subscribes to the changes
// channel; once subscribed, and again after every reconnection, it reads
// every binding (Load) and calls resync with them, so that changes made
// while it was not subscribed are covered; then it calls apply with each
// change, in the order the store made them. resync owns the map it is
// given. When the connection drops, Watch subscribes again after a backoff
// from WatchBackoffMin doubling to WatchBackoffMax, for as long as it
// takes; Config.OnState hears of the outage.
//
// apply and resync are called from Watch's goroutine, one at a time.
// Changes received while the Load ran are given to apply after resync,
// without those the Load already saw; even so, apply may rarely get a
// binding no newer than resync's for that user (a change in flight when
// the Load read it): a copy keeps the one with the higher Version. A
// message that does not decode is logged and skipped; a stored binding
// that does not decode is logged and left out of resync's map.
func (s *Store) Watch(ctx context.Context, apply func(Binding), resync func(map[string]Binding)) error {
	backoff := WatchBackoffMin
	for {
		synced, err := s.watch(ctx, apply, resync)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrClosed):
			return err
		case synced:
			backoff = WatchBackoffMin
		}
		if re := (*rueidis.RedisError)(nil); errors.As(err, &re) {
			s.log.Warn("cluster watch: subscription refused", "store", s.url, "err", err, "retry_in", backoff)
		} else {
			s.log.Debug("cluster watch: subscription ended", "store", s.url, "err", err, "retry_in", backoff)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, WatchBackoffMax)
	}
}

// watch is one subscription: it returns when it ends, saying whether it
// got as far as a resync.
func (s *Store) watch(ctx context.Context, apply func(Binding), resync func(map[string]Binding)) (synced bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	var q changeQueue
	q.wake = make(chan struct{}, 1)
	// The hook runs on rueidis's reading goroutine: it only signals.
	subscribed := make(chan struct{}, 1)
	hook := func(ps rueidis.PubSubSubscription) {
		if ps.Kind == "subscribe" {
			select {
			case subscribed <- struct{}{}:
			default:
			}
		}
	}
	ended := make(chan error, 1)
	received := false // from ended
	go func() {
		ended <- s.client.Receive(rueidis.WithOnSubscriptionHook(ctx, hook),
			s.client.B().Subscribe().Channel(s.keys.changes).Build(),
			func(m rueidis.PubSubMessage) { q.push(m.Message) })
	}()
	defer func() {
		cancel()
		if !received {
			<-ended
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return synced, nil
		case err := <-ended:
			received = true
			if err == nil {
				err = errUnsubscribed
			}
			return synced, s.done(ctx, s.begin(), err)
		case <-subscribed:
			if err := s.resync(ctx, &q, apply, resync); err != nil {
				return synced, err
			}
			synced = true
		case <-q.wake:
			if synced { // else the resync to come takes them
				for _, m := range q.take() {
					if b, ok := s.decodeChange(m); ok {
						apply(b)
					}
				}
			}
		}
	}
}

// resync reads every binding, gives them to resync, then gives apply the
// changes received meanwhile that the read did not already have.
func (s *Store) resync(ctx context.Context, q *changeQueue, apply func(Binding), resync func(map[string]Binding)) error {
	all, err := s.Load(ctx)
	if all == nil {
		return err
	}
	if err != nil {
		s.log.Warn("cluster watch: bindings left out of the resync", "store", s.url, "err", err)
	}
	var later []Binding
	for _, m := range q.take() {
		b, ok := s.decodeChange(m)
		if !ok {
			continue
		}
		if have, ok := all[b.User]; ok && have.Version >= b.Version {
			continue
		}
		later = append(later, b)
	}
	resync(all)
	for _, b := range later {
		apply(b)
	}
	return nil
}

// decodeChange decodes a message of the changes channel, logging one that
// does not decode.
func (s *Store) decodeChange(m string) (Binding, bool) {
	b, err := decodeChange(s.keys.changes, m)
	if err != nil {
		s.log.Warn("cluster watch: change skipped", "store", s.url, "err", err)
		return Binding{}, false
	}
	return b, true
}

// changeQueue holds the messages received and not yet applied: the
// receiving goroutine pushes without waiting on apply.
type changeQueue struct {
	mu   sync.Mutex
	msgs []string
	wake chan struct{} // capacity 1: a push since the last take
}

func (q *changeQueue) push(m string) {
	q.mu.Lock()
	q.msgs = append(q.msgs, m)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *changeQueue) take() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	m := q.msgs
	q.msgs = nil
	return m
}
