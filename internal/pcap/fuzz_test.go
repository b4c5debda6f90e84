package pcap

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead checks that no input makes Read panic, and that what it returns
// is well formed.
func FuzzRead(f *testing.F) {
	f.Add([]byte{})
	f.Add(newFile(le, false, LinkLinuxSLL).add(t0, register).bytes())
	f.Add(newFile(be, true, LinkEthernet).add(t0, ether(etherIPv4, ipv4(ipTCP, "1.2.3.4", "5.6.7.8",
		tcpOpts(1, 2, 3, []byte{1, 1, 1, 1}, []byte("N02u1")), ipOpts{options: []byte{1, 1, 1, 0}}))).bytes())
	f.Add(newFile(le, false, LinkRaw).add(t0, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("RR0")), ipOpts{})).bytes())
	f.Add(newFile(le, false, LinkNull).add(t0, append([]byte{2, 0, 0, 0}, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("RR0")), ipOpts{})...)).bytes())
	f.Add(newFile(le, false, LinkLinuxSLL2).add(t0, sll2(etherIPv4, ipv4(ipUDP, "1.2.3.4", "5.6.7.8", udp(1, 2, []byte("RR0")), ipOpts{}))).bytes())
	files, _ := filepath.Glob("../../../shared/captures/*.pcap")
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
			if len(p.Payload) == 0 || !p.Src.Addr().Is4() || !p.Dst.Addr().Is4() {
				t.Errorf("packet %d: %+v", i, p)
			}
			if i > 0 && p.Index <= pkts[i-1].Index {
				t.Errorf("packet %d: record index %d after %d", i, p.Index, pkts[i-1].Index)
			}
		}
		if err == nil && len(b) < fileHeaderLen {
			t.Errorf("%d bytes read without error", len(b))
		}
		for _, s := range TCPStreams(pkts) {
			for j, seg := range s.Segments {
				if seg.Offset < 0 || seg.Offset >= len(s.Data) || (j > 0 && seg.Offset <= s.Segments[j-1].Offset) {
					t.Errorf("stream %s->%s: segment %d at %d of %d", s.Src, s.Dst, j, seg.Offset, len(s.Data))
				}
			}
		}
	})
}
