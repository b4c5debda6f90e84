package main

import (
	"bytes"
	"fmt"
	"strings"

	"mi/gen/spec"
)

// errSentinel maps the spec's error classes to the wire package's sentinels.
var errSentinel = map[string]string{
	"truncated":     "wire.ErrTruncated",
	"too_long":      "wire.ErrTooLong",
	"unknown_type":  "wire.ErrUnknownType",
	"bad_field":     "wire.ErrBadField",
	"bad_separator": "wire.ErrBadSeparator",
	"trailing":      "wire.ErrTrailing",
}

// tableFiles writes the spec's examples and invalid inputs as Go tables, so
// the tests check every one against the generated codecs. The tables hold
// no spec line: a failure names the input, which is in the spec as it is,
// and a line inserted in the spec changes no generated Go.
func tableFiles(s *spec.Spec) ([]file, error) {
	var b bytes.Buffer
	header(&b, s, "wire_test", "mi/wire", "slices", "testing")
	g := newW(&b)
	g.p("// specExamples are the spec's example messages: each must decode and")
	g.p("// re-encode to the same bytes.")
	g.p("var specExamples = []specExample{")
	for _, m := range s.Messages {
		for _, e := range m.Examples {
			g.p("{Proto: %q, Tag: %q, Input: %q},", m.Proto.Name, m.Tag, e.Input)
		}
	}
	for _, sq := range s.Sequences {
		for _, st := range sq.Steps {
			g.p("{Proto: %q, Tag: %q, Input: %q},", sq.Proto.Name, st.Msg.Tag, st.Example)
		}
	}
	g.p("}\n")
	g.p("// specInvalid are inputs every decoder must refuse with this error.")
	g.p("var specInvalid = []invalidInput{")
	for _, m := range s.Messages {
		for _, in := range m.Invalid {
			sentinel, ok := errSentinel[in.Err]
			if !ok {
				return nil, fmt.Errorf("%s:%s: no sentinel for %q", s.File, in.Pos, in.Err)
			}
			g.p("{Proto: %q, Input: %q, Err: %s, Field: %q},", m.Proto.Name, in.Input, sentinel, in.Field)
		}
	}
	g.p("}")
	tableRoles(g, s)
	if err := tableSigned(g, s); err != nil {
		return nil, err
	}
	f, err := gofile("wire/zspec_test.go", &b)
	return []file{f}, err
}

// tableRoles writes each message's role and the requests a reply answers,
// and the test that the generated PROTORole and PROTOAnswers agree.
func tableRoles(g w, s *spec.Spec) {
	g.p("\n// specRoles is what each message is for, and what a reply answers.")
	g.p("var specRoles = []struct {")
	g.p("Proto, Tag string")
	g.p("Role wire.Role")
	g.p("Answers []string")
	g.p("}{")
	for _, m := range s.Messages {
		ans := "nil"
		if len(m.Answers) > 0 {
			var tags []string
			for _, o := range m.Answers {
				tags = append(tags, fmt.Sprintf("%q", o.Tag))
			}
			ans = "[]string{" + strings.Join(tags, ", ") + "}"
		}
		g.p("{%q, %q, wire.%s, %s},", m.Proto.Name, m.Tag, roleConst[s.Role(m)], ans)
	}
	g.p("}\n")
	g.p("// TestSpecRoles checks every message's role, and every pair of tags of a")
	g.p("// protocol against its Answers function.")
	g.p("func TestSpecRoles(t *testing.T) {")
	g.p("role := map[string]func(string) (wire.Role, string){")
	for _, p := range s.Protocols {
		g.p("%q: wire.%sRole,", p.Name, p.Name)
	}
	g.p("}")
	g.p("answers := map[string]func(string, string) bool{")
	for _, p := range s.Protocols {
		g.p("%q: wire.%sAnswers,", p.Name, p.Name)
	}
	g.p("}")
	g.p("%s", `for _, m := range specRoles {
		first := ""
		if len(m.Answers) > 0 {
			first = m.Answers[0]
		}
		if r, a := role[m.Proto](m.Tag); r != m.Role || a != first {
			t.Errorf("%s %s: role %v answering %q, want %v answering %q", m.Proto, m.Tag, r, a, m.Role, first)
		}
		for _, o := range specRoles {
			if o.Proto != m.Proto {
				continue
			}
			if got, want := answers[m.Proto](m.Tag, o.Tag), slices.Contains(m.Answers, o.Tag); got != want {
				t.Errorf("%s: %s answers %s: %v, want %v", m.Proto, m.Tag, o.Tag, got, want)
			}
		}
	}`)
	g.p("}")
}

// roleConst names a role as package wire does.
var roleConst = map[spec.Role]string{spec.RoleOther: "RoleOther", spec.RoleRequest: "RoleRequest", spec.RoleReply: "RoleReply"}

// tableSigned writes, for every example of a message with a signature,
// the bytes the model says it signs, and the test that AppendSigned of the
// decoded message gives them.
func tableSigned(g w, s *spec.Spec) error {
	var rows []string
	for _, m := range s.Messages {
		if m.Signature == nil {
			continue
		}
		for _, e := range m.Examples {
			d, err := s.Decode(m.Proto, []byte(e.Input))
			if err != nil {
				return fmt.Errorf("%s:%s: %v", s.File, e.Pos, err)
			}
			rows = append(rows, fmt.Sprintf("{%q, %q, %q},", m.Proto.Name, e.Input, d.Signed()))
		}
	}
	if len(rows) == 0 {
		return nil
	}
	g.p("\n// specSigned are the examples of messages with a signature, and the bytes")
	g.p("// the model says it signs.")
	g.p("var specSigned = []struct {")
	g.p("Proto, Input, Signed string")
	g.p("}{")
	for _, r := range rows {
		g.p("%s", r)
	}
	g.p("}\n")
	g.p("// TestSpecSigned decodes each example of a signed message and checks that")
	g.p("// AppendSigned appends the bytes the model says its signature signs.")
	g.p("%s", `func TestSpecSigned(t *testing.T) {
	for _, ex := range specSigned {
		m, err := decoders[ex.Proto]([]byte(ex.Input))
		if err != nil {
			t.Fatalf("%s example %q: %v", ex.Proto, ex.Input, err)
		}
		got, err := m.(wire.Signed).AppendSigned([]byte("x"))
		if err != nil || string(got) != "x"+ex.Signed {
			t.Errorf("%s example %q: AppendSigned gives %q, %v; want %q", ex.Proto, ex.Input, got, err, ex.Signed)
		}
	}
}`)
	return nil
}
