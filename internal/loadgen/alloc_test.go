package loadgen

import (
	"context"
	"testing"
	"time"
)

// newEchoGen is a one-client generator against an in-process echo server.
func newEchoGen(t testing.TB, kind Kind, malformed float64) *client {
	s, err := StartEcho("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	g, err := New(Config{Target: s.Addr(), Target2: s.Addr(), Kind: kind, Domain: "bench.test", Domain2: "bench2.test", Clients: 1, Echo: true, Malformed: malformed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	g.Run(context.Background(), 10*time.Millisecond) // warm up
	c := g.clients[0]
	c.reset()
	return c
}

// TestRequestAllocs: a client's request allocates nothing (the echo server
// in this process does not either), so the generator does not load the
// garbage collector while it measures.
func TestRequestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	end := time.Now().Add(time.Hour)
	for _, kind := range Kinds {
		for _, f := range []float64{0, 0.5} {
			c := newEchoGen(t, kind, f)
			if n := testing.AllocsPerRun(500, func() { c.request(end) }); n != 0 {
				t.Errorf("%s -malformed %v: %v allocations a request", kind, f, n)
			}
			if c.bad != 0 || c.replies == 0 {
				t.Errorf("%s -malformed %v: %d answered, %d bad", kind, f, c.replies, c.bad)
			}
		}
	}
}

func BenchmarkRequest(b *testing.B) {
	for _, kind := range Kinds {
		b.Run(string(kind), func(b *testing.B) {
			c := newEchoGen(b, kind, 0)
			end := time.Now().Add(time.Hour)
			b.ReportAllocs()
			for b.Loop() {
				c.request(end)
			}
		})
	}
}
