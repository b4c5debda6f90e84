package wire_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mi/wire"
)

type specExample struct {
	Proto, Tag, Input string
}

type invalidInput struct {
	Proto, Input string
	Err          error
	Field        string
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
			t.Errorf("%s example %q: %v", ex.Proto, ex.Input, err)
			continue
		}
		if m.Tag() != ex.Tag {
			t.Errorf("%s example %q decoded as %s", ex.Proto, ex.Input, m.Tag())
		}
		if m.Len() != len(ex.Input) {
			t.Errorf("%s example %q: Len %d", ex.Proto, ex.Input, m.Len())
		}
		out, err := m.Append(nil)
		if err != nil {
			t.Errorf("%s example %q: re-encode: %v", ex.Proto, ex.Input, err)
			continue
		}
		if diff := cmp.Diff(ex.Input, string(out)); diff != "" {
			t.Errorf("%s example %q: re-encoded bytes differ (-want +got):\n%s", ex.Proto, ex.Input, diff)
		}
	}
}

// TestSpecInvalid checks that each invalid input of the spec is refused with
// the named sentinel and field.
func TestSpecInvalid(t *testing.T) {
	for _, in := range specInvalid {
		m, err := decoders[in.Proto]([]byte(in.Input))
		if err == nil {
			t.Errorf("%s invalid %q decoded as %#v, want %v", in.Proto, in.Input, m, in.Err)
			continue
		}
		var e *wire.Error
		if !errors.As(err, &e) {
			t.Errorf("%s invalid %q: error %T is not *wire.Error", in.Proto, in.Input, err)
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
			t.Errorf("%s invalid %q: got %v (field %q), want %v in field %q", in.Proto, in.Input, err, e.Field, in.Err, in.Field)
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
