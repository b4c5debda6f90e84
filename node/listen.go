package node

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"runtime"
)

// listenWorkers opens the sockets of workers workers on addr (default
// GOMAXPROCS). With more than one, each is bound with SO_REUSEPORT, so the
// kernel spreads the peers over them by a hash of their addresses: one
// peer's datagrams always reach the same socket, in order. Where the
// option is missing the node serves with one socket and says so.
func listenWorkers(addr string, workers int, log *slog.Logger) ([]*net.UDPConn, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers > 1 && !reusePortSupported {
		log.Warn("SO_REUSEPORT not available here; serving with one worker", "workers", workers)
		workers = 1
	}
	lc := net.ListenConfig{}
	if workers > 1 {
		lc.Control = reusePort
	}
	first, err := lc.ListenPacket(context.Background(), "udp", addr)
	if err != nil {
		return nil, err
	}
	conns := []*net.UDPConn{first.(*net.UDPConn)}
	// The others bind the port the first got, which matters when addr asks
	// for any port (":0").
	bound := first.LocalAddr().String()
	for len(conns) < workers {
		pc, err := lc.ListenPacket(context.Background(), "udp", bound)
		if err != nil {
			closeAll(conns)
			return nil, fmt.Errorf("worker %d of %d: %w", len(conns)+1, workers, err)
		}
		conns = append(conns, pc.(*net.UDPConn))
	}
	return conns, nil
}
