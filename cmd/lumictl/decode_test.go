package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mi/wire"
	"mi/wire/wiregen"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // JSON on stdout
	}{
		{"locate reply found", []string{"RL0u1@PC-c:u2@PC-d:10.100.100.102:43038"},
			`{"protocol":"PLUMI","type":"RL","fields":{"code":"Found","from":"u1@PC-c","to":"u2@PC-d","ip":"10.100.100.102","port":43038}}`},
		{"locate reply offline", []string{"RL3u1@bb.com:x@bb.com"},
			`{"protocol":"PLUMI","type":"RL","fields":{"code":"Offline","from":"u1@bb.com","to":"x@bb.com"}}`},
		{"register", []string{"PRu1@PC-c"}, `{"protocol":"PLUMI","type":"PR","fields":{"addr":"u1@PC-c"}}`},
		{"register reply", []string{"RR1"}, `{"protocol":"PLUMI","type":"RR","fields":{"code":"Refused"}}`},
		{"deregister", []string{"PDu2@PC-d"}, `{"protocol":"PLUMI","type":"PD","fields":{"addr":"u2@PC-d"}}`},
		{"deregister reply", []string{"RD0"}, `{"protocol":"PLUMI","type":"RD","fields":{"code":"OK"}}`},
		{"locate", []string{"PLu1@PC-c:u2@PC-d"}, `{"protocol":"PLUMI","type":"PL","fields":{"from":"u1@PC-c","to":"u2@PC-d"}}`},
		{"nick", []string{"N02u1"}, `{"protocol":"PMI","type":"N","fields":{"nick":"u1"}}`},
		{"line with spaces", []string{"L08Hola u2!"}, `{"protocol":"PMI","type":"L","fields":{"text":"Hola u2!"}}`},
		{"empty line", []string{"L00"}, `{"protocol":"PMI","type":"L","fields":{"text":""}}`},
		{"hex with spaces", []string{"-hex", "50 52 75 31 40 50 43 2d 63"}, `{"protocol":"PLUMI","type":"PR","fields":{"addr":"u1@PC-c"}}`},
		{"hex, upper case, tabs and newlines", []string{"-hex", "4E3032\t75\n31"}, `{"protocol":"PMI","type":"N","fields":{"nick":"u1"}}`},
		{"hex with a non-ASCII line", []string{"-hex", "4c 30 33 63 c3 a0"}, `{"protocol":"PMI","type":"L","fields":{"text":"cà"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runLumictl(append([]string{"decode"}, tt.args...)...)
			if code != exitOK || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if !strings.HasSuffix(stdout, "}\n") || strings.Count(stdout, "\n") != 1 {
				t.Errorf("stdout is not one line: %q", stdout)
			}
			var got, want any
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("stdout is not JSON: %v: %q", err, stdout)
			}
			if err := json.Unmarshal([]byte(tt.want), &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("JSON differs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeFailures(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"port 0", []string{"RL0a@b.c:d@e.f:1.2.3.4:0"}, exitFailed, []string{
			`lumictl decode: PLUMI RL: field "port" at offset 23: bad field`,
			"\n  RL0a@b.c:d@e.f:1.2.3.4:0\n  " + strings.Repeat(" ", 23) + "^\n"}},
		{"address without @", []string{"PRu1"}, exitFailed, []string{`field "addr.user" at offset 4: bad separator`}},
		{"unknown type", []string{"XX"}, exitFailed, []string{`PMI: field "type" at offset 0: unknown type`}},
		{"empty message", []string{""}, exitFailed, []string{`field "type" at offset 0: truncated`}},
		{"PMI length past the data", []string{"L99abc"}, exitFailed, []string{`PMI L: field "text" at offset 6: truncated`}},
		{"datagram one byte too long", []string{wire.TagRegister + strings.Repeat("x", wire.PLUMIMax-len(wire.TagRegister)+1)}, exitFailed,
			[]string{fmt.Sprintf(`field "datagram" at offset %d: too long`, wire.PLUMIMax)}},
		{"hex input that does not decode", []string{"-hex", "52 52 39"}, exitFailed, []string{`PLUMI RR: field "code" at offset 2`, "\n  RR9\n    ^\n"}},
		{"hex control bytes: no pointer", []string{"-hex", "4e 30 32 75 01"}, exitFailed, []string{`field "nick" at offset 4`}},
		{"no message", nil, exitUsage, []string{"lumictl decode: missing MESSAGE", "usage: lumictl decode [-hex] MESSAGE"}},
		{"two messages", []string{"RR0", "RD0"}, exitUsage, []string{"want one MESSAGE, got 2"}},
		{"odd hex", []string{"-hex", "505"}, exitUsage, []string{"-hex: odd number of hex digits"}},
		{"not hex", []string{"-hex", "zz"}, exitUsage, []string{"-hex: encoding/hex: invalid byte"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runLumictl(append([]string{"decode"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if strings.Contains(tt.name, "no pointer") && strings.Contains(stderr, "^") {
				t.Errorf("pointer under an unprintable message:\n%s", stderr)
			}
		})
	}
}

// TestDecodeSpec decodes every example and invalid input of the spec: an
// example comes out as its protocol and type; an invalid input fails and,
// when read as the protocol the spec gives it, names the spec's field.
func TestDecodeSpec(t *testing.T) {
	for _, ex := range wiregen.Examples {
		code, stdout, stderr := runLumictl("decode", ex.Input)
		var got struct{ Protocol, Type string }
		if code != exitOK || stderr != "" || json.Unmarshal([]byte(stdout), &got) != nil {
			t.Errorf("decode %q: exit %d, stdout %q, stderr %q", ex.Input, code, stdout, stderr)
			continue
		}
		if got.Protocol != ex.Proto || got.Type != ex.Tag {
			t.Errorf("decode %q: %s %s, want %s %s", ex.Input, got.Protocol, got.Type, ex.Proto, ex.Tag)
		}
	}
	for _, inv := range wiregen.Invalids {
		code, stdout, stderr := runLumictl("decode", inv.Input)
		if code != exitFailed || stdout != "" {
			t.Errorf("decode %q: exit %d, stdout %q; want exit %d", inv.Input, code, stdout, exitFailed)
			continue
		}
		if proto, _, _ := decodeAny([]byte(inv.Input)); proto != inv.Proto {
			continue
		}
		if want := fmt.Sprintf("field %q", inv.Field); !strings.Contains(stderr, want) || !strings.Contains(stderr, inv.Err.Error()) {
			t.Errorf("decode %q: stderr %q, want %s and %q", inv.Input, stderr, want, inv.Err)
		}
	}
}

func TestCompactFields(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"addr":"u1@PC-c"}`, `addr=u1@PC-c`},
		{`{"code":"Found","port":43038,"ip":"10.0.0.1"}`, `code=Found port=43038 ip=10.0.0.1`},
		{`{"text":"Hola u2!"}`, `text="Hola u2!"`},
		{`{"text":""}`, `text=""`},
		{`{"text":"a=b"}`, `text="a=b"`},
		{`{"text":"say \"hi\""}`, `text="say \"hi\""`},
		{`{"text":"tab\there"}`, `text="tab\there"`},
		{`{"text":"adéu"}`, `text=adéu`},
		{`{"n":{"a":1}}`, `n={"a":1}`},
		{`{}`, ``},
		{`[1]`, `[1]`},
	}
	for _, tt := range tests {
		if got := compactFields(json.RawMessage(tt.in)); got != tt.want {
			t.Errorf("compactFields(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestDecodeHelpListsEveryTag: the help's lists of types come from the
// generated tables, so a message added to the spec shows there too.
func TestDecodeHelpListsEveryTag(t *testing.T) {
	_, _, stderr := runLumictl("decode", "-h")
	for _, tags := range [][]string{wire.PLUMITags[:], wire.PMITags[:]} {
		if want := "(" + strings.Join(tags, " ") + ")"; !strings.Contains(stderr, want) {
			t.Errorf("decode -h does not list %s:\n%s", want, stderr)
		}
	}
}
