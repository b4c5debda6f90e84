package lumi

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/internal/syncbuf"
)

// A dead first target: once marked down, Resolve, Known and Next go on to
// the next one in order; with all down, Resolve and Known still give the
// first and Next says ErrAllDown; when the down time is over, the first
// is back, and every change is logged.
func TestMarkDownFailover(t *testing.T) {
	z := startZone(t,
		"_lumi._udp.fo.com. 600 IN SRV 0 0 4001 a.fo.com.",
		"_lumi._udp.fo.com. 600 IN SRV 1 0 4002 b.fo.com.",
		"_lumi._udp.fo.com. 600 IN SRV 2 0 4003 c.fo.com.",
		"a.fo.com. 600 IN A 127.0.0.1", "b.fo.com. 600 IN A 127.0.0.2", "c.fo.com. 600 IN A 127.0.0.3")
	a, b, c := netip.MustParseAddrPort("127.0.0.1:4001"), netip.MustParseAddrPort("127.0.0.2:4002"), netip.MustParseAddrPort("127.0.0.3:4003")
	clock := newFakeClock()
	var log syncbuf.Buffer
	r := newTestResolverAt(t, Config{DNSServer: z.Addr(), DownFor: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(&log, nil))}, clock.Now)
	ctx := context.Background()
	// want checks Resolve, Known and Next after each target, in order.
	want := func(step string, first netip.AddrPort, next []string) {
		t.Helper()
		ap, err := r.Resolve(ctx, "fo.com")
		kap, known, kerr := r.Known("fo.com")
		if ap != first || err != nil || kap != first || !known || kerr != nil {
			t.Errorf("%s: Resolve = %v, %v; Known = %v, %v, %v; want %v", step, ap, err, kap, known, kerr, first)
		}
		var got []string
		for _, failed := range []netip.AddrPort{a, b, c} {
			ap, err := r.Next(ctx, "fo.com", failed)
			got = append(got, ap.String())
			if err != nil {
				got[len(got)-1] = "error"
				if !errors.Is(err, ErrAllDown) {
					t.Errorf("%s: Next(%v) error = %v, want ErrAllDown", step, failed, err)
				}
			}
		}
		if diff := cmp.Diff(next, got); diff != "" {
			t.Errorf("%s: Next after a, b, c mismatch (-want +got):\n%s", step, diff)
		}
	}
	want("all up", a, []string{b.String(), c.String(), a.String()})
	r.MarkDown("fo.com", a)
	want("a down", b, []string{b.String(), c.String(), b.String()})
	clock.Advance(5 * time.Second)
	r.MarkDown("FO.com.", b)
	r.MarkDown("fo.com", netip.AddrPortFrom(netip.MustParseAddr("::ffff:127.0.0.3"), 4003))
	want("all down", a, []string{"error", "error", "error"})
	ts, err := r.Targets(ctx, "fo.com")
	if err != nil || !ts[0].Down || !ts[1].Down || !ts[2].Down {
		t.Errorf("Targets = %v, %v; want all marked down", ts, err)
	}
	clock.Advance(5 * time.Second)
	want("a's time over", a, []string{"error", a.String(), a.String()})
	r.MarkUp("fo.com", c)
	want("c marked up", a, []string{c.String(), c.String(), a.String()})
	r.Sweep(clock.Now())
	if q := z.Queries(); q != 1 {
		t.Errorf("%d queries, want 1: the order is the cached answer's", q)
	}
	var events []string
	for line := range strings.Lines(log.String()) {
		for _, key := range []string{"msg=", "target=", "reason="} {
			if i := strings.Index(line, key); i >= 0 {
				line = line[i:]
				break
			}
		}
		events = append(events, strings.TrimSpace(line))
	}
	wantEvents := []string{
		`msg="lumi: target marked down" domain=fo.com target=127.0.0.1:4001 for=10s`,
		`msg="lumi: target marked down" domain=fo.com target=127.0.0.2:4002 for=10s`,
		`msg="lumi: target marked down" domain=fo.com target=127.0.0.3:4003 for=10s`,
		`msg="lumi: target up" domain=fo.com target=127.0.0.3:4003 reason="marked up"`,
		`msg="lumi: target up" domain=fo.com target=127.0.0.1:4001 reason="down time over"`,
	}
	if diff := cmp.Diff(wantEvents, events); diff != "" {
		t.Errorf("log mismatch (-want +got):\n%s", diff)
	}
}

// A static peer is one target: Next has nothing else to give.
func TestNextPeer(t *testing.T) {
	peer := netip.MustParseAddrPort("127.0.0.9:5000")
	r := newTestResolver(t, Config{DNSServer: "127.0.0.1:1", Peers: map[string]netip.AddrPort{"peer.com": peer}})
	if _, err := r.Next(context.Background(), "peer.com", peer); !errors.Is(err, ErrAllDown) {
		t.Errorf("Next = %v, want ErrAllDown", err)
	}
	r.MarkDown("peer.com", peer)
	if ap, err := r.Resolve(context.Background(), "peer.com"); ap != peer || err != nil {
		t.Errorf("Resolve of a peer marked down = %v, %v; want it anyway", ap, err)
	}
}

// Down marks are bounded like the cache: past MaxCache, the oldest goes
// (and is logged as up).
func TestDownMarksBounded(t *testing.T) {
	var log syncbuf.Buffer
	r := newTestResolver(t, Config{DNSServer: "127.0.0.1:1", MaxCache: 3, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	for i := range 10 {
		r.MarkDown("d.com", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(4000+i)))
		if n := r.down.len(); n > 3 {
			t.Fatalf("%d down marks, want at most 3", n)
		}
	}
	if n := strings.Count(log.String(), `reason="too many targets marked down"`); n != 7 {
		t.Errorf("%d marks logged as dropped, want 7:\n%s", n, log.String())
	}
}
