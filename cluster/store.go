package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"mi/wire"
)

// ErrClosed is returned by the methods of a Store after Close.
var ErrClosed = errors.New("cluster: store closed")

// ErrObserver is returned by the methods that speak for a node (Heartbeat,
// Leave) on a Store opened without a NodeID.
var ErrObserver = errors.New("cluster: store opened without a node id")

// Store is a domain's shared state in Redis, as one node (or an operator's
// tool) sees it. Its methods are safe for concurrent use.
type Store struct {
	client rueidis.Client
	cfg    Config // with the defaults filled in
	keys   keys
	url    string // cfg.URL without its password, for messages
	log    *slog.Logger
	closed atomic.Bool

	// The store's reachability, as the operations find it (report).
	stateMu    sync.Mutex
	up         bool
	changedSeq uint64        // opSeq when up last changed
	opSeq      atomic.Uint64 // counts operations started
}

// keys are the names of a domain's keys, all in the hash slot of the tag
// {lumi:DOMAIN}.
type keys struct {
	bindings string // hash: user -> binding (see appendValue)
	changes  string // pub/sub channel: one message per change (appendChange)
	nodes    string // hash: node id -> "ADDR USERS BEAT"
	alive    string // prefix of a string per node, with a PX TTL: the heartbeat
}

func domainKeys(domain string) keys {
	tag := "{lumi:" + domain + "}:"
	return keys{bindings: tag + "bindings", changes: tag + "changes", nodes: tag + "nodes", alive: tag + "alive:"}
}

// Open connects to the store of cfg.URL for cfg.Domain. A store that
// cannot be reached is an error, which names the URL without its password.
// A Config without a NodeID opens an observer, as lumictl does: it reads
// and may CompareAndSet, but has no heartbeat.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg.Domain = strings.ToLower(cfg.Domain)
	if cfg.Domain == "" {
		return nil, fmt.Errorf("cluster: %w config: no domain", ErrInvalid)
	}
	if err := wire.CheckDomain(cfg.Domain); err != nil {
		return nil, fmt.Errorf("cluster: %w config: domain %s: %v", ErrInvalid, quote(cfg.Domain), err)
	}
	if cfg.NodeID != "" {
		if err := CheckNodeID(cfg.NodeID); err != nil {
			return nil, err
		}
	}
	if cfg.Users == "" {
		cfg.Users = "-"
	} else if why := checkID(cfg.Users); why != "" {
		return nil, fmt.Errorf("cluster: %w config: users digest %s: %s", ErrInvalid, quote(cfg.Users), why)
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.DeadAfter <= 0 {
		cfg.DeadAfter = DefaultDeadAfter
	}
	if cfg.DeadAfter <= cfg.Heartbeat {
		return nil, fmt.Errorf("cluster: %w config: DeadAfter %v is not longer than Heartbeat %v", ErrInvalid, cfg.DeadAfter, cfg.Heartbeat)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	shown := redactURL(cfg.URL)
	opt, err := rueidis.ParseURL(cfg.URL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, password and all
		}
		return nil, fmt.Errorf("cluster: %w store URL %s: %v", ErrInvalid, shown, err)
	}
	// Watch and Heartbeat retry on their own schedule and report the
	// store's state as they go; a retry inside rueidis would hide a
	// failure from them. Nothing here uses client-side caching.
	opt.DisableRetry = true
	opt.DisableCache = true
	// One pipelined connection per Redis server (rueidis makes up to four):
	// after the store restarts, the first operation finds it broken and
	// the next ones use the new one. With several, each stale connection
	// fails one more operation after others succeeded, and the state
	// flaps. A node's traffic to the store is light (binding changes,
	// heartbeats), and rueidis pipelines what shares the connection.
	opt.PipelineMultiplex = -1
	// NewClient dials without a context: wait for it as long as ctx lets.
	type made struct {
		client rueidis.Client
		err    error
	}
	ch := make(chan made, 1)
	go func() {
		c, err := rueidis.NewClient(opt)
		ch <- made{c, err}
	}()
	var client rueidis.Client
	select {
	case m := <-ch:
		if m.err != nil {
			return nil, fmt.Errorf("cluster: store %s: %w", shown, m.err)
		}
		client = m.client
	case <-ctx.Done():
		go func() {
			if m := <-ch; m.err == nil {
				m.client.Close()
			}
		}()
		return nil, fmt.Errorf("cluster: store %s: %w", shown, ctx.Err())
	}
	if err := client.Do(ctx, client.B().Ping().Build()).Error(); err != nil {
		client.Close()
		return nil, fmt.Errorf("cluster: store %s: %w", shown, err)
	}
	return &Store{client: client, cfg: cfg, keys: domainKeys(cfg.Domain), url: shown, log: log, up: true}, nil
}

