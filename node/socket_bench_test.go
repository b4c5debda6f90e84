package node

import (
	"fmt"
	"net"
	"testing"

	"golang.org/x/net/ipv4"
)

// BenchmarkRead is the cost of reading one datagram, sent just before, with
// ReadBatch of several sizes and with a plain read: what batching costs a
// node whose datagrams come one at a time (each op includes the send).
func BenchmarkRead(b *testing.B) {
	for _, size := range []int{1, 8, batch} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			srv, cl := udpPair(b)
			pc := ipv4.NewPacketConn(srv)
			ms := make([]ipv4.Message, size)
			for i := range ms {
				ms[i].Buffers = [][]byte{make([]byte, 2048)}
			}
			to := srv.LocalAddr().(*net.UDPAddr).AddrPort()
			msg := []byte("PRu1@bb.com")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := cl.WriteToUDPAddrPort(msg, to); err != nil {
					b.Fatal(err)
				}
				if _, err := pc.ReadBatch(ms, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("plain", func(b *testing.B) {
		srv, cl := udpPair(b)
		to := srv.LocalAddr().(*net.UDPAddr).AddrPort()
		msg := []byte("PRu1@bb.com")
		buf := make([]byte, 2048)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cl.WriteToUDPAddrPort(msg, to); err != nil {
				b.Fatal(err)
			}
			if _, _, err := srv.ReadFromUDPAddrPort(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func udpPair(b *testing.B) (srv, cl *net.UDPConn) {
	for _, c := range []**net.UDPConn{&srv, &cl} {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		*c = conn
	}
	return srv, cl
}
