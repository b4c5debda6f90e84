// Package plumitest plays a LUMI node in tests of PLUMI clients: a UDP
// socket on loopback that hands the test what a client sends and sends
// what the test says, or answers by itself (Answer).
package plumitest

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"mi/wire"
)

// Node is a UDP socket that plays a LUMI node. It is closed when the test
// ends.
type Node struct {
	t    testing.TB
	conn *net.UDPConn
}

// NewNode opens a node on a loopback port the system picks.
func NewNode(t testing.TB) *Node {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &Node{t: t, conn: conn}
}

// Addr is the node's address, for a client's Config.Node.
func (n *Node) Addr() netip.AddrPort { return n.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Recv returns the next datagram and its sender, failing the test after d.
func (n *Node) Recv(d time.Duration) (wire.PLUMIDatagram, netip.AddrPort) {
	n.t.Helper()
	dg, from, ok := n.TryRecv(d)
	if !ok {
		n.t.Fatalf("fake node: no datagram within %v", d)
	}
	return dg, from
}

// TryRecv is Recv that reports a timeout instead of failing. A datagram
// that does not decode fails the test.
func (n *Node) TryRecv(d time.Duration) (wire.PLUMIDatagram, netip.AddrPort, bool) {
	n.t.Helper()
	buf := make([]byte, 512)
	n.conn.SetReadDeadline(time.Now().Add(d))
	k, from, err := n.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return wire.PLUMIDatagram{}, netip.AddrPort{}, false
	}
	var dg wire.PLUMIDatagram
	if err := dg.Decode(buf[:k]); err != nil {
		n.t.Fatalf("fake node: client sent %q: %v", buf[:k], err)
	}
	return dg, from, true
}

// Send sends m to.
func (n *Node) Send(to netip.AddrPort, m wire.Message) {
	n.t.Helper()
	b, err := m.Append(nil)
	if err != nil {
		n.t.Fatal(err)
	}
	n.SendRaw(to, b)
}

// SendRaw sends b to.
func (n *Node) SendRaw(to netip.AddrPort, b []byte) {
	n.t.Helper()
	if _, err := n.conn.WriteToUDPAddrPort(b, to); err != nil {
		n.t.Fatal(err)
	}
}

// Answer answers, from a goroutine, every datagram that decodes with
// reply's message to its sender (none if reply returns nil), until the
// test ends. Use it instead of Recv, not beside it.
func (n *Node) Answer(reply func(*wire.PLUMIDatagram) wire.Message) {
	n.conn.SetReadDeadline(time.Time{}) // one TryRecv left
	go func() {
		buf := make([]byte, 512)
		for {
			k, from, err := n.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return // closed at the test's end
			}
			var dg wire.PLUMIDatagram
			if dg.Decode(buf[:k]) != nil {
				continue
			}
			m := reply(&dg)
			if m == nil {
				continue
			}
			if b, err := m.Append(nil); err == nil {
				n.conn.WriteToUDPAddrPort(b, from)
			}
		}
	}()
}

// Addr parses s, a user@domain, failing the test if it is not one.
func Addr(t testing.TB, s string) wire.Address {
	t.Helper()
	a, err := wire.ParseAddress(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// ClosedPort returns a loopback UDP address where nothing listens: a
// datagram sent there comes back as an ICMP port unreachable.
func ClosedPort(t testing.TB) netip.AddrPort {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ap := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	conn.Close()
	return ap
}
