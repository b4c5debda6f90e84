package e2e

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mi/internal/procstat"
)

// TestMemoryAfterFlood floods a node, in its own process as users run it,
// with 300,000 locates from 64 sources, each for a made-up asker of another
// domain and a user whose agent never answers, so that every one waits in
// the node's table; then it waits for them to expire. The node's memory
// must come back close to where it started. docs/robustness.md reports the
// figures this logs.
func TestMemoryAfterFlood(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system: cannot read a process's memory")
	}
	const (
		flood   = 300_000
		sources = 64
	)
	w := newWorld(t, map[string][]string{"cc.org": {"pau"}}, "-locate-wait", "5s")
	cc := w.nodes["cc.org"]
	node := netip.MustParseAddrPort(w.nodeAddr("cc.org"))
	pid := cc.proc.Pid()

	// pau registers from a socket that then never answers.
	silent := udpSocket(t)
	exchange(t, silent, node, "PRpau@cc.org", "RR0")
	time.Sleep(200 * time.Millisecond) // the node settles after start
	base := procstat.RSSKiB(pid)

	var peak atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			peak.Store(max(peak.Load(), int64(procstat.RSSKiB(pid))))
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	conns := make([]*net.UDPConn, sources)
	for i := range conns {
		conns[i] = udpSocket(t)
	}
	start := time.Now()
	for i := range flood {
		pl := fmt.Appendf(nil, "PLx%d@zz.test:pau@cc.org", i)
		conns[i%sources].WriteToUDPAddrPort(pl, node)
		if i%2000 == 1999 {
			time.Sleep(5 * time.Millisecond) // about as fast as the node reads
		}
	}
	sent := time.Since(start)
	waitFor(t, 30*time.Second, "the node to give the flood's memory back", func() bool {
		return strings.Contains(cc.errOut.String(), "memory given back after a flood")
	})
	close(stop)
	sampler.Wait()
	time.Sleep(500 * time.Millisecond)
	after := procstat.RSSKiB(pid)
	t.Logf("RSS of lumi-node: %d KiB at start, %d KiB at the peak, %d KiB after (%d locates sent from %d sources in %v)",
		base, peak.Load(), after, flood, sources, sent.Round(time.Millisecond))
	if peak.Load() < int64(base)+4*1024 {
		t.Errorf("peak %d KiB: the flood did not reach the node's table", peak.Load())
	}
	if after > 2*base+8*1024 {
		t.Errorf("RSS %d KiB after the flood, from %d KiB before: the memory was not given back", after, base)
	}
}

func udpSocket(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// exchange sends req from c to node until want comes back, as an agent
// retries.
func exchange(t *testing.T, c *net.UDPConn, node netip.AddrPort, req, want string) {
	t.Helper()
	buf := make([]byte, 2048)
	for range 5 {
		c.WriteToUDPAddrPort([]byte(req), node)
		c.SetReadDeadline(time.Now().Add(time.Second))
		n, _, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			continue
		}
		if string(buf[:n]) != want {
			t.Fatalf("%s: got %q, want %q", req, buf[:n], want)
		}
		c.SetReadDeadline(time.Time{})
		return
	}
	t.Fatalf("%s: no answer from %v", req, node)
}
