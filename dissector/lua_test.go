package dissector_test

// The dissector's decoders against the model's and the wire package's, on
// many more inputs than captures hold: a Lua script run by tshark after
// mi.lua feeds every input to mi_dissector.parse_kind or .decode, and each
// verdict must be the Go one. The inputs are the spec's examples and invalid
// inputs, the values its examples hold, names at the edges of miekg/dns
// IsDomainName, every one-byte mutation of all of these, and random text.

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mi/gen/spec"
	"mi/wire/wiregen"
)

// interesting are the bytes the mutations insert, and put in place of
// others: separators, dots and escapes, digits, signs, control bytes, and
// bytes of UTF-8 and not.
var interesting = []byte(".@: 019aZ-_\\+\"\x00\t\n\r\x7f\x80\x9f\xa0\xa9\xbf\xc0\xc1\xc3\xdf\xe0\xe2\xed\xef\xf0\xf4\xf5\xff")

// mutate calls add with s and every input one byte away from it: cut,
// without a byte, with an interesting byte inserted or in place of one.
func mutate(s string, add func(string)) {
	add(s)
	for i := 0; i <= len(s); i++ {
		add(s[:i])
		if i < len(s) {
			add(s[:i] + s[i+1:])
		}
		for _, c := range interesting {
			b := string([]byte{c})
			add(s[:i] + b + s[i:])
			if i < len(s) {
				add(s[:i] + b + s[i+1:])
			}
		}
	}
}

// dnsEdges are names at the edges of IsDomainName's rules.
var dnsEdges = []string{
	".", "..", "a.", ".a", "a..b", "a.b.", "a.b..", "-", "a-.b", "\\.", "a\\.b", "a\\", "a\\\\", "a\\.", "a\\\\.",
	"\\065", "\\06", "a\\065.b", "\xc3\\.", "\xc3\xa9\\.", strings.Repeat("a", 63), strings.Repeat("a", 64),
	strings.Repeat("a", 63) + ".b", strings.Repeat("a", 64) + ".b", strings.Repeat("a.", 127), strings.Repeat("a.", 128),
	strings.Repeat(strings.Repeat("a", 63)+".", 4), strings.Repeat(strings.Repeat("a", 63)+".", 3) + strings.Repeat("a", 62),
}

// utf8Edges are bytes at the edges of UTF-8: overlong forms, surrogates,
// runes past U+10FFFF, cut sequences, U+FFFD itself; and code points at
// the edges of what a kind's denyrunes may refuse.
var utf8Edges = []string{
	"\xc3\xa9", "\xc0\xaf", "\xc1\xbf", "\xc2\x80", "\xdf\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xe0\xa0\x80",
	"\xed\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xee\x80\x80", "\xef\xbf\xbd", "\xf0\x8f\xbf\xbf", "\xf0\x90\x80\x80",
	"\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe2\x82", "\xf0\x9f\x98", "a\xe2\x82\xacb",
	// The C1 and bidi controls a kind may deny (denyrunes), and their neighbours.
	"\u0080", "\u009b", "\u009f", "\u00a0", "\u061b", "\u061c", "\u061d", "\u200d", "\u200e", "\u200f", "\u2010",
	"\u2027", "\u2028", "\u202e", "\u202f", "\u2065", "\u2066", "\u2069", "\u206a",
}

// valuesOf lists the bytes of every value of kind k the spec's examples hold.
func valuesOf(s *spec.Spec, k *spec.Kind) []string {
	var out []string
	var walk func(vals []spec.Value)
	walk = func(vals []spec.Value) {
		for _, v := range vals {
			if v.Field.Kind == k {
				out = append(out, string(k.Impl().Encode(k, nil, v.V)))
			}
			if parts, ok := v.V.([]spec.Value); ok {
				walk(parts)
			}
		}
	}
	for _, m := range s.Messages {
		for _, e := range m.Examples {
			if d, err := s.Decode(m.Proto, []byte(e.Input)); err == nil {
				walk(d.Fields)
			}
		}
	}
	return out
}

