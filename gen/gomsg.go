package main

import (
	"bytes"
	"fmt"
	"strings"

	"mi/gen/spec"
)

func genMessages(b *bytes.Buffer, s *spec.Spec) {
	header(b, s, "wire", "net/netip", "strings")
	g := newW(b)
	g.p("var _ netip.Addr // not every spec needs every import")
	genSignedType(g, s)
	for _, p := range s.Protocols {
		ms := s.MessagesOf(p)
		if p.LengthDigits > 0 {
			genInfoLen(g, p, ms)
		}
		for _, m := range ms {
			genMessage(g, m)
		}
		genDispatch(g, p, ms)
	}
}

// wireFormat is the one-line grammar of a message, for its doc comment.
func wireFormat(m *spec.Message) string {
	parts := []string{q(m.Tag)}
	if m.Proto.LengthDigits > 0 {
		parts = append(parts, fmt.Sprintf("length(%d digits)", m.Proto.LengthDigits))
	}
	return strings.Join(append(parts, spec.FormatItems(m.Items)...), " ")
}

func hdrLen(p *spec.Protocol) int { return p.TagLen + p.LengthDigits }

func genMessage(g w, m *spec.Message) {
	t, p := m.GoType, m.Proto
	g.p("\n// %s is the %s %s message: %s.\n//\n// Wire: %s", t, p.Name, m.Tag, m.Doc, wireFormat(m))
	g.p("type %s struct {", t)
	for _, f := range m.Fields() {
		tag := f.Name
		if m.CondOf(f) != nil {
			tag += ",omitzero"
		}
		g.p("%s %s `json:%q` // %s", spec.Exported(f.Name), goType(f.Kind), tag, f.Kind.Doc)
	}
	g.p("}\n")
	g.p("// Tag returns %q.", m.Tag)
	g.p("func (*%s) Tag() string { return Tag%s }\n", t, t)
	g.p("// Len returns the length of m's wire form.")
	g.p("func (m *%s) Len() int {", t)
	g.p("n := %d", hdrLen(p))
	g.lenItems("m.", m.Items)
	g.p("return n")
	g.p("}\n")
	g.p("// Append appends m's wire form to b. If a field is invalid it returns b")
	g.p("// unchanged and an error saying which.")
	g.p("func (m *%s) Append(b []byte) ([]byte, error) {", t)
	g.p("if err := m.check(); err != nil { return b, inMessage(err, %q, Tag%s) }", p.Name, t)
	g.p("b = append(b, Tag%s...)", t)
	if d := p.LengthDigits; d > 0 {
		g.p("info := m.Len() - %d", hdrLen(p))
		for i := d - 1; i >= 0; i-- {
			g.p("b = append(b, byte('0'+info/%d%%10))", pow10(i))
		}
	}
	g.appendItems("m.", m.Items)
	g.p("return b, nil")
	g.p("}\n")
	ctx := &goCtx{Dst: "m.", Wrap: func(e string) string { return e }, Limit: "len(s)"}
	g.p("func (m *%s) check() error {", t)
	if len(m.Fields()) > 0 {
		g.p("off := %d", hdrLen(p))
	}
	g.checkItems(ctx, m.Items)
	g.p("return nil")
	g.p("}\n")
	genDecode(g, m, ctx)
	if m.Signature != nil {
		genSigned(g, m, ctx)
	}
}

// genSignedType writes the interface of the messages with a signature
// field, for code that signs or checks any of them.
func genSignedType(g w, s *spec.Spec) {
	for _, m := range s.Messages {
		if m.Signature != nil {
			g.p("\n// Signed is a message with a signature field (a MAC): AppendSigned")
			g.p("// appends the bytes it signs, the message up to the literal before it.")
			g.p("type Signed interface {")
			g.p("Message")
			g.p("AppendSigned(b []byte) ([]byte, error)")
			g.p("}")
			return
		}
	}
}

