package main

import (
	"bytes"
	"fmt"
	"strings"

	"mi/gen/spec"
)

// itemCtx says how item code reads and fails inside one function.
type itemCtx struct {
	dst   string              // value prefix: "m." or "v."
	wrap  func(string) string // wraps an error expression
	ret   string              // what precedes the error in a return
	limit string              // end of the current span
	owner *spec.Kind          // the struct kind, or nil in a message
}

func (c *itemCtx) fail(sentinel, field, off, reason string) string {
	return fmt.Sprintf("return %s%s", c.ret, c.wrap(fmt.Sprintf("fieldErr(%s, %q, %s, %s)", sentinel, field, off, reason)))
}

// rest is the unread span.
func (c *itemCtx) rest() string {
	if c.limit == "len(s)" {
		return "s[off:]"
	}
	return "s[off:" + c.limit + "]"
}

// decodeItems writes code that reads items from s[off:limit]; prev names the
// field before them, for errors about a missing separator.
func decodeItems(g w, c *itemCtx, items []spec.Item, framed, tail bool) {
	prev, found := "type", false
	for i, it := range items {
		if it.Literal != "" {
			if found && len(it.Literal) == 1 {
				// The field before ended where IndexByte found this literal.
				g.p("off++")
				continue
			}
			g.p("if !strings.HasPrefix(%s, %q) { %s }", c.rest(), it.Literal, c.fail("ErrBadSeparator", prev, "off", q("want "+q(it.Literal))))
			g.p("off += %d", len(it.Literal))
			continue
		}
		f := it.Field
		prev, found = f.Name, false
		switch {
		case f.Kind.FixedWidth():
			g.p("if off >= %s { %s }", c.limit, c.fail("ErrTruncated", f.Name, "off", q("missing")))
			g.p("end = off + 1")
		case !framed:
			g.p("if off == len(s) { %s }", c.fail("ErrTruncated", f.Name, "off", q("missing")))
		}
		if !f.Kind.FixedWidth() {
			if i+1 < len(items) {
				sep := items[i+1].Literal
				g.p("if end = strings.IndexByte(%s, %q); end < 0 { %s }", c.rest(), sep[0], c.fail("ErrBadSeparator", f.Name, c.limit, q("missing "+q(sep[:1]))))
				g.p("end += off")
				found = true
			} else {
				g.p("end = %s", c.limit)
			}
		}
		g.p("if %s%s, err = parse%s(s, off, end, %q); err != nil { return %s%s }", c.dst, exported(f.Name), kindName(f.Kind), f.Name, c.ret, c.wrap("err"))
		if tail || i+1 < len(items) {
			g.p("off = end")
		}
	}
}

// checkItems writes the encoder's validation of items, tracking the offset
// each field would have on the wire.
func checkItems(g w, c *itemCtx, items []spec.Item) {
	for i, it := range items {
		last := i == len(items)-1
		switch {
		case it.Literal != "":
			if !last {
				g.p("off += %d", len(it.Literal))
			}
		case it.Field != nil:
			f := it.Field
			v := c.dst + exported(f.Name)
			g.p("if err := check%s(%s, %q, off); err != nil { return %s }", kindName(f.Kind), v, f.Name, c.wrap("err"))
			if !last {
				g.p("off += len%s(%s)", kindName(f.Kind), v)
			}
		case it.Cond != nil:
			cd := it.Cond
			g.p("if %s%s == %s {", c.dst, exported(cd.Field.Name), codeConst(cd.Field.Kind, cd.Code))
			checkItems(g, c, cd.Items)
			g.p("} else {")
			for _, f := range fieldsOfItems(cd.Items) {
				g.p("if %s%s != %s { %s }", c.dst, exported(f.Name), zero(f.Kind),
					c.fail("ErrAbsent", f.Name, "off", q(fmt.Sprintf("set, but %s is not %s", cd.Field.Name, cd.Code.Name))))
			}
			g.p("}")
		}
	}
}

// walkItems writes, for each item in wire order, the line lit or field
// gives, with a condition's items under an if: the shape that the encoder
// and the length computation share.
func walkItems(g w, dst string, items []spec.Item, lit func(string) string, field func(*spec.Field) string) {
	for _, it := range items {
		switch {
		case it.Literal != "":
			g.p("%s", lit(it.Literal))
		case it.Field != nil:
			g.p("%s", field(it.Field))
		case it.Cond != nil:
			g.p("if %s%s == %s {", dst, exported(it.Cond.Field.Name), codeConst(it.Cond.Field.Kind, it.Cond.Code))
			walkItems(g, dst, it.Cond.Items, lit, field)
			g.p("}")
		}
	}
}

