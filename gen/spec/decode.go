package spec

import (
	"fmt"
	"strconv"
	"strings"
)

// The model decodes and encodes on its own, without generated code, so that
// a spec's examples are checked when it is read and every generated decoder
// can be tested against it.

// WireError is a refusal by the model's decoder: the class (one of
// ErrNames), the field (dotted inside structs), the offset and why.
type WireError struct {
	Class  string
	Field  string
	Offset int
	Reason string
}

func (e *WireError) Error() string {
	return fmt.Sprintf("%s in field %q at offset %d: %s", e.Class, e.Field, e.Offset, e.Reason)
}

func wireErr(class, field string, off int, format string, args ...any) *WireError {
	return &WireError{class, field, off, fmt.Sprintf(format, args...)}
}

// in prefixes the field of e with the struct field that holds it.
func (e *WireError) in(field string) *WireError {
	e.Field = field + "." + e.Field
	return e
}

// Value is one decoded field. V is a string (text, dnsname, enum), a [4]byte
// (ipv4), an int (numbers), a *Code (codes) or a []Value (struct).
type Value struct {
	Field *Field
	V     any
}

// Decoded is a decoded message.
type Decoded struct {
	Msg    *Message
	Fields []Value
}

// Decode reads one message of protocol p from b, as the generated decoders
// must.
func (s *Spec) Decode(p *Protocol, b []byte) (*Decoded, *WireError) {
	if p.LengthDigits == 0 && len(b) > p.Max {
		return nil, wireErr("too_long", "datagram", p.Max, "length %d, limit %d", len(b), p.Max)
	}
	if len(b) < p.TagLen {
		return nil, wireErr("truncated", "type", len(b), "missing")
	}
	for _, m := range s.MessagesOf(p) {
		if string(b[:p.TagLen]) == m.Tag {
			fields, err := m.decode(string(b))
			if err != nil {
				return nil, err
			}
			return &Decoded{m, fields}, nil
		}
	}
	return nil, wireErr("unknown_type", "type", 0, "no message has tag %q", b[:p.TagLen])
}

func (m *Message) decode(s string) ([]Value, *WireError) {
	p, pl := m.Proto, m.Plan()
	h := p.TagLen + p.LengthDigits
	if p.LengthDigits > 0 {
		if len(s) < h {
			return nil, wireErr("truncated", "length", len(s), "missing")
		}
		info := 0
		for i := p.TagLen; i < h; i++ {
			if !isDigit(s[i]) {
				return nil, wireErr("bad_field", "length", i, "byte %q: want a decimal digit", s[i])
			}
			info = info*10 + int(s[i]-'0')
		}
		if len(s) < h+info {
			return nil, wireErr("truncated", pl.First, len(s), "length %d, want %d", len(s), h+info)
		}
		if len(s) > h+info {
			return nil, wireErr("trailing", pl.Last, h+info, "length %d, want %d", len(s), h+info)
		}
	}
	d := &opReader{s: s, off: h, framed: p.LengthDigits > 0}
	if err := d.run(pl.Head, len(s)); err != nil {
		return nil, err
	}
	last := pl.LastThen
	if pl.Cond != nil {
		rest := pl.Else
		last = pl.LastElse
		if v := d.value(pl.Cond.Field); v != nil && v.V == pl.Cond.Code {
			rest, last = pl.Then, pl.LastThen
		}
		if err := d.run(rest, len(s)); err != nil {
			return nil, err
		}
	}
	if d.off != len(s) {
		return nil, wireErr("trailing", last, d.off, "length %d, message ends at %d", len(s), d.off)
	}
	return d.vals, nil
}

// opReader runs ops over s; framed says a length prefix bounds the input,
// so a field at the end is empty rather than missing.
type opReader struct {
	s      string
	off    int
	framed bool
	vals   []Value
}

func (d *opReader) value(f *Field) *Value {
	for i := range d.vals {
		if d.vals[i].Field == f {
			return &d.vals[i]
		}
	}
	return nil
}

func (d *opReader) run(ops []Op, limit int) *WireError {
	for _, op := range ops {
		if op.Lit != "" {
			if !op.Found && !strings.HasPrefix(d.s[d.off:limit], op.Lit) {
				return wireErr("bad_separator", op.After, d.off, "want %q", op.Lit)
			}
			d.off += len(op.Lit)
			continue
		}
		f := op.Field
		var end int
		switch w := f.Kind.Impl().Width(f.Kind); {
		case w > 0:
			if d.off+w > limit {
				return wireErr("truncated", f.Name, d.off, "missing")
			}
			end = d.off + w
		case !d.framed && d.off == len(d.s):
			return wireErr("truncated", f.Name, d.off, "missing")
		case op.Term != 0:
			i := strings.IndexByte(d.s[d.off:limit], op.Term)
			if i < 0 {
				return wireErr("bad_separator", f.Name, limit, "missing %q", op.Term)
			}
			end = d.off + i
		default:
			end = limit
		}
		v, err := f.Kind.Impl().Decode(f.Kind, d.s, d.off, end)
		if err != nil {
			if err.Field == "" {
				err.Field = f.Name
			} else {
				err.in(f.Name)
			}
			return err
		}
		d.vals = append(d.vals, Value{f, v})
		d.off = end
	}
	return nil
}