// redactURL is u without its password.
func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		// Show the scheme and host only if they can be told apart from
		// the credentials; else nothing of it.
		if i := strings.LastIndexByte(u, '@'); i >= 0 {
			if j := strings.Index(u, "://"); j >= 0 && j < i {
				return u[:j+3] + "xxxxx@" + u[i+1:]
			}
			return "(unparsable URL)"
		}
		return u
	}
	return p.Redacted()
}

// Close ends the connections to the store. Watch and Heartbeat then
// return ErrClosed; cancel their contexts first to have them return nil.
func (s *Store) Close() {
	s.closed.Store(true)
	s.client.Close()
}

// Domain is the domain of the store's keys, folded to lower case.
func (s *Store) Domain() string { return s.cfg.Domain }

// URL is the store's URL without its password.
func (s *Store) URL() string { return s.url }

// Ping checks that the store answers, e.g. for /readyz.
func (s *Store) Ping(ctx context.Context) error {
	start := s.begin()
	err := s.client.Do(ctx, s.client.B().Ping().Build()).Error()
	return s.done(ctx, start, err)
}

// begin numbers an operation that is starting, for done.
func (s *Store) begin() uint64 { return s.opSeq.Add(1) }

// done reports to the state the outcome err of the operation numbered
// start, made with ctx, and returns err as the caller should see it:
// ErrClosed after Close, else err with the store's URL.
func (s *Store) done(ctx context.Context, start uint64, err error) error {
	switch {
	case s.closed.Load() || errors.Is(err, rueidis.ErrClosing):
		return ErrClosed
	case err == nil:
		s.report(start, true, nil)
		return nil
	case callerOf(ctx).Err() != nil:
		// The caller gave up: that says nothing about the store.
		return err
	}
	if _, ok := rueidis.IsRedisErr(err); ok {
		s.report(start, true, nil) // the store answered, with an error
	} else {
		s.report(start, false, err)
	}
	return fmt.Errorf("cluster: store %s: %w", s.url, err)
}

// callerKey marks a context whose deadline is the Store's own (withTimeout).
type callerKey struct{}

// withTimeout is ctx with a deadline of the Store's: an operation that
// reaches it found the store hung, where one that reaches the caller's
// deadline says nothing.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	op, cancel := context.WithTimeout(ctx, d)
	return context.WithValue(op, callerKey{}, ctx), cancel
}

// callerOf is the context of the caller of an operation made with ctx.
func callerOf(ctx context.Context) context.Context {
	if c, ok := ctx.Value(callerKey{}).(context.Context); ok {
		return c
	}
	return ctx
}

// report records that an operation numbered start found the store up or
// not, and tells Config.OnState when that changes. An operation that
// started before the last change is not heard: a reply sent before a crash
// says nothing about the store after it. The callback runs under stateMu,
// so that its calls come in the order of the changes.
func (s *Store) report(start uint64, up bool, err error) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	if start <= s.changedSeq || up == s.up {
		return
	}
	s.up, s.changedSeq = up, s.opSeq.Load()
	if s.cfg.OnState != nil {
		// Its owner says it, with what that means for it: said once.
		s.log.Debug("cluster store state", "up", up, "store", s.url, "err", err)
		s.cfg.OnState(up)
		return
	}
	if up {
		s.log.Info("cluster store reachable again", "store", s.url)
	} else {
		s.log.Warn("cluster store unreachable", "store", s.url, "err", err)
	}
}
