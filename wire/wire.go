// Package wire encodes and decodes the two MI protocols: PMI, the chat
// between two agents over TCP, and PLUMI, location over UDP between agents
// and LUMI nodes.
//
// Everything that touches a wire field is generated from spec/mi.spec into
// the z*.go files; this half of the package holds what is not per message:
// the error values, the Message interface and roles, the helpers the
// generated kinds share (kinds.go), the PMI stream reader and writer, and
// the line splitter.
//
// Encoders append to the caller's buffer and allocate nothing when it has
// room. Decoders take the whole message and return an *Error naming the
// field, the offset and the reason, matching one of the Err* sentinels
// with errors.Is. Decode([]byte) keeps no reference to its input: it reads
// it in place and copies it once if it decodes and has text to keep;
// DecodeString of a reused PLUMIDatagram or PMIFrame allocates nothing, its
// fields being substrings of its input; a refusal allocates its *Error
// alone. A text field is checked in one pass over a table of its kind's
// bytes (kinds.go). Decoding is canonical: whatever decodes re-encodes to
// the same bytes.
package wire

//go:generate go run ../gen -spec ../spec/mi.spec -root ..

import "unsafe"

// Message is any PMI or PLUMI message.
type Message interface {
	// Tag returns the message's type tag, e.g. "PR".
	Tag() string
	// Len returns the length of the message's wire form.
	Len() int
	// Append appends the wire form to b, or returns b unchanged and an
	// error if a field is invalid.
	Append(b []byte) ([]byte, error)
	// Decode sets the message from b, which must hold exactly one message.
	Decode(b []byte) error
}

// Role is what a message is for: the generated PMIRole and PLUMIRole say
// it of each tag, so that a server tells a request it does not serve from a
// reply sent to it by mistake.
type Role uint8

const (
	RoleOther   Role = iota // neither asks nor answers: exchanged freely
	RoleRequest             // a reply answers it
	RoleReply               // it answers a request
)

// view is b as a string, without a copy: what Decode reads, before it
// copies what it keeps (own, rebase). Nothing that outlives Decode may
// keep a substring of it.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// rebase returns the substring of to that v is of from: v is a substring
// of from, and to a copy of from.
func rebase(v, from, to string) string {
	if len(v) == 0 {
		return ""
	}
	i := int(uintptr(unsafe.Pointer(unsafe.StringData(v))) - uintptr(unsafe.Pointer(unsafe.StringData(from))))
	return to[i : i+len(v)]
}