// genSigned writes AppendSigned: what m's signature field signs, encoded
// by the same items code as Append, so that signer and checker sign the
// same bytes.
func genSigned(g w, m *spec.Message, ctx *goCtx) {
	t, sig, items := m.GoType, m.Signature.Name, m.SignedItems()
	g.p("\n// AppendSigned appends the bytes that m's %s field signs to b: m's wire", sig)
	g.p("// form up to, not including, the %q before %s. It checks every field", m.Items[len(m.Items)-2].Literal, sig)
	g.p("// but %s, which may be empty while it is computed; if one is invalid", sig)
	g.p("// it returns b unchanged and an error saying which.")
	g.p("func (m *%s) AppendSigned(b []byte) ([]byte, error) {", t)
	g.p("if err := m.checkSigned(); err != nil { return b, inMessage(err, %q, Tag%s) }", m.Proto.Name, t)
	g.p("b = append(b, Tag%s...)", t)
	g.appendItems("m.", items)
	g.p("return b, nil")
	g.p("}\n")
	g.p("func (m *%s) checkSigned() error {", t)
	if len(spec.FieldsOf(items)) > 0 {
		g.p("off := %d", hdrLen(m.Proto))
		g.checkItems(ctx, items)
	}
	g.p("return nil")
	g.p("}")
}

func genDecode(g w, m *spec.Message, ctx *goCtx) {
	t, p := m.GoType, m.Proto
	g.p("// Decode sets m from b, which must hold exactly one %s message. It", m.Tag)
	g.p("// keeps no reference to b: it reads b in place, then copies it once")
	g.p("// for the text it keeps, if any.")
	g.p("func (m *%s) Decode(b []byte) error {", t)
	if p.LengthDigits == 0 {
		g.p("if len(b) > %[1]s { return inMessage(sizeErr(ErrTooLong, \"datagram\", %[1]s, len(b), %[1]s), %[2]q, Tag%[3]s) }",
			constName(p, "Max"), p.Name, t)
	}
	g.p("s := view(b)")
	if hasText(m) {
		// A refusal leaves what was decoded before it in place, over b,
		// which the caller may reuse: it goes.
		g.p("if err := m.decode(s); err != nil { *m = %s{}; return inMessage(err, %q, Tag%s) }", t, p.Name, t)
		g.p("m.own(s, string(b))")
	} else {
		g.p("if err := m.decode(s); err != nil { return inMessage(err, %q, Tag%s) }", p.Name, t)
	}
	g.p("return nil")
	g.p("}\n")
	g.p("func (m *%s) decode(s string) error {", t)
	g.p("*m = %s{}", t)
	g.p("if len(s) < %d { return fieldErr(ErrTruncated, \"type\", len(s), \"missing\") }", p.TagLen)
	g.p("if s[:%d] != Tag%s { return tagErr(s[:%d], Tag%s) }", p.TagLen, t, p.TagLen, t)
	decodeBody(g, m, ctx)
	g.p("}")
	genOwn(g, m)
}

// decodeBody writes the decoding of m after its tag, into m, as the model
// decodes it (its plan): the message's own decode and its case of the
// protocol's DecodeString share it, each with its ctx.
func decodeBody(g w, m *spec.Message, ctx *goCtx) {
	p, pl := m.Proto, m.Plan()
	if p.LengthDigits > 0 {
		g.p("if %s { %s }", badPrefix(p, "s"), ctx.ret(fmt.Sprintf("prefixErr(s, %d, %d)", p.TagLen, hdrLen(p))))
		g.p("info := %s", prefixValue(p, "s"))
		g.p("if n := %d + info; len(s) < n { %s }", hdrLen(p), ctx.ret(fmt.Sprintf("sizeErr(ErrTruncated, %q, len(s), len(s), n)", pl.First)))
		g.p("if n := %d + info; len(s) > n { %s }", hdrLen(p), ctx.ret(fmt.Sprintf("sizeErr(ErrTrailing, %q, n, len(s), n)", pl.Last)))
	}
	if len(m.Fields()) > 0 {
		g.p("var err error")
		g.p("var end int")
	}
	g.p("off := %d", hdrLen(p))
	framed := p.LengthDigits > 0
	if pl.Cond == nil {
		branch(g, ctx, pl.Head, framed, pl.LastThen)
		return
	}
	g.decodeOps(ctx, pl.Head, framed, true)
	g.p("if m.%s == %s {", spec.Exported(pl.Cond.Field.Name), spec.CodeConst(pl.Cond.Field.Kind, pl.Cond.Code))
	branch(g, ctx, pl.Then, framed, pl.LastThen)
	g.p("}")
	branch(g, ctx, pl.Else, framed, pl.LastElse)
}

