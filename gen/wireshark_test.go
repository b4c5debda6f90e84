package main

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mi/gen/spec"
	"mi/internal/testenv"
)

// modelVerdict is what the model says of a message, as
// dissector/testdata/verdicts.lua writes it.
func modelVerdict(s *spec.Spec, p *spec.Protocol, in string) string {
	d, err := s.Decode(p, []byte(in))
	if err != nil {
		return fmt.Sprintf("err %s %s %d", err.Class, err.Field, err.Offset)
	}
	words := []string{"ok", hex.EncodeToString([]byte(d.Msg.Tag))}
	for _, v := range d.Fields {
		k := v.Field.Kind
		words = append(words, v.Field.Name+"="+hex.EncodeToString(k.Impl().Encode(k, nil, v.V)))
		if parts, ok := v.V.([]spec.Value); ok {
			for _, pv := range parts {
				pk := pv.Field.Kind
				words = append(words, v.Field.Name+"."+pv.Field.Name+"="+hex.EncodeToString(pk.Impl().Encode(pk, nil, pv.V)))
			}
		}
	}
	return strings.Join(words, " ")
}

// TestScratchSpecDissector generates the dissector of the scratch spec
// (mi.spec and testdata/extra.spec: fieldless messages, a one-value code
// list, uint8, structs holding a number and an ip, a closing literal), has
// tshark load it, and compares its decoders with the model's on every
// example and invalid input of that spec and every one-byte mutation of
// them. Without tshark it skips (CI=true: fails).
func TestScratchSpecDissector(t *testing.T) {
	ts := testenv.Program(t, "tshark", "the scratch spec's dissector is not loaded", "apt-get install tshark")
	dir := t.TempDir()
	specPath := writeScratchSpec(t, dir)
	s, err := spec.Load(specPath)
	if err != nil {
		t.Fatal(err)
	}
	s.File = "spec/scratch.spec"
	fs, err := wiresharkFiles(s)
	if err != nil {
		t.Fatal(err)
	}
	lua := filepath.Join(dir, "mi.lua")
	if err := os.WriteFile(lua, fs[0].data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`["via.ttl"] = "Via TTL"`, `["peer_ip"] = "Peer IP"`, `{tag = "pz", name = "Ping"`, `{tag = "z", name = "Bye"`} {
		if !strings.Contains(string(fs[0].data), want) {
			t.Errorf("the scratch dissector does not hold %s", want)
		}
	}
	var cases, want []string
	seen := map[string]bool{}
	add := func(line, verdict string) {
		if !seen[line] {
			seen[line] = true
			cases, want = append(cases, line), append(want, verdict)
		}
	}
	mutations := func(in string, f func(string)) {
		f(in)
		for i := 0; i <= len(in); i++ {
			f(in[:i])
			if i < len(in) {
				f(in[:i] + in[i+1:])
			}
			for _, c := range []byte("0a:/!.@;9\xff") {
				f(in[:i] + string([]byte{c}) + in[i:])
			}
		}
	}
	for _, m := range s.Messages {
		var ins []string
		for _, e := range m.Examples {
			ins = append(ins, e.Input)
		}
		for _, e := range m.Invalid {
			ins = append(ins, e.Input)
		}
		for _, in := range ins {
			mutations(in, func(v string) { add(fmt.Sprintf("m %s %x", m.Proto.Name, v), modelVerdict(s, m.Proto, v)) })
		}
	}
	for _, k := range s.Kinds {
		var ins []string
		for _, e := range k.Examples {
			ins = append(ins, e.Input)
		}
		for _, e := range k.Invalid {
			ins = append(ins, e.Input)
		}
		for _, in := range ins {
			mutations(in, func(v string) {
				if k.FixedWidth() && len(v) != k.MaxLen() {
					return
				}
				verdict := "ok"
				if _, err := k.ParseKind(v); err != nil {
					verdict = fmt.Sprintf("err %s %s %d", err.Class, err.Field, err.Offset)
				}
				add(fmt.Sprintf("k %s %x", k.Name, v), verdict)
			})
		}
	}
	in := filepath.Join(dir, "in")
	if err := os.WriteFile(in, []byte(strings.Join(cases, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("../dissector/testdata/verdicts.lua") // the Lua script that prints the verdicts
	if err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, binary.LittleEndian.AppendUint32([]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}, 1), 0o644)
	cmd := exec.Command(ts, "-n", "-X", "lua_script:"+lua, "-X", "lua_script:"+script, "-r", empty)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "MI_LUA_IN="+in, "MI_LUA_OUT="+filepath.Join(dir, "out"))
	if b, err := cmd.CombinedOutput(); err != nil || strings.Contains(string(b), "Lua") || strings.Contains(string(b), "mi.lua") {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	f, err := os.Open(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, bad := 0, 0
	for ; sc.Scan(); n++ {
		if n < len(want) && sc.Text() != want[n] {
			if bad++; bad <= 30 {
				t.Errorf("%s:\n  dissector: %s\n  model:     %s", cases[n], sc.Text(), want[n])
			}
		}
	}
	if n != len(cases) {
		t.Fatalf("the Lua script answered %d of %d inputs", n, len(cases))
	}
	t.Logf("%d inputs of the scratch spec compared with the model", n)
}
