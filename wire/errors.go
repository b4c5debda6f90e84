package wire

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
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

// Error says which field of which message was refused, where, and why.
type Error struct {
	Proto  string // "PMI" or "PLUMI"
	Tag    string // message tag, when known
	Field  string // field name, dotted inside structs: "from.domain"
	Offset int    // byte offset in the message
	Reason string
	Err    error // the sentinel
}

func (e *Error) Error() string {
	msg := strings.TrimSpace(e.Proto + " " + e.Tag)
	if msg != "" {
		msg += ": "
	}
	return fmt.Sprintf("%sfield %q at offset %d: %s: %s", msg, e.Field, e.Offset, e.Err, e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// fieldErr builds the error of a field check; the message decoder adds the
// protocol and tag on its way out. It is never inlined: a refusal is the
// rare path, and its code inlined at every check would crowd the decoders'
// common one.
//
//go:noinline
func fieldErr(sentinel error, field string, off int, reason string) error {
	return &Error{Field: field, Offset: off, Reason: reason, Err: sentinel}
}

// inField prefixes the field of err with the struct field that contains it.
//go:noinline
func inField(err error, field string) error {
	if e, ok := err.(*Error); ok {
		e.Field = field + "." + e.Field
	}
	return err
}

// inMessage names the protocol and message of err.
//go:noinline
func inMessage(err error, proto, tag string) error {
	if e, ok := err.(*Error); ok {
		e.Proto, e.Tag = proto, tag
	}
	return err
}

func reasonLength(have, limit int) string {
	return "length " + strconv.Itoa(have) + ", limit " + strconv.Itoa(limit)
}

func reasonShort(have, min int) string {
	if have == 0 {
		return "empty"
	}
	return "length " + strconv.Itoa(have) + ", at least " + strconv.Itoa(min)
}

func reasonByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("byte %q not allowed", c)
	}
	return fmt.Sprintf("byte 0x%02x not allowed", c)
}

func reasonTag(have, want string) string {
	if want == "" {
		return "no message has tag " + strconv.Quote(have)
	}
	return "tag " + strconv.Quote(have) + ", want " + strconv.Quote(want)
}
