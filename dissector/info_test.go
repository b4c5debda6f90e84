package dissector_test

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mi/gen/spec"
)

// TestInfoColumn: the Info column of every datagram example is the spec's
// summary of it (the tag, the code digit, and the summary template with the
// decoded values), rendered here from the model independently of the Lua.
func TestInfoColumn(t *testing.T) {
	s := model(t)
	tsharkPath := tshark(t)
	udp, _ := protocolsOf(s)
	if udp == nil || udp.Port == 0 {
		t.Skip("the spec has no datagram protocol with a port")
	}
	w := newPcap()
	agent, node := netip.AddrPortFrom(client, 40000), netip.AddrPortFrom(server, uint16(udp.Port))
	var want []string
	for _, m := range s.MessagesOf(udp) {
		for _, e := range m.Examples {
			w.udp(agent, node, []byte(e.Input))
			d, err := s.Decode(udp, []byte(e.Input))
			if err != nil {
				t.Fatalf("example %q: %v", e.Input, err)
			}
			want = append(want, infoOf(udp, m, e.Input, d))
		}
	}
	file := w.write(t, "info.pcap")
	script, _ := filepath.Abs("mi.lua")
	home := t.TempDir()
	cmd := exec.Command(tsharkPath, "-n", "-X", "lua_script:"+script, "-r", file, "-T", "fields", "-e", "_ws.col.Info")
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v", strings.Join(cmd.Args, " "), err)
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Info column (-model +tshark):\n%s", diff)
	}
}

// infoOf is a message's Info line as the spec's summary says.
func infoOf(p *spec.Protocol, m *spec.Message, in string, d *spec.Decoded) string {
	head := in[:p.TagLen]
	shown := map[string]string{}
	for i, v := range d.Fields {
		if c, ok := v.V.(*spec.Code); ok {
			shown[v.Field.Name] = c.Name
			if i == 0 {
				head += in[p.TagLen+p.LengthDigits : p.TagLen+p.LengthDigits+1]
			}
			continue
		}
		shown[v.Field.Name] = string(v.Field.Kind.Impl().Encode(v.Field.Kind, nil, v.V))
	}
	if m.Summary == nil {
		return head
	}
	line, _ := render(m.Summary, shown)
	return head + " " + line
}

// render fills a summary template; ok is false when a field is missing,
// which leaves out the group that holds it.
func render(parts []spec.SummaryPart, shown map[string]string) (string, bool) {
	var b strings.Builder
	for _, p := range parts {
		switch {
		case p.Field != nil:
			v, ok := shown[p.Field.Name]
			if !ok {
				return "", false
			}
			b.WriteString(v)
		case p.Group != nil:
			if g, ok := render(p.Group, shown); ok {
				b.WriteString(g)
			}
		default:
			b.WriteString(p.Text)
		}
	}
	return b.String(), true
}
