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
// room. Decoders take the whole message, keep no reference to the input, and
// return an *Error naming the field, the offset and the reason, matching
// one of the Err* sentinels with errors.Is. Decoding is canonical: whatever
// decodes re-encodes to the same bytes.
package wire

//go:generate go run ../gen -spec ../spec/mi.spec -root ..

import "strings"

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

// byteSet is a set of bytes: the bytes a text field may contain.
type byteSet [8]uint32

func (s *byteSet) has(c byte) bool { return s[c>>5]&(1<<(c&31)) != 0 }

// indexAnyByte returns the index of the first byte of s that is in set, or
// -1. For the few bytes a text field denies, one IndexByte per byte beats a
// test of every byte.
func indexAnyByte(s, set string) int {
	first := -1
	for i := 0; i < len(set); i++ {
		if j := strings.IndexByte(s, set[i]); j >= 0 {
			first, s = j, s[:j]
		}
	}
	return first
}
