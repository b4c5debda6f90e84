package loadgen

import (
	"slices"
	"time"
)

// What a comparison of a server with the echo server makes of its runs:
// rounds that each run the server then the echo for the same time, and
// the medians over them, which one slow round does not move.

// Round is one round of a comparison: a run against the server, then one
// against the echo server.
type Round struct {
	Server, Echo Result
}

// Ratio is the server's rate over the echo's, 0 when the echo answered
// nothing.
func (r Round) Ratio() float64 {
	if r.Echo.PerSecond() == 0 {
		return 0
	}
	return r.Server.PerSecond() / r.Echo.PerSecond()
}

// Median is the middle of v, the mean of the two middle values when their
// count is even, 0 for none. v is left as it is.
func Median[T ~int64 | ~float64](v []T) T {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// Summary is the medians of runs: of their rates, p50s and p99s, each
// taken on its own.
type Summary struct {
	PerSecond float64
	P50, P99  time.Duration
}

// Summarize is the medians of rs.
func Summarize(rs []Result) Summary {
	var rate []float64
	var p50, p99 []time.Duration
	for _, r := range rs {
		rate = append(rate, r.PerSecond())
		p50 = append(p50, r.P50)
		p99 = append(p99, r.P99)
	}
	return Summary{Median(rate), Median(p50), Median(p99)}
}

// Servers and Echoes are the rounds' runs of each side.
func Servers(rounds []Round) []Result { return side(rounds, func(r Round) Result { return r.Server }) }

// Echoes: see Servers.
func Echoes(rounds []Round) []Result { return side(rounds, func(r Round) Result { return r.Echo }) }

func side(rounds []Round, f func(Round) Result) []Result {
	rs := make([]Result, 0, len(rounds))
	for _, r := range rounds {
		rs = append(rs, f(r))
	}
	return rs
}

// Ratios is each round's Ratio.
func Ratios(rounds []Round) []float64 {
	v := make([]float64, 0, len(rounds))
	for _, r := range rounds {
		v = append(v, r.Ratio())
	}
	return v
}

// P50Diff is the median over the rounds of the server's p50 minus the
// echo's of the same round. Pairing the rounds keeps out a machine whose
// speed drifts between rounds, which the difference of the two sides'
// medians would not.
func P50Diff(rounds []Round) time.Duration {
	d := make([]time.Duration, 0, len(rounds))
	for _, r := range rounds {
		d = append(d, r.Server.P50-r.Echo.P50)
	}
	return Median(d)
}

// LossAllowed is the share of a run's requests, in percent, that may go
// unanswered (lost) in a clean run: UDP may drop a datagram even on
// loopback, but not more than that.
const LossAllowed = 1

// TooLossy says whether the run answered requests but lost more than
// LossAllowed percent of them (a run that answered none is a failure of
// its own).
func (r Result) TooLossy() bool {
	return r.Replies > 0 && r.Lost*100 > r.Requests*LossAllowed
}
