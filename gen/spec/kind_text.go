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
