package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"syscall"

	"mi/internal/procstat"
)

// ErrServed is the error of a node whose address another process already
// serves; errors.Is finds it in New's error, and finds syscall.EADDRINUSE
// too.
var ErrServed = errors.New("already served by another process")

// servedError says that another process serves addr.
type servedError struct{ addr string }

func (e *servedError) Error() string   { return e.addr + " is " + ErrServed.Error() }
func (e *servedError) Unwrap() []error { return []error{ErrServed, syscall.EADDRINUSE} }

// listenWorkers opens the sockets of workers workers on addr (default
// GOMAXPROCS). With more than one, each is bound with SO_REUSEPORT, so the
// kernel spreads the peers over them by a hash of their addresses: one
// peer's datagrams always reach the same socket, in order. Where the
// option is missing the node serves with one socket and says so.
//
// An address has one owner. SO_REUSEPORT lets any process of the same
// user bind the port too, and the kernel would then share the datagrams
// between two nodes, of two domains perhaps, each serving half of the
// agents. So a plain socket, without the option, is bound first: the
// kernel refuses it while anyone holds the port, with SO_REUSEPORT or
// not, on this address or the wildcard one (the C node's sockets too).
// It is kept as the one socket of a single worker, which nobody can then
// join. For several it is closed and the workers bind the port it got,
// which for port 0 is one no socket held. Between the two, another node
// starting at the same instant could pass the same test; so once the
// workers are bound the node lists the sockets on its port
// (/proc/net/udp, Linux) and refuses to start if one is not its own: of
// two nodes that raced, the later to look sees the other, and at most one
// serves. Where /proc cannot be read, the plain socket is the whole test.
// (A reuseport BPF program was not chosen: it picks a socket within the
// group, and a process that joins can replace it, so it cannot keep
// anyone out.)
func listenWorkers(addr string, workers int, log *slog.Logger) ([]*net.UDPConn, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers > 1 && !reusePortSupported {
		log.Warn("SO_REUSEPORT not available here; serving with one worker", "workers", workers)
		workers = 1
	}
	probe, err := net.ListenPacket("udp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, &servedError{addr}
		}
		return nil, err
	}
	if workers == 1 {
		return []*net.UDPConn{probe.(*net.UDPConn)}, nil
	}
	bound := probe.LocalAddr().String()
	probe.Close()
	return listenGroup(bound, workers)
}

// listenGroup binds workers sockets with SO_REUSEPORT on bound, and
// refuses to serve there if a socket not among them shares the port.
func listenGroup(bound string, workers int) ([]*net.UDPConn, error) {
	lc := net.ListenConfig{Control: reusePort}
	var conns []*net.UDPConn
	for len(conns) < workers {
		pc, err := lc.ListenPacket(context.Background(), "udp", bound)
		if err != nil {
			closeAll(conns)
			if errors.Is(err, syscall.EADDRINUSE) {
				return nil, &servedError{bound}
			}
			return nil, fmt.Errorf("worker %d of %d: %w", len(conns)+1, workers, err)
		}
		conns = append(conns, pc.(*net.UDPConn))
	}
	if len(othersOn(conns)) > 0 {
		closeAll(conns)
		return nil, &servedError{bound}
	}
	return conns, nil
}

// othersOn lists the sockets bound to the port of conns (all on one
// address) that are not among them, on the same address or where either
// is a wildcard one; none where /proc cannot tell.
func othersOn(conns []*net.UDPConn) []procstat.UDPSocket {
	at := conns[0].LocalAddr().(*net.UDPAddr).AddrPort()
	ours := make(map[uint64]bool, len(conns))
	for _, c := range conns {
		inode, err := procstat.SocketInode(c)
		if err != nil {
			return nil
		}
		ours[inode] = true
	}
	bound, err := procstat.UDPBound(at.Port())
	if err != nil {
		return nil
	}
	var others []procstat.UDPSocket
	for _, s := range bound {
		if !ours[s.Inode] && overlap(s.Addr.Addr(), at.Addr()) {
			others = append(others, s)
		}
	}
	return others
}

// overlap says whether datagrams for a and b could reach the same socket:
// they are one address, or either is a wildcard.
func overlap(a, b netip.Addr) bool {
	a, b = a.Unmap(), b.Unmap()
	return a == b || a.IsUnspecified() || b.IsUnspecified()
}
