package e2e

import (
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestRestartWhileStrangerPolls: an mi-agent killed with SIGKILL and
// started again gets its user back at once, while a stranger keeps asking
// the node for the user from another address and answers the node's
// checks as a live agent would. The restarted agent registers from the
// port it registered from last (its state file), which the node accepts
// at once; on a new port it would be a stranger itself, refused (RR1).
func TestRestartWhileStrangerPolls(t *testing.T) {
	w := newWorld(t, demoDomains)
	node := netip.MustParseAddrPort(w.nodeAddr("bb.com"))
	laura := w.startAgent("laura@bb.com")

	stranger := newRawAgent(t, "laura@bb.com")
	var won atomic.Int32
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			stranger.conn.WriteToUDPAddrPort([]byte("PRlaura@bb.com"), node)
		drain:
			for {
				select {
				case d := <-stranger.in:
					if d == "RR0" {
						won.Add(1)
					}
				default:
					break drain
				}
			}
		}
	}()
	defer func() { close(stop); <-done }()
	time.Sleep(300 * time.Millisecond) // the stranger's first checks, answered by laura

	const restarts = 5
	registered := 0
	for i := 1; i <= restarts; i++ {
		laura.cmd.Process.Signal(syscall.SIGKILL)
		<-laura.done
		killed := time.Now()
		laura = w.launchAgent("laura@bb.com")
		e := laura.next(10 * time.Second)
		if e.kind() != "registered" {
			<-laura.done
			t.Errorf("restart %d of %d: %v, exit status %d; want registered", i, restarts, e, laura.code)
			continue
		}
		registered++
		t.Logf("restart %d of %d: registered %v after the kill", i, restarts, time.Since(killed).Round(time.Millisecond))
		time.Sleep(200 * time.Millisecond) // the stranger polls the agent alive too
	}
	t.Logf("FIGURE restarted agents registered: %d of %d; PRs of the stranger answered RR0: %d", registered, restarts, won.Load())
	if n := won.Load(); n > 0 {
		t.Errorf("the stranger's PRs were answered RR0 %d times", n)
	}
	if registered < restarts {
		return
	}
	// laura is where the node says: pau's call reaches her.
	pau := w.startAgent("pau@cc.org")
	call(t, pau, laura, "laura@bb.com")
	if out := w.nodes["bb.com"].console(t, "list", "laura"); !strings.Contains(out, "ONLINE") {
		t.Errorf("node's list:\n%s", out)
	}
}
