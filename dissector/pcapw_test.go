package dissector_test

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// pcapWriter writes a classic pcap file of Ethernet frames: the captures
// the tests feed tshark. Checksums are left zero (Wireshark does not check
// them by default).
type pcapWriter struct {
	buf    []byte
	frames int
	t      time.Time
}

func newPcap() *pcapWriter {
	le := binary.LittleEndian
	w := &pcapWriter{t: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	w.buf = le.AppendUint32(w.buf, 0xa1b2c3d4)
	w.buf = le.AppendUint16(w.buf, 2)
	w.buf = le.AppendUint16(w.buf, 4)
	w.buf = le.AppendUint32(w.buf, 0)     // thiszone
	w.buf = le.AppendUint32(w.buf, 0)     // sigfigs
	w.buf = le.AppendUint32(w.buf, 65535) // snaplen
	w.buf = le.AppendUint32(w.buf, 1)     // LINKTYPE_ETHERNET
	return w
}

// frame appends one Ethernet frame holding an IPv4 packet of proto and
// returns its frame number (from 1, as Wireshark counts).
func (w *pcapWriter) frame(proto byte, src, dst netip.Addr, l4 []byte) int {
	le, be := binary.LittleEndian, binary.BigEndian
	eth := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00}
	ip := []byte{0x45, 0}
	ip = be.AppendUint16(ip, uint16(20+len(l4)))
	ip = append(ip, 0, 0, 0x40, 0, 64, proto, 0, 0) // id, DF, TTL
	s, d := src.As4(), dst.As4()
	ip = append(append(ip, s[:]...), d[:]...)
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(be.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	be.PutUint16(ip[10:], ^uint16(sum))
	pkt := append(append(eth, ip...), l4...)
	w.t = w.t.Add(10 * time.Millisecond)
	w.buf = le.AppendUint32(w.buf, uint32(w.t.Unix()))
	w.buf = le.AppendUint32(w.buf, uint32(w.t.Nanosecond()/1000))
	w.buf = le.AppendUint32(w.buf, uint32(len(pkt)))
	w.buf = le.AppendUint32(w.buf, uint32(len(pkt)))
	w.buf = append(w.buf, pkt...)
	w.frames++
	return w.frames
}

// udp appends a datagram.
func (w *pcapWriter) udp(src, dst netip.AddrPort, payload []byte) int {
	be := binary.BigEndian
	b := be.AppendUint16(nil, src.Port())
	b = be.AppendUint16(b, dst.Port())
	b = be.AppendUint16(b, uint16(8+len(payload)))
	b = append(b, 0, 0)
	return w.frame(17, src.Addr(), dst.Addr(), append(b, payload...))
}

// TCP flags.
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpPSH = 0x08
	tcpACK = 0x10
)

// tcpConn is a connection being written: the next sequence number each
// side sends.
type tcpConn struct {
	w              *pcapWriter
	client, server netip.AddrPort
	seq            map[netip.AddrPort]uint32
}

// tcpOpen writes the three-way handshake of a connection from client.
func (w *pcapWriter) tcpOpen(client, server netip.AddrPort) *tcpConn {
	c := &tcpConn{w: w, client: client, server: server,
		seq: map[netip.AddrPort]uint32{client: 1000, server: 5000}}
	c.segment(client, tcpSYN, nil)
	c.segment(server, tcpSYN|tcpACK, nil)
	c.segment(client, tcpACK, nil)
	return c
}

// segment writes one segment from one side, and returns its frame number.
func (c *tcpConn) segment(from netip.AddrPort, flags byte, payload []byte) int {
	be := binary.BigEndian
	to := c.server
	if from == c.server {
		to = c.client
	}
	b := be.AppendUint16(nil, from.Port())
	b = be.AppendUint16(b, to.Port())
	b = be.AppendUint32(b, c.seq[from])
	ack := uint32(0)
	if flags&tcpACK != 0 {
		ack = c.seq[to]
	}
	b = be.AppendUint32(b, ack)
	b = append(b, 5<<4, flags, 0xff, 0xff, 0, 0, 0, 0)
	n := c.w.frame(6, from.Addr(), to.Addr(), append(b, payload...))
	c.seq[from] += uint32(len(payload))
	if flags&(tcpSYN|tcpFIN) != 0 {
		c.seq[from]++
	}
	return n
}

// send writes data from one side cut into segments of at most size bytes;
// the last carries FIN when fin is set.
func (c *tcpConn) send(from netip.AddrPort, data []byte, size int, fin bool) {
	for len(data) > 0 {
		n := min(size, len(data))
		flags := byte(tcpPSH | tcpACK)
		if n == len(data) && fin {
			flags |= tcpFIN
		}
		c.segment(from, flags, data[:n])
		data = data[n:]
	}
}

// write writes the capture to a temporary file, or to the directory
// $DISSECTOR_PCAPS when it is set (to look at it in Wireshark), and returns
// its path.
func (w *pcapWriter) write(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("DISSECTOR_PCAPS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, w.buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
