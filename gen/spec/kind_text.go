package spec

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// textBase is a run of bytes from an allowed set, with a length range.
type textBase struct{}

func (textBase) Name() string { return Text }

func (textBase) Attrs() []attr {
	return []attr{
		minAttr,
		maxAttr,
		flagAttr("utf8", func(k *Kind) *bool { return &k.UTF8 }),
		flagAttr("nocontrol", func(k *Kind) *bool { return &k.NoControl }),
		bytesAttr("deny", func(k *Kind) *string { return &k.Deny }),
		bytesAttr("allow", func(k *Kind) *string { return &k.AllowSrc }),
		bytesAttr("denyrunes", func(k *Kind) *string { return &k.DenyRunesSrc }),
	}
}

func (textBase) Check(k *Kind, r *errs) {
	if _, ok := k.Attrs["max"]; !ok || k.Max == 0 {
		r.errorf(k.Pos, "kind %s: a %s needs max, at least 1", k.Name, k.Base)
	}
	if k.Min > k.Max {
		r.errorf(k.Attrs["min"], "kind %s: min %d is over max %d", k.Name, k.Min, k.Max)
	}
	if k.buildAllowed(r) && k.Min > 0 && !k.holdsAny() {
		r.errorf(k.Pos, "kind %s: allow, deny and nocontrol leave no byte a value could hold", k.Name)
	}
	k.buildDenyRunes(r)
}

func (k *Kind) holdsAny() bool {
	for _, ok := range k.Allowed {
		if ok {
			return true
		}
	}
	return false
}

// Textual reports whether k's values are runs of bytes of any length from
// Min to Max (text and the bases built on it): the parts a struct's length
// budget can shorten, which a generator draws by length.
func (k *Kind) Textual() bool { _, ok := k.Impl().(interface{ textual() }); return ok }

func (textBase) textual() {}

func (textBase) Bounds(k *Kind) (int, int) { return k.Min, k.Max }

func (textBase) CanHold(k *Kind, c byte) bool { return k.Allowed[c] }

func (textBase) Width(*Kind) int { return 0 }

func (textBase) Decode(k *Kind, s string, off, limit int) (any, *WireError) {
	return decodeText(k, s, off, limit)
}

func (textBase) Encode(_ *Kind, b []byte, v any) []byte { return append(b, v.(string)...) }

func (textBase) DocRules(k *Kind) []string { return textRules(k) }

// docByteList names each byte of set for a person: a printable one as
// itself in code, the others by name and value, so that "\r\n" reads as
// the two bytes CR and LF, not as a four-character sequence.
func docByteList(set string) string {
	names := map[byte]string{' ': "space (0x20)", '\t': "TAB (0x09)", '\n': "LF (0x0a)", '\r': "CR (0x0d)"}
	var parts []string
	for i := 0; i < len(set); i++ {
		c := set[i]
		switch name, ok := names[c]; {
		case ok:
			parts = append(parts, name)
		case c > ' ' && c < 0x7f:
			parts = append(parts, DocCode(string(c)))
		default:
			parts = append(parts, fmt.Sprintf("0x%02x", c))
		}
	}
	return strings.Join(parts, ", ")
}

func textRules(k *Kind) []string {
	var r []string
	if k.AllowSrc != "" {
		r = append(r, "only the bytes "+DocCode(k.AllowSrc))
	}
	if k.Deny != "" {
		r = append(r, "none of the bytes "+docByteList(k.Deny))
	}
	if k.NoControl {
		r = append(r, "no control bytes (0x00-0x1f, 0x7f)")
	}
	if k.UTF8 {
		r = append(r, "valid UTF-8")
	}
	if len(k.DenyRunes) > 0 {
		r = append(r, "no code point "+RunesString(k.DenyRunes))
	}
	return r
}

// DocCode shows bytes in a Markdown code span; bytes a table cannot hold,
// and what a reader would not see as it is (invalid UTF-8, controls, bidi
// controls that would turn the page around), are shown Go-quoted.
func DocCode(s string) string {
	if s == "" {
		return "(empty)"
	}
	if strings.ContainsAny(s, "|`\n\r") || strings.IndexFunc(s, func(r rune) bool { return !strconv.IsPrint(r) || r == utf8.RuneError }) >= 0 {
		s = strconv.Quote(s)
		s = strings.ReplaceAll(s, "|", `\x7c`)
	}
	return "`" + s + "`"
}

// The texts compare by content, whatever their bases' names: lengths,
// bytes, code points, UTF-8, and the checks a base adds (textChecks).
func (textBase) Domain() string { return Text }

func (textBase) Aspects() []string { return []string{"base", "min", "max", "bytes", "runes", "utf8"} }

// textChecks are what a receiver of the base checks of a value beyond
// its bytes, code points and length, each named as the values that pass
// it: none for text.
func (textBase) textChecks() []string { return nil }

func (textBase) Compat(d *diff, o, n *Kind) {
	compatTextBase(d, o, n)
	d.limit("min", o, n, o.Min, n.Min, compatLengths)
	d.limit("max", o, n, o.Max, n.Max, compatLengths)
	compatTextBytes(d, o, n)
	compatRunes(d, o, n)
	compatUTF8(d, o, n)
}

// textChecksOf are the checks of k's base beyond a text's.
func textChecksOf(k *Kind) []string {
	if t, ok := k.Impl().(interface{ textChecks() []string }); ok {
		return t.textChecks()
	}
	return nil
}

