// Package wiregen has rapid generators for every wire message and field
// kind, valid and invalid, generated from spec/mi.spec. Property tests and
// fuzz harnesses draw from them.
package wiregen

import (
	"strings"
	"unicode/utf8"

	"pgregory.net/rapid"
)

// textRule is a text kind's rule as the generator needs it.
type textRule struct {
	min, max int
	set      string    // the ASCII bytes a value may hold
	high     bool      // bytes >= 0x80 allowed
	utf8     bool      // the value must be valid UTF-8
	deny     string    // bytes a value may not hold, for invalid values
	runes    [][2]rune // utf8: code points a value may not hold (denyrunes)
	label    int       // hostname: the longest label
	edge     string    // hostname: bytes a label may not start or end with
	host     bool      // label and edge are the kind's rules (hostname), not only what valid values are drawn by (dnsname)
}

// wideRunes are the multi-byte characters valid text draws from: letters
// of scripts written both ways, and the neighbours of the code points a
// spec denies (C1 controls, bidi controls), which stay valid.
var wideRunes = []rune{'é', 'ç', 'à', 'ñ', '€', '日', '本', '😀', 'א', 'ب', '\u00a0', '\u061b', '\u061d', '\u200d', '\u2010', '\u2027', '\u202f', '\u2065', '\u206a'}

// denied reports whether r holds c among the code points it denies.
func (r textRule) denied(c rune) bool {
	for _, rg := range r.runes {
		if c >= rg[0] && c <= rg[1] {
			return true
		}
	}
	return false
}

// wide lists the wideRunes r allows.
func (r textRule) wide() []rune {
	var out []rune
	for _, c := range wideRunes {
		if !r.denied(c) {
			out = append(out, c)
		}
	}
	return out
}

// text draws a valid value of r between min and max bytes long.
func text(r textRule, min, max int) *rapid.Generator[string] {
	wide := r.wide()
	return rapid.Custom(func(t *rapid.T) string {
		n := rapid.IntRange(min, max).Draw(t, "len")
		b := make([]byte, 0, n)
		for len(b) < n {
			if r.high && rapid.IntRange(0, 5).Draw(t, "wide") == 0 {
				if !r.utf8 {
					b = append(b, byte(rapid.IntRange(0x80, 0xff).Draw(t, "byte")))
					continue
				}
				if c := rapid.SampledFrom(wide).Draw(t, "rune"); len(b)+utf8.RuneLen(c) <= n {
					b = utf8.AppendRune(b, c)
					continue
				}
			}
			b = append(b, r.set[rapid.IntRange(0, len(r.set)-1).Draw(t, "char")])
		}
		return string(b)
	})
}

// hostName draws a host name from r's set: labels of 1 to r.label bytes
// (the dot aside), none starting or ending with a byte of r.edge, joined
// by dots; at least one byte, as a hostname has no empty value.
func hostName(r textRule, lo, hi int) *rapid.Generator[string] {
	var inner, ends []byte
	for i := 0; i < len(r.set); i++ {
		if c := r.set[i]; c != '.' {
			inner = append(inner, c)
			if strings.IndexByte(r.edge, c) < 0 {
				ends = append(ends, c)
			}
		}
	}
	dots := strings.IndexByte(r.set, '.') >= 0
	return rapid.Custom(func(t *rapid.T) string {
		n := rapid.IntRange(max(lo, 1), hi).Draw(t, "len")
		if !dots {
			n = min(n, r.label)
		}
		var b []byte
		for len(b) < n {
			if len(b) > 0 {
				b = append(b, '.')
			}
			// Never leave one byte: it could only be a dot with no label.
			rem := n - len(b)
			l := rapid.IntRange(1, min(r.label, rem)).Draw(t, "label")
			last := false
			if rem-l == 1 {
				switch {
				case l < r.label:
					l++
				case l > 1:
					l--
				default:
					last = true
				}
			}
			for i := 0; i < l; i++ {
				set := inner
				if i == 0 || i == l-1 {
					set = ends
				}
				b = append(b, set[rapid.IntRange(0, len(set)-1).Draw(t, "char")])
			}
			if last {
				break
			}
		}
		return string(b)
	})
}

// badText draws values that break r: too short, too long, a denied byte,
// broken UTF-8, or a denied code point.
func badText(r textRule, dns bool) *rapid.Generator[string] {
	gens := []*rapid.Generator[string]{
		rapid.Map(rapid.IntRange(r.max+1, r.max+20), func(n int) string { return strings.Repeat(r.set[:1], n) }),
	}
	if r.min > 0 {
		gens = append(gens, rapid.Just(""))
	}
	if r.deny != "" {
		gens = append(gens, withByte(r, rapid.SampledFrom([]byte(r.deny))))
	}
	if r.utf8 {
		gens = append(gens, withByte(r, rapid.Just(byte(0xff))))
	}
	if len(r.runes) > 0 && r.max >= utf8.UTFMax {
		gens = append(gens, withRune(r))
	}
	if dns && r.max >= 4 {
		gens = append(gens, rapid.Just("a..b"))
	}
	if r.host && r.max >= 2 {
		gens = append(gens, rapid.Just("a."), rapid.Just(".a"))
	}
	if r.host && r.edge != "" && r.max >= 2 {
		gens = append(gens, rapid.Just(r.edge[:1]+"a"), rapid.Just("a"+r.edge[:1]))
	}
	return rapid.OneOf(gens...)
}

// withByte inserts a drawn byte into a valid value that has room for it.
func withByte(r textRule, bad *rapid.Generator[byte]) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		v := text(r, 0, r.max-1).Draw(t, "valid")
		i := rapid.IntRange(0, len(v)).Draw(t, "at")
		return v[:i] + string([]byte{bad.Draw(t, "bad")}) + v[i:]
	})
}

// withRune inserts a code point r denies into a valid value with room for
// it, between two of its runes.
func withRune(r textRule) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		rg := rapid.SampledFrom(r.runes).Draw(t, "range")
		c := rapid.Int32Range(rg[0], rg[1]).Draw(t, "rune")
		v := text(r, 0, r.max-utf8.RuneLen(c)).Draw(t, "valid")
		i := rapid.IntRange(0, len(v)).Draw(t, "at")
		for i < len(v) && !utf8.RuneStart(v[i]) {
			i--
		}
		return v[:i] + string(c) + v[i:]
	})
}

// outside draws integers in [lo, hi] that are not in valid.
func outside(lo, hi int, valid ...int) *rapid.Generator[int] {
	return rapid.IntRange(lo, hi).Filter(func(v int) bool {
		for _, x := range valid {
			if v == x {
				return false
			}
		}
		return true
	})
}
