package wire_test

import (
	"bytes"
	"fmt"
	"testing"

	"mi/wire"
	"mi/wire/wiregen"
)

// TestRefusalKeepsNoReference: Decode([]byte) keeps no reference to its
// input, refused or not. Every invalid input of the spec, and each valid
// message cut short by a byte, is decoded into a union and into its own
// message type; the input's bytes are then overwritten, and what the
// decoder left must not change.
func TestRefusalKeepsNoReference(t *testing.T) {
	type decoder func([]byte) (fmt.Stringer, error)
	unions := map[string]decoder{
		"PMI": func(b []byte) (fmt.Stringer, error) {
			var f wire.PMIFrame
			err := f.Decode(b)
			return shown{&f}, err
		},
		"PLUMI": func(b []byte) (fmt.Stringer, error) {
			var d wire.PLUMIDatagram
			err := d.Decode(b)
			return shown{&d}, err
		},
	}
	check := func(name string, in []byte, decode decoder) {
		t.Helper()
		b := bytes.Clone(in)
		v, _ := decode(b)
		before := v.String()
		for i := range b {
			b[i] = 'Q'
		}
		if after := v.String(); after != before {
			t.Errorf("%s %q: what Decode left changed with its input:\n before %s\n  after %s", name, in, before, after)
		}
	}
	for _, in := range specInvalid {
		check(in.Proto, []byte(in.Input), unions[in.Proto])
	}
	for _, c := range wiregen.Cases {
		for seed := range 20 {
			b, err := c.Valid.Example(seed).Append(nil)
			if err != nil || len(b) < 2 {
				continue
			}
			cut := b[:len(b)-1]
			check(c.Proto, cut, unions[c.Proto])
			check(c.Tag, cut, func(b []byte) (fmt.Stringer, error) {
				m := c.New()
				err := m.Decode(b)
				return shown{m}, err
			})
		}
	}
}

// shown prints a value with its fields, whatever its type.
type shown struct{ v any }

func (s shown) String() string { return fmt.Sprintf("%+v", s.v) }