// compatTextBase judges a change of base between texts by the checks the
// bases add: one the new base adds narrows, one it drops widens, and a
// base that adds and drops none changes nothing on the wire.
func compatTextBase(d *diff, o, n *Kind) {
	if o.Base == n.Base {
		return
	}
	oc, nc := textChecksOf(o), textChecksOf(n)
	same := true
	for _, c := range nc {
		if !contains(oc, c) {
			same = false
			d.add(true, "base", o.Pos, n.Pos, "base %s -> %s: a new receiver refuses the values that are not %s, which an old peer may send", o.Base, n.Base, c)
		}
	}
	for _, c := range oc {
		if !contains(nc, c) {
			same = false
			d.add(false, "base", o.Pos, n.Pos, "base %s -> %s widens it: an old receiver refuses the values that are not %s, which a new peer may send", o.Base, n.Base, c)
		}
	}
	if same {
		d.add(false, "base", o.Pos, n.Pos, "base %s -> %s: no check added or removed (wire-invisible)", o.Base, n.Base)
	}
}

// compatTextBytes reports the bytes one side allows and the other does
// not, at the first attribute that changed.
func compatTextBytes(d *diff, o, n *Kind) {
	var lost, gained []byte
	for c := 0; c < 256; c++ {
		switch {
		case o.Allowed[c] && !n.Allowed[c]:
			lost = append(lost, byte(c))
		case !o.Allowed[c] && n.Allowed[c]:
			gained = append(gained, byte(c))
		}
	}
	op, np := o.Pos, n.Pos
	for _, a := range []struct {
		name    string
		changed bool
	}{{"allow", o.AllowSrc != n.AllowSrc}, {"deny", o.Deny != n.Deny}, {"nocontrol", o.NoControl != n.NoControl}} {
		if a.changed {
			op, np = compatAttr(o.Attrs, a.name, o.Pos), compatAttr(n.Attrs, a.name, n.Pos)
			break
		}
	}
	if len(lost) > 0 {
		d.add(true, "bytes", op, np, "allowed bytes narrowed: %s no longer allowed; a new receiver refuses the values with them an old peer may send", compatBytes(lost))
	}
	if len(gained) > 0 {
		d.add(false, "bytes", op, np, "allowed bytes widened: %s now allowed; an old receiver refuses the values with them a new peer may send", compatBytes(gained))
	}
}

// compatUTF8 reports utf8 added or removed, which matters only when both
// sides allow bytes above 0x7f.
func compatUTF8(d *diff, o, n *Kind) {
	if o.UTF8 == n.UTF8 || !o.holdsHigh() || !n.holdsHigh() {
		return
	}
	op, np := compatAttr(o.Attrs, "utf8", o.Pos), compatAttr(n.Attrs, "utf8", n.Pos)
	if n.UTF8 {
		d.add(true, "utf8", op, np, "utf8 added: a new receiver refuses the invalid UTF-8 an old peer may send")
	} else {
		d.add(false, "utf8", op, np, "utf8 removed: an old receiver refuses the invalid UTF-8 a new peer may send")
	}
}

// compatRunes reports the code points one side's denyrunes refuses and the
// other holds. A code point whose bytes one side refuses anyway is the byte
// sets' change, reported there.
func compatRunes(d *diff, o, n *Kind) {
	op, np := compatAttr(o.Attrs, "denyrunes", o.Pos), compatAttr(n.Attrs, "denyrunes", n.Pos)
	if lost := runesOnlyIn(n, o); len(lost) > 0 {
		d.add(true, "runes", op, np, "denyrunes %s added: a new receiver refuses the values with them, which an old peer may send", RunesString(lost))
	}
	if gained := runesOnlyIn(o, n); len(gained) > 0 {
		d.add(false, "runes", op, np, "denyrunes %s removed: an old receiver refuses the values with them, which a new peer may send", RunesString(gained))
	}
}

// runesOnlyIn lists the code points a denies and b does not, of those
// whose bytes both allow.
func runesOnlyIn(a, b *Kind) []RuneRange {
	var out []RuneRange
	for _, rg := range a.DenyRunes {
		for c := rg.Lo; c <= rg.Hi; c++ {
			if runeIn(b.DenyRunes, c) || !runeBytes(a, c) || !runeBytes(b, c) {
				continue
			}
			if n := len(out); n > 0 && out[n-1].Hi == c-1 {
				out[n-1].Hi = c
			} else {
				out = append(out, RuneRange{c, c})
			}
		}
	}
	return out
}

// runeBytes reports whether k allows every byte of c's UTF-8 encoding.
func runeBytes(k *Kind, c rune) bool {
	for _, b := range []byte(string(c)) {
		if !k.Allowed[b] {
			return false
		}
	}
	return true
}

// compatBytes lists bytes escaped, runs of three or more as X-Y:
// "." or "\x00"-"\x09" "\v".
func compatBytes(bs []byte) string {
	q := func(c byte) string { return strconv.QuoteToASCII(string([]byte{c})) }
	var out []string
	for i := 0; i < len(bs); {
		j := i
		for j+1 < len(bs) && bs[j+1] == bs[j]+1 {
			j++
		}
		if j-i >= 2 {
			out = append(out, q(bs[i])+"-"+q(bs[j]))
		} else {
			for k := i; k <= j; k++ {
				out = append(out, q(bs[k]))
			}
		}
		i = j + 1
	}
	return strings.Join(out, " ")
}

// Rules are the checks of the decoder as the IR states them (rules.go).
func (textBase) Rules(k *Kind) []Rule { return textCheckRules(k) }
