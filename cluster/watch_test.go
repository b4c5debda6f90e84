package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"mi/cluster/clustertest"
	"mi/internal/syncbuf"
)

// event is one call of Watch's callbacks: a resync (all not nil) or an
// apply.
type event struct {
	all     map[string]Binding
	applied Binding
}

func (e event) String() string {
	if e.all != nil {
		return fmt.Sprintf("resync%v", e.all)
	}
	return fmt.Sprintf("apply%+v", e.applied)
}

// watcher runs s.Watch until the test ends and hands its calls over.
type watcher struct {
	events chan event
	done   chan error
}

func watch(t *testing.T, s *Store) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{events: make(chan event, 1000), done: make(chan error, 1)}
	go func() {
		w.done <- s.Watch(ctx,
			func(b Binding) { w.events <- event{applied: b} },
			func(all map[string]Binding) { w.events <- event{all: all} })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-w.done:
			if err != nil {
				t.Errorf("Watch returned %v at the end of its context, want nil", err)
			}
		case <-time.After(wait):
			t.Errorf("Watch did not return within %v of the end of its context", wait)
		}
	})
	return w
}

// next waits for the next event.
func (w *watcher) next(t *testing.T) event {
	t.Helper()
	select {
	case e := <-w.events:
		return e
	case <-time.After(wait):
		t.Fatalf("no Watch callback within %v", wait)
		return event{}
	}
}

// resync waits for the next event, which must be a resync.
func (w *watcher) resync(t *testing.T) map[string]Binding {
	t.Helper()
	e := w.next(t)
	if e.all == nil {
		t.Fatalf("got %v, want a resync", e)
	}
	return e.all
}

// applied waits for the next event, which must be an apply of want.
func (w *watcher) applied(t *testing.T, want Binding) {
	t.Helper()
	if e := w.next(t); e.all != nil || e.applied != want {
		t.Fatalf("got %v, want apply%+v", e, want)
	}
}

// set writes b through s, retrying while the store is coming back.
func set(t *testing.T, s *Store, b Binding) Binding {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		cur, won, err := s.CompareAndSet(testCtx(t), b)
		if err == nil {
			if !won {
				t.Fatalf("CompareAndSet(%+v) lost to %+v", b, cur)
			}
			return cur
		}
		if time.Now().After(deadline) {
			t.Fatalf("CompareAndSet(%+v): %v", b, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWatchSeesChanges: a change made through another Store is applied,
// in order, after the first resync.
func TestWatchSeesChanges(t *testing.T) {
	r := clustertest.StartRedis(t)
	a, b := open(t, r.URL(), "a"), open(t, r.URL(), "b")
	set(t, b, binding("alice", "b", 0))
	w := watch(t, a)
	if all := w.resync(t); len(all) != 1 || all["alice"] != binding("alice", "b", 1) {
		t.Fatalf("first resync %v", all)
	}
	for v := uint64(1); v <= 20; v++ {
		w.applied(t, set(t, b, binding("alice", "b", v)))
	}
	bob := set(t, a, binding("bob", "a", 0))
	w.applied(t, bob) // a's own changes come back too
}

// TestWatchResyncAfterRestart: the store is killed while a watcher is cut
// off from it, restarted empty and written to; the watcher, back, reads
// what the store has now, and hears of the outage and the recovery.
func TestWatchResyncAfterRestart(t *testing.T) {
	r := clustertest.StartRedis(t)
	p := clustertest.NewProxy(t, r.Addr())
	states := newStateLog()
	a := open(t, p.URL(), "a", func(c *Config) { c.OnState = states.onState })
	b := open(t, r.URL(), "b")
	w := watch(t, a)
	if all := w.resync(t); len(all) != 0 {
		t.Fatalf("first resync %v", all)
	}
	w.applied(t, set(t, b, binding("alice", "b", 0)))

	p.Cut()
	r.Kill()
	states.next(t, false)
	r.Start()
	bob := set(t, b, binding("bob", "b", 0)) // a cannot hear it: only a resync can tell
	p.Restore()
	if all := w.resync(t); len(all) != 1 || all["bob"] != bob {
		t.Fatalf("resync after the restart: %v, want only bob", all)
	}
	states.next(t, true)
	w.applied(t, set(t, b, binding("carol", "b", 0)))
	if got := states.calls(); len(got) != 2 {
		t.Errorf("OnState calls %v, want [false true]", got)
	}
}

// TestWatchSurvivesKill: with no proxy in between, a watcher whose store
// is killed and restarted resubscribes on its own and applies the changes
// made after it is back.
func TestWatchSurvivesKill(t *testing.T) {
	r := clustertest.StartRedis(t)
	states := newStateLog()
	a := open(t, r.URL(), "a", func(c *Config) { c.OnState = states.onState })
	b := open(t, r.URL(), "b")
	w := watch(t, a)
	w.resync(t)
	w.applied(t, set(t, b, binding("alice", "b", 0)))
	r.Restart()
	states.next(t, false)
	// The first event after the restart is a resync, whether or not it
	// read the write made meanwhile; a write it did not read is applied.
	d1 := set(t, b, binding("dave", "b", 0))
	switch all := w.resync(t); {
	case len(all) == 0:
		w.applied(t, d1)
	case len(all) != 1 || all["dave"] != d1:
		t.Fatalf("resync after the restart: %v, want at most %+v", all, d1)
	}
	w.applied(t, set(t, b, binding("dave", "b", 1)))
	states.next(t, true)
}

// TestWatchSkipsGarbage: a malformed change is logged, escaped and
// bounded, and the next one applied.
func TestWatchSkipsGarbage(t *testing.T) {
	r := clustertest.StartRedis(t)
	var logs syncbuf.Buffer
	a := open(t, r.URL(), "a", func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	w := watch(t, a)
	w.resync(t)
	garbage := "\x1b[31mred " + strings.Repeat("x", 5000)
	if _, err := r.Do("PUBLISH", "{lumi:bb.com}:changes", garbage); err != nil {
		t.Fatal(err)
	}
	w.applied(t, set(t, a, binding("alice", "a", 0)))
	out := logs.String()
	if !strings.Contains(out, "change skipped") || strings.Contains(out, "\x1b") || len(out) > 1000 {
		t.Errorf("log of a malformed change:\n%q", out)
	}
}

// TestWatchLoadRace: changes made while the watcher subscribes and reads
// end in the same state as the store, however they interleave.
func TestWatchLoadRace(t *testing.T) {
	r := clustertest.StartRedis(t)
	a, b := open(t, r.URL(), "a"), open(t, r.URL(), "b")
	const users, rounds = 20, 30
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for v := range uint64(rounds) {
			for u := range users {
				if _, _, err := b.CompareAndSet(testCtx(t), binding(fmt.Sprintf("u%d", u), "b", v)); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	w := watch(t, a)
	copy := w.resync(t)
	wg.Wait()
	want, err := a.Load(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	for !sameBindings(copy, want) {
		e := w.next(t)
		if e.all != nil {
			t.Fatalf("a second resync %v", e)
		}
		if have := copy[e.applied.User]; e.applied.Version > have.Version {
			copy[e.applied.User] = e.applied
		}
	}
}

func sameBindings(a, b map[string]Binding) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestWatchClosed: Watch on a closed store returns ErrClosed.
func TestWatchClosed(t *testing.T) {
	r := clustertest.StartRedis(t)
	s := open(t, r.URL(), "a")
	s.Close()
	err := s.Watch(testCtx(t), func(Binding) {}, func(map[string]Binding) {})
	if err != ErrClosed {
		t.Fatalf("%v, want ErrClosed", err)
	}
}
