package main

import (
	"bytes"
	"fmt"
	"strings"

	"mi/gen/spec"
)

// rapidFiles is the property-test back end: a rapid generator of valid and
// of invalid values for every kind and message.
func rapidFiles(s *spec.Spec) ([]file, error) {
	var b bytes.Buffer
	header(&b, s, "wiregen", "net/netip", "pgregory.net/rapid", "mi/wire")
	g := w{&b}
	g.p("var _ netip.Addr // not every spec needs every import")
	for _, k := range s.Kinds {
		if err := rapidKind(g, k); err != nil {
			return nil, err
		}
	}
	for _, m := range s.Messages {
		rapidMessage(g, m)
	}
	rapidCases(g, s)
	rapidExamples(g, s)
	f, err := gofile("wire/wiregen/zgen.go", &b)
	return []file{f}, err
}

// ruleOf writes the textRule literal of a text or dnsname kind.
func ruleOf(k *spec.Kind) string {
	var set, deny strings.Builder
	high := false
	for c := 0; c < 256; c++ {
		switch {
		case k.Allowed[c] && c < 0x80:
			set.WriteByte(byte(c))
		case k.Allowed[c]:
			high = true
		default:
			deny.WriteByte(byte(c))
		}
	}
	return fmt.Sprintf("textRule{min: %d, max: %d, set: %q, high: %v, utf8: %v, deny: %q}",
		k.Min, k.Max, set.String(), high, k.UTF8, deny.String())
}

func rapidKind(g w, k *spec.Kind) error {
	n, t := kindName(k), goType(k)
	if t == k.GoType {
		t = "wire." + t
	}
	switch k.Base {
	case spec.Text, spec.DNSName:
		valid := "text"
		if k.Base == spec.DNSName {
			valid = "dnsName"
		}
		g.p("\nvar rule%s = %s\n", n, ruleOf(k))
		g.p("// %sLen draws a valid %s of min to max bytes.", n, k.Name)
		g.p("func %sLen(min, max int) *rapid.Generator[string] { return %s(rule%s, min, max) }\n", n, valid, n)
		g.p("// %s draws a valid %s: %s.", n, k.Name, k.Doc)
		g.p("func %s() *rapid.Generator[string] { return %sLen(%d, %d) }\n", n, n, k.Min, k.Max)
		g.p("// Bad%s draws an invalid %s.", n, k.Name)
		g.p("func Bad%s() *rapid.Generator[string] { return badText(rule%s, %v) }", n, n, k.Base == spec.DNSName)
	case spec.IPv4:
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
	case spec.Uint16:
		g.p("\n// %s draws a valid %s.", n, k.Name)
		g.p("func %s() *rapid.Generator[uint16] { return rapid.Uint16Range(%d, %d) }\n", n, k.Min, k.Max)
		if k.Min == 0 && k.Max == 65535 {
			return fmt.Errorf("kind %s has no invalid value", k.Name)
		}
		g.p("// Bad%s draws an out-of-range %s.", n, k.Name)
		g.p("func Bad%s() *rapid.Generator[uint16] {", n)
		var gens []string
		if k.Min > 0 {
			gens = append(gens, fmt.Sprintf("rapid.IntRange(0, %d)", k.Min-1))
		}
		if k.Max < 65535 {
			gens = append(gens, fmt.Sprintf("rapid.IntRange(%d, 65535)", k.Max+1))
		}
		g.p("return rapid.Map(rapid.OneOf(%s), func(v int) uint16 { return uint16(v) })", strings.Join(gens, ", "))
		g.p("}")
	case spec.Codes:
		var vals, ints []string
		for _, c := range k.Values {
			vals = append(vals, "wire."+codeConst(k, c))
			ints = append(ints, fmt.Sprint(c.Value))
		}
		g.p("\n// %s draws a valid %s.", n, k.GoType)
		g.p("func %s() *rapid.Generator[%s] { return rapid.SampledFrom([]%s{%s}) }\n", n, t, t, strings.Join(vals, ", "))
		g.p("// Bad%s draws a value that is no %s.", n, k.GoType)
		g.p("func Bad%s() *rapid.Generator[%s] {", n, t)
		g.p("return rapid.Map(outside(0, 255, %s), func(v int) %s { return %s(v) })", strings.Join(ints, ", "), t, t)
		g.p("}")
	case spec.Struct:
		return rapidStruct(g, k, t)
	}
	return nil
}

