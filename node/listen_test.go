package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// An address has one owner: a node started on the address another node
// serves is refused, naming the address, whether either serves with one
// socket or several (SO_REUSEPORT, which would have let the second join
// the first's port and take part of its datagrams); the first serves on,
// every agent answered.
func TestOneOwnerPerAddress(t *testing.T) {
	for _, tc := range []struct{ first, second int }{{1, 1}, {1, 2}, {2, 1}, {2, 2}, {4, 4}} {
		t.Run(fmt.Sprintf("%d then %d workers", tc.first, tc.second), func(t *testing.T) {
			var users []string
			for i := range 16 {
				users = append(users, fmt.Sprintf("u%d", i))
			}
			first := startNode(t, "127.0.0.1:0", "bb.com", users, func(o *Options) { o.Workers = tc.first })
			cfg := filepath.Join(t.TempDir(), "cc.cfg")
			if err := (Config{Domain: "cc.org", Users: users}).WriteFile(cfg); err != nil {
				t.Fatal(err)
			}
			second, err := New(Options{ConfigPath: cfg, Listen: first.Addr().String(), LogPath: "-", HostsFile: "-", Workers: tc.second, SourcePorts: 8})
			if err == nil {
				closeUnrun(second)
				t.Fatalf("a second node started on %v, which the first serves", first.Addr())
			}
			want := first.Addr().String() + " is already served by another process"
			if !errors.Is(err, ErrServed) || !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), want) {
				t.Errorf("second node: %v; want ErrServed and EADDRINUSE, saying %q", err, want)
			}
			for _, u := range users {
				newAgent(t).ask(first.Addr(), "PR"+u+"@bb.com", "RR0")
			}
		})
	}
}

// Two nodes that start at the same instant can both find the port free
// before either binds it: once its workers are bound, a node that finds a
// socket not its own on its port, at its address or a wildcard one,
// refuses to serve (Linux, through /proc). The joiner here binds first,
// as the other node of such a race would have.
func TestJoinerRefused(t *testing.T) {
	if !reusePortSupported {
		t.Skip("no SO_REUSEPORT here")
	}
	if _, err := os.Stat("/proc/self/net/udp"); err != nil {
		t.Skip("no /proc/self/net/udp here")
	}
	lc := net.ListenConfig{Control: reusePort}
	for _, tc := range []struct {
		joiner  string // where the other process's socket is bound, on the node's port
		refused bool
	}{
		{"127.0.0.1", true},
		{"0.0.0.0", true},
		{"127.0.0.2", false}, // another address: datagrams for the node's never reach it
	} {
		t.Run(tc.joiner, func(t *testing.T) {
			port := unassignedPort(t)
			pc, err := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("%s:%d", tc.joiner, port))
			if err != nil {
				t.Skipf("the joiner cannot bind: %v", err)
			}
			defer pc.Close()
			at := fmt.Sprintf("127.0.0.1:%d", port)
			conns, err := listenGroup(at, 2)
			closeAll(conns)
			got := fmt.Sprint(err)
			want := "<nil>"
			if tc.refused {
				want = at + " is already served by another process"
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("listenGroup(%s) beside a socket on %s (-want +got):\n%s", at, pc.LocalAddr(), diff)
			}
		})
	}
}

// unassignedPort is a UDP port free on every address now, below the range
// the kernel draws ports from: between finding it free and binding it, no
// other test's socket (whose port the kernel draws) can take it, which one
// found by binding port 0 and closing the socket could not promise.
func unassignedPort(t *testing.T) int {
	t.Helper()
	lo := int(ephemeralPorts()[0])
	for p := lo - 1; p > lo-2000 && p > 1024; p-- {
		if c, err := net.ListenUDP("udp4", &net.UDPAddr{Port: p}); err == nil {
			c.Close()
			return p
		}
	}
	t.Skipf("no free UDP port below %d", lo)
	return 0
}
