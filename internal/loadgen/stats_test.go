package loadgen

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    []float64
		want float64
	}{
		{"none", nil, 0},
		{"one", []float64{7}, 7},
		{"odd count: the middle one", []float64{9, 1, 5}, 5},
		{"even count: the mean of the middle two", []float64{4, 1, 3, 10}, 3.5},
		{"an outlier does not move it", []float64{10, 11, 1e9}, 11},
	} {
		v := slices.Clone(tc.v)
		if got := Median(v); got != tc.want {
			t.Errorf("%s: Median(%v) = %v, want %v", tc.name, tc.v, got, tc.want)
		}
		if !slices.Equal(v, tc.v) {
			t.Errorf("%s: Median changed its argument to %v", tc.name, v)
		}
	}
	if got := Median([]time.Duration{3 * time.Microsecond, time.Microsecond}); got != 2*time.Microsecond {
		t.Errorf("Median of durations = %v, want 2µs", got)
	}
}

// result is a run of 1s with replies answered and p50, p99 in µs.
func result(replies int64, p50, p99 time.Duration) Result {
	return Result{Requests: replies, Replies: replies, Elapsed: time.Second, P50: p50 * time.Microsecond, P99: p99 * time.Microsecond}
}

// TestSummarize: each figure is the median of its own, not the figures of
// the median round.
func TestSummarize(t *testing.T) {
	rs := []Result{result(100, 30, 900), result(300, 10, 100), result(200, 20, 50)}
	want := Summary{PerSecond: 200, P50: 20 * time.Microsecond, P99: 100 * time.Microsecond}
	if diff := cmp.Diff(want, Summarize(rs)); diff != "" {
		t.Errorf("Summarize (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Summary{}, Summarize(nil)); diff != "" {
		t.Errorf("Summarize(nil) (-want +got):\n%s", diff)
	}
}

func TestRounds(t *testing.T) {
	rounds := []Round{
		{Server: result(50, 40, 80), Echo: result(100, 20, 40)},
		{Server: result(80, 30, 60), Echo: result(100, 20, 40)},
		{Server: result(10, 30, 60), Echo: Result{}}, // the echo answered nothing
	}
	if diff := cmp.Diff([]float64{0.5, 0.8, 0}, Ratios(rounds)); diff != "" {
		t.Errorf("Ratios (-want +got):\n%s", diff)
	}
	if got := Summarize(Servers(rounds)).PerSecond; got != 50 {
		t.Errorf("the servers' median rate = %v, want 50", got)
	}
	if got := Summarize(Echoes(rounds)).PerSecond; got != 100 {
		t.Errorf("the echoes' median rate = %v, want 100", got)
	}
}

// TestP50Diff: the p50 difference pairs each round's server with that
// round's echo, so a machine that slows down between rounds does not show
// up as a difference.
func TestP50Diff(t *testing.T) {
	r := func(server, echo time.Duration) Round {
		return Round{Server: Result{P50: server * time.Microsecond}, Echo: Result{P50: echo * time.Microsecond}}
	}
	rounds := []Round{r(30, 25), r(80, 79), r(200, 60)}
	if got := P50Diff(rounds); got != 5*time.Microsecond {
		t.Errorf("P50Diff = %v, want 5µs (the medians alone differ by 20)", got)
	}
}

func TestTooLossy(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Result
		want bool
	}{
		{"none lost", Result{Requests: 1000, Replies: 1000}, false},
		{"1% lost: allowed", Result{Requests: 1000, Replies: 990, Lost: 10}, false},
		{"just over 1%", Result{Requests: 1000, Replies: 989, Lost: 11}, true},
		{"half lost", Result{Requests: 2, Replies: 1, Lost: 1}, true},
		{"nothing answered: another failure", Result{Requests: 5, Lost: 5}, false},
	} {
		if got := tc.r.TooLossy(); got != tc.want {
			t.Errorf("%s: TooLossy() = %v, want %v", tc.name, got, tc.want)
		}
	}
}
