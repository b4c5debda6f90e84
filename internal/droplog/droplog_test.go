package droplog

import (
	"bytes"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var (
	t0       = time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	intruder = netip.MustParseAddrPort("10.0.0.66:6666")
)

// TestBounded: per reason and window, Burst drops are logged in full and
// the rest summed up in one line; at debug level all are logged, none
// summed up; End sums up a window cut short.
func TestBounded(t *testing.T) {
	for _, tc := range []struct {
		level     slog.Level
		full, sum int
	}{
		{slog.LevelWarn, Burst, 1},
		{slog.LevelDebug, 100, 0},
	} {
		t.Run(tc.level.String(), func(t *testing.T) {
			var logs bytes.Buffer
			lg := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: tc.level}))
			l := New(lg)
			bad, other := l.Reason("bad datagram"), l.Reason("reply to no request")
			l.Tick(t0) // the window starts
			full := 0
			for range 100 {
				if bad.Note(intruder, []byte("PRu1@bb com\x1b[2J"+strings.Repeat("x", 200))) {
					full++
				}
				other.Note(intruder, []byte("RR0"))
			}
			if full != tc.full {
				t.Errorf("%d drops to log in full, want %d", full, tc.full)
			}
			l.Tick(t0.Add(9 * time.Second))
			if logs.Len() != 0 {
				t.Fatalf("summed up before the window ended:\n%s", logs.String())
			}
			l.Tick(t0.Add(10 * time.Second))
			for _, sum := range []string{
				`msg="datagrams dropped" reason="bad datagram" count=100 logged=5 in=10s first_unlogged_from=10.0.0.66:6666 first_unlogged="PRu1@bb com\x1b[2J` + strings.Repeat("x", 85) + `... (215 bytes)"`,
				`reason="reply to no request" count=100`,
			} {
				if n := strings.Count(logs.String(), sum); n != tc.sum {
					t.Errorf("%d summaries %s, want %d; log:\n%s", n, sum, tc.sum, logs.String())
				}
			}
			if strings.Contains(logs.String(), "\x1b") {
				t.Errorf("a raw escape byte from the network in the log:\n%q", logs.String())
			}
			// The next window starts from nothing; End sums it up early.
			logs.Reset()
			for range Burst {
				if !bad.Note(intruder, nil) {
					t.Fatal("a drop of the burst of a new window is not logged in full")
				}
			}
			bad.Note(intruder, []byte("late"))
			bad.Note(intruder, nil)
			l.End(t0.Add(12 * time.Second))
			if n := strings.Count(logs.String(), `reason="bad datagram" count=7 logged=5 in=2s first_unlogged_from=10.0.0.66:6666 first_unlogged=late`); n != tc.sum {
				t.Errorf("End: %d summaries, want %d:\n%s", n, tc.sum, logs.String())
			}
		})
	}
}

func TestShown(t *testing.T) {
	for in, want := range map[string]string{
		"PRu1@bb.com":             "PRu1@bb.com",
		strings.Repeat("a", 100):  strings.Repeat("a", 100),
		strings.Repeat("a", 2000): strings.Repeat("a", 100) + "... (2000 bytes)",
	} {
		if got := Shown([]byte(in)); got != want {
			t.Errorf("Shown(%.20q...) = %.30q..., want %.30q...", in, got, want)
		}
	}
}
