package dissector_test

import (
	"encoding/xml"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"mi/gen/spec"
)

// TestTreeTexts: in the tree of every datagram example, a reply's type
// names every request it answers, and a signature field says which bytes
// it signs, as the model has them.
func TestTreeTexts(t *testing.T) {
	s := model(t)
	tsharkPath := tshark(t)
	udp, _ := protocolsOf(s)
	if udp == nil || udp.Port == 0 {
		t.Skip("the spec has no datagram protocol with a port")
	}
	w := newPcap()
	agent, node := netip.AddrPortFrom(client, 40000), netip.AddrPortFrom(server, uint16(udp.Port))
	var wants [][]treeWant // by frame
	for _, m := range s.MessagesOf(udp) {
		for _, e := range m.Examples {
			w.udp(agent, node, []byte(e.Input))
			wants = append(wants, treeWants(s, udp, m, e.Input))
		}
	}
	file := w.write(t, "tree.pcap")
	script, _ := filepath.Abs("mi.lua")
	home := t.TempDir()
	cmd := exec.Command(tsharkPath, "-n", "-X", "lua_script:"+script, "-r", file, "-T", "pdml")
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(cmd.Args, " "), err)
	}
	var doc struct {
		Packets []pdmlPacket `xml:"packet"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Packets) != len(wants) {
		t.Fatalf("%d packets, want %d", len(doc.Packets), len(wants))
	}
	n := 0
	for i, pk := range doc.Packets {
		proto := protoNode(pk, strings.ToLower(udp.Name))
		for _, wt := range wants[i] {
			f := proto.find(strings.ToLower(udp.Name) + "." + wt.field)
			switch {
			case f == nil:
				t.Errorf("frame %d: no %s", i+1, wt.field)
			case !strings.Contains(f.ShowName, wt.text):
				t.Errorf("frame %d: %s is %q, want it to hold %q", i+1, wt.field, f.ShowName, wt.text)
			}
			n++
		}
	}
	if n == 0 {
		t.Error("no reply and no signature to check")
	}
}

// treeWant is a text a field's tree item must hold.
type treeWant struct{ field, text string }

// treeWants is what the tree of example in of m must say: its type, the
// requests it answers; its signature field, what it signs.
func treeWants(s *spec.Spec, p *spec.Protocol, m *spec.Message, in string) []treeWant {
	var out []treeWant
	if len(m.Answers) > 0 {
		var tags []string
		for _, o := range m.Answers {
			tags = append(tags, o.Tag)
		}
		text := tags[len(tags)-1]
		if len(tags) > 1 {
			text = strings.Join(tags[:len(tags)-1], ", ") + " or " + text
		}
		out = append(out, treeWant{"type", ", the reply to " + text + ":"})
	}
	if m.Signature != nil {
		d, err := s.Decode(p, []byte(in))
		if err != nil {
			panic(err)
		}
		sep := m.Items[len(m.Items)-2].Literal
		text := fmt.Sprintf(" (signs bytes 0 to %d: the message before its %s)", len(d.Signed())-1, strconv.Quote(sep))
		out = append(out, treeWant{m.Signature.Name, text})
	}
	return out
}

// protoNode is the packet's node of protocol abbr.
func protoNode(pk pdmlPacket, abbr string) *pdmlNode {
	for i := range pk.Protos {
		if pk.Protos[i].Name == abbr {
			return &pk.Protos[i]
		}
	}
	return &pdmlNode{}
}
