package pcap

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// FuzzRead checks that no input makes Read or TCPStreams panic, and that
// what they return is well formed. The seeds are files: classic pcap of
// each link type, pcapng, and the reference captures when present.
func FuzzRead(f *testing.F) {
	f.Add([]byte{})
	f.Add(newFile(le, false, linkLinuxSLL).add(t0, register).bytes())
	f.Add(newFile(be, true, linkEthernet).add(t0, ether(etherIPv4, ipv4(ipTCP, "1.2.3.4", "5.6.7.8",
		tcpOpts(1, 2, 3, []byte{1, 1, 1, 1}, []byte("N02u1")), ipOpts{options: []byte{1, 1, 1, 0}}))).bytes())
	f.Add(newFile(le, false, linkRaw).add(t0, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("RR0")), ipOpts{})).bytes())
	f.Add(newFile(le, false, linkNull).add(t0, append([]byte{2, 0, 0, 0}, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("RR0")), ipOpts{})...)).bytes())
	f.Add(newFile(le, false, linkLinuxSLL2).add(t0, sll2(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("RR0")), ipOpts{}))).bytes())
	f.Add(newFile(le, false, linkIPv6).add(t0, ipv6(ipTCP, "::1", "::2", tcp(1, 2, 3, []byte("N02u1")))).bytes())
	f.Add(ngFile(f, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL},
		ngPacket{1, t0, register},
		ngPacket{0, t1, ether(etherIPv6, ipv6(ipUDP, "fd00::2", "fd00::1", udp(3344, 5000, []byte("RR0"))))},
		ngPacket{0, t1, ether(etherIPv4, ipv4(ipTCP, "1.2.3.4", "5.6.7.8", tcp(1, 2, 3, []byte("N02u1L00")), ipOpts{}))}))
	files, _ := filepath.Glob("../../../shared/captures/*.pcap*")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkts, err := Read(bytes.NewReader(b))
		for i, p := range pkts {
			if p.Proto != "udp" && p.Proto != "tcp" {
				t.Errorf("packet %d: proto %q", i, p.Proto)
			}
			if len(p.Payload) == 0 || !p.Src.IsValid() || !p.Dst.IsValid() || p.Src.Addr().Is4() != p.Dst.Addr().Is4() {
				t.Errorf("packet %d: %+v", i, p)
			}
			if i > 0 && p.Index <= pkts[i-1].Index {
				t.Errorf("packet %d: index %d after %d", i, p.Index, pkts[i-1].Index)
			}
		}
		if err == nil && len(b) < 4 {
			t.Errorf("%d bytes read without error", len(b))
		}
		for _, s := range TCPStreams(pkts) {
			if len(s.Segments) == 0 {
				t.Errorf("stream %s->%s: no segment", s.Src, s.Dst)
			}
			for j, seg := range s.Segments {
				if seg.Offset < 0 || seg.Offset >= len(s.Data) || (j > 0 && seg.Offset <= s.Segments[j-1].Offset) {
					t.Errorf("stream %s->%s: segment %d at %d of %d", s.Src, s.Dst, j, seg.Offset, len(s.Data))
				}
			}
		}
	})
}
