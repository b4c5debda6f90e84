package main

import (
	"fmt"
	"strings"

	"mi/gen/spec"
)

// rapidKind is the rapid back end's part of a base: the generators of
// package wiregen for a kind. Each base of gen/spec has an entry in
// rapidKinds (TestEveryBaseHasEveryBackEnd).
type rapidKind interface {
	// write writes N(), which draws valid values, and, when hasBad,
	// BadN(), which draws invalid ones (N is k.GoName()).
	write(g w, k *spec.Kind)
	// hasBad reports whether some value of the Go type is invalid.
	hasBad(k *spec.Kind) bool
}

var rapidKinds = map[string]rapidKind{
	spec.Text:     rapidText{draw: "text"},
	spec.DNSName:  rapidText{draw: "hostName"},
	spec.Hostname: rapidText{draw: "hostName"},
	spec.IPv4:     rapidIPv4{},
	spec.Uint16:   rapidDecimal{16},
	spec.Uint8:    rapidDecimal{8},
	spec.Struct:   rapidStruct{},
	spec.Codes:    rapidCodes{},
	spec.Enum:     rapidEnum{},
}

// hasBad reports whether some Go value of k is invalid.
func hasBad(k *spec.Kind) bool { return rapidKinds[k.Base].hasBad(k) }

// rapidType is the Go type of a value as package wiregen names it.
func rapidType(k *spec.Kind) string {
	if k.GoType != "" {
		return "wire." + k.GoType
	}
	return goType(k)
}

// rapidText writes a text kind's generators; draw names the wiregen
// function that draws from its rule (text.go).
type rapidText struct{ draw string }

// A value longer than max is always invalid.
func (rapidText) hasBad(*spec.Kind) bool { return true }

func (t rapidText) write(g w, k *spec.Kind) {
	n := k.GoName()
	var set, deny strings.Builder
	high := false
	for c := 0; c < 256; c++ {
		switch {
		case k.Base == spec.DNSName && k.Allowed[c] && !ldh(byte(c)):
			// A DNS library reads more than these (escapes, a root
			// dot), so valid values are drawn from host names.
		case k.Allowed[c] && c < 0x80:
			set.WriteByte(byte(c))
		case k.Allowed[c]:
			high = true
		default:
			deny.WriteByte(byte(c))
		}
	}
	runes := ""
	if len(k.DenyRunes) > 0 {
		runes = ", runes: [][2]rune" + goRunes(k.DenyRunes)
	}
	g.p("\nvar rule%s = textRule{min: %d, max: %d, set: %q, high: %v, utf8: %v, deny: %q%s}\n",
		n, k.Min, k.Max, set.String(), high, k.UTF8, deny.String(), runes+hostRule(k))
	g.p("// %sLen draws a valid %s of min to max bytes.", n, k.Name)
	g.p("func %sLen(min, max int) *rapid.Generator[string] { return %s(rule%s, min, max) }\n", n, t.draw, n)
	g.p("// %s draws a valid %s: %s.", n, k.Name, k.Doc)
	g.p("func %s() *rapid.Generator[string] { return %sLen(%d, %d) }\n", n, n, k.Min, k.Max)
	g.p("// Bad%s draws an invalid %s.", n, k.Name)
	g.p("func Bad%s() *rapid.Generator[string] { return badText(rule%s, %v) }", n, n, t.draw != "text")
}

// hostRule is the label and edge of the host names a textRule draws: a
// hostname kind's own, and for a dnsname the rules of RFC 1123's host
// names, which every DNS library takes.
func hostRule(k *spec.Kind) string {
	switch k.Base {
	case spec.Hostname:
		return fmt.Sprintf(", label: %d, edge: %q, host: true", k.Label, k.Edge)
	case spec.DNSName:
		return `, label: 63, edge: "-"`
	}
	return ""
}

// ldh reports whether c is a letter, a digit, a hyphen or a dot.
func ldh(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.'
}

// rapidIPv4 draws any IPv4 address, and addresses that are not IPv4.
type rapidIPv4 struct{}

// The zero Addr and IPv6 addresses are no IPv4 address.
func (rapidIPv4) hasBad(*spec.Kind) bool { return true }

