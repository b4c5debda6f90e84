package node

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"mi/wire"
)

// TestConcurrentWorkers loads a node of four workers from many agents at
// once, registering and locating each other, while an admin adds, lists
// and removes users: every answer must be right, the table and the log
// intact. Run it with -race: it is as much a test of the locking.
func TestConcurrentWorkers(t *testing.T) {
	const pairs, rounds = 16, 100
	var users []string
	for i := range pairs {
		users = append(users, fmt.Sprintf("a%d", i), fmt.Sprintf("B%d", i))
	}
	n := startNode(t, "127.0.0.1:0", "bb.com", users, func(o *Options) { o.Workers = 4 })
	if n.Workers() != 4 {
		t.Fatalf("%d workers, want 4", n.Workers())
	}
	node := n.Addr()

	errs := make(chan error, 4*pairs)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var answerers sync.WaitGroup
	for i := range pairs {
		a, b := dialAgent(t), dialAgent(t)
		from := wire.Address{User: fmt.Sprintf("a%d", i), Domain: "bb.com"}
		to := wire.Address{User: fmt.Sprintf("b%d", i), Domain: "BB.com"} // folded to B%d
		rl := mustAppend(&wire.LocateReply{Code: wire.LocateFound, From: from, To: to, IP: b.addr().Addr(), Port: b.addr().Port()})
		pl := mustAppend(&wire.Locate{From: from, To: to})
		wg.Go(func() {
			// b registers before it starts answering on the same socket.
			if err := b.exchange(node, mustAppend(&wire.Register{Addr: to}), replyRR0); err != nil {
				errs <- err
				return
			}
			answerers.Go(func() { b.answerAll(stop) })
			if err := a.exchange(node, mustAppend(&wire.Register{Addr: from}), replyRR0); err != nil {
				errs <- err
				return
			}
			for r := range rounds {
				if err := a.exchange(node, pl, rl); err != nil {
					errs <- fmt.Errorf("round %d: %w", r, err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 30 {
			name := fmt.Sprintf("churn%d", i)
			if err := n.AddUser(name); err != nil {
				errs <- err
				return
			}
			if len(n.Users()) != 2*pairs+1 {
				errs <- fmt.Errorf("after adding %s: %d users", name, len(n.Users()))
				return
			}
			if err := n.RemoveUser(strings.ToUpper(name)); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	answerers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	busy := 0
	for _, w := range n.workers {
		if w.st.received.Load() > 0 {
			busy++
		}
	}
	if busy < 2 {
		t.Errorf("only %d of 4 workers served anything: SO_REUSEPORT did not spread %d agents", busy, 2*pairs)
	}
	if p := pendingCount(n.core); p != 0 {
		t.Errorf("%d locates still pending after every RL came back", p)
	}
	// Once the node has stopped: an RL answering a retried PL may still
	// be in a worker's hands until then.
	n.stop()
	checkInvariants(t, n.core)

	// Every line of the log whole; one R and one E line per PL and RL.
	b, err := os.ReadFile(n.logPath)
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^[RE]: 127\.0\.0\.1:UDP:\d+, [^,]+, \d+$`)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	counts := map[string]int{}
	for _, l := range lines[1 : len(lines)-1] {
		if !line.MatchString(l) {
			t.Fatalf("torn log line %q", l)
		}
		counts[l[:1]+strings.Split(l, ", ")[1][:2]]++
	}
	for _, k := range []string{"RPL", "EPL", "RRL", "ERL"} {
		if counts[k] < pairs*rounds {
			t.Errorf("%d %s lines in the log, want at least %d (counts %v)", counts[k], k, pairs*rounds, counts)
		}
	}
}

// udpAgent is an agent for goroutines other than the test's: it returns
// errors rather than failing the test.
type udpAgent struct{ conn *net.UDPConn }

func dialAgent(t *testing.T) *udpAgent {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &udpAgent{conn}
}

func (a *udpAgent) addr() netip.AddrPort { return a.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// exchange sends req to node until want comes back, as an agent retries.
func (a *udpAgent) exchange(node netip.AddrPort, req, want []byte) error {
	buf := make([]byte, readBuf)
	for range wire.Attempts {
		if _, err := a.conn.WriteToUDPAddrPort(req, node); err != nil {
			return err
		}
		a.conn.SetReadDeadline(time.Now().Add(wire.RetryInterval))
		k, src, err := a.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			continue // lost under load: try again
		}
		if src != node || string(buf[:k]) != string(want) {
			return fmt.Errorf("%v: %s answered %q from %v, want %q", a.addr(), req, buf[:k], src, want)
		}
		return nil
	}
	return fmt.Errorf("%v: %s: no answer after %d attempts", a.addr(), req, wire.Attempts)
}
