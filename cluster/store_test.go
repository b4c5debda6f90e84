package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"mi/cluster/clustertest"
)

// wait bounds every wait of these tests for a condition: far longer than
// anything takes on an idle machine, short enough to fail a hung test.
const wait = 20 * time.Second

// testCtx is a context that ends with the test, or after wait.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// open opens a store of domain bb.com at url for node id (none: an
// observer), with cfg's other fields, closed when the test ends.
func open(t testing.TB, url, id string, edit ...func(*Config)) *Store {
	t.Helper()
	cfg := Config{URL: url, Domain: "bb.com", NodeID: id}
	if id != "" {
		cfg.Addr = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(3300+len(id)))
	}
	for _, e := range edit {
		e(&cfg)
	}
	s, err := Open(testCtx(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// stateLog records the calls of Config.OnState.
type stateLog struct {
	mu  sync.Mutex
	ups []bool
	ch  chan bool
}

func newStateLog() *stateLog { return &stateLog{ch: make(chan bool, 100)} }

func (l *stateLog) onState(up bool) {
	l.mu.Lock()
	l.ups = append(l.ups, up)
	l.mu.Unlock()
	l.ch <- up
}

func (l *stateLog) calls() []bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]bool(nil), l.ups...)
}

// next waits for the next call and checks its value.
func (l *stateLog) next(t *testing.T, want bool) {
	t.Helper()
	select {
	case up := <-l.ch:
		if up != want {
			t.Fatalf("OnState(%v), want OnState(%v); calls so far %v", up, want, l.calls())
		}
	case <-time.After(wait):
		t.Fatalf("no OnState(%v) within %v; calls so far %v", want, wait, l.calls())
	}
}

func binding(user, owner string, version uint64) Binding {
	return Binding{User: user, Owner: owner, Agent: agentA, Online: true, Version: version}
}

func TestOpenErrors(t *testing.T) {
	ctx := testCtx(t)
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error
		not  string   // and what it must not say
	}{
		// All but "unreachable" wrap ErrInvalid.
		{"no domain", Config{URL: "redis://127.0.0.1:1"}, []string{"no domain"}, ""},
		{"bad domain", Config{URL: "redis://127.0.0.1:1", Domain: "b}b.com"}, []string{"domain"}, ""},
		{"bad node id", Config{URL: "redis://127.0.0.1:1", Domain: "bb.com", NodeID: "a b"}, []string{"node id"}, ""},
		{"bad scheme", Config{URL: "http://u:hunter2@127.0.0.1:1", Domain: "bb.com"}, []string{"invalid URL scheme", "http://u:xxxxx@127.0.0.1:1"}, "hunter2"},
		{"unparsable", Config{URL: "redis://u:hun ter2@127.0.0.1:x", Domain: "bb.com"}, []string{"store URL"}, "hun ter2"},
		{"unreachable", Config{URL: "redis://:hunter2@127.0.0.1:1", Domain: "bb.com"}, []string{"redis://:xxxxx@127.0.0.1:1", "refused"}, "hunter2"},
		{"dead after too short", Config{URL: "redis://127.0.0.1:1", Domain: "bb.com", Heartbeat: time.Second, DeadAfter: time.Second}, []string{"DeadAfter"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(ctx, tt.cfg)
			if err == nil {
				s.Close()
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if errors.Is(err, ErrInvalid) != (tt.name != "unreachable") {
				t.Errorf("errors.Is(%v, ErrInvalid) = %v", err, errors.Is(err, ErrInvalid))
			}
			if tt.not != "" && strings.Contains(err.Error(), tt.not) {
				t.Errorf("error shows %q: %v", tt.not, err)
			}
		})
	}
}

