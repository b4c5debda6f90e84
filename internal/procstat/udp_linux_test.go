package procstat

import (
	"context"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// TestUDPSockets: two sockets sharing a port with SO_REUSEPORT, as a
// node's workers do, count two; another port of the same process does
// not count.
func TestUDPSockets(t *testing.T) {
	if _, err := os.Stat("/proc/self/net/udp"); err != nil {
		t.Skip("no /proc on this system")
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) }); err != nil {
			return err
		}
		return serr
	}}
	listen := func(addr string) *net.UDPConn {
		t.Helper()
		c, err := lc.ListenPacket(context.Background(), "udp4", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.UDPConn)
	}
	a := listen("127.0.0.1:0")
	port := a.LocalAddr().(*net.UDPAddr).Port
	listen(a.LocalAddr().String())
	other := listen("127.0.0.1:0")
	if got := UDPSockets(os.Getpid(), uint16(port)); got != 2 {
		t.Errorf("UDPSockets on the shared port = %d, want 2", got)
	}
	if got := UDPSockets(os.Getpid(), uint16(other.LocalAddr().(*net.UDPAddr).Port)); got != 1 {
		t.Errorf("UDPSockets on the other port = %d, want 1", got)
	}
	if got := UDPSockets(-1, uint16(port)); got != -1 {
		t.Errorf("UDPSockets of no process = %d, want -1", got)
	}
}

// TestUDPBound: the sockets bound to a port are listed with their
// addresses, IPv4 and IPv6, and the inodes SocketInode gives; a socket on
// another port is not.
func TestUDPBound(t *testing.T) {
	if _, err := os.Stat("/proc/self/net/udp"); err != nil {
		t.Skip("no /proc on this system")
	}
	a, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	port := a.LocalAddr().(*net.UDPAddr).AddrPort().Port()
	conns := []*net.UDPConn{a}
	if b, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback, Port: int(port)}); err == nil {
		defer b.Close()
		conns = append(conns, b)
	} else {
		t.Logf("no IPv6 socket on the port (%v): IPv4 only", err)
	}
	other, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var want []UDPSocket
	for _, c := range conns {
		inode, err := SocketInode(c)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, UDPSocket{c.LocalAddr().(*net.UDPAddr).AddrPort(), inode})
	}
	got, err := UDPBound(port)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("UDPBound(%d) (-want +got):\n%s", port, diff)
	}
}
