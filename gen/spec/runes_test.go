package spec

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// runesSpec has a kind that denies code points, listed out of order and
// touching, with its examples and invalid inputs, and a message of it.
const runesSpec = `
kind name text "a name shown to people" {
    min 1
    max 16
    utf8
    nocontrol
    denyrunes "U+202A-U+202E U+0080-U+009F U+2028-U+2029 U+061C"
    example "laura"
    example "\u05d3\u05d5\u05d3"
    example "a\u00a0b\u061b\u061d\u2027\u202f"
    invalid "a\u009bb" bad_field "name"
    invalid "\u202egnp" bad_field "name"
    invalid "caf\xc3" bad_field "name"
}
protocol P "a protocol" {
    transport udp
    port 9 "where"
    tag 2
    max 40
}
message P NM Name "a name" {
    field name name
    example "NMlaura"
    invalid "NMab\u2029" bad_field "name"
}
`

// TestDenyRunes: denyrunes refuses its code points, and only those, at the
// first one's offset, after the bytes and the UTF-8; its ranges are kept
// sorted and merged.
func TestDenyRunes(t *testing.T) {
	s, err := Parse("runes.spec", runesSpec)
	if err != nil {
		t.Fatal(err)
	}
	k := s.Kind("name")
	want := []RuneRange{{0x80, 0x9f}, {0x61c, 0x61c}, {0x2028, 0x202e}}
	if d := cmp.Diff(want, k.DenyRunes); d != "" {
		t.Errorf("DenyRunes (-want +got):\n%s", d)
	}
	if got := RunesString(k.DenyRunes); got != "U+0080-U+009F U+061C U+2028-U+202E" {
		t.Errorf("RunesString: %s", got)
	}
	for _, tc := range []struct {
		in, want string // want: "" or "CLASS OFFSET REASON"
	}{
		{"ab", ""},
		{"\u00a0\u009f", "bad_field 2 rune U+009F not allowed"},
		{"\u0080", "bad_field 0 rune U+0080 not allowed"},
		{"ab\u202ecd", "bad_field 2 rune U+202E not allowed"},
		{"\u061b\u061c", "bad_field 2 rune U+061C not allowed"},
		{"a\u2027\u2028", "bad_field 4 rune U+2028 not allowed"},
		{"a\u202f\u2066", ""}, // U+2066 is not in this kind's list
		{"a\x01\u202e", "bad_field 1 byte '\\x01' not allowed"}, // the bytes first
		{"\u202e\xff", "bad_field 3 invalid UTF-8"},             // then UTF-8
		{strings.Repeat("\u202e", 6), "too_long 0 length 18, limit 16"},
	} {
		got := ""
		if _, err := k.ParseKind(tc.in); err != nil {
			got = fmt.Sprintf("%s %d %s", err.Class, err.Offset, err.Reason)
		}
		if got != tc.want {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
	if r := k.Impl().DocRules(k); r[len(r)-1] != "no code point U+0080-U+009F U+061C U+2028-U+202E" {
		t.Errorf("doc rules: %q", r)
	}
}

// TestDenyRunesIR: the list as written and the set it gives travel in the
// IR; a set that disagrees with the list is refused.
func TestDenyRunesIR(t *testing.T) {
	s, err := Parse("runes.spec", runesSpec)
	if err != nil {
		t.Fatal(err)
	}
	got, data := roundTrip(t, s)
	sameModel(t, s, got)
	for _, want := range []string{`"deny_runes": "U+202A-U+202E U+0080-U+009F U+2028-U+2029 U+061C"`, "\"denied_runes\": [\n        [\n          128,"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("IR JSON has no %s", want)
		}
	}
	ir := s.IR()
	ir.Kinds[0].Denied = [][2]int{{128, 159}}
	if _, err := FromIR(ir); err == nil || !strings.Contains(err.Error(), "kind name: denied_runes disagrees") {
		t.Errorf("a wrong denied_runes: %v", err)
	}
}