func appendItems(g w, dst string, items []spec.Item) {
	walkItems(g, dst, items, appendLit, func(f *spec.Field) string {
		return fmt.Sprintf("b = append%s(b, %s%s)", kindName(f.Kind), dst, exported(f.Name))
	})
}

func lenItems(g w, dst string, items []spec.Item) {
	walkItems(g, dst, items, func(l string) string { return fmt.Sprintf("n += %d", len(l)) }, func(f *spec.Field) string {
		return fmt.Sprintf("n += len%s(%s%s)", kindName(f.Kind), dst, exported(f.Name))
	})
}

func genMessages(b *bytes.Buffer, s *spec.Spec) {
	header(b, s, "wire", "net/netip", "strings")
	g := w{b}
	g.p("var _ netip.Addr // not every spec needs every import")
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
	return strings.Join(append(parts, itemsFormat(m.Items)...), " ")
}

func itemsFormat(items []spec.Item) []string {
	var parts []string
	for _, it := range items {
		switch {
		case it.Literal != "":
			parts = append(parts, q(it.Literal))
		case it.Field != nil:
			parts = append(parts, it.Field.Name)
		case it.Cond != nil:
			parts = append(parts, "[", strings.Join(itemsFormat(it.Cond.Items), " "), "] if "+it.Cond.Field.Name+" is "+it.Cond.Code.Name)
		}
	}
	return parts
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
		g.p("%s %s `json:%q` // %s", exported(f.Name), goType(f.Kind), tag, f.Kind.Doc)
	}
	g.p("}\n")
	g.p("// Tag returns %q.", m.Tag)
	g.p("func (*%s) Tag() string { return Tag%s }\n", t, t)
	g.p("// Len returns the length of m's wire form.")
	g.p("func (m *%s) Len() int {", t)
	g.p("n := %d", hdrLen(p))
	lenItems(g, "m.", m.Items)
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
	appendItems(g, "m.", m.Items)
	g.p("return b, nil")
	g.p("}\n")
	ctx := &itemCtx{dst: "m.", wrap: func(e string) string { return e }, limit: "len(s)"}
	g.p("func (m *%s) check() error {", t)
	g.p("off := %d", hdrLen(p))
	checkItems(g, ctx, m.Items)
	g.p("return nil")
	g.p("}\n")
	genDecode(g, m, ctx)
}

func genDecode(g w, m *spec.Message, ctx *itemCtx) {
	t, p := m.GoType, m.Proto
	g.p("// Decode sets m from b, which must hold exactly one %s message. It", m.Tag)
	g.p("// keeps no reference to b.")
	g.p("func (m *%s) Decode(b []byte) error {", t)
	if p.LengthDigits == 0 {
		g.p("if len(b) > %s { return inMessage(fieldErr(ErrTooLong, \"datagram\", %s, reasonLength(len(b), %s)), %q, Tag%s) }",
			constName(p, "Max"), constName(p, "Max"), constName(p, "Max"), p.Name, t)
	}
	g.p("if err := m.decode(string(b)); err != nil { return inMessage(err, %q, Tag%s) }", p.Name, t)
	g.p("return nil")
	g.p("}\n")
	g.p("func (m *%s) decode(s string) error {", t)
	g.p("*m = %s{}", t)
	g.p("if len(s) < %d { return fieldErr(ErrTruncated, \"type\", len(s), \"missing\") }", p.TagLen)
	g.p("if s[:%d] != Tag%s { return fieldErr(ErrUnknownType, \"type\", 0, reasonTag(s[:%d], Tag%s)) }", p.TagLen, t, p.TagLen, t)
	fields := m.Fields()
	first, last := fields[0].Name, fields[len(fields)-1].Name
	if p.LengthDigits > 0 {
		g.p("info, err := %sInfoLen(s)", lower(p.Name))
		g.p("if err != nil { return err }")
		g.p("if n := %d + info; len(s) < n { return fieldErr(ErrTruncated, %q, len(s), reasonLength(len(s), n)) }", hdrLen(p), first)
		g.p("if n := %d + info; len(s) > n { return fieldErr(ErrTrailing, %q, n, reasonLength(len(s), n)) }", hdrLen(p), last)
	} else {
		g.p("var err error")
	}
	g.p("off, end := %d, 0", hdrLen(p))
	items := m.Items
	var cond *spec.Cond
	if it := items[len(items)-1]; it.Cond != nil {
		cond, items = it.Cond, items[:len(items)-1]
	}
	if cond == nil {
		decodeItems(g, ctx, items, p.LengthDigits > 0, fields[len(fields)-1].Kind.FixedWidth())
		trailing(g, fields[len(fields)-1])
	} else {
		// Read through the condition's field, then each shape to its end:
		// the field before the group ends at the group's literal or at the end.
		at := 0
		for i, it := range items {
			if it.Field == cond.Field {
				at = i + 1
			}
		}
		decodeItems(g, ctx, items[:at], p.LengthDigits > 0, true)
		g.p("if m.%s == %s {", exported(cond.Field.Name), codeConst(cond.Field.Kind, cond.Code))
		with := append(append([]spec.Item{}, items[at:]...), cond.Items...)
		decodeItems(g, ctx, with, p.LengthDigits > 0, fields[len(fields)-1].Kind.FixedWidth())
		trailing(g, fields[len(fields)-1])
		g.p("}")
		decodeItems(g, ctx, items[at:], p.LengthDigits > 0, items[len(items)-1].Field.Kind.FixedWidth())
		trailing(g, items[len(items)-1].Field)
	}
	g.p("}")
}

