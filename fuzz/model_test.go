package fuzz

import (
	"errors"
	"testing"

	"pgregory.net/rapid"

	"mi/gen/spec"
	"mi/wire"
	"mi/wire/wiregen"
)

// model is the checked spec the codecs were generated from: the generated
// decoders must refuse exactly what its own decoder refuses, with the same
// error in the same field at the same offset.
var model = func() *spec.Spec {
	s, err := spec.Load("../spec/mi.spec")
	if err != nil {
		panic(err)
	}
	return s
}()

// classOf names the spec's error class of a wire error.
func classOf(err error) string {
	for class, s := range map[string]error{
		"truncated": wire.ErrTruncated, "too_long": wire.ErrTooLong, "unknown_type": wire.ErrUnknownType,
		"bad_field": wire.ErrBadField, "bad_separator": wire.ErrBadSeparator, "trailing": wire.ErrTrailing,
	} {
		if errors.Is(err, s) {
			return class
		}
	}
	return "?"
}

// agreeWithModel checks one input of protocol proto against the model.
func agreeWithModel(t interface {
	Helper()
	Fatalf(string, ...any)
}, proto string, in []byte, m wire.Message, err error) {
	t.Helper()
	var p *spec.Protocol
	for _, q := range model.Protocols {
		if q.Name == proto {
			p = q
		}
	}
	d, merr := model.Decode(p, in)
	switch {
	case err == nil && merr != nil:
		t.Fatalf("%q: generated decoder accepts it as %s; the model refuses it: %v", in, m.Tag(), merr)
	case err != nil && merr == nil:
		t.Fatalf("%q: the model accepts it as %s; generated decoder refuses it: %v", in, d.Msg.Tag, err)
	case err != nil:
		var e *wire.Error
		errors.As(err, &e)
		got := spec.WireError{Class: classOf(err), Field: e.Field, Offset: e.Offset}
		want := spec.WireError{Class: merr.Class, Field: merr.Field, Offset: merr.Offset}
		if got != want {
			t.Fatalf("%q: generated decoder says %v; the model says %v", in, err, merr)
		}
	case d.Msg.Tag != m.Tag() || string(d.Encode()) != string(in):
		t.Fatalf("%q: generated decoder reads %s, the model %s re-encoded as %q", in, m.Tag(), d.Msg.Tag, d.Encode())
	}
}

// TestModelAgrees draws valid and broken messages of every type, and
// mutations of them, and checks that the generated decoders and the model
// give the same verdict on each.
func TestModelAgrees(t *testing.T) {
	decode := map[string]func([]byte) (wire.Message, error){"PMI": wire.DecodePMI, "PLUMI": wire.DecodePLUMI}
	for _, c := range wiregen.Cases {
		t.Run(c.Tag, rapid.MakeCheck(func(t *rapid.T) {
			g := c.Valid
			if c.Bad != nil && rapid.Bool().Draw(t, "bad") {
				g = c.Bad
			}
			m := g.Draw(t, "m")
			b, err := m.Append(nil)
			if err != nil {
				b = []byte(c.Tag) // an unencodable value: try the bare tag
			}
			b = mutate(t, b)
			got, err := decode[c.Proto](b)
			agreeWithModel(t, c.Proto, b, got, err)
		}))
	}
}

// mutate changes b in one of a few ways that reach the decoders' corners.
func mutate(t *rapid.T, b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	i := rapid.IntRange(0, len(b)-1).Draw(t, "at")
	switch rapid.IntRange(0, 4).Draw(t, "how") {
	case 0:
		return b
	case 1:
		return b[:i]
	case 2:
		return append(append(b[:i:i], rapid.Byte().Draw(t, "byte")), b[i+1:]...)
	case 3:
		return append(append(b[:i:i], rapid.SampledFrom([]byte("@:.0 \x00\xff")).Draw(t, "ins")), b[i:]...)
	}
	return append(b, b[i:]...)
}