// branch writes one shape of a message after its head, to its end.
func branch(g w, ctx *goCtx, ops []spec.Op, framed bool, last string) {
	open := spec.EndsOpen(ops)
	g.decodeOps(ctx, ops, framed, !open)
	if !open { // bytes may follow what it read
		g.p("if off != len(s) { %s }", ctx.ret(fmt.Sprintf("sizeErr(ErrTrailing, %q, off, len(s), off)", last)))
	}
	g.p("return nil")
}

// textFields lists the Go expressions (from m) of the string values of
// m, struct parts included: what Decode copies out of the caller's bytes.
func textFields(m *spec.Message) []string {
	var out []string
	for _, f := range m.Fields() {
		x := "m." + spec.Exported(f.Name)
		if f.Kind.Base == spec.Struct {
			for _, part := range spec.FieldsOf(f.Kind.Parts) {
				if goType(part.Kind) == "string" {
					out = append(out, x+"."+spec.Exported(part.Name))
				}
			}
		} else if goType(f.Kind) == "string" {
			out = append(out, x)
		}
	}
	return out
}

func hasText(m *spec.Message) bool { return len(textFields(m)) > 0 }

// genOwn writes own: what Decode does once m decoded in place.
func genOwn(g w, m *spec.Message) {
	if !hasText(m) {
		return
	}
	g.p("\n// own points the text of m, decoded from from, into to, a copy of it.")
	g.p("func (m *%s) own(from, to string) {", m.GoType)
	for _, x := range textFields(m) {
		g.p("%s = rebase(%s, from, to)", x, x)
	}
	g.p("}")
}

// genForget writes forget, which Decode calls on a refusal: the message
// the input's tag named may hold text decoded before the refusal, over
// the caller's bytes, which the caller may reuse; forget clears it.
func genForget(g w, p *spec.Protocol, ms []*spec.Message) {
	u := unionName(p)
	g.p("// forget clears the message of s's tag, refused: its text may point")
	g.p("// into the bytes s is a view of.")
	g.p("func (d *%s) forget(s string) {", u)
	g.p("if len(s) < %d { return }", p.TagLen)
	g.p("switch s[:%d] {", p.TagLen)
	for _, m := range ms {
		if hasText(m) {
			g.p("case Tag%[1]s: d.%[1]s = %[1]s{}", m.GoType)
		}
	}
	g.p("}")
	g.p("}\n")
}

// badPrefix is the condition under which the input s has no length
// prefix of p: fixed-width, zero-padded decimal digits after the tag.
func badPrefix(p *spec.Protocol, s string) string {
	cond := []string{fmt.Sprintf("len(%s) < %d", s, hdrLen(p))}
	for i := p.TagLen; i < hdrLen(p); i++ {
		cond = append(cond, fmt.Sprintf("%s[%d]-'0' > 9", s, i))
	}
	return strings.Join(cond, " || ")
}

// prefixValue is the value of the length prefix of s, digit by digit.
func prefixValue(p *spec.Protocol, s string) string {
	var terms []string
	for i := p.TagLen; i < hdrLen(p); i++ {
		if w := pow10(hdrLen(p) - 1 - i); w > 1 {
			terms = append(terms, fmt.Sprintf("int(%s[%d]-'0')*%d", s, i, w))
		} else {
			terms = append(terms, fmt.Sprintf("int(%s[%d]-'0')", s, i))
		}
	}
	return strings.Join(terms, " + ")
}