// TestDecodersAgree compares the dissector's kind and message decoders
// with the model's (for kinds: miekg/dns decides what a DNS name is) and
// the wire package's (for messages), input by input.
func TestDecodersAgree(t *testing.T) {
	s := model(t)
	ts := tshark(t)
	dir := t.TempDir()
	in, err := os.Create(filepath.Join(dir, "in"))
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriter(in)
	type kase struct {
		kind  *spec.Kind
		proto *spec.Protocol
		input string
	}
	var cases []kase
	seen := map[kase]bool{}
	add := func(c kase) {
		if seen[c] {
			return
		}
		seen[c] = true
		cases = append(cases, c)
		if c.kind != nil {
			bw.WriteString("k " + c.kind.Name + " ")
		} else {
			bw.WriteString("m " + c.proto.Name + " ")
		}
		bw.WriteString(hex.EncodeToString([]byte(c.input)) + "\n")
	}
	rnd := rand.New(rand.NewSource(1))
	alphabet := "ab.-_@:09 \\\xc3\xa9"
	kinds := 0
	for _, k := range s.Kinds {
		addKind := func(v string) {
			if !k.FixedWidth() || len(v) == k.MaxLen() {
				add(kase{kind: k, input: v})
			}
		}
		var seeds []string
		for _, e := range k.Examples {
			seeds = append(seeds, e.Input)
		}
		for _, e := range k.Invalid {
			seeds = append(seeds, e.Input)
		}
		seeds = append(seeds, valuesOf(s, k)...)
		if k.Base == spec.DNSName {
			seeds = append(seeds, dnsEdges...)
		}
		for _, v := range seeds {
			mutate(v, addKind)
		}
		if k.Base == spec.Text || k.Base == spec.DNSName {
			for _, e := range utf8Edges {
				for _, v := range []string{e, "a" + e, e + "z", "a" + e + "z", e + e} {
					addKind(v)
				}
			}
		}
		for i := 0; i < 500; i++ {
			b := make([]byte, rnd.Intn(k.MaxLen()+3))
			for j := range b {
				if rnd.Intn(8) == 0 {
					b[j] = byte(rnd.Intn(256))
				} else {
					b[j] = alphabet[rnd.Intn(len(alphabet))]
				}
			}
			addKind(string(b))
		}
		kinds++
	}
	for _, p := range s.Protocols {
		var seeds []string
		for _, e := range wiregen.Examples {
			if e.Proto == p.Name {
				seeds = append(seeds, e.Input)
			}
		}
		for _, e := range wiregen.Invalids {
			if e.Proto == p.Name {
				seeds = append(seeds, e.Input)
			}
		}
		for _, v := range seeds {
			mutate(v, func(v string) { add(kase{proto: p, input: v}) })
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	in.Close()
	script, err := filepath.Abs("testdata/verdicts.lua") // the Lua script that prints the verdicts
	if err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, newPcap().buf, 0o644)
	mi, _ := filepath.Abs("mi.lua")
	cmd := exec.Command(ts, "-n", "-X", "lua_script:"+mi, "-X", "lua_script:"+script, "-r", empty)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "MI_LUA_IN="+in.Name(), "MI_LUA_OUT="+filepath.Join(dir, "out"))
	start := time.Now()
	if b, err := cmd.CombinedOutput(); err != nil || strings.Contains(string(b), "Lua") {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	t.Logf("tshark: %v", time.Since(start))
	outb, err := os.ReadFile(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(outb), "\n"), "\n")
	if len(got) != len(cases) {
		t.Fatalf("the Lua script answered %d of %d inputs", len(got), len(cases))
	}
	var nk, nm, bad int
	for i, c := range cases {
		var want string
		if c.kind != nil {
			nk++
			want = "ok"
			if _, err := c.kind.ParseKind(c.input); err != nil {
				want = fmt.Sprintf("err %s %s %d", err.Class, err.Field, err.Offset)
			}
		} else {
			nm++
			want = wireVerdict(s, c.proto, []byte(c.input))
		}
		if got[i] != want {
			bad++
			what := "protocol " + c.proto.Name
			if c.kind != nil {
				what = "kind " + c.kind.Name
			}
			if bad <= 50 {
				t.Errorf("%s: %q:\n  dissector: %s\n  Go:        %s", what, c.input, got[i], want)
			}
		}
	}
	if bad > 50 {
		t.Errorf("... and %d more differences", bad-50)
	}
	t.Logf("%d values of %d kinds and %d messages compared", nk, kinds, nm)
}

// wireVerdict is what the wire package says of b, as the Lua script prints
// it: "ok", the tag in hex and each field path with its bytes, or the error.
func wireVerdict(s *spec.Spec, p *spec.Protocol, b []byte) string {
	m := fromWire(s, p, b)
	if e := m.Err; e != nil {
		return fmt.Sprintf("err %s %s %d", e.Class, e.Field, e.Offset)
	}
	words := []string{"ok", hex.EncodeToString([]byte(m.Type))}
	for _, f := range m.Fields {
		words = append(words, f.Path+"="+hex.EncodeToString([]byte(f.Bytes)))
	}
	return strings.Join(words, " ")
}
