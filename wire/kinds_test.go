package wire

import (
	"strings"
	"testing"
)

// textKindOf builds a textKind the way the generator does (gen/kinds_go.go):
// allow says which bytes are allowed, utf8 whether bytes over 0x7f are
// UTF-8 to decode.
func textKindOf(allow func(c byte) bool, utf8 bool) *textKind {
	class := new(byteClass)
	printable, plainElse := true, false
	var few []byte
	for c := 0; c < 256; c++ {
		switch {
		case !allow(byte(c)):
			few = append(few, byte(c))
		case utf8 && c >= 0x80:
			class[c] = cUTF8
		default:
			class[c] = cPlain
		}
		if c >= 0x20 && c < 0x7f {
			printable = printable && class[c] == cPlain
		} else {
			plainElse = plainElse || class[c] == cPlain
		}
	}
	t := &textKind{min: 0, max: 99, class: class, runes: runeSet{{0x80, 0x9f}}}
	switch {
	case !utf8 && len(few) >= 1 && len(few) <= 3:
		t.few = string(few)
	case printable:
		t.printable, t.plainElse = true, plainElse
	}
	return t
}

// TestTextQuickPass checks check's quick passes (eight bytes at a time,
// the last overlapping, printable, by the table, by the few bytes denied)
// against scan, the one pass that finds a fault, for every byte at every
// place of values of 0 to 24 bytes.
func TestTextQuickPass(t *testing.T) {
	kinds := map[string]*textKind{
		"line (few: CR LF)":         textKindOf(func(c byte) bool { return c != '\r' && c != '\n' }, false),
		"few over 0x7f":             textKindOf(func(c byte) bool { return c != 0xff && c != 0x80 }, false),
		"few printable":             textKindOf(func(c byte) bool { return c != '@' && c != ';' && c != '~' }, false),
		"nick (printable, utf8)":    textKindOf(func(c byte) bool { return c >= 0x20 && c != 0x7f }, true),
		"user (table, utf8)":        textKindOf(func(c byte) bool { return c > 0x20 && c != 0x7f && c != '@' && c != ':' }, true),
		"hex (table)":               textKindOf(func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }, false),
		"tab (printable, plain 09)": textKindOf(func(c byte) bool { return c >= 0x20 && c < 0x7f || c == '\t' }, false),
	}
	for name, k := range kinds {
		for n := 0; n <= 24; n++ {
			for at := 0; at < n; at++ {
				for c := 0; c < 256; c++ {
					b := []byte(strings.Repeat("a", n))
					b[at] = byte(c)
					v := string(b)
					want := k.scan(v).at < 0
					if got := k.check(v, "f", 0) == nil; got != want {
						t.Fatalf("%s: check(%q) valid %v, scan says %v", name, v, got, want)
					}
				}
			}
		}
	}
}
