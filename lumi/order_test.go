package lumi

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/miekg/dns"
	"pgregory.net/rapid"
)

func srvRecord(priority, weight uint16, target string) *dns.SRV {
	return &dns.SRV{
		Hdr:      dns.RR_Header{Name: "_lumi._udp.w.com.", Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 60},
		Priority: priority, Weight: weight, Port: 3344, Target: target,
	}
}

// The first pick of RFC 2782's selection, over 1,000 orderings, falls
// within 5 standard deviations of its exact odds, so the test cannot
// flake. The odds are those of the RFC's inclusive bound: a random number
// in [0, sum] picks the first record whose running sum reaches it, so the
// record listed first (a weight 0 one if any, as they go first) has one
// more chance in sum+1 than its weight.
func TestOrderSRVWeights(t *testing.T) {
	tests := []struct {
		name    string
		weights []uint16 // in the order the server sent them
		odds    []float64
	}{
		{"weights 1 and 3", []uint16{1, 3}, []float64{2.0 / 5, 3.0 / 5}},
		{"weights 3 and 1", []uint16{3, 1}, []float64{4.0 / 5, 1.0 / 5}},
		{"weights 100 and 300: about 250/750", []uint16{100, 300}, []float64{101.0 / 401, 300.0 / 401}},
		{"weight 0 has a small chance", []uint16{50, 0, 50}, []float64{50.0 / 101, 1.0 / 101, 50.0 / 101}},
		{"weight 0 listed last goes first", []uint16{2, 0}, []float64{2.0 / 3, 1.0 / 3}},
		{"weight 0 only: the order sent", []uint16{0, 0}, []float64{1, 0}},
	}
	const runs = 1000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srvs := make([]*dns.SRV, len(tt.weights))
			for i, w := range tt.weights {
				srvs[i] = srvRecord(0, w, fmt.Sprintf("t%d.w.com.", i))
			}
			counts := make([]int, len(srvs))
			for range runs {
				first := orderSRV(srvs, maxSRVTargets, rand.IntN)[0]
				counts[slices.Index(srvs, first)]++
			}
			for i, p := range tt.odds {
				mean, sd := runs*p, math.Sqrt(runs*p*(1-p))
				if math.Abs(float64(counts[i])-mean) > 5*sd {
					t.Errorf("weight %d first %d times in %d, want %.0f ± %.0f (counts %v)",
						tt.weights[i], counts[i], runs, mean, 5*sd, counts)
				}
			}
		})
	}
}

// orderSRV's result is a permutation of the records, cut at the limit,
// with priorities never decreasing, and its first records are those of
// the lowest priorities.
func TestOrderSRVIsAnOrdering(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 60).Draw(t, "n")
		srvs := make([]*dns.SRV, n)
		for i := range srvs {
			srvs[i] = srvRecord(
				uint16(rapid.IntRange(0, 3).Draw(t, "priority")),
				uint16(rapid.SampledFrom([]int{0, 1, 5, 65535}).Draw(t, "weight")),
				fmt.Sprintf("t%d.w.com.", i))
		}
		limit := rapid.IntRange(1, 40).Draw(t, "limit")
		before := slices.Clone(srvs)
		got := orderSRV(srvs, limit, rand.IntN)
		if !slices.Equal(before, srvs) {
			t.Fatal("orderSRV reordered its input")
		}
		if want := min(n, limit); len(got) != want {
			t.Fatalf("%d records, limit %d: got %d, want %d", n, limit, len(got), want)
		}
		seen := make(map[*dns.SRV]bool)
		for i, s := range got {
			if seen[s] || !slices.Contains(srvs, s) {
				t.Fatalf("record %v twice or not given", s)
			}
			seen[s] = true
			if i > 0 && s.Priority < got[i-1].Priority {
				t.Fatalf("priority %d after %d", s.Priority, got[i-1].Priority)
			}
		}
		for _, s := range srvs {
			if !seen[s] && len(got) > 0 && s.Priority < got[len(got)-1].Priority {
				t.Fatalf("left out priority %d but kept %d", s.Priority, got[len(got)-1].Priority)
			}
		}
	})
}

// Each draw is over the weights of the records not yet ordered, and the
// largest draw picks the last record whose running sum reaches it.
func TestOrderSRVDrawsOverWeightsLeft(t *testing.T) {
	srvs := []*dns.SRV{srvRecord(0, 1, "a."), srvRecord(0, 1, "b."), srvRecord(0, 1000, "c."), srvRecord(1, 7, "d.")}
	var bounds []int
	largest := func(n int) int {
		bounds = append(bounds, n)
		return n - 1
	}
	var got []string
	for _, s := range orderSRV(srvs, maxSRVTargets, largest) {
		got = append(got, s.Target)
	}
	if want := []string{"c.", "b.", "a.", "d."}; !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	if want := []int{1003, 3, 2, 8}; !slices.Equal(bounds, want) {
		t.Errorf("draws over [0, n) with n = %v, want %v", bounds, want)
	}
}
