package e2e

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"mi/internal/spoof"
	"mi/wire"
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

// chatAddr is the chat address mi-agent -json tells people on stderr.
func (a *agentProc) chatAddr() string {
	a.t.Helper()
	re := regexp.MustCompile(`chat address (\S+);`)
	var m []string
	waitFor(a.t, 5*time.Second, a.name+"'s chat address", func() bool {
		m = re.FindStringSubmatch(a.stderr.String())
		return m != nil
	})
	return m[1]
}

// TestSpoofedAskerNamesNoLaterCaller: a PL naming boss@cc.org as its asker,
// which anyone can have sent (laura's node forwards other domains' PLs
// from any address; or spoofed from the node's address), does not make
// laura's agent label a later connection that did not read its RL0
// boss@cc.org. A real caller, who connects to the port its own RL0 gave,
// is named, as a claim.
func TestSpoofedAskerNamesNoLaterCaller(t *testing.T) {
	w := newWorld(t, demoDomains)
	node := netip.MustParseAddrPort(w.nodeAddr("bb.com"))
	laura := w.startAgent("laura@bb.com")
	chat := laura.chatAddr()
	agentUDP := func() netip.AddrPort {
		out := w.nodes["bb.com"].console(t, "list", "laura")
		m := regexp.MustCompile(`(?m)^laura\s+(\S+)\s+ONLINE`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("laura is not online at the node:\n%s", out)
		}
		return netip.MustParseAddrPort(m[1])
	}()
	forged := "PLboss@cc.org:laura@bb.com"
	for _, tc := range []struct {
		name string
		send func(t *testing.T)
	}{
		{"through the node, from any address", func(t *testing.T) {
			udpSocket(t).WriteToUDPAddrPort([]byte(forged), node)
		}},
		{"spoofed from the node's address", func(t *testing.T) {
			if err := spoof.NewForTest(t).Send(node, agentUDP, []byte(forged)); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p2p := filepath.Join(w.dir, "p2p-laura.log")
			answered := strings.Count(readFile(t, p2p), "RL0boss@cc.org:laura@bb.com")
			tc.send(t)
			waitFor(t, 5*time.Second, "laura's agent to answer the forged PL", func() bool {
				return strings.Count(readFile(t, p2p), "RL0boss@cc.org:laura@bb.com") > answered
			})
			conn, err := net.Dial("tcp", chat)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if err := wire.NewWriter(conn).WriteMessage(&wire.Nick{Nick: "boss"}); err != nil {
				t.Fatal(err)
			}
			e := laura.want("connected")
			t.Logf("FIGURE a connection after a forged PL (%s): peer_addr %q, claimed %v", tc.name, e.str("peer_addr"), e["claimed"])
			if e.str("peer_addr") == "boss@cc.org" {
				t.Errorf("a connection that read no RL0 is labelled boss@cc.org: %v", e)
			}
			conn.Close()
			laura.want("hangup")
		})
	}
	// A real caller is named, as a claim: its connection came to the port
	// its own locate's RL0 gave.
	pau := w.startAgent("pau@cc.org")
	_, ed := call(t, pau, laura, "laura@bb.com")
	if ed.str("peer_addr") != "pau@cc.org" || ed["claimed"] != true {
		t.Errorf("laura's connected event for pau's call: %v; want peer_addr pau@cc.org, claimed", ed)
	}
}

// readFile is the file's text; "" if it cannot be read.
func readFile(t *testing.T, path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