// rapidStruct draws the parts in order within the struct's length budget;
// the invalid generator breaks one part or overflows the budget.
func rapidStruct(g w, k *spec.Kind, t string) error {
	n := k.GoType
	parts := fieldsOfItems(k.Parts)
	lits := 0
	for _, it := range k.Parts {
		lits += len(it.Literal)
		if it.Field != nil && it.Field.Kind.Base != spec.Text && it.Field.Kind.Base != spec.DNSName {
			return fmt.Errorf("kind %s: the rapid back end only draws text parts in a struct", k.Name)
		}
	}
	room := func(i int, f func(*spec.Kind) int) int {
		n := 0
		for _, p := range parts[i+1:] {
			n += f(p.Kind)
		}
		return n
	}
	g.p("\n// %s draws a valid %s.", n, k.Doc)
	g.p("func %s() *rapid.Generator[%s] {", n, t)
	g.p("return rapid.Custom(func(t *rapid.T) (v %s) {", t)
	g.p("used := %d", lits)
	for i, p := range parts {
		pk := kindName(p.Kind)
		g.p("v.%s = %sLen(%d, min(%d, %d-used-%d)).Draw(t, %q)", exported(p.Name), pk, p.Kind.Min, p.Kind.Max, k.MaxLen(), room(i, (*spec.Kind).MinLen), p.Name)
		g.p("used += len(v.%s)", exported(p.Name))
	}
	g.p("_ = used")
	g.p("return v")
	g.p("})")
	g.p("}\n")
	g.p("// Bad%s draws an invalid %s.", n, k.Name)
	g.p("func Bad%s() *rapid.Generator[%s] {", n, t)
	g.p("return rapid.Custom(func(t *rapid.T) (v %s) {", t)
	g.p("v = %s().Draw(t, \"valid\")", n)
	g.p("switch rapid.IntRange(0, %d).Draw(t, \"break\") {", len(parts))
	for i, p := range parts {
		g.p("case %d: v.%s = Bad%s().Draw(t, %q)", i, exported(p.Name), kindName(p.Kind), p.Name)
	}
	g.p("default: // every part valid, the whole too long")
	g.p("used := %d", lits)
	for i, p := range parts {
		g.p("v.%s = %sLen(max(%d, %d+1-used-%d), %d).Draw(t, %q)", exported(p.Name), kindName(p.Kind), p.Kind.Min, k.MaxLen(), room(i, (*spec.Kind).MaxLen), p.Kind.Max, p.Name)
		g.p("used += len(v.%s)", exported(p.Name))
	}
	g.p("}")
	g.p("return v")
	g.p("})")
	g.p("}")
	return nil
}

func rapidMessage(g w, m *spec.Message) {
	t := "*wire." + m.GoType
	fields := m.Fields()
	g.p("\n// Msg%s draws a valid %s message.", m.GoType, m.Tag)
	g.p("func Msg%s() *rapid.Generator[%s] {", m.GoType, t)
	g.p("return rapid.Custom(func(t *rapid.T) %s {", t)
	g.p("m := new(wire.%s)", m.GoType)
	for _, f := range fields {
		draw := fmt.Sprintf("m.%s = %s().Draw(t, %q)", exported(f.Name), kindName(f.Kind), f.Name)
		if c := m.CondOf(f); c != nil {
			g.p("if m.%s == wire.%s { %s }", exported(c.Field.Name), codeConst(c.Field.Kind, c.Code), draw)
		} else {
			g.p("%s", draw)
		}
	}
	g.p("return m")
	g.p("})")
	g.p("}\n")
	g.p("// BadMsg%s draws a %s message with one invalid field: broken, or set", m.GoType, m.Tag)
	g.p("// where its condition says it must be empty.")
	g.p("func BadMsg%s() *rapid.Generator[%s] {", m.GoType, t)
	g.p("return rapid.Custom(func(t *rapid.T) %s {", t)
	g.p("m := Msg%s().Draw(t, \"valid\")", m.GoType)
	g.p("switch rapid.IntRange(0, %d).Draw(t, \"field\") {", len(fields)-1)
	for i, f := range fields {
		bad := fmt.Sprintf("m.%s = Bad%s().Draw(t, %q)", exported(f.Name), kindName(f.Kind), f.Name)
		if c := m.CondOf(f); c != nil {
			g.p("case %d:", i)
			g.p("if m.%s == wire.%s { %s } else { m.%s = %s().Draw(t, %q) }", exported(c.Field.Name), codeConst(c.Field.Kind, c.Code), bad,
				exported(f.Name), kindName(f.Kind), f.Name)
		} else {
			g.p("case %d: %s", i, bad)
		}
	}
	g.p("}")
	g.p("return m")
	g.p("})")
	g.p("}")
}

// rapidCases lists every message with its generators, for table-driven
// properties.
func rapidCases(g w, s *spec.Spec) {
	g.p("\n// Case is one message type with its generators.")
	g.p("type Case struct {")
	g.p("Proto, Tag string")
	g.p("New func() wire.Message // a zero message to decode into")
	g.p("Valid, Bad *rapid.Generator[wire.Message]")
	g.p("}\n")
	g.p("func asMessage[M wire.Message](g *rapid.Generator[M]) *rapid.Generator[wire.Message] {")
	g.p("return rapid.Map(g, func(m M) wire.Message { return m })")
	g.p("}\n")
	g.p("// Cases lists every message of the spec.")
	g.p("var Cases = []Case{")
	for _, m := range s.Messages {
		g.p("{Proto: %q, Tag: %q, New: func() wire.Message { return new(wire.%s) }, Valid: asMessage(Msg%s()), Bad: asMessage(BadMsg%s())},",
			m.Proto.Name, m.Tag, m.GoType, m.GoType, m.GoType)
	}
	g.p("}")
}

// rapidExamples exports the spec's examples and invalid inputs, so that
// seed lists and tests outside the wire package take them from the spec.
func rapidExamples(g w, s *spec.Spec) {
	g.p("\n// Example is a message of the spec's examples.")
	g.p("type Example struct{ Proto, Tag, Input string }\n")
	g.p("// Examples lists every example message of the spec, in spec order.")
	g.p("var Examples = []Example{")
	for _, m := range s.Messages {
		for _, e := range m.Examples {
			g.p("{%q, %q, %q},", m.Proto.Name, m.Tag, e.Input)
		}
	}
	g.p("}\n")
	g.p("// Invalid is an input every decoder must refuse, with the sentinel and field.")
	g.p("type Invalid struct {")
	g.p("Proto, Input string")
	g.p("Err error")
	g.p("Field string")
	g.p("}\n")
	g.p("// Invalids lists every invalid input of the spec, in spec order.")
	g.p("var Invalids = []Invalid{")
	for _, m := range s.Messages {
		for _, in := range m.Invalid {
			g.p("{%q, %q, %s, %q},", m.Proto.Name, in.Input, errSentinel[in.Err], in.Field)
		}
	}
	g.p("}")
}
