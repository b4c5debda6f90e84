package spoof

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestSpoofedSourceArrives: a datagram sent with another socket's address
// as its source reaches the receiver as if that socket had sent it.
func TestSpoofedSourceArrives(t *testing.T) {
	s := NewForTest(t)
	recv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	victim, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	from := victim.LocalAddr().(*net.UDPAddr).AddrPort()
	to := recv.LocalAddr().(*net.UDPAddr).AddrPort()
	if err := s.Send(from, to, []byte("PDlaura@bb.com")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	recv.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, src, err := recv.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	if string(buf[:n]) != "PDlaura@bb.com" || src != from {
		t.Fatalf("got %q from %v, want the datagram from %v", buf[:n], src, from)
	}
	if err := s.Send(netip.MustParseAddrPort("[::1]:1"), to, nil); err == nil {
		t.Error("an IPv6 source was accepted")
	}
}
