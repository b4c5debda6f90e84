package procstat

import (
	"context"
	"net"
	"os"
	"syscall"
	"testing"

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