func trailing(g w, last *spec.Field) {
	if last.Kind.FixedWidth() {
		g.p("if off != len(s) { return fieldErr(ErrTrailing, %q, off, reasonLength(len(s), off)) }", last.Name)
	}
	g.p("return nil")
}

// genInfoLen writes the reader of a length prefix: fixed-width, zero-padded
// decimal digits after the tag.
func genInfoLen(g w, p *spec.Protocol, ms []*spec.Message) {
	h := hdrLen(p)
	g.p("\n// %sInfoLen reads the info length of a %s message: %s.", lower(p.Name), p.Name, p.LengthDoc)
	g.p("func %sInfoLen(s string) (int, error) {", lower(p.Name))
	g.p("if len(s) < %d { return 0, fieldErr(ErrTruncated, \"length\", len(s), \"missing\") }", h)
	g.p("n := 0")
	g.p("for i := %d; i < %d; i++ {", p.TagLen, h)
	g.p("if s[i] < '0' || s[i] > '9' { return 0, fieldErr(ErrBadField, \"length\", i, reasonByte(s[i])+\": want a decimal digit\") }")
	g.p("n = n*10 + int(s[i]-'0')")
	g.p("}")
	g.p("return n, nil")
	g.p("}\n")
	g.p("// %sFrameLen returns the length of the %s message whose header starts", lower(p.Name), p.Name)
	g.p("// hdr (at least %d bytes), so a stream reader knows how much to read.", h)
	g.p("func %sFrameLen(hdr string) (int, error) {", lower(p.Name))
	// The error names the tag by its constant: keeping a slice of hdr would
	// make every caller's header escape to the heap.
	g.p("var tag string")
	g.p("switch hdr[:%d] {", p.TagLen)
	for _, m := range ms {
		g.p("case Tag%s: tag = Tag%s", m.GoType, m.GoType)
	}
	g.p("default: return 0, inMessage(fieldErr(ErrUnknownType, \"type\", 0, reasonTag(hdr[:%d], \"\")), %q, \"\")", p.TagLen, p.Name)
	g.p("}")
	g.p("n, err := %sInfoLen(hdr)", lower(p.Name))
	g.p("if err != nil { return 0, inMessage(err, %q, tag) }", p.Name)
	g.p("return %d + n, nil", h)
	g.p("}")
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
			g.p("if len(b) > %[1]s { return %[3]sinMessage(fieldErr(ErrTooLong, \"datagram\", %[1]s, reasonLength(len(b), %[1]s)), %[2]q, \"\") }", constName(p, "Max"), p.Name, ret)
		}
		g.p("if len(b) < %d { return %sinMessage(fieldErr(ErrTruncated, \"type\", len(b), \"missing\"), %q, \"\") }", p.TagLen, ret, p.Name)
	}
	unknown := fmt.Sprintf("inMessage(fieldErr(ErrUnknownType, \"type\", 0, reasonTag(string(b[:%d]), \"\")), %q, \"\")", p.TagLen, p.Name)

	g.p("\n// %s holds any one %s message. Decoding into a reused %s allocates at", u, p.Name, u)
	g.p("// most once: the string its fields share.")
	g.p("type %s struct {", u)
	g.p("Tag string // which of the messages below holds the value")
	for _, m := range ms {
		g.p("%s %s", m.GoType, m.GoType)
	}
	g.p("}\n")
	g.p("// Decode sets d from b, which must hold exactly one %s message.", p.Name)
	g.p("func (d *%s) Decode(b []byte) error {", u)
	g.p("d.Tag = \"\"")
	pre("")
	g.p("switch string(b[:%d]) {", p.TagLen)
	for _, m := range ms {
		g.p("case Tag%s:", m.GoType)
		g.p("if err := d.%s.Decode(b); err != nil { return err }", m.GoType)
		g.p("d.Tag = Tag%s", m.GoType)
		g.p("return nil")
	}
	g.p("}")
	g.p("return %s", unknown)
	g.p("}\n")
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
	g.p("case %s: return true", strings.Join(tags, ", "))
	g.p("}")
	g.p("return false")
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
