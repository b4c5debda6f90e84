package wire_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"mi/wire"
	"mi/wire/wiregen"
)

// cmpMsg compares messages field by field; netip.Addr compares by value.
var cmpMsg = cmpopts.EquateComparable(netip.Addr{})

// TestRoundTrip: for every message type, decode(encode(m)) equals m, the
// encoding is Len bytes and within the protocol's limit, and the
// protocol-wide decoders agree with the per-type one.
func TestRoundTrip(t *testing.T) {
	for _, c := range wiregen.Cases {
		t.Run(c.Tag, rapid.MakeCheck(func(t *rapid.T) {
			m := c.Valid.Draw(t, "m")
			prefix := []byte("prefix")
			b, err := m.Append(prefix)
			if err != nil {
				t.Fatalf("Append(%#v): %v", m, err)
			}
			if !bytes.HasPrefix(b, prefix) {
				t.Fatalf("Append overwrote the buffer's contents")
			}
			enc := b[len(prefix):]
			if len(enc) != m.Len() {
				t.Fatalf("Len %d, encoded %d bytes: %q", m.Len(), len(enc), enc)
			}
			limit := map[string]int{"PMI": wire.PMIMax, "PLUMI": wire.PLUMIMax}[c.Proto]
			if len(enc) > limit {
				t.Fatalf("%d bytes, over the %s limit %d", len(enc), c.Proto, limit)
			}
			got := c.New()
			if err := got.Decode(enc); err != nil {
				t.Fatalf("Decode(%q): %v", enc, err)
			}
			if diff := cmp.Diff(m, got, cmpMsg); diff != "" {
				t.Fatalf("round trip of %q (-want +got):\n%s", enc, diff)
			}
			any, err := decoders[c.Proto](enc)
			if err != nil {
				t.Fatalf("Decode%s(%q): %v", c.Proto, enc, err)
			}
			if diff := cmp.Diff(m, any, cmpMsg); diff != "" {
				t.Fatalf("Decode%s(%q) (-want +got):\n%s", c.Proto, enc, diff)
			}
		}))
	}
}

// TestEncodeRefusesInvalid: a message with one invalid field never encodes:
// Append returns an error matching a sentinel and the buffer unchanged.
func TestEncodeRefusesInvalid(t *testing.T) {
	for _, c := range wiregen.Cases {
		if c.Bad == nil {
			continue // every value of every field is valid
		}
		t.Run(c.Tag, rapid.MakeCheck(func(t *rapid.T) {
			m := c.Bad.Draw(t, "m")
			buf := []byte("keep")
			b, err := m.Append(buf)
			if err == nil {
				t.Fatalf("Append(%#v) = %q, want an error", m, b)
			}
			if string(b) != "keep" {
				t.Fatalf("Append(%#v) left %q in the buffer", m, b)
			}
			var e *wire.Error
			if !errors.As(err, &e) || e.Field == "" || e.Tag != c.Tag {
				t.Fatalf("error %v does not name the message and field", err)
			}
			if !errors.Is(err, wire.ErrBadField) && !errors.Is(err, wire.ErrTooLong) && !errors.Is(err, wire.ErrAbsent) {
				t.Fatalf("error %v matches no encoding sentinel", err)
			}
		}))
	}
}

// TestDecodeCanonical: any input that decodes re-encodes to the same bytes.
func TestDecodeCanonical(t *testing.T) {
	for proto, decode := range decoders {
		t.Run(proto, rapid.MakeCheck(func(t *rapid.T) {
			in := rapid.OneOf(
				rapid.SliceOfN(rapid.Byte(), 0, 110),
				rapid.Map(rapid.SampledFrom(specExamples), func(e specExample) []byte { return []byte(e.Input) }),
				mutated(),
			).Draw(t, "in")
			m, err := decode(in)
			if err != nil {
				return
			}
			out, err := m.Append(nil)
			if err != nil {
				t.Fatalf("decoded %q but cannot re-encode: %v", in, err)
			}
			if !bytes.Equal(in, out) {
				t.Fatalf("decoded %q re-encodes as %q", in, out)
			}
		}))
	}
}

// mutated draws a spec example with one byte changed, inserted or removed:
// inputs near valid ones, where canonical-form bugs hide.
func mutated() *rapid.Generator[[]byte] {
	return rapid.Custom(func(t *rapid.T) []byte {
		in := []byte(rapid.SampledFrom(specExamples).Draw(t, "example").Input)
		i := rapid.IntRange(0, len(in)).Draw(t, "at")
		c := rapid.SampledFrom([]byte("0123456789:@.-aZ \x00\xff")).Draw(t, "byte")
		switch rapid.IntRange(0, 2).Draw(t, "op") {
		case 0:
			return append(in[:i:i], append([]byte{c}, in[i:]...)...)
		case 1:
			if i < len(in) {
				return append(in[:i:i], in[i+1:]...)
			}
		}
		if i < len(in) {
			in[i] = c
		}
		return in
	})
}

// TestAddressRoundTrip: ParseAddress and String are inverse on valid
// addresses, and invalid ones are refused both ways.
func TestAddressRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := wiregen.Address().Draw(t, "a")
		got, err := wire.ParseAddress(a.String())
		if err != nil {
			t.Fatalf("ParseAddress(%q): %v", a, err)
		}
		if got != a {
			t.Fatalf("ParseAddress(%q) = %#v", a, got)
		}
		bad := wiregen.BadAddress().Draw(t, "bad")
		if bad.Check() == nil {
			t.Fatalf("Check(%#v) accepted an invalid address", bad)
		}
		if p, err := wire.ParseAddress(bad.String()); err == nil && p == bad {
			t.Fatalf("ParseAddress(%q) accepted an invalid address", bad)
		}
	})
}