// TestOpenTimeout: a store that does not answer is given up on when the
// context ends.
func TestOpenTimeout(t *testing.T) {
	r := clustertest.StartRedis(t)
	r.Pause()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	s, err := Open(ctx, Config{URL: r.URL(), Domain: "bb.com"})
	if err == nil {
		s.Close()
		t.Fatal("Open of a frozen store succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), r.URL()) {
		t.Errorf("Open of a frozen store: %v", err)
	}
}

func TestOpenUnixAndKeys(t *testing.T) {
	r := clustertest.StartRedis(t)
	s := open(t, r.UnixURL(), "a", func(c *Config) { c.Domain = "BB.com" })
	if s.Domain() != "bb.com" {
		t.Errorf("domain %q, want it folded", s.Domain())
	}
	if err := s.Ping(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CompareAndSet(testCtx(t), binding("alice", "a", 0)); err != nil {
		t.Fatal(err)
	}
	// The hash carries the domain's tag, and holds the encoding.
	got, err := r.Do("HGET", "{lumi:bb.com}:bindings", "alice")
	if want := "$21\r\n1 a 1 192.0.2.1:40000"; err != nil || got != want {
		t.Errorf("HGET: %q, %v; want %q", got, err, want)
	}
}

func TestCompareAndSet(t *testing.T) {
	r := clustertest.StartRedis(t)
	s := open(t, r.URL(), "a")
	ctx := testCtx(t)

	cur, won, err := s.CompareAndSet(ctx, binding("alice", "a", 0))
	if err != nil || !won || cur != binding("alice", "a", 1) {
		t.Fatalf("first set: %+v %v %v", cur, won, err)
	}
	// A stale version loses, and sees the stored binding.
	cur, won, err = s.CompareAndSet(ctx, binding("alice", "b", 0))
	if err != nil || won || cur != binding("alice", "a", 1) {
		t.Fatalf("stale set: %+v %v %v", cur, won, err)
	}
	// The current one wins.
	next := binding("alice", "b", 1)
	next.Online = false
	cur, won, err = s.CompareAndSet(ctx, next)
	next.Version = 2
	if err != nil || !won || cur != next {
		t.Fatalf("second set: %+v %v %v", cur, won, err)
	}
	// A version for a binding that is absent loses, and sees none.
	cur, won, err = s.CompareAndSet(ctx, binding("bob", "a", 5))
	if err != nil || won || cur != (Binding{}) {
		t.Fatalf("absent: %+v %v %v", cur, won, err)
	}
	all, err := s.Load(ctx)
	if err != nil || len(all) != 1 || all["alice"] != next {
		t.Fatalf("Load: %v %v", all, err)
	}
	// Invalid bindings are not sent.
	if _, _, err := s.CompareAndSet(ctx, Binding{User: "x y", Owner: "a", Agent: agentA}); !errors.Is(err, ErrInvalid) {
		t.Errorf("invalid binding: %v", err)
	}
	if _, _, err := s.CompareAndSet(ctx, binding("alice", "a", 1<<64-1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("last version: %v", err)
	}
}

// TestCompareAndSetRace: two writers with the same version, a hundred
// times: exactly one wins each time, and the loser sees the winner's.
func TestCompareAndSetRace(t *testing.T) {
	r := clustertest.StartRedis(t)
	a, b := open(t, r.URL(), "a"), open(t, r.URL(), "b")
	ctx := testCtx(t)
	var version uint64
	for i := range 100 {
		type result struct {
			cur Binding
			won bool
			err error
		}
		res := make(chan result, 2)
		var start sync.WaitGroup
		start.Add(1)
		for _, s := range []*Store{a, b} {
			go func() {
				start.Wait()
				cur, won, err := s.CompareAndSet(ctx, binding("alice", s.cfg.NodeID, version))
				res <- result{cur, won, err}
			}()
		}
		start.Done()
		r1, r2 := <-res, <-res
		if r1.err != nil || r2.err != nil {
			t.Fatal(r1.err, r2.err)
		}
		if r1.won == r2.won {
			t.Fatalf("round %d: won %v and %v", i, r1.won, r2.won)
		}
		if r2.won {
			r1, r2 = r2, r1
		}
		if r1.cur != r2.cur || r1.cur.Version != version+1 {
			t.Fatalf("round %d: winner has %+v, loser sees %+v", i, r1.cur, r2.cur)
		}
		version++
	}
}

// TestGarbage: values that no Store wrote give errors, never a panic, and
// the bindings that decode are still read.
func TestGarbage(t *testing.T) {
	r := clustertest.StartRedis(t)
	s := open(t, r.URL(), "a")
	ctx := testCtx(t)
	if _, _, err := s.CompareAndSet(ctx, binding("alice", "a", 0)); err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{
		{"bob", "garbage"},
		{"carol", "7 a 1"},
		{"dave", "\x00\xff 7 a 1 1.2.3.4:5"},
		{"Eve", "1 a 1 1.2.3.4:5"},
	} {
		if _, err := r.Do("HSET", "{lumi:bb.com}:bindings", kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Load(ctx)
	if !errors.Is(err, ErrMalformed) || len(all) != 1 || all["alice"] != binding("alice", "a", 1) {
		t.Fatalf("Load: %v, %v", all, err)
	}
	for _, w := range []string{`bindings["bob"]`, `bindings["carol"]`, `bindings["dave"]`, `bindings["Eve"]`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %s: %v", w, err)
		}
	}
	counts, err := s.Bindings(ctx)
	if !errors.Is(err, ErrMalformed) || counts["a"] != (Owned{Bindings: 1, Online: 1}) {
		t.Errorf("Bindings: %v, %v", counts, err)
	}
	// A compare-and-set over garbage reports it, and does not write.
	_, won, err := s.CompareAndSet(ctx, binding("bob", "a", 0))
	if won || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), `bindings["bob"]`) {
		t.Errorf("CompareAndSet over garbage: won %v, %v", won, err)
	}
	// A value of the wrong type is the store's error, not a panic.
	if _, err := r.Do("SET", "{lumi:bb.com}:bindings", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx); err == nil || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Errorf("Load of a string: %v", err)
	}
}

// TestLoadMany: 10,000 bindings come back through HSCAN pages.
func TestLoadMany(t *testing.T) {
	r := clustertest.StartRedis(t)
	s := open(t, r.URL(), "a")
	ctx := testCtx(t)
	const n = 10000
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				owner := "a"
				if i%3 == 0 {
					owner = "b"
				}
				if _, won, err := s.CompareAndSet(ctx, binding(fmt.Sprintf("user%05d", i), owner, 0)); err != nil || !won {
					errs <- fmt.Errorf("user%05d: won %v, %v", i, won, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	all, err := s.Load(ctx)
	if err != nil || len(all) != n {
		t.Fatalf("Load: %d bindings, %v", len(all), err)
	}
	for i := range n {
		u := fmt.Sprintf("user%05d", i)
		if b := all[u]; b.User != u || b.Version != 1 {
			t.Fatalf("%s: %+v", u, b)
		}
	}
	counts, err := s.Bindings(ctx)
	if err != nil || counts["b"].Bindings != (n+2)/3 || counts["a"].Bindings != n-(n+2)/3 || counts["a"].Online != counts["a"].Bindings {
		t.Errorf("Bindings: %v, %v", counts, err)
	}
}

// TestStateOnCompareAndSet: a killed store is reported down once, by the
// first failed operation, and up once, by the first that succeeds.
func TestStateOnCompareAndSet(t *testing.T) {
	r := clustertest.StartRedis(t)
	states := newStateLog()
	s := open(t, r.URL(), "a", func(c *Config) { c.OnState = states.onState })
	ctx := testCtx(t)
	if _, _, err := s.CompareAndSet(ctx, binding("alice", "a", 0)); err != nil {
		t.Fatal(err)
	}
	r.Kill()
	for range 3 {
		if _, _, err := s.CompareAndSet(ctx, binding("alice", "a", 1)); err == nil || !strings.Contains(err.Error(), r.URL()) {
			t.Fatalf("CompareAndSet on a killed store: %v", err)
		}
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping of a killed store")
	}
	states.next(t, false)
	r.Start()
	// The client reconnects on its own: the first operation that gets
	// through says so.
	deadline := time.Now().Add(wait)
	for s.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the store did not come back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, won, err := s.CompareAndSet(ctx, binding("alice", "a", 0)); err != nil || !won {
		t.Fatalf("after restart (empty): won %v, %v", won, err)
	}
	states.next(t, true)
	if got := states.calls(); len(got) != 2 {
		t.Errorf("OnState calls %v, want [false true]", got)
	}
}

// TestCallerGivesUp: a context that ends says nothing of the store.
func TestCallerGivesUp(t *testing.T) {
	r := clustertest.StartRedis(t)
	states := newStateLog()
	s := open(t, r.URL(), "a", func(c *Config) { c.OnState = states.onState })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.CompareAndSet(ctx, binding("alice", "a", 0)); !errors.Is(err, context.Canceled) {
		t.Fatalf("%v, want context.Canceled", err)
	}
	if got := states.calls(); len(got) != 0 {
		t.Errorf("OnState calls %v, want none", got)
	}
	s.Close()
	if err := s.Ping(testCtx(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("Ping after Close: %v", err)
	}
}
