package fuzz

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"mi/wire"
	"mi/wire/wiregen"
)

var equateAddr = cmpopts.EquateComparable(netip.Addr{})

// roundTrip checks the law of every decoder: what decodes re-encodes to the
// same bytes, and those decode again to an equal value.
func roundTrip(t *testing.T, in []byte, m wire.Message, fresh func() wire.Message) {
	t.Helper()
	out, err := m.Append(nil)
	if err != nil {
		t.Fatalf("decoded %q but cannot re-encode: %v", in, err)
	}
	if !bytes.Equal(in, out) {
		t.Fatalf("decoded %q re-encodes as %q", in, out)
	}
	if m.Len() != len(out) {
		t.Fatalf("%q: Len %d, encoded %d", in, m.Len(), len(out))
	}
	again := fresh()
	if err := again.Decode(out); err != nil {
		t.Fatalf("re-encoded %q does not decode: %v", out, err)
	}
	if diff := cmp.Diff(m, again, equateAddr); diff != "" {
		t.Fatalf("%q decodes differently the second time (-first +second):\n%s", in, diff)
	}
}

// checkErr insists that a refusal is an *wire.Error with a sentinel.
func checkErr(t *testing.T, in []byte, err error) {
	t.Helper()
	var e *wire.Error
	if !errors.As(err, &e) || e.Field == "" || e.Offset < 0 {
		t.Fatalf("%q: error %v is not a *wire.Error naming a field and offset", in, err)
	}
	for _, s := range []error{wire.ErrTruncated, wire.ErrTooLong, wire.ErrUnknownType, wire.ErrBadField, wire.ErrBadSeparator, wire.ErrTrailing} {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("%q: error %v matches no sentinel", in, err)
}

// decodeAll runs every per-message decoder of proto on in: at most one may
// accept it, and it must agree with the protocol's decoder and union.
func decodeAll(t *testing.T, proto string, in []byte, m wire.Message, err error, union func([]byte) (wire.Message, error)) {
	t.Helper()
	accepted := 0
	for _, c := range wiregen.Cases {
		if c.Proto != proto {
			continue
		}
		one := c.New()
		if e := one.Decode(in); e != nil {
			checkErr(t, in, e)
			continue
		}
		accepted++
		if err != nil {
			t.Fatalf("%q: %s decoder accepts what Decode%s refuses: %v", in, c.Tag, proto, err)
		}
		if diff := cmp.Diff(m, one, equateAddr); diff != "" {
			t.Fatalf("%q: %s decoder disagrees (-protocol +message):\n%s", in, c.Tag, diff)
		}
	}
	if accepted > 1 || (err == nil) != (accepted == 1) {
		t.Fatalf("%q: %d message decoders accept it, Decode%s error %v", in, accepted, proto, err)
	}
	u, uerr := union(in)
	if (uerr == nil) != (err == nil) {
		t.Fatalf("%q: union decoder error %v, Decode%s error %v", in, uerr, proto, err)
	}
	if err == nil {
		if diff := cmp.Diff(m, u, equateAddr); diff != "" {
			t.Fatalf("%q: union decoder disagrees:\n%s", in, diff)
		}
	}
}

func FuzzDecodePLUMI(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := wire.DecodePLUMI(in)
		if err != nil {
			checkErr(t, in, err)
		} else {
			roundTrip(t, in, m, func() wire.Message { return newLike(m) })
		}
		agreeWithModel(t, "PLUMI", in, m, err)
		var d wire.PLUMIDatagram
		decodeAll(t, "PLUMI", in, m, err, func(b []byte) (wire.Message, error) {
			err := d.Decode(b)
			return d.Message(), err
		})
		var ds wire.PLUMIDatagram
		decodeAll(t, "PLUMI", in, m, err, func(b []byte) (wire.Message, error) {
			err := ds.DecodeString(string(b))
			return ds.Message(), err
		})
	})
}

func FuzzDecodePMI(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := wire.DecodePMI(in)
		if err != nil {
			checkErr(t, in, err)
		} else {
			roundTrip(t, in, m, func() wire.Message { return newLike(m) })
		}
		agreeWithModel(t, "PMI", in, m, err)
		var fr wire.PMIFrame
		decodeAll(t, "PMI", in, m, err, func(b []byte) (wire.Message, error) {
			err := fr.Decode(b)
			return fr.Message(), err
		})
		var fs wire.PMIFrame
		decodeAll(t, "PMI", in, m, err, func(b []byte) (wire.Message, error) {
			err := fs.DecodeString(string(b))
			return fs.Message(), err
		})
	})
}

// FuzzPMIStream reads a byte stream as PMI, one byte per read and all at
// once: both must give the same messages, and the messages re-encode to the
// prefix of the stream they came from.
func FuzzPMIStream(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		whole, werr := readAll(bytes.NewReader(in))
		bytewise, berr := readAll(&oneByte{in})
		if diff := cmp.Diff(whole, bytewise, equateAddr); diff != "" {
			t.Fatalf("%q: framing depends on how the stream is split:\n%s", in, diff)
		}
		if (werr == nil) != (berr == nil) {
			t.Fatalf("%q: errors differ: %v / %v", in, werr, berr)
		}
		var re []byte
		for _, m := range whole {
			var err error
			if re, err = m.Append(re); err != nil {
				t.Fatalf("%q: message %#v does not re-encode: %v", in, m, err)
			}
		}
		if !bytes.HasPrefix(in, re) {
			t.Fatalf("%q: messages re-encode as %q", in, re)
		}
		if werr == nil && len(re) != len(in) {
			t.Fatalf("%q: clean end after %d of %d bytes", in, len(re), len(in))
		}
	})
}

func readAll(r io.Reader) ([]wire.Message, error) {
	pr := wire.NewReader(r)
	var out []wire.Message
	for {
		m, err := pr.ReadMessage()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

type oneByte struct{ b []byte }

func (o *oneByte) Read(p []byte) (int, error) {
	if len(o.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0], o.b = o.b[0], o.b[1:]
	return 1, nil
}

// newLike returns a zero message of the same type as m.
func newLike(m wire.Message) wire.Message {
	for _, c := range wiregen.Cases {
		if c.Tag == m.Tag() {
			return c.New()
		}
	}
	panic("no case for " + m.Tag())
}
