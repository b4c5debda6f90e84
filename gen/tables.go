package main

import (
	"bytes"
	"fmt"

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
// the tests check every one against the generated codecs.
func tableFiles(s *spec.Spec) ([]file, error) {
	var b bytes.Buffer
	header(&b, s, "wire_test", "mi/wire")
	g := newW(&b)
	g.p("// specExamples are the spec's example messages: each must decode and")
	g.p("// re-encode to the same bytes.")
	g.p("var specExamples = []specExample{")
	for _, m := range s.Messages {
		for _, e := range m.Examples {
			g.p("{Proto: %q, Tag: %q, Input: %q, Line: %d},", m.Proto.Name, m.Tag, e.Input, e.Pos.Line)
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
			g.p("{Proto: %q, Input: %q, Err: %s, Field: %q, Line: %d},", m.Proto.Name, in.Input, sentinel, in.Field, in.Pos.Line)
		}
	}
	g.p("}")
	f, err := gofile("wire/zspec_test.go", &b)
	return []file{f}, err
}
