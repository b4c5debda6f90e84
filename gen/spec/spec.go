// Package spec reads the wire specification language (spec/*.spec) into a
// checked model that the generator's back ends walk. The language is
// described in spec/README.md.
package spec

import "slices"

// Spec is a whole, checked specification.
type Spec struct {
	File      string
	Kinds     []*Kind
	Protocols []*Protocol
	Messages  []*Message
	Sequences []*Sequence
	Consts    []*Const
	Vars      []*Var
	Scenarios []*Scenario
	Breaking  []*Breaking // intended breaking changes, acknowledged
	// Version is the version of the protocols the spec describes (the
	// version statement; 0 without one), and VersionPos its statement.
	Version    int
	VersionPos Pos
}

// Kind bases: the lexical shapes the generator knows how to code.
const (
	Text     = "text"     // bytes from an allowed set, length-bounded
	DNSName  = "dnsname"  // a text that must also be a DNS name as miekg/dns says: kept to read older specs
	Hostname = "hostname" // a text whose dot-separated labels follow the spec's label and edge
	Struct   = "struct"   // literals and sub-fields, one Go struct
	IPv4     = "ipv4"     // dotted quad, canonical decimal octets
	Uint16   = "uint16"   // canonical decimal (no sign, no leading zero)
	Uint8    = "uint8"    // canonical decimal 0..255
	Enum     = "enum"     // one word of a list, byte for byte
	Codes    = "codes"    // one ASCII digit from a closed list
)

// Kind is a field's lexical rule.
type Kind struct {
	Name   string
	Base   string // the base's name; Impl gives its behaviour
	GoType string // named Go type for struct and codes kinds
	Doc    string
	Pos    Pos
	Attrs  map[string]Pos // where each attribute of the block was set

	Min, Max       int
	UTF8           bool
	NoControl      bool
	Deny, AllowSrc string
	Allowed        [256]bool   // text and dnsname: the bytes a value may hold
	DenyRunesSrc   string      // the denyrunes attribute as written
	DenyRunes      []RuneRange // text, dnsname: code points a value may not hold, ascending, merged
	Label          int         // hostname: the longest label
	Edge           string      // hostname: the bytes a label may not start or end with

	Parts    []Item    // struct
	Values   []*Code   // codes
	Words    []Word    // enum: the values, in spec order
	Examples []Example // valid values, checked, for seeds and docs
	Invalid  []Invalid // values every parser of the kind must refuse
}

// Word is one value of an enum kind, where the spec lists it.
type Word struct {
	Text string
	Pos  Pos
}

// Item is one element of a message or struct: a literal, a field, or a
// conditional group (only as the last item of a message).
type Item struct {
	Literal string
	Field   *Field
	Cond    *Cond
	Pos     Pos
}

// Field is a named use of a kind.
type Field struct {
	Name string
	Kind *Kind
	Pos  Pos
}

// Cond is a group present exactly when a codes field holds one value.
type Cond struct {
	Field *Field
	Code  *Code
	Items []Item
	Pos   Pos
}

// Code is one value of a codes kind.
type Code struct {
	Value int
	Name  string
	Doc   string
	Pos   Pos
}

// Protocol holds the framing facts of one protocol.
type Protocol struct {
	Name, Doc    string
	Transport    string
	Port         int // 0: dynamic
	PortDoc      string
	TagLen       int
	LengthDigits int // 0: no length prefix (the datagram is the frame)
	LengthDoc    string
	Max          int // largest whole message, in bytes
	Pos          Pos
	Attrs        map[string]Pos // where each attribute was set
}

// Message is one message type.
type Message struct {
	Proto      *Protocol
	Tag        string
	GoType     string
	Doc        string
	Items      []Item
	Examples   []Example
	Invalid    []Invalid
	Answers    []*Message    // for a reply: the requests it answers, as the spec lists them
	Summary    []SummaryPart // how a dissector's one-line summary shows it; nil: generic
	SummarySrc string        // the summary template as the spec wrote it
	Signature  *Field        // a field that signs the message's bytes before it (a MAC), or nil
	Pos        Pos
}

// SignedItems are the items a signature covers, after the tag: all but the
// signature field, the last item, and the literal before it.
func (m *Message) SignedItems() []Item { return m.Items[:len(m.Items)-2] }

