package fuzz

import (
	"errors"
	"os"
	"testing"

	"pgregory.net/rapid"

	"mi/gen/spec"
	"mi/wire"
	"mi/wire/wiregen"
)

// model is the checked spec the codecs were generated from: the generated
// decoders must refuse exactly what its own decoder refuses, with the same
// error in the same field at the same offset. MI_SPEC names another spec,
// for gen's test that builds the codecs of a scratch spec.
var model = func() *spec.Spec {
	path := "../spec/mi.spec"
	if p := os.Getenv("MI_SPEC"); p != "" {
		path = p
	}
	s, err := spec.Load(path)
	if err != nil {
		panic(err)
	}
	return s
}()

// TestErrorClassesOfTheSpec: every invalid input of the spec is refused
// with an error whose wire.ErrorClass is the class it names, and every
// class the spec knows is among them, so ErrorClass names each.
func TestErrorClassesOfTheSpec(t *testing.T) {
	seen := map[string]bool{}
	decode := map[string]func([]byte) (wire.Message, error){"PMI": wire.DecodePMI, "PLUMI": wire.DecodePLUMI}
	for _, m := range model.Messages {
		for _, in := range m.Invalid {
			_, err := decode[m.Proto.Name]([]byte(in.Input))
			if got := wire.ErrorClass(err); got != in.Err {
				t.Errorf("%s %q: ErrorClass %q, the spec says %q", m.Tag, in.Input, got, in.Err)
			}
			seen[in.Err] = true
		}
	}
	for _, class := range spec.ErrNames {
		if !seen[class] {
			t.Errorf("no invalid input of the spec is refused as %s", class)
		}
	}
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
		got := spec.WireError{Class: wire.ErrorClass(err), Field: e.Field, Offset: e.Offset}
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

// kindOf is the model's kind named name.
func kindOf(name string) *spec.Kind {
	if k := model.Kind(name); k != nil {
		return k
	}
	panic("the model has no kind " + name)
}

// agreeOnKind checks a verdict of the wire package on a whole value of a
// kind against the model's.
func agreeOnKind(t *testing.T, kind, in string, err error) {
	t.Helper()
	_, merr := kindOf(kind).ParseKind(in)
	switch {
	case (err == nil) != (merr == nil):
		t.Fatalf("kind %s, %q: wire says %v, the model %v", kind, in, err, merr)
	case err != nil:
		checkErr(t, []byte(in), err)
		var e *wire.Error
		errors.As(err, &e)
		got := spec.WireError{Class: wire.ErrorClass(err), Field: e.Field, Offset: e.Offset}
		want := spec.WireError{Class: merr.Class, Field: merr.Field, Offset: merr.Offset}
		if got != want {
			t.Fatalf("kind %s, %q: wire says %v; the model says %v", kind, in, err, merr)
		}
	}
}

// fuzzParse fuzzes the exported parser of a struct kind: its verdict is the
// model's, and what it accepts prints back as the same bytes and checks.
func fuzzParse[T interface {
	String() string
	Check() error
}](f *testing.F, kind string, parse func(string) (T, error)) {
	f.Fuzz(func(t *testing.T, b []byte) {
		in := string(b)
		v, err := parse(in)
		agreeOnKind(t, kind, in, err)
		if err != nil {
			return
		}
		if v.String() != in {
			t.Fatalf("%q parses to %#v, which prints as %q", in, v, v.String())
		}
		if err := v.Check(); err != nil {
			t.Fatalf("%q parses but does not check: %v", in, err)
		}
	})
}

// fuzzCheck fuzzes the exported checker of a text kind against the model.
func fuzzCheck(f *testing.F, kind string, check func(string) error) {
	f.Fuzz(func(t *testing.T, b []byte) { agreeOnKind(t, kind, string(b), check(string(b))) })
}
