package pcap

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// TestReadEveryCut cuts a capture of each format at every byte. A cut
// between two records (or pcapng blocks) is a shorter capture: no error,
// the packets before it. Any other cut is ErrTruncated, with the packets
// before the record it falls in, so a capture whose writer was killed
// never reads as a clean one.
func TestReadEveryCut(t *testing.T) {
	classic := newFile(le, false, linkLinuxSLL).add(t0, register).add(t1, register).bytes()
	first := classicHeaderLen + recordHeaderLen + len(register)
	ng := ngFile(t, []layers.LinkType{layers.LinkTypeLinuxSLL}, ngPacket{0, t0, register}, ngPacket{0, t1, register})
	ngEnds, ngPackets := ngBlockEnds(t, ng)
	for _, c := range []struct {
		name    string
		in      []byte
		ends    []int // where the file header, a record or a block ends
		packets []int // where a packet's record or block ends
	}{
		{"pcap", classic, []int{classicHeaderLen, first, len(classic)}, []int{first, len(classic)}},
		{"pcapng", ng, ngEnds, ngPackets},
	} {
		t.Run(c.name, func(t *testing.T) {
			if len(c.packets) != 2 || c.ends[len(c.ends)-1] != len(c.in) {
				t.Fatalf("records end at %v, packets at %v, the file at %d", c.ends, c.packets, len(c.in))
			}
			for n := 0; n <= len(c.in); n++ {
				got, err := Read(bytes.NewReader(c.in[:n]))
				between := slices.Contains(c.ends, n)
				before := 0 // packets wholly before the cut
				for _, e := range c.packets {
					if e <= n {
						before++
					}
				}
				switch {
				case between && err != nil:
					t.Errorf("cut at %d, between records: %v", n, err)
				case !between && !errors.Is(err, ErrTruncated):
					t.Errorf("cut at %d, inside a record: error %v, want ErrTruncated", n, err)
				}
				if len(got) != before {
					t.Errorf("cut at %d: %d packets, want the %d before it", n, len(got), before)
				}
			}
		})
	}
}

// ngBlockEnds returns where each block of a little-endian pcapng file
// ends, and where each enhanced packet block does.
func ngBlockEnds(t *testing.T, ng []byte) (ends, packets []int) {
	t.Helper()
	const enhancedPacket = 6
	for off := 0; off < len(ng); {
		if off+8 > len(ng) {
			t.Fatalf("a block header cut at %d", off)
		}
		typ, n := le.Uint32(ng[off:]), int(le.Uint32(ng[off+4:]))
		off += n
		ends = append(ends, off)
		if typ == enhancedPacket {
			packets = append(packets, off)
		}
	}
	return ends, packets
}
