package cluster

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"mi/cluster/clustertest"
)

// Benchmarks against a real redis-server on loopback. Their figures are
// reported, never asserted. For the p50/p99 over 1,000 changes:
//
//	go test -run '^$' -bench . -benchtime 1000x ./cluster/

// reportLatency adds the median and the 99th percentile of ds to b's
// results, in microseconds.
func reportLatency(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		return float64(ds[min(len(ds)-1, int(q*float64(len(ds))))]) / float64(time.Microsecond)
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkCompareAndSet: one writer, one change after the other (the
// latency a PR that changes a binding waits for).
func BenchmarkCompareAndSet(b *testing.B) {
	r := clustertest.StartRedis(b)
	s := open(b, r.URL(), "a")
	ctx := context.Background()
	ds := make([]time.Duration, 0, b.N)
	var version uint64
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		cur, won, err := s.CompareAndSet(ctx, binding("alice", "a", version))
		ds = append(ds, time.Since(t0))
		if err != nil || !won {
			b.Fatalf("won %v, %v", won, err)
		}
		version = cur.Version
	}
	b.StopTimer()
	reportLatency(b, ds)
}

// BenchmarkCompareAndSetParallel: writers of different users at once, as
// a node's settling goroutines are (rueidis pipelines them).
func BenchmarkCompareAndSetParallel(b *testing.B) {
	r := clustertest.StartRedis(b)
	s := open(b, r.URL(), "a")
	ctx := context.Background()
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		user := fmt.Sprintf("user%d", next.Add(1))
		var version uint64
		for pb.Next() {
			cur, won, err := s.CompareAndSet(ctx, binding(user, "a", version))
			if err != nil || !won {
				b.Errorf("won %v, %v", won, err)
				return
			}
			version = cur.Version
		}
	})
}

// BenchmarkChangeSeen: from a CompareAndSet at one node to the apply of
// the change by another node's Watch.
func BenchmarkChangeSeen(b *testing.B) {
	r := clustertest.StartRedis(b)
	writer, reader := open(b, r.URL(), "a"), open(b, r.URL(), "b")
	ctx, cancel := context.WithCancel(context.Background())
	type seen struct {
		version uint64
		at      time.Time
	}
	applied := make(chan seen, 16)
	resynced := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- reader.Watch(ctx,
			func(bd Binding) { applied <- seen{bd.Version, time.Now()} },
			func(map[string]Binding) { resynced <- struct{}{} })
	}()
	b.Cleanup(func() { cancel(); <-done })
	select {
	case <-resynced:
	case <-time.After(wait):
		b.Fatal("no resync")
	}
	ds := make([]time.Duration, 0, b.N)
	var version uint64
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		cur, won, err := writer.CompareAndSet(ctx, binding("alice", "a", version))
		if err != nil || !won {
			b.Fatalf("won %v, %v", won, err)
		}
		version = cur.Version
		select {
		case s := <-applied:
			if s.version != version {
				b.Fatalf("applied version %d, want %d", s.version, version)
			}
			ds = append(ds, s.at.Sub(t0))
		case <-time.After(wait):
			b.Fatalf("version %d not seen within %v", version, wait)
		}
	}
	b.StopTimer()
	reportLatency(b, ds)
}
