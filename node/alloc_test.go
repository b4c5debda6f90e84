package node

import (
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"mi/wire/wiregen"
)

// TestHandleAllocs: the request paths a busy node serves most allocate
// nothing per datagram, once the scratch and the table have warmed up.
func TestHandleAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation changes allocation counts")
	}
	c := newCore(harnessConfig, DefaultPendingTTL, Limits{}, slog.New(slog.DiscardHandler))
	w := newScratch(nil)
	type step struct {
		datagram string
		from, to netip.AddrPort
		want     string
	}
	now := t0
	handle := func(datagram []byte, src, wantTo netip.AddrPort, want string) {
		// Time goes on as on a node, so the rate limits refill.
		now = now.Add(10 * time.Millisecond)
		sends, _, valid := c.handle(w, datagram, src, now)
		if !valid || len(sends) != 1 || sends[0].to != wantTo || string(sends[0].b) != want {
			t.Fatalf("%s from %s: sends %+v, want %s to %s", datagram, src, sends, want, wantTo)
		}
	}
	u1, u2, laura := agentU1, agentU2, agentU1b
	handle([]byte("PRu2@bb.com"), u2, u2, "RR0")
	handle([]byte("PRlaura@BB.com"), laura, laura, "RR0")
	cases := []struct {
		name  string
		steps []step
	}{
		{"PR", []step{{"PRu1@bb.com", u1, u1, "RR0"}}},
		{"PR folded", []step{{"PRLaura@bb.COM", laura, laura, "RR0"}}},
		{"PL and RL", []step{
			{"PLu1@bb.com:u2@bb.com", u1, u2, "PLu1@bb.com:u2@bb.com"},
			{"RL0u1@bb.com:u2@bb.com:10.0.0.2:7000", u2, u1, "RL0u1@bb.com:u2@bb.com:10.0.0.2:7000"},
		}},
		{"PL and RL folded", []step{
			{"PLu1@bb.com:LAURA@bb.com", u1, laura, "PLu1@bb.com:LAURA@bb.com"},
			{"RL0U1@bb.com:laura@BB.COM:10.0.0.1:7000", laura, u1, "RL0U1@bb.com:laura@BB.COM:10.0.0.1:7000"},
		}},
		{"PL unknown user", []step{{"PLu1@bb.com:nobody@bb.com", u1, u1, "RL2u1@bb.com:nobody@bb.com"}}},
		{"PD", []step{{"PDu1@bb.com", u1, u1, "RD0"}}}, // last: u1 asks no more
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The datagrams sit in one reused buffer, as the worker's
			// read buffers do.
			buf := make([]byte, 0, readBuf)
			run := func() {
				for _, s := range tc.steps {
					buf = append(buf[:0], s.datagram...)
					handle(buf, s.from, s.to, s.want)
				}
			}
			run()
			if n := testing.AllocsPerRun(200, run); n != 0 {
				t.Errorf("%v allocs per run, want 0", n)
			}
		})
	}
	if n := pendingCount(c); n != 0 {
		t.Errorf("%d locates left pending", n)
	}
}

// BenchmarkHandle is the state machine's cost per datagram, without
// sockets: a PR, a same-domain PL and its RL, and each of the spec's
// invalid PLUMI inputs, which a flood of malformed datagrams would send.
func BenchmarkHandle(b *testing.B) {
	// Rates a benchmark's clock (always t0) cannot exhaust: the limits
	// are looked up as on a node, and never refuse.
	lim := Limits{AgentRate: 1e18, PeerRate: 1e18}
	c := newCore(harnessConfig, DefaultPendingTTL, lim, slog.New(slog.DiscardHandler))
	w := newScratch(nil)
	c.handle(w, []byte("PRu2@bb.com"), agentU2, t0)
	cases := []struct {
		name  string
		steps []string // datagrams from agentU1, then agentU2 alternately
	}{
		{"PR", []string{"PRu1@bb.com"}},
		{"PL+RL", []string{"PLu1@bb.com:u2@bb.com", "RL0u1@bb.com:u2@bb.com:10.0.0.2:7000"}},
	}
	var bad []string
	for _, inv := range wiregen.Invalids {
		if inv.Proto == "PLUMI" {
			bad = append(bad, inv.Input)
		}
	}
	cases = append(cases, struct {
		name  string
		steps []string
	}{"malformed", bad})
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			buf := make([]byte, 0, readBuf)
			b.ReportAllocs()
			for b.Loop() {
				for i, s := range tc.steps {
					src := agentU1
					if i%2 == 1 && tc.name != "malformed" {
						src = agentU2
					}
					buf = append(buf[:0], s...)
					c.handle(w, buf, src, t0)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(tc.steps)), "ns/datagram")
		})
	}
}
