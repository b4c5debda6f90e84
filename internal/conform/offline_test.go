package conform

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// offlineRun plays the spec's OFFLINE scenario against a fakeNode with
// fault f, with the features given, and returns its result and the TAP and
// JSON reports.
func offlineRun(t *testing.T, f fault, features []string) (Result, string, string) {
	t.Helper()
	n, err := startFakeNode("bb.test", []string{"u1", "u2", "u3"}, freeUDP(t), f)
	if err != nil {
		t.Fatal(err)
	}
	defer n.close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := Config{Target: "node", NodeAddr: n.addr(), Domain: "bb.test", Users: []string{"u1", "u2", "u3"},
		Run: regexp.MustCompile("^OFFLINE$"), Features: features, LocateWait: fakeLocateWait}
	var tap, js bytes.Buffer
	res, err := Run(ctx, cfg, Scenarios, teeReporter{NewTAP(&tap), NewJSON(&js)})
	if err != nil || len(res) != 1 {
		t.Fatalf("Run: %d results, %v\n%s", len(res), err, tap.String())
	}
	return res[0], tap.String(), js.String()
}

type teeReporter []Reporter

func (t teeReporter) Begin(n int) {
	for _, r := range t {
		r.Begin(n)
	}
}

func (t teeReporter) Result(n int, res *Result) {
	for _, r := range t {
		r.Result(n, res)
	}
}

func (t teeReporter) Bail(err error) {
	for _, r := range t {
		r.Bail(err)
	}
}

// TestOffline: the offline scenario catches a node that never marks a
// user offline, passes one that does after five unanswered locates, and
// is an optional feature: skipped, not failed, when the run does not
// choose it.
func TestOffline(t *testing.T) {
	t.Run("marks-offline", func(t *testing.T) {
		t.Parallel()
		r, tap, _ := offlineRun(t, faultNone, []string{"offline"})
		if r.Status != Pass {
			t.Errorf("status %s: %s\n%s", r.Status, r.Reason, tap)
		}
	})
	t.Run("never-offline", func(t *testing.T) {
		t.Parallel()
		r, tap, _ := offlineRun(t, faultNoOffline, []string{"offline"})
		if r.Status != Fail || r.Failure == nil || r.Failure.Expected != "RL3u1@bb.test:u2@bb.test" {
			t.Errorf("status %s, failure %+v\n%s", r.Status, r.Failure, tap)
		}
		if r.Failure != nil && r.Failure.Line == 0 {
			t.Errorf("the failure names no line of spec/mi.spec")
		}
	})
	t.Run("not-chosen", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		r, tap, js := offlineRun(t, faultNoOffline, nil)
		if r.Status != Skip || !strings.Contains(tap, "ok 1 - OFFLINE ") || !strings.Contains(tap, "# SKIP needs feature offline") {
			t.Errorf("status %s, TAP:\n%s", r.Status, tap)
		}
		var rep Report
		if err := json.Unmarshal([]byte(js), &rep); err != nil || rep.Status != Skip || !strings.Contains(rep.Reason, "-features offline") {
			t.Errorf("JSON %q: %v", js, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("a skipped scenario took %v", d)
		}
	})
}

// TestOfflineWaitsTheNodesLocateWait: the scenario's waits are a share of
// the locate wait the run is given, not a constant of the spec.
func TestOfflineWaitsTheNodesLocateWait(t *testing.T) {
	var sc Scenario
	for _, s := range Scenarios {
		if s.ID == "OFFLINE" {
			sc = s
		}
	}
	if len(sc.Features) != 1 || sc.Features[0] != "offline" {
		t.Fatalf("OFFLINE needs features %q", sc.Features)
	}
	r := &runner{durations: map[string]time.Duration{"locate_wait": 2 * time.Second}}
	r.timeSteps(&sc)
	waits := 0
	for _, st := range sc.Steps {
		if st.Op == OpWait {
			waits++
			if st.Max != 3*time.Second {
				t.Errorf("wait %v, want 150%% of 2s", st.Max)
			}
		}
	}
	if waits != 5 {
		t.Errorf("%d waits, want 5", waits)
	}
	for _, s := range Scenarios {
		for _, st := range s.Steps {
			if st.Of != "" && st.Max != 0 {
				t.Errorf("%s: timeSteps changed the generated table", s.ID)
			}
		}
	}
}
