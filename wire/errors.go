package wire

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"unsafe"
)

// Sentinel errors. Every error the codecs return is an *Error that matches
// exactly one of these with errors.Is.
var (
	ErrTruncated    = errors.New("truncated")           // the input ends before the message does
	ErrTooLong      = errors.New("too long")            // over a length limit
	ErrUnknownType  = errors.New("unknown type")        // the type tag names no message
	ErrBadField     = errors.New("bad field")           // a field breaks its kind's rules
	ErrBadSeparator = errors.New("bad separator")       // a separator is missing
	ErrTrailing     = errors.New("trailing data")       // bytes after a complete message
	ErrAbsent       = errors.New("field must be empty") // encoding: a field set that its condition excludes
)

// ErrorClass is the name of err's class as the spec's invalid inputs give
// it (truncated, too_long, unknown_type, bad_field, bad_separator,
// trailing), or "" for an error of none: what a tool or a test compares
// with the spec, or with another decoder's verdict.
func ErrorClass(err error) string {
	switch {
	case errors.Is(err, ErrTruncated):
		return "truncated"
	case errors.Is(err, ErrTooLong):
		return "too_long"
	case errors.Is(err, ErrUnknownType):
		return "unknown_type"
	case errors.Is(err, ErrBadField):
		return "bad_field"
	case errors.Is(err, ErrBadSeparator):
		return "bad_separator"
	case errors.Is(err, ErrTrailing):
		return "trailing"
	}
	return ""
}

// Error says which field of which message was refused, where, and why.
type Error struct {
	Proto  string // "PMI" or "PLUMI"
	Tag    string // message tag, when known
	Field  string // field name, dotted inside structs: "from.domain"
	Offset int    // byte offset in the message
	Reason string
	Err    error // the sentinel

	// text holds the bytes of Reason and of a dotted Field as long as they
	// fit, so that a decoder's refusal allocates its Error and nothing
	// else; n of them are in use. They never change once written.
	text [64]byte
	n    int
}

func (e *Error) Error() string {
	msg := strings.TrimSpace(e.Proto + " " + e.Tag)
	if msg != "" {
		msg += ": "
	}
	return fmt.Sprintf("%sfield %q at offset %d: %s: %s", msg, e.Field, e.Offset, e.Err, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// The constructors of errors are never inlined: a refusal is the rare
// path, and its code inlined at every check would crowd the decoders'
// common one.

// fieldErr is the error of a field check whose reason is a fixed text; the
// message decoder adds the protocol and tag on its way out.
//
//go:noinline
func fieldErr(sentinel error, field string, off int, reason string) error {
	return &Error{Field: field, Offset: off, Reason: reason, Err: sentinel}
}

// newErr starts an error whose reason is yet to write into room.
func newErr(sentinel error, field string, off int) *Error {
	return &Error{Field: field, Offset: off, Err: sentinel}
}

// room is where the next text of e is written: append to it, then keep.
func (e *Error) room() []byte { return e.text[e.n:e.n] }

// keep returns b, which was appended to e.room(), as a string; if b still
// lies in e.text, its bytes are now in use.
func (e *Error) keep(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if e.n < len(e.text) && unsafe.SliceData(b) == &e.text[e.n] {
		e.n += len(b)
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// sizeErr is the error of a length over or under what a field or message
// allows: "length 43, limit 37".
//
//go:noinline
func sizeErr(sentinel error, field string, off, have, limit int) error {
	e := newErr(sentinel, field, off)
	b := strconv.AppendInt(append(e.room(), "length "...), int64(have), 10)
	e.Reason = e.keep(strconv.AppendInt(append(b, ", limit "...), int64(limit), 10))
	return e
}

// shortErr is the error of a text field under its min: "empty", "length 15,
// at least 16".
//
//go:noinline
func shortErr(field string, off, have, min int) error {
	if have == 0 {
		return fieldErr(ErrBadField, field, off, "empty")
	}
	e := newErr(ErrBadField, field, off)
	b := strconv.AppendInt(append(e.room(), "length "...), int64(have), 10)
	e.Reason = e.keep(strconv.AppendInt(append(b, ", at least "...), int64(min), 10))
	return e
}

// byteErr is the error of a byte a field may not hold, and why if more is
// to say: "byte 'x' not allowed: no such code".
//
//go:noinline
func byteErr(field string, off int, c byte, more string) error {
	e := newErr(ErrBadField, field, off)
	b := append(e.room(), "byte "...)
	if c >= 0x20 && c < 0x7f {
		b = strconv.AppendQuoteRune(b, rune(c))
	} else {
		b = append(b, "0x"...)
		b = append(b, hex[c>>4], hex[c&15])
	}
	e.Reason = e.keep(append(append(b, " not allowed"...), more...))
	return e
}

const hex = "0123456789abcdef"

// runeErr is the error of a code point a text field may not hold: "rune
// U+009B not allowed".
//
//go:noinline
func runeErr(field string, off int, r rune) error {
	e := newErr(ErrBadField, field, off)
	b := append(e.room(), "rune U+"...)
	for shift := max(12, (bits.Len32(uint32(r))+3)/4*4-4); shift >= 0; shift -= 4 {
		b = append(b, "0123456789ABCDEF"[r>>shift&15])
	}
	e.Reason = e.keep(append(b, " not allowed"...))
	return e
}

// tagErr is the error of a type tag: no message has it (want is ""), or it
// is not the one a message's own decoder wants.
//
//go:noinline
func tagErr(have, want string) error {
	e := newErr(ErrUnknownType, "type", 0)
	var b []byte
	if want == "" {
		b = strconv.AppendQuote(append(e.room(), "no message has tag "...), have)
	} else {
		b = strconv.AppendQuote(append(e.room(), "tag "...), have)
		b = strconv.AppendQuote(append(b, ", want "...), want)
	}
	e.Reason = e.keep(b)
	return e
}

// inField prefixes the field of err with the struct field that contains it.
//
//go:noinline
func inField(err error, field string) error {
	if e, ok := err.(*Error); ok {
		e.Field = e.keep(append(append(append(e.room(), field...), '.'), e.Field...))
	}
	return err
}

// inMessage names the protocol and message of err.
//
//go:noinline
func inMessage(err error, proto, tag string) error {
	if e, ok := err.(*Error); ok {
		e.Proto, e.Tag = proto, tag
	}
	return err
}