// ParseKind reads a whole value of k, as a field named k.Name.
func (k *Kind) ParseKind(s string) (any, *WireError) {
	v, err := k.Impl().Decode(k, s, 0, len(s))
	if err != nil {
		if err.Field == "" {
			err.Field = k.Name
		} else {
			err.in(k.Name)
		}
	}
	return v, err
}

// Encode writes d in its wire form.
func (d *Decoded) Encode() []byte {
	m := d.Msg
	body := encodeItems(nil, m.Items, d.Fields)
	b := []byte(m.Tag)
	if n := m.Proto.LengthDigits; n > 0 {
		b = fmt.Appendf(b, "%0*d", n, len(body))
	}
	return append(b, body...)
}

func encodeItems(b []byte, items []Item, vals []Value) []byte {
	get := func(f *Field) *Value {
		for i := range vals {
			if vals[i].Field == f {
				return &vals[i]
			}
		}
		return nil
	}
	for _, it := range items {
		switch {
		case it.Literal != "":
			b = append(b, it.Literal...)
		case it.Field != nil:
			if v := get(it.Field); v != nil {
				b = it.Field.Kind.Impl().Encode(it.Field.Kind, b, v.V)
			}
		case it.Cond != nil:
			if v := get(it.Cond.Field); v != nil && v.V == it.Cond.Code {
				b = encodeItems(b, it.Cond.Items, vals)
			}
		}
	}
	return b
}

// Signed is what d's signature field signs: its wire form up to, not
// including, the literal before that field. d's message must have one.
func (d *Decoded) Signed() []byte {
	return encodeItems([]byte(d.Msg.Tag), d.Msg.SignedItems(), d.Fields)
}

// decodeStruct reads the parts of struct kind k from s[off:limit].
func decodeStruct(k *Kind, s string, off, limit int) (any, *WireError) {
	if n := k.MaxLen(); limit-off > n {
		return nil, wireErr("too_long", "", off, "length %d, limit %d", limit-off, n)
	}
	d := &opReader{s: s, off: off}
	ops := k.PartOps()
	if err := d.run(ops, limit); err != nil {
		return nil, err
	}
	if d.off != limit {
		return nil, wireErr("trailing", k.TrailingField(), d.off, "the value ends at %d", d.off)
	}
	return d.vals, nil
}

// decodeText applies a text kind's rules to s[off:limit].
func decodeText(k *Kind, s string, off, limit int) (any, *WireError) {
	v := s[off:limit]
	switch {
	case len(v) < k.Min:
		return nil, wireErr("bad_field", "", off, "length %d, at least %d", len(v), k.Min)
	case len(v) > k.Max:
		return nil, wireErr("too_long", "", off, "length %d, limit %d", len(v), k.Max)
	}
	for i := 0; i < len(v); i++ {
		if !k.Allowed[v[i]] {
			return nil, wireErr("bad_field", "", off+i, "byte %s not allowed", strconv.QuoteRune(rune(v[i])))
		}
	}
	if k.UTF8 {
		if i := badUTF8(v); i < len(v) {
			return nil, wireErr("bad_field", "", off+i, "invalid UTF-8")
		}
		if i, c := deniedRune(k.DenyRunes, v); i >= 0 {
			return nil, wireErr("bad_field", "", off+i, "rune %U not allowed", c)
		}
	}
	return v, nil
}

// badUTF8 returns the offset of the first byte of v that is not valid UTF-8,
// or len(v).
func badUTF8(v string) int {
	for i, r := range v {
		if r == 0xfffd && !strings.HasPrefix(v[i:], "\uFFFD") {
			return i
		}
	}
	return len(v)
}

// scanDecimal reads a canonical decimal number of s[off:limit] up to the
// first byte that is not a digit; the reason is empty on success.
func scanDecimal(s string, off, limit, max int) (n, next int, reason string) {
	p := off
	for p < limit && isDigit(s[p]) {
		n = n*10 + int(s[p]-'0')
		if n > max {
			return 0, p, "over " + strconv.Itoa(max)
		}
		p++
	}
	switch {
	case p == off:
		return 0, p, "want a decimal digit"
	case s[off] == '0' && p-off > 1:
		return 0, p, "leading zero"
	}
	return n, p, ""
}

// encodeStruct writes the parts of a struct value.
func encodeStruct(k *Kind, b []byte, v any) []byte { return encodeItems(b, k.Parts, v.([]Value)) }
