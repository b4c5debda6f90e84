// Package spoof sends UDP datagrams with a source address of the
// caller's choosing, through a raw IPv4 socket, as an off-path attacker on
// a network without egress filtering can. It exists for the tests that
// play such an attacker against nodes and agents on loopback; it needs
// CAP_NET_RAW (root, or the capability), and says so when it is missing.
package spoof

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"mi/internal/testenv"
)

// ErrNotPermitted is returned when the process may not open a raw socket.
var ErrNotPermitted = errors.New("spoof: raw sockets need CAP_NET_RAW")

// Sender sends spoofed IPv4 UDP datagrams.
type Sender struct {
	mu  sync.Mutex
	fd  int
	buf []byte
}

// New opens the raw socket.
func New() (*Sender, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, ErrNotPermitted
		}
		return nil, fmt.Errorf("spoof: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_HDRINCL, 1); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("spoof: %w", err)
	}
	return &Sender{fd: fd, buf: make([]byte, 0, 65535)}, nil
}

// NewForTest opens a Sender for t and closes it when t ends. Where raw
// sockets are not permitted it skips t, except under CI=true, where it
// fails it: CI runs as root and must run the attacks.
func NewForTest(t testing.TB) *Sender {
	t.Helper()
	s, err := New()
	if errors.Is(err, ErrNotPermitted) {
		testenv.Missing(t, "%v: run as root to play an off-path attacker", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Close closes the raw socket.
func (s *Sender) Close() error { return unix.Close(s.fd) }

// Send sends payload in a UDP datagram from src to dst, both IPv4.
func (s *Sender) Send(src, dst netip.AddrPort, payload []byte) error {
	if !src.Addr().Is4() || !dst.Addr().Is4() {
		return errors.New("spoof: IPv4 addresses only")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buf[:0]
	total := 20 + 8 + len(payload)
	b = append(b, 0x45, 0) // version 4, header of 5 words; TOS
	b = binary.BigEndian.AppendUint16(b, uint16(total))
	b = append(b, 0, 0, 0x40, 0) // id (the kernel fills it), don't fragment
	b = append(b, 64, unix.IPPROTO_UDP, 0, 0)
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	b = append(b, s4[:]...)
	b = append(b, d4[:]...)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(payload)))
	b = append(b, 0, 0) // no UDP checksum, as IPv4 allows
	b = append(b, payload...)
	sa := &unix.SockaddrInet4{Addr: d4}
	return unix.Sendto(s.fd, b, 0, sa)
}
