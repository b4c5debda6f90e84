package wire

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds what the generated kinds (zkinds.go) share and what does
// not vary with the spec: the decimal scanner of the numeric kinds and the
// code point set of the text kinds that deny some (denyrunes).

// scanDecimal reads a canonical decimal number from s[p:limit], stopping at
// the first non-digit. reason is empty on success.
func scanDecimal(s string, p, limit, max int) (n, next int, reason string) {
	start := p
	for p < limit && s[p] >= '0' && s[p] <= '9' {
		n = n*10 + int(s[p]-'0')
		if n > max {
			return 0, p, "over " + strconv.Itoa(max)
		}
		p++
	}
	switch {
	case p == start:
		return 0, p, "want a decimal digit"
	case s[start] == '0' && p-start > 1:
		return 0, p, "leading zero"
	}
	return n, p, ""
}

// decimalLen is the number of digits of n.
func decimalLen(n int) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

// runeSet is a set of code points, as ascending inclusive ranges: what a
// text kind denies (denyrunes), searched only in text that holds a byte
// over 0x7f.
type runeSet [][2]rune

// has reports whether r is in s.
func (s runeSet) has(r rune) bool {
	for _, rg := range s {
		if r < rg[0] {
			return false
		}
		if r <= rg[1] {
			return true
		}
	}
	return false
}

// index returns the offset and value of the first rune of v, valid UTF-8,
// that is in s, or -1.
func (s runeSet) index(v string) (int, rune) {
	for i, r := range v {
		if r >= utf8.RuneSelf && s.has(r) {
			return i, r
		}
	}
	return -1, 0
}

// reasonRune says which code point a text field may not hold: U+009B.
func reasonRune(r rune) string {
	h := strings.ToUpper(strconv.FormatInt(int64(r), 16))
	return "rune U+" + strings.Repeat("0", max(0, 4-len(h))) + h + " not allowed"
}

// badLabel is where the first label of v that breaks a hostname kind's
// rules starts (an empty label, one over label bytes, one that starts or
// ends with a byte of edge), and why; -1 when every label is good.
func badLabel(v string, label int, edge string) (int, string) {
	for at := 0; ; {
		n := strings.IndexByte(v[at:], '.')
		if n < 0 {
			n = len(v) - at
		}
		l := v[at : at+n]
		switch {
		case l == "":
			return at, "not a host name: an empty label"
		case len(l) > label:
			return at, "not a host name: a label over " + strconv.Itoa(label) + " bytes"
		case strings.IndexByte(edge, l[0]) >= 0 || strings.IndexByte(edge, l[len(l)-1]) >= 0:
			return at, "not a host name: a label starts or ends with " + strconv.Quote(edge)
		}
		if at += n + 1; at > len(v) {
			return -1, ""
		}
	}
}