// signatureRule says what keeps field f from being m's signature, if
// anything: it must be a field of m, its last item, after a literal that
// ends what it covers; and m's protocol must have no length prefix, which
// would count the signature in what the signature covers.
func signatureRule(m *Message, f *Field) string {
	n := len(m.Items)
	switch {
	case f == nil:
		return "is not a field of the message"
	case m.Proto.LengthDigits > 0:
		return "cannot be in a protocol with a length prefix, which would count the signature in what it signs"
	case m.Items[n-1].Field != f:
		return "must be the message's last item, outside any if group"
	case n < 2 || m.Items[n-2].Literal == "":
		return "must follow a literal, which ends what it signs"
	}
	return ""
}

// SummaryPart is a piece of a message's summary: literal text, a field's
// value (a code by its name), or a group shown only when all its fields are
// present (an if group's fields).
type SummaryPart struct {
	Text  string
	Field *Field
	Group []SummaryPart
}

// Example is a valid input: it must decode and re-encode byte for byte.
type Example struct {
	Input string
	Pos   Pos
}

// Role is what a message is for.
type Role int

const (
	RoleOther   Role = iota // neither asks nor answers: exchanged freely
	RoleRequest             // some reply answers it
	RoleReply               // it answers a request
)

// Role says whether m is a request, a reply or neither.
func (s *Spec) Role(m *Message) Role {
	if len(m.Answers) > 0 {
		return RoleReply
	}
	if len(s.RepliesTo(m)) > 0 {
		return RoleRequest
	}
	return RoleOther
}

// RepliesTo lists the replies that answer request m, in spec order.
func (s *Spec) RepliesTo(m *Message) []*Message {
	var out []*Message
	for _, o := range s.Messages {
		if slices.Contains(o.Answers, m) {
			out = append(out, o)
		}
	}
	return out
}

// Invalid is an input every decoder must refuse, with the error it must give.
type Invalid struct {
	Input string
	Err   string // one of ErrNames
	Field string
	Pos   Pos
}

// ErrNames are the error classes an invalid example may name; the Go back
// end maps each to a sentinel error.
var ErrNames = []string{"truncated", "too_long", "unknown_type", "bad_field", "bad_separator", "trailing"}

// Sequence is an exchange of messages shown in the reference page.
type Sequence struct {
	Proto *Protocol
	Title string
	Steps []Step
	Notes []string
	Pos   Pos
}

// Step is one message of a sequence.
type Step struct {
	From, To string
	Msg      *Message
	Example  string
	Pos      Pos
}

// Const is a behaviour constant; Unit "ms" makes it a duration.
type Const struct {
	Name  string
	Value int
	Unit  string
	Doc   string
	Pos   Pos
}

// Fields lists a message's fields in wire order, descending into conditions.
func (m *Message) Fields() []*Field { return fieldsOf(m.Items) }

func fieldsOf(items []Item) []*Field {
	var out []*Field
	for _, it := range items {
		switch {
		case it.Field != nil:
			out = append(out, it.Field)
		case it.Cond != nil:
			out = append(out, fieldsOf(it.Cond.Items)...)
		}
	}
	return out
}

// CondOf returns the condition a field of m depends on, or nil.
func (m *Message) CondOf(f *Field) *Cond {
	for _, it := range m.Items {
		if it.Cond != nil {
			for _, g := range fieldsOf(it.Cond.Items) {
				if g == f {
					return it.Cond
				}
			}
		}
	}
	return nil
}

// Kind returns the kind named name, or nil.
func (s *Spec) Kind(name string) *Kind {
	for _, k := range s.Kinds {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// message returns the message of protocol p with tag, or nil.
func (s *Spec) message(p *Protocol, tag string) *Message {
	for _, m := range s.MessagesOf(p) {
		if m.Tag == tag {
			return m
		}
	}
	return nil
}

// MessagesOf lists the messages of protocol p in spec order.
func (s *Spec) MessagesOf(p *Protocol) []*Message {
	var out []*Message
	for _, m := range s.Messages {
		if m.Proto == p {
			out = append(out, m)
		}
	}
	return out
}

// Openers are the messages a conversation of p starts with, as the spec's
// sequences of p show (the first step of each, in spec order, once each);
// every message of p when no sequence shows one. A dissector or a capture
// reader that meets p off its port takes a stream for p only when it opens
// with one of them.
func (s *Spec) Openers(p *Protocol) []*Message {
	var out []*Message
	for _, sq := range s.Sequences {
		if sq.Proto == p && len(sq.Steps) > 0 && !slices.Contains(out, sq.Steps[0].Msg) {
			out = append(out, sq.Steps[0].Msg)
		}
	}
	if len(out) == 0 {
		return s.MessagesOf(p)
	}
	return out
}
