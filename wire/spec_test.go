package wire_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mi/wire"
)

type specExample struct {
	Proto, Tag, Input string
	Line              int
}

type invalidInput struct {
	Proto, Input string
	Err          error
	Field        string
	Line         int
}

// decoders maps a protocol name to its decoder.
var decoders = map[string]func([]byte) (wire.Message, error){
	"PMI":   wire.DecodePMI,
	"PLUMI": wire.DecodePLUMI,
}

// TestSpecExamples decodes every example of spec/mi.spec and re-encodes it
// byte for byte.
func TestSpecExamples(t *testing.T) {
	for _, ex := range specExamples {
		m, err := decoders[ex.Proto]([]byte(ex.Input))
		if err != nil {
			t.Errorf("spec line %d: %q: %v", ex.Line, ex.Input, err)
			continue
		}
		if m.Tag() != ex.Tag {
			t.Errorf("spec line %d: %q decoded as %s", ex.Line, ex.Input, m.Tag())
		}
		if m.Len() != len(ex.Input) {
			t.Errorf("spec line %d: %q: Len %d", ex.Line, ex.Input, m.Len())
		}
		out, err := m.Append(nil)
		if err != nil {
			t.Errorf("spec line %d: re-encode %q: %v", ex.Line, ex.Input, err)
			continue
		}
		if diff := cmp.Diff(ex.Input, string(out)); diff != "" {
			t.Errorf("spec line %d: re-encoded bytes differ (-want +got):\n%s", ex.Line, diff)
		}
	}
}

// TestSpecInvalid checks that each invalid input of the spec is refused with
// the named sentinel and field.
func TestSpecInvalid(t *testing.T) {
	for _, in := range specInvalid {
		m, err := decoders[in.Proto]([]byte(in.Input))
		if err == nil {
			t.Errorf("spec line %d: %q decoded as %#v, want %v", in.Line, in.Input, m, in.Err)
			continue
		}
		var e *wire.Error
		if !errors.As(err, &e) {
			t.Errorf("spec line %d: %q: error %T is not *wire.Error", in.Line, in.Input, err)
			continue
		}
		got := struct {
			Err   error
			Field string
		}{e.Err, e.Field}
		want := struct {
			Err   error
			Field string
		}{in.Err, in.Field}
		if got != want || !errors.Is(err, in.Err) {
			t.Errorf("spec line %d: %q: got %v (field %q), want %v in field %q", in.Line, in.Input, err, e.Field, in.Err, in.Field)
		}
	}
}

func TestIsTag(t *testing.T) {
	for in, want := range map[string]bool{
		"PR": true, "RR0": true, "PDx": true, "RD": true, "PL": true, "RL3": true,
		"": false, "P": false, "N02u1": false, "L00": false, "XX": false, "pr": false, "LR": false,
	} {
		if got := wire.IsPLUMITag([]byte(in)); got != want {
			t.Errorf("IsPLUMITag(%q) = %v", in, got)
		}
	}
	for in, want := range map[string]bool{"N": true, "L99": true, "": false, "PR": false, "n": false} {
		if got := wire.IsPMITag([]byte(in)); got != want {
			t.Errorf("IsPMITag(%q) = %v", in, got)
		}
	}
}
