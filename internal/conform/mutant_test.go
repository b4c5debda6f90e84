package conform

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestMutants runs every node scenario of the spec against a fakeNode with
// each fault of the table: every fault must fail at least one scenario
// (which ones is logged), and the fakeNode without a fault must pass them
// all, so that what fails is the fault and not the fake.
func TestMutants(t *testing.T) {
	if testing.Short() {
		t.Skip("plays the whole node suite once per fault")
	}
	for _, f := range append([]fault{faultNone}, faults...) {
		t.Run(strings.ReplaceAll(string(f)+"none"[:4*btoi(f == faultNone)], " ", "-"), func(t *testing.T) {
			t.Parallel()
			failed := runFakeNode(t, f)
			switch {
			case f == faultNone && len(failed) > 0:
				t.Errorf("the fake node without a fault fails %s", strings.Join(failed, ", "))
			case f != faultNone && len(failed) == 0:
				t.Errorf("fault %q: no scenario fails", f)
			case f != faultNone:
				t.Logf("fault %q: caught by %s", f, strings.Join(failed, ", "))
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// runFakeNode plays the node scenarios against a fakeNode with fault f and
// returns the IDs of those that failed.
func runFakeNode(t *testing.T, f fault) []string {
	t.Helper()
	remote := freeUDP(t)
	n, err := startFakeNode("bb.test", []string{"u1", "u2", "u3"}, remote, f)
	if err != nil {
		t.Fatal(err)
	}
	defer n.close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{
		Target: "node", NodeAddr: n.addr(), Domain: "bb.test", Users: []string{"u1", "u2", "u3"},
		RemoteDomain: "cc.test", RemoteListen: remote.String(), Timeout: 500 * time.Millisecond,
		Features: Features, LocateWait: fakeLocateWait,
	}, Scenarios, nil)
	if err != nil {
		t.Fatalf("fault %q: %v", f, err)
	}
	var failed []string
	for _, r := range res {
		if r.Status == Fail {
			failed = append(failed, r.ID)
		}
	}
	return failed
}