// genInfoLen writes what a stream reader needs of a length prefix: the
// length of a message from its header.
func genInfoLen(g w, p *spec.Protocol, ms []*spec.Message) {
	h := hdrLen(p)
	g.p("\n// %sFrameLen returns the length of the %s message whose header starts", lower(p.Name), p.Name)
	g.p("// hdr (at least %d bytes), so a stream reader knows how much to read:", h)
	g.p("// %s.", p.LengthDoc)
	g.p("func %sFrameLen(hdr string) (int, error) {", lower(p.Name))
	// The error names the tag by its constant: keeping a slice of hdr would
	// make every caller's header escape to the heap.
	g.p("var tag string")
	g.p("switch hdr[:%d] {", p.TagLen)
	for _, m := range ms {
		g.p("case Tag%s: tag = Tag%s", m.GoType, m.GoType)
	}
	g.p("default: return 0, inMessage(tagErr(hdr[:%d], \"\"), %q, \"\")", p.TagLen, p.Name)
	g.p("}")
	g.p("if %s { return 0, inMessage(prefixErr(hdr, %d, %d), %q, tag) }", badPrefix(p, "hdr"), p.TagLen, h, p.Name)
	g.p("return %d + %s, nil", h, prefixValue(p, "hdr"))
	g.p("}")
}

// genDecodeString writes the union's DecodeString: each message's
// decoding written out in its case, as its own decode has it, so that the
// common path makes no call but to its fields' checks.
func genDecodeString(g w, p *spec.Protocol, ms []*spec.Message) {
	u := unionName(p)
	g.p("// DecodeString is Decode of a string. The fields of d are substrings of")
	g.p("// s, so it allocates nothing: a server that reads into a reused buffer")
	g.p("// can decode without a copy, as long as nothing of d outlives the buffer's")
	g.p("// contents.")
	g.p("func (d *%s) DecodeString(s string) error {", u)
	if p.LengthDigits == 0 {
		g.p("if len(s) > %[1]s { return d.refuse(sizeErr(ErrTooLong, \"datagram\", %[1]s, len(s), %[1]s), \"\") }", constName(p, "Max"))
	}
	g.p("if len(s) < %d { return d.refuse(fieldErr(ErrTruncated, \"type\", len(s), \"missing\"), \"\") }", p.TagLen)
	g.p("switch s[:%d] {", p.TagLen)
	for _, m := range ms {
		tag := "Tag" + m.GoType
		ctx := &goCtx{Dst: "m.", Wrap: func(e string) string { return "d.refuse(" + e + ", " + tag + ")" }, Limit: "len(s)"}
		g.p("case %s:", tag)
		g.p("d.Tag = %s", tag)
		if len(m.Fields()) > 0 {
			g.p("m := &d.%s", m.GoType)
		}
		if m.Plan().Cond != nil {
			g.p("*m = %s{} // a branch sets only its fields", m.GoType)
		}
		decodeBody(g, m, ctx)
	}
	g.p("}")
	g.p("return d.refuse(tagErr(s[:%d], \"\"), \"\")", p.TagLen)
	g.p("}\n")
	g.p("// refuse ends a DecodeString that failed: d holds no message.")
	g.p("//")
	g.p("//go:noinline")
	g.p("func (d *%s) refuse(err error, tag string) error {", u)
	g.p("d.Tag = \"\"")
	g.p("return inMessage(err, %q, tag)", p.Name)
	g.p("}\n")
}

// unionName is the reusable holder of any one message of p.
func unionName(p *spec.Protocol) string {
	if p.Transport == "udp" {
		return p.Name + "Datagram"
	}
	return p.Name + "Frame"
}

