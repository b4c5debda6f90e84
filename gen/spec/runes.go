package spec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RuneRange is an inclusive range of code points.
type RuneRange struct{ Lo, Hi rune }

// String writes r as the spec does: U+0080-U+009F, or U+061C alone.
func (r RuneRange) String() string {
	if r.Lo == r.Hi {
		return fmt.Sprintf("%U", r.Lo)
	}
	return fmt.Sprintf("%U-%U", r.Lo, r.Hi)
}

// RunesString lists ranges as a denyrunes attribute writes them.
func RunesString(rs []RuneRange) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.String())
	}
	return strings.Join(out, " ")
}

// runeIn reports whether c is in one of the ascending ranges rs.
func runeIn(rs []RuneRange, c rune) bool {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].Hi >= c })
	return i < len(rs) && rs[i].Lo <= c
}

// deniedRune returns the offset and value of the first rune of v (valid
// UTF-8) that is in rs, or -1.
func deniedRune(rs []RuneRange, v string) (int, rune) {
	for i, c := range v {
		if c >= utf8.RuneSelf && runeIn(rs, c) {
			return i, c
		}
	}
	return -1, 0
}

// buildDenyRunes reads the denyrunes attribute into k.DenyRunes. Its items
// are code points U+XXXX and ranges U+XXXX-U+YYYY of what only UTF-8 text
// can hold: above ASCII (a byte below 0x80 is a deny), not a surrogate,
// at most U+10FFFF.
func (k *Kind) buildDenyRunes(r *errs) {
	k.DenyRunes = nil
	at, set := k.Attrs["denyrunes"]
	if !set && k.DenyRunesSrc == "" {
		return
	}
	if !set {
		at = k.Pos // an IR may give the list without its place
	}
	owner := "kind " + k.Name
	if !k.UTF8 {
		r.errorf(at, "%s: denyrunes needs utf8: a value that need not be UTF-8 holds bytes, not code points", owner)
		return
	}
	if !k.holdsHigh() {
		r.errorf(at, "%s: denyrunes means nothing: allow, deny and nocontrol leave no byte over 0x7f, so no value holds a code point over U+007F", owner)
		return
	}
	items := strings.Fields(k.DenyRunesSrc)
	if len(items) == 0 {
		r.errorf(at, "%s: denyrunes lists no code point", owner)
	}
	for _, w := range items {
		rg, msg := parseRuneRange(w)
		if msg == "" {
			msg = overlap(k.DenyRunes, rg)
		}
		if msg != "" {
			r.errorf(at, "%s: denyrunes item %q %s", owner, w, msg)
			continue
		}
		k.DenyRunes = append(k.DenyRunes, rg)
	}
	k.DenyRunes = merged(k.DenyRunes)
}

// merged sorts disjoint ranges and joins those that touch, so that a set
// of code points has one form however the spec lists it.
func merged(rs []RuneRange) []RuneRange {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Lo < rs[j].Lo })
	var out []RuneRange
	for _, r := range rs {
		if n := len(out); n > 0 && out[n-1].Hi+1 == r.Lo {
			out[n-1].Hi = r.Hi
			continue
		}
		out = append(out, r)
	}
	return out
}

// holdsHigh reports whether a value of k may hold a byte over 0x7f.
func (k *Kind) holdsHigh() bool {
	for c := 0x80; c < 0x100; c++ {
		if k.Allowed[c] {
			return true
		}
	}
	return false
}

// parseRuneRange reads U+XXXX or U+XXXX-U+YYYY; msg says what is wrong.
func parseRuneRange(w string) (rg RuneRange, msg string) {
	lo, hi, isRange := strings.Cut(w, "-")
	if !isRange {
		hi = lo
	}
	var ok [2]bool
	rg.Lo, ok[0] = parseCodePoint(lo)
	rg.Hi, ok[1] = parseCodePoint(hi)
	switch {
	case !ok[0] || !ok[1]:
		return rg, "is neither a code point U+XXXX nor a range U+XXXX-U+YYYY (4 to 6 capital hex digits)"
	case rg.Lo > rg.Hi:
		return rg, "is an empty range"
	case rg.Lo < utf8.RuneSelf:
		return rg, "holds ASCII: deny the bytes below 0x80 with deny"
	case rg.Hi > utf8.MaxRune:
		return rg, "goes past U+10FFFF, the last code point"
	case rg.Lo <= 0xdfff && rg.Hi >= 0xd800:
		return rg, "holds surrogates (U+D800-U+DFFF), which UTF-8 never encodes"
	}
	return rg, ""
}

// parseCodePoint reads U+ and 4 to 6 capital hex digits.
func parseCodePoint(w string) (rune, bool) {
	h, ok := strings.CutPrefix(w, "U+")
	if !ok || len(h) < 4 || len(h) > 6 || strings.ToUpper(h) != h {
		return 0, false
	}
	n, err := strconv.ParseUint(h, 16, 32)
	return rune(n), err == nil
}

// overlap says which earlier range rg shares a code point with, if any.
func overlap(rs []RuneRange, rg RuneRange) string {
	for _, o := range rs {
		if rg.Lo <= o.Hi && o.Lo <= rg.Hi {
			return "overlaps " + o.String() + ", listed before it"
		}
	}
	return ""
}