func (rapidIPv4) write(g w, k *spec.Kind) {
	n := k.GoName()
	g.p("\n// %s draws an IPv4 address.", n)
	g.p("func %s() *rapid.Generator[netip.Addr] {", n)
	g.p("return rapid.Custom(func(t *rapid.T) netip.Addr {")
	g.p("var a [4]byte")
	g.p("for i := range a { a[i] = rapid.Byte().Draw(t, \"octet\") }")
	g.p("return netip.AddrFrom4(a)")
	g.p("})")
	g.p("}\n")
	g.p("// Bad%s draws what is not an IPv4 address.", n)
	g.p("func Bad%s() *rapid.Generator[netip.Addr] {", n)
	g.p("return rapid.SampledFrom([]netip.Addr{{}, netip.IPv6Loopback(), netip.MustParseAddr(\"::ffff:1.2.3.4\")})")
	g.p("}")
}

// rapidDecimal draws a number in the kind's range, and out of it within
// the Go type of bits.
type rapidDecimal struct{ bits int }

func (d rapidDecimal) top() int { return 1<<d.bits - 1 }

// Only a range narrower than the Go type's leaves values to refuse.
func (d rapidDecimal) hasBad(k *spec.Kind) bool { return k.Min > 0 || k.Max < d.top() }

func (d rapidDecimal) write(g w, k *spec.Kind) {
	n, t := k.GoName(), goType(k)
	g.p("\n// %s draws a valid %s.", n, k.Name)
	g.p("func %s() *rapid.Generator[%s] {", n, t)
	g.p("return rapid.Map(rapid.IntRange(%d, %d), func(v int) %s { return %s(v) })", k.Min, k.Max, t, t)
	g.p("}")
	if !d.hasBad(k) {
		return
	}
	var gens []string
	if k.Min > 0 {
		gens = append(gens, fmt.Sprintf("rapid.IntRange(0, %d)", k.Min-1))
	}
	if k.Max < d.top() {
		gens = append(gens, fmt.Sprintf("rapid.IntRange(%d, %d)", k.Max+1, d.top()))
	}
	g.p("\n// Bad%s draws an out-of-range %s.", n, k.Name)
	g.p("func Bad%s() *rapid.Generator[%s] {", n, t)
	g.p("return rapid.Map(rapid.OneOf(%s), func(v int) %s { return %s(v) })", strings.Join(gens, ", "), t, t)
	g.p("}")
}

// rapidCodes draws one of the codes, and a byte that is none.
type rapidCodes struct{}

// At most ten of the 256 values of the Go type are codes.
func (rapidCodes) hasBad(*spec.Kind) bool { return true }

func (rapidCodes) write(g w, k *spec.Kind) {
	n, t := k.GoName(), rapidType(k)
	var vals, ints []string
	for _, c := range k.Values {
		vals = append(vals, "wire."+spec.CodeConst(k, c))
		ints = append(ints, fmt.Sprint(c.Value))
	}
	g.p("\n// %s draws a valid %s.", n, k.GoType)
	g.p("func %s() *rapid.Generator[%s] { return rapid.SampledFrom([]%s{%s}) }\n", n, t, t, strings.Join(vals, ", "))
	g.p("// Bad%s draws a value that is no %s.", n, k.GoType)
	g.p("func Bad%s() *rapid.Generator[%s] {", n, t)
	g.p("return rapid.Map(outside(0, 255, %s), func(v int) %s { return %s(v) })", strings.Join(ints, ", "), t, t)
	g.p("}")
}

// rapidEnum draws one of the words, and a string that is none.
type rapidEnum struct{}

// The empty string is no word, nor are the words changed by a byte.
func (rapidEnum) hasBad(*spec.Kind) bool { return true }

func (rapidEnum) write(g w, k *spec.Kind) {
	n := k.GoName()
	g.p("\n// %s draws a valid %s: %s.", n, k.Name, k.Doc)
	g.p("func %s() *rapid.Generator[string] { return rapid.SampledFrom([]string{%s}) }\n", n, quotedWords(k))
	g.p("// Bad%s draws a string that is no %s.", n, k.Name)
	g.p("func Bad%s() *rapid.Generator[string] { return notWord(%s) }", n, quotedWords(k))
}

// rapidStruct draws the parts in order within the struct's length budget;
// the invalid generator breaks one part or overflows the budget.
type rapidStruct struct{}

func (rapidStruct) hasBad(k *spec.Kind) bool {
	for _, f := range spec.FieldsOf(k.Parts) {
		if hasBad(f.Kind) {
			return true
		}
	}
	return overflows(k)
}