func genDispatch(g w, p *spec.Protocol, ms []*spec.Message) {
	u := unionName(p)
	pre := func(ret string) {
		if p.LengthDigits == 0 {
			g.p("if len(b) > %[1]s { return %[3]sinMessage(sizeErr(ErrTooLong, \"datagram\", %[1]s, len(b), %[1]s), %[2]q, \"\") }", constName(p, "Max"), p.Name, ret)
		}
		g.p("if len(b) < %d { return %sinMessage(fieldErr(ErrTruncated, \"type\", len(b), \"missing\"), %q, \"\") }", p.TagLen, ret, p.Name)
	}
	unknown := fmt.Sprintf("inMessage(tagErr(string(b[:%d]), \"\"), %q, \"\")", p.TagLen, p.Name)

	g.p("\n// %s holds any one %s message. Decoding into a reused %s allocates", u, p.Name, u)
	g.p("// nothing with DecodeString, and once with Decode: the copy of the input its")
	g.p("// text keeps.")
	g.p("type %s struct {", u)
	g.p("Tag string // which of the messages below holds the value")
	for _, m := range ms {
		g.p("%s %s", m.GoType, m.GoType)
	}
	g.p("}\n")
	g.p("// Decode sets d from b, which must hold exactly one %s message. It", p.Name)
	g.p("// keeps no reference to b: it reads b in place, then copies it once")
	g.p("// for the text of the message, if it has any.")
	g.p("func (d *%s) Decode(b []byte) error {", u)
	g.p("s := view(b)")
	g.p("if err := d.DecodeString(s); err != nil { d.forget(s); return err }")
	g.p("switch d.Tag {")
	for _, m := range ms {
		if hasText(m) {
			g.p("case Tag%s: d.%s.own(s, string(b))", m.GoType, m.GoType)
		}
	}
	g.p("}")
	g.p("return nil")
	g.p("}\n")
	genForget(g, p, ms)
	genDecodeString(g, p, ms)
	g.p("// Message returns the message d holds, or nil.")
	g.p("func (d *%s) Message() Message {", u)
	g.p("switch d.Tag {")
	for _, m := range ms {
		g.p("case Tag%s: return &d.%s", m.GoType, m.GoType)
	}
	g.p("}")
	g.p("return nil")
	g.p("}\n")
	g.p("// Is%sTag reports whether b starts with the tag of a %s message.", p.Name, p.Name)
	g.p("func Is%sTag(b []byte) bool {", p.Name)
	g.p("if len(b) < %d { return false }", p.TagLen)
	g.p("switch string(b[:%d]) {", p.TagLen)
	var tags []string
	for _, m := range ms {
		tags = append(tags, "Tag"+m.GoType)
	}
	if len(tags) > 0 { // a protocol may have no message yet
		g.p("case %s: return true", strings.Join(tags, ", "))
	}
	g.p("}")
	g.p("return false")
	g.p("}\n")
	if p.LengthDigits > 0 {
		g.p("// Is%sHeader reports whether b, cut inside a message's header or", p.Name)
		g.p("// whole, starts with one: a %s tag, then length digits as far as b goes.", p.Name)
		g.p("func Is%sHeader(b []byte) bool {", p.Name)
		g.p("if !Is%sTag(b) { return false }", p.Name)
		g.p("for _, c := range b[%d:min(len(b), %d)] { if c-'0' > 9 { return false } }", p.TagLen, hdrLen(p))
		g.p("return true")
		g.p("}\n")
	}
	g.p("// %sTags lists the tags of the %s messages in the spec's order, so", p.Name, p.Name)
	g.p("// that a table per message type (a server's counters) needs no list of")
	g.p("// its own.")
	g.p("var %sTags = [...]string{%s}\n", p.Name, strings.Join(tags, ", "))
	g.p("// %sTagIndex returns the place of tag in %sTags, or -1.", p.Name, p.Name)
	g.p("func %sTagIndex(tag string) int {", p.Name)
	g.p("switch tag {")
	for i, t := range tags {
		g.p("case %s: return %d", t, i)
	}
	g.p("}")
	g.p("return -1")
	g.p("}\n")
	g.p("// Decode%s decodes b, which must hold exactly one %s message.", p.Name, p.Name)
	g.p("func Decode%s(b []byte) (Message, error) {", p.Name)
	g.p("m, err := func() (Message, error) {")
	pre("nil, ")
	g.p("switch string(b[:%d]) {", p.TagLen)
	for _, m := range ms {
		g.p("case Tag%s: return new(%s), nil", m.GoType, m.GoType)
	}
	g.p("}")
	g.p("return nil, %s", unknown)
	g.p("}()")
	g.p("if err != nil { return nil, err }")
	g.p("if err := m.Decode(b); err != nil { return nil, err }")
	g.p("return m, nil")
	g.p("}")
}
