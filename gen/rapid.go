package main

import (
	"bytes"
	"fmt"

	"mi/gen/spec"
)

// rapidFiles is the property-test back end: a rapid generator of valid and
// of invalid values for every kind and message.
func rapidFiles(s *spec.Spec) ([]file, error) {
	var b bytes.Buffer
	header(&b, s, "wiregen", "net/netip", "pgregory.net/rapid", "mi/wire")
	g := newW(&b)
	g.p("var _ netip.Addr // not every spec needs every import")
	for _, k := range s.Kinds {
		rapidKinds[k.Base].write(g, k)
	}
	for _, m := range s.Messages {
		rapidMessage(g, m)
	}
	rapidCases(g, s)
	rapidExamples(g, s)
	f, err := gofile("wire/wiregen/zgen.go", &b)
	return []file{f}, err
}

func rapidMessage(g w, m *spec.Message) {
	t := "*wire." + m.GoType
	g.p("\n// Msg%s draws a valid %s message.", m.GoType, m.Tag)
	if len(m.Fields()) == 0 {
		// Custom insists on drawing something; a fieldless message has nothing to draw.
		g.p("func Msg%s() *rapid.Generator[%s] { return rapid.Map(rapid.Just(0), func(int) %s { return new(wire.%s) }) }", m.GoType, t, t, m.GoType)
		return
	}
	g.p("func Msg%s() *rapid.Generator[%s] {", m.GoType, t)
	g.p("return rapid.Custom(func(t *rapid.T) %s {", t)
	g.p("m := new(wire.%s)", m.GoType)
	for _, f := range m.Fields() {
		draw := fmt.Sprintf("m.%s = %s().Draw(t, %q)", spec.Exported(f.Name), f.Kind.GoName(), f.Name)
		if c := m.CondOf(f); c != nil {
			g.p("if m.%s == wire.%s { %s }", spec.Exported(c.Field.Name), spec.CodeConst(c.Field.Kind, c.Code), draw)
		} else {
			g.p("%s", draw)
		}
	}
	g.p("return m")
	g.p("})")
	g.p("}")
	cases := badCases(m)
	if len(cases) == 0 {
		return // every value of every field is valid: nothing to break
	}
	g.p("\n// BadMsg%s draws a %s message with one invalid field: broken, or set", m.GoType, m.Tag)
	g.p("// where its condition says it must be empty.")
	g.p("func BadMsg%s() *rapid.Generator[%s] {", m.GoType, t)
	g.p("return rapid.Custom(func(t *rapid.T) %s {", t)
	g.p("m := Msg%s().Draw(t, \"valid\")", m.GoType)
	g.p("switch rapid.IntRange(0, %d).Draw(t, \"field\") {", len(cases)-1)
	for i, c := range cases {
		g.p("case %d: %s", i, c)
	}
	g.p("}")
	g.p("return m")
	g.p("})")
	g.p("}")
}

// badCases lists the ways to break one field of m: a value its kind
// refuses, or a value set where its condition says the field is absent.
func badCases(m *spec.Message) []string {
	var out []string
	for _, f := range m.Fields() {
		name, gen := spec.Exported(f.Name), f.Kind.GoName()
		bad := fmt.Sprintf("m.%s = Bad%s().Draw(t, %q)", name, gen, f.Name)
		c := m.CondOf(f)
		switch {
		case c == nil && hasBad(f.Kind):
			out = append(out, bad)
		case c != nil:
			held := bad
			if !hasBad(f.Kind) {
				o := otherCode(c)
				if o == nil {
					continue // the condition always holds and every value is valid
				}
				held = fmt.Sprintf("m.%s = wire.%s", spec.Exported(c.Field.Name), spec.CodeConst(c.Field.Kind, o))
			}
			absent := fmt.Sprintf("m.%s = %s().Draw(t, %q)", name, gen, f.Name)
			out = append(out, fmt.Sprintf("if m.%s == wire.%s { %s } else { %s }", spec.Exported(c.Field.Name), spec.CodeConst(c.Field.Kind, c.Code), held, absent))
		}
	}
	return out
}

// otherCode is a code of c's field other than c's, or nil.
func otherCode(c *spec.Cond) *spec.Code {
	for _, v := range c.Field.Kind.Values {
		if v != c.Code {
			return v
		}
	}
	return nil
}

// rapidCases lists every message with its generators, for table-driven
// properties.
func rapidCases(g w, s *spec.Spec) {
	g.p("\n// Cases lists every message of the spec (Case is in cases.go).")
	g.p("var Cases = []Case{")
	for _, m := range s.Messages {
		bad := "nil"
		if len(badCases(m)) > 0 {
			bad = "asMessage(BadMsg" + m.GoType + "())"
		}
		g.p("{Proto: %q, Tag: %q, New: func() wire.Message { return new(wire.%s) }, Valid: asMessage(Msg%s()), Bad: %s},",
			m.Proto.Name, m.Tag, m.GoType, m.GoType, bad)
	}
	g.p("}")
}

// rapidExamples exports the spec's examples and invalid inputs, so that
// seed lists and tests outside the wire package take them from the spec.
func rapidExamples(g w, s *spec.Spec) {
	g.p("\n// Examples lists every example message of the spec, in spec order.")
	g.p("var Examples = []Example{")
	for _, m := range s.Messages {
		for _, e := range m.Examples {
			g.p("{%q, %q, %q},", m.Proto.Name, m.Tag, e.Input)
		}
	}
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
