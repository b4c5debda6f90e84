package conform

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// datagram is one datagram a socket received.
type datagram struct {
	b    []byte
	from netip.AddrPort
	at   time.Time
}

// udpSock is a socket the tool plays a role on. A goroutine reads it into
// a queue, stamping each datagram with its arrival time.
type udpSock struct {
	conn *net.UDPConn
	in   chan datagram
	done chan struct{}

	mu    sync.Mutex
	heard bool // a datagram has arrived
}

// queued is how many datagrams a socket holds unread; more are dropped.
const queued = 256

func listenUDP(addr string) (*udpSock, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	s := &udpSock{conn: conn, in: make(chan datagram, queued), done: make(chan struct{})}
	go s.read()
	return s, nil
}

func (s *udpSock) addr() netip.AddrPort {
	return unmap(s.conn.LocalAddr().(*net.UDPAddr).AddrPort())
}

func (s *udpSock) read() {
	defer close(s.done)
	buf := make([]byte, 64<<10) // room for any datagram: an over-long one is seen whole
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(time.Millisecond) // an ICMP error surfacing: go on
			continue
		}
		d := datagram{b: bytes.Clone(buf[:n]), from: unmap(from), at: time.Now()}
		s.mu.Lock()
		s.heard = true
		s.mu.Unlock()
		select {
		case s.in <- d:
		default: // nobody reads: dropped
		}
	}
}

// next returns the next datagram, waiting until deadline or the end of ctx.
func (s *udpSock) next(ctx context.Context, deadline time.Time) (datagram, bool) {
	select {
	case d := <-s.in:
		return d, true
	default:
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case d := <-s.in:
		return d, true
	case <-t.C:
	case <-ctx.Done():
	}
	return datagram{}, false
}

// drain returns the datagrams queued.
func (s *udpSock) drain() []datagram {
	var out []datagram
	for {
		select {
		case d := <-s.in:
			out = append(out, d)
		default:
			return out
		}
	}
}

func (s *udpSock) heardAny() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heard
}

func (s *udpSock) close() {
	s.conn.Close()
	<-s.done
}
