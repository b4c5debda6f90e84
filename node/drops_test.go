package node

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestDropLogBounded: a flood of datagrams the node drops costs a few full
// log lines per reason and window, then one summary line; at debug level
// every drop is logged.
func TestDropLogBounded(t *testing.T) {
	for _, tc := range []struct {
		level       slog.Level
		full, total int
	}{
		{slog.LevelInfo, dropBurst, 1},
		{slog.LevelDebug, 100, 0},
	} {
		t.Run(tc.level.String(), func(t *testing.T) {
			var logs bytes.Buffer
			c := newCore(harnessConfig, DefaultPendingTTL, Limits{}, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: tc.level})))
			w := newScratch(nil)
			c.sweep(newScratch(nil), t0) // the window starts
			c.handle(w, []byte("PRu1@bb.com"), agentU1, t0)
			for range 100 {
				c.handle(w, []byte("PRu1@bb com\x1b[2J"), intruder, t0)
				c.handle(w, []byte("RL3u1@bb.com:u2@bb.com"), intruder, t0)
				c.handle(w, []byte("PRnobody@bb.com"), intruder, t0)
				c.handle(w, []byte("PDnobody@bb.com"), intruder, t0)
			}
			// Refused PDs for a user, from elsewhere: they freeze it
			// too, and are said once then.
			for range 100 {
				c.handle(w, []byte("PDu1@bb.com"), intruder, t0)
			}
			c.sweep(newScratch(nil), t0.Add(10*time.Second))
			for _, msg := range []string{`msg="bad datagram dropped"`, `msg="RL dropped: no PL forwarded for it"`} {
				if n := strings.Count(logs.String(), msg); n != tc.full {
					t.Errorf("%d lines %s, want %d", n, msg, tc.full)
				}
			}
			// A line per refusal at most 5 times a window (each at
			// debug), then one summary; a PD refused while frozen, none.
			unknown := strings.Count(logs.String(), `refused: not a user of this domain"`) // PRs and PDs share the reason
			want := dropBurst
			if tc.level == slog.LevelDebug {
				want = 200
			}
			if unknown != want {
				t.Errorf("%d lines for unknown users, want %d", unknown, want)
			}
			for msg, full := range map[string]int{
				`msg="deregistration refused: not from the user's registered address"`: min(tc.full, DefaultGuessLimit-1),
				`msg="registration frozen:`: 1,
			} {
				if n := strings.Count(logs.String(), msg); n != full {
					t.Errorf("%d lines %s, want %d", n, msg, full)
				}
			}
			for _, sum := range []string{
				`reason="bad datagram" count=100 logged=5 in=10s first_unlogged_from=10.0.0.66:6666 first_unlogged="PRu1@bb com\x1b[2J"`,
				`reason="RL without PL" count=100`,
				`reason="unknown user" count=200`,
			} {
				if n := strings.Count(logs.String(), sum); n != tc.total {
					t.Errorf("%d summaries %s, want %d; log:\n%s", n, sum, tc.total, logs.String())
				}
			}
			if strings.Contains(logs.String(), "\x1b") {
				t.Errorf("the log holds a raw escape byte from the network:\n%q", logs.String())
			}
			// The next window starts from nothing.
			logs.Reset()
			c.handle(w, []byte("PRu1@bb com"), intruder, t0)
			if n := strings.Count(logs.String(), `msg="bad datagram dropped"`); n != 1 {
				t.Errorf("after the window: %d lines, want 1", n)
			}
		})
	}
}

// A datagram in a log line is cut to what a valid one can be, with its
// length said, so that one log line cannot carry kilobytes of attacker's
// bytes.
func TestShownCut(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 2000)
	var logs bytes.Buffer
	c := newCore(harnessConfig, DefaultPendingTTL, Limits{}, slog.New(slog.NewTextHandler(&logs, nil)))
	c.handle(newScratch(nil), long, intruder, t0)
	line := logs.String()
	if !strings.Contains(line, "... (2000 bytes)") || len(line) > 600 {
		t.Errorf("log line of %d bytes for a 2000-byte datagram:\n%s", len(line), line)
	}
	if got := shown([]byte("PRu1@bb.com")); got != "PRu1@bb.com" {
		t.Errorf("shown cut a valid datagram: %q", got)
	}
}