func (s rapidStruct) write(g w, k *spec.Kind) {
	n, t, max := k.GoType, rapidType(k), k.MaxLen()
	g.p("\n// %s draws a valid %s.", n, k.Doc)
	g.p("func %s() *rapid.Generator[%s] {", n, t)
	g.p("return rapid.Custom(func(t *rapid.T) (v %s) {", t)
	g.p("used := %d // literals, and the other parts at their longest", fixedParts(k, (*spec.Kind).MaxLen))
	parts := spec.FieldsOf(k.Parts)
	for i, p := range parts {
		if p.Kind.Textual() {
			g.p("v.%s = %sLen(%d, min(%d, %d-used-%d)).Draw(t, %q)", spec.Exported(p.Name), p.Kind.GoName(), p.Kind.Min, p.Kind.Max, max, textAfter(parts, i, (*spec.Kind).MinLen), p.Name)
			g.p("used += len(v.%s)", spec.Exported(p.Name))
		} else {
			g.p("v.%s = %s().Draw(t, %q)", spec.Exported(p.Name), p.Kind.GoName(), p.Name)
		}
	}
	g.p("_ = used")
	g.p("return v")
	g.p("})")
	g.p("}")
	if s.hasBad(k) {
		rapidBadStruct(g, k)
	}
}

// rapidBadStruct writes BadN: a valid value with one part broken, or,
// when valid parts can make it too long, every part valid and the whole
// too long.
func rapidBadStruct(g w, k *spec.Kind) {
	n, t, max := k.GoType, rapidType(k), k.MaxLen()
	parts := spec.FieldsOf(k.Parts)
	var cases []string
	for _, p := range parts {
		if hasBad(p.Kind) {
			cases = append(cases, fmt.Sprintf("v.%s = Bad%s().Draw(t, %q)", spec.Exported(p.Name), p.Kind.GoName(), p.Name))
		}
	}
	g.p("\n// Bad%s draws an invalid %s.", n, k.Name)
	g.p("func Bad%s() *rapid.Generator[%s] {", n, t)
	g.p("return rapid.Custom(func(t *rapid.T) (v %s) {", t)
	g.p("v = %s().Draw(t, \"valid\")", n)
	g.p("switch rapid.IntRange(0, %d).Draw(t, \"break\") {", len(cases)-1+btoi(overflows(k)))
	for i, c := range cases {
		g.p("case %d: %s", i, c)
	}
	if overflows(k) {
		g.p("default: // every part valid, the whole too long")
		g.p("used := %d // literals, and the other parts at their shortest", fixedParts(k, (*spec.Kind).MinLen))
		for i, p := range parts {
			if p.Kind.Textual() {
				g.p("v.%s = %sLen(max(%d, %d+1-used-%d), %d).Draw(t, %q)", spec.Exported(p.Name), p.Kind.GoName(), p.Kind.Min, max, textAfter(parts, i, (*spec.Kind).MaxLen), p.Kind.Max, p.Name)
				g.p("used += len(v.%s)", spec.Exported(p.Name))
			}
		}
	}
	g.p("}")
	g.p("return v")
	g.p("})")
	g.p("}")
}

// textAfter sums f over the text parts after part i.
func textAfter(parts []*spec.Field, i int, f func(*spec.Kind) int) int {
	n := 0
	for _, p := range parts[i+1:] {
		if p.Kind.Textual() {
			n += f(p.Kind)
		}
	}
	return n
}

// fixedParts sums the literals of k and f over its parts that are not
// text, which a generator does not draw by length.
func fixedParts(k *spec.Kind, f func(*spec.Kind) int) int {
	n := 0
	for _, it := range k.Parts {
		switch {
		case it.Field == nil:
			n += len(it.Literal)
		case !it.Field.Kind.Textual():
			n += f(it.Field.Kind)
		}
	}
	return n
}

// overflows reports whether valid text parts can make the whole too long.
func overflows(k *spec.Kind) bool {
	n := 0
	for _, it := range k.Parts {
		switch {
		case it.Field == nil:
			n += len(it.Literal)
		case it.Field.Kind.Textual():
			n += it.Field.Kind.Max
		default:
			n += it.Field.Kind.MinLen()
		}
	}
	return n > k.MaxLen()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
