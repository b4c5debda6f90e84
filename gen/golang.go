package main

import (
	"bytes"
	"fmt"
	"strings"

	"mi/gen/spec"
)

// goFiles is the Go back end: the wire package's types and codecs.
func goFiles(s *spec.Spec) ([]file, error) {
	var out []file
	for _, gen := range []struct {
		path string
		fn   func(*bytes.Buffer, *spec.Spec)
	}{
		{"wire/zconst.go", genConsts},
		{"wire/zkinds.go", genKinds},
		{"wire/zmessages.go", genMessages},
	} {
		var b bytes.Buffer
		gen.fn(&b, s)
		f, err := gofile(gen.path, &b)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// w writes formatted lines; gofmt tidies the layout afterwards.
type w struct{ *bytes.Buffer }

func (g w) p(format string, args ...any) {
	fmt.Fprintf(g, format, args...)
	g.WriteByte('\n')
}

func genConsts(b *bytes.Buffer, s *spec.Spec) {
	header(b, s, "wire", "errors", "strconv", "time")
	g := w{b}
	g.p("// Protocol facts.")
	g.p("const (")
	for _, p := range s.Protocols {
		g.p("// %s: %s, over %s.", p.Name, p.Doc, strings.ToUpper(p.Transport))
		g.p("%s = %d // largest message in bytes", constName(p, "Max"), p.Max)
		if p.Port != 0 {
			g.p("%s = %d // %s", constName(p, "Port"), p.Port, p.PortDoc)
		}
		g.p("%s = %d // bytes of the type tag", constName(p, "TagLen"), p.TagLen)
		if p.LengthDigits > 0 {
			g.p("%s = %d // %s", constName(p, "HeaderLen"), p.TagLen+p.LengthDigits, "tag and length")
			g.p("%s = %d // largest info", constName(p, "MaxInfo"), pow10(p.LengthDigits)-1)
		}
	}
	g.p(")\n")
	g.p("// Behaviour constants.")
	g.p("const (")
	for _, c := range s.Consts {
		if c.Unit == "ms" {
			g.p("%s = %d * time.Millisecond // %s", c.Name, c.Value, c.Doc)
		} else {
			g.p("%s = %d // %s", c.Name, c.Value, c.Doc)
		}
	}
	g.p(")\n")
	g.p("// Length limits of the field kinds, in bytes.")
	g.p("const (")
	for _, k := range s.Kinds {
		if k.Base != spec.Codes {
			g.p("Max%sLen = %d // %s", kindName(k), k.MaxLen(), k.Doc)
		}
	}
	g.p(")\n")
	g.p("// Message type tags.")
	g.p("const (")
	for _, m := range s.Messages {
		g.p("Tag%s = %q // %s", m.GoType, m.Tag, m.Doc)
	}
	g.p(")")
	for _, k := range s.Kinds {
		if k.Base == spec.Codes {
			genCodes(g, k)
		}
	}
	genRoles(g, s)
}

// genRoles writes what each message is for, so that a server tells a
// request it does not serve from a reply sent to it by mistake.
func genRoles(g w, s *spec.Spec) {
	g.p("\n// Role is what a message is for.")
	g.p("type Role uint8\n")
	g.p("const (")
	g.p("RoleOther Role = iota // neither asks nor answers: exchanged freely")
	g.p("RoleRequest // a reply answers it")
	g.p("RoleReply // it answers a request")
	g.p(")")
	for _, p := range s.Protocols {
		g.p("\n// %sRole returns the role of the %s message with tag and, for a", p.Name, p.Name)
		g.p("// reply, the tag of the request it answers. An unknown tag is RoleOther.")
		g.p("func %sRole(tag string) (Role, string) {", p.Name)
		g.p("switch tag {")
		for _, m := range s.MessagesOf(p) {
			switch s.Role(m) {
			case spec.RoleRequest:
				g.p("case Tag%s: return RoleRequest, \"\"", m.GoType)
			case spec.RoleReply:
				g.p("case Tag%s: return RoleReply, Tag%s", m.GoType, m.Answers.GoType)
			}
		}
		g.p("}")
		g.p("return RoleOther, \"\"")
		g.p("}")
	}
}

func pow10(d int) int {
	n := 1
	for ; d > 0; d-- {
		n *= 10
	}
	return n
}

func genCodes(g w, k *spec.Kind) {
	g.p("\n// %s is the %s: one ASCII digit on the wire.", k.GoType, k.Doc)
	g.p("type %s uint8\n", k.GoType)
	g.p("const (")
	for _, c := range k.Values {
		g.p("%s %s = %d // %s", codeConst(k, c), k.GoType, c.Value, c.Doc)
	}
	g.p(")\n")
	for _, m := range []struct{ name, doc string }{{"String", "the code's name"}, {"Doc", "what the code means"}} {
		g.p("// %s returns %s.", m.name, m.doc)
		g.p("func (c %s) %s() string {", k.GoType, m.name)
		g.p("switch c {")
		for _, c := range k.Values {
			v := c.Name
			if m.name == "Doc" {
				v = c.Doc
			}
			g.p("case %s: return %q", codeConst(k, c), v)
		}
		g.p("}")
		g.p("return %q + strconv.Itoa(int(c)) + \")\"", k.GoType+"(")
		g.p("}\n")
	}
	g.p("// MarshalText returns the code's name, so JSON reads %q rather than a digit.", k.Values[0].Name)
	g.p("func (c %s) MarshalText() ([]byte, error) { return []byte(c.String()), nil }\n", k.GoType)
	g.p("// UnmarshalText reads a code's name.")
	g.p("func (c *%s) UnmarshalText(b []byte) error {", k.GoType)
	g.p("switch string(b) {")
	for _, c := range k.Values {
		g.p("case %q: *c = %s", c.Name, codeConst(k, c))
	}
	g.p("default: return errors.New(%q + strconv.Quote(string(b)))", "wire: no such "+k.GoType+": ")
	g.p("}")
	g.p("return nil")
	g.p("}")
}

func genKinds(b *bytes.Buffer, s *spec.Spec) {
	header(b, s, "wire", "net/netip", "strconv", "strings", "unicode/utf8", "github.com/miekg/dns")
	g := w{b}
	g.p("var _ = strings.IndexByte // not every spec needs every import")
	g.p("var _ = utf8.ValidString")
	g.p("var _ = dns.IsDomainName")
	g.p("var _ netip.Addr")
	genDecimal(g)
	for _, k := range s.Kinds {
		g.p("\n// Kind %s (%s): %s.", k.Name, k.Base, k.Doc)
		switch k.Base {
		case spec.Text, spec.DNSName:
			genText(g, k)
		case spec.IPv4:
			genIPv4(g, k)
		case spec.Uint16:
			genUint(g, k)
		case spec.Codes:
			genCodeKind(g, k)
		case spec.Struct:
			genStruct(g, s, k)
		}
	}
}

// genDecimal writes the one decimal scanner every numeric kind uses:
// ASCII digits only, no sign, no leading zero, bounded before it overflows.
func genDecimal(g w) {
	g.p(`
// scanDecimal reads a canonical decimal number from s[p:limit], stopping at
// the first non-digit. reason is empty on success.
func scanDecimal(s string, p, limit, max int) (n, next int, reason string) {
	start := p
	for p < limit && s[p] >= '0' && s[p] <= '9' {
		n = n*10 + int(s[p]-'0')
		if n > max {
			return 0, p, "over " + strconv.Itoa(max)
		}
		p++
	}
	switch {
	case p == start:
		return 0, p, "want a decimal digit"
	case s[start] == '0' && p-start > 1:
		return 0, p, "leading zero"
	}
	return n, p, ""
}

// decimalLen is the number of digits of n.
func decimalLen(n int) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}`)
}

func genText(g w, k *spec.Kind) {
	n := kindName(k)
	set := lower(n) + "Bytes"
	g.p("func check%s(v string, field string, off int) error {", n)
	if k.Min > 0 {
		g.p("if len(v) < %d { return fieldErr(ErrBadField, field, off, reasonShort(len(v), %d)) }", k.Min, k.Min)
	}
	g.p("if len(v) > %d { return fieldErr(ErrTooLong, field, off, reasonLength(len(v), %d)) }", k.Max, k.Max)
	if deny := denied(k); len(deny) <= 3 && !k.UTF8 {
		// A few denied bytes: IndexByte scans faster than a per-byte test.
		g.p("if i := indexAnyByte(v, %q); i >= 0 { return fieldErr(ErrBadField, field, off+i, reasonByte(v[i])) }", deny)
		genTextTail(g, k, n, "")
		return
	}
	if k.UTF8 {
		g.p("var hi byte // any byte >= 0x80 means UTF-8 to check")
	}
	g.p("for i := 0; i < len(v); i++ {")
	g.p("if !%s.has(v[i]) { return fieldErr(ErrBadField, field, off+i, reasonByte(v[i])) }", set)
	if k.UTF8 {
		g.p("hi |= v[i]")
	}
	g.p("}")
	if k.UTF8 {
		g.p("if hi >= 0x80 && !utf8.ValidString(v) { return fieldErr(ErrBadField, field, off+badUTF8(v), \"invalid UTF-8\") }")
	}
	genTextTail(g, k, n, set)
}

// denied lists the bytes a text kind may not hold.
func denied(k *spec.Kind) string {
	var b []byte
	for c := 0; c < 256; c++ {
		if !k.Allowed[c] {
			b = append(b, byte(c))
		}
	}
	return string(b)
}

// genTextTail ends a text kind's check and writes the rest of its
// functions; set names its byte set, if the check uses one.
func genTextTail(g w, k *spec.Kind, n, set string) {
	if k.Base == spec.DNSName {
		g.p("if _, ok := dns.IsDomainName(v); !ok { return fieldErr(ErrBadField, field, off, \"not a DNS name\") }")
	}
	g.p("return nil")
	g.p("}\n")
	g.p("func parse%s(s string, off, limit int, field string) (string, error) {", n)
	g.p("v := s[off:limit]")
	g.p("return v, check%s(v, field, off)", n)
	g.p("}\n")
	g.p("func append%s(b []byte, v string) []byte { return append(b, v...) }\n", n)
	g.p("func len%s(v string) int { return len(v) }\n", n)
	g.p("// Check%s reports whether v is a valid %s.", n, k.Name)
	g.p("func Check%s(v string) error { return check%s(v, %q, 0) }\n", n, n, k.Name)
	if set == "" {
		return // checked without a byte set
	}
	var words [8]uint32
	for c := 0; c < 256; c++ {
		if k.Allowed[c] {
			words[c>>5] |= 1 << (c & 31)
		}
	}
	g.p("// %s holds the bytes a %s may contain.", set, k.Name)
	g.p("var %s = byteSet{%#08x, %#08x, %#08x, %#08x, %#08x, %#08x, %#08x, %#08x}", set,
		words[0], words[1], words[2], words[3], words[4], words[5], words[6], words[7])
}

func lower(s string) string {
	if s == strings.ToUpper(s) {
		return strings.ToLower(s)
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func genIPv4(g w, k *spec.Kind) {
	n := kindName(k)
	g.p(`func parse%[1]s(s string, off, limit int, field string) (netip.Addr, error) {
	var a [4]byte
	p := off
	for i := range a {
		if i > 0 {
			if p >= limit || s[p] != '.' {
				return netip.Addr{}, fieldErr(ErrBadField, field, p, "want 4 decimal octets separated by dots")
			}
			p++
		}
		v, next, reason := scanDecimal(s, p, limit, 255)
		if reason != "" {
			return netip.Addr{}, fieldErr(ErrBadField, field, p, "octet: "+reason)
		}
		a[i], p = byte(v), next
	}
	if p != limit {
		return netip.Addr{}, fieldErr(ErrBadField, field, p, "want 4 decimal octets separated by dots")
	}
	return netip.AddrFrom4(a), nil
}

func check%[1]s(v netip.Addr, field string, off int) error {
	if !v.Is4() {
		return fieldErr(ErrBadField, field, off, "not an IPv4 address: "+v.String())
	}
	return nil
}

func append%[1]s(b []byte, v netip.Addr) []byte { return v.AppendTo(b) }

func len%[1]s(v netip.Addr) int {
	a := v.As4()
	return 3 + decimalLen(int(a[0])) + decimalLen(int(a[1])) + decimalLen(int(a[2])) + decimalLen(int(a[3]))
}`, n)
}

func genUint(g w, k *spec.Kind) {
	g.p(`func parse%[1]s(s string, off, limit int, field string) (uint16, error) {
	v, next, reason := scanDecimal(s, off, limit, %[3]d)
	switch {
	case reason != "":
	case next != limit:
		reason = "not a decimal number"
	case v < %[2]d:
		reason = "under %[2]d"
	}
	if reason != "" {
		return 0, fieldErr(ErrBadField, field, off, reason)
	}
	return uint16(v), nil
}

func check%[1]s(v uint16, field string, off int) error {
	if v < %[2]d || int(v) > %[3]d {
		return fieldErr(ErrBadField, field, off, "out of range %[2]d..%[3]d: "+strconv.Itoa(int(v)))
	}
	return nil
}

func append%[1]s(b []byte, v uint16) []byte { return strconv.AppendUint(b, uint64(v), 10) }

func len%[1]s(v uint16) int { return decimalLen(int(v)) }`, kindName(k), k.Min, k.Max)
}

func genCodeKind(g w, k *spec.Kind) {
	n := kindName(k)
	g.p("func parse%s(s string, off, limit int, field string) (%s, error) {", n, n)
	g.p("switch s[off] {")
	for _, c := range k.Values {
		g.p("case '%d': return %s, nil", c.Value, codeConst(k, c))
	}
	g.p("}")
	g.p("return 0, fieldErr(ErrBadField, field, off, reasonByte(s[off])+\": no such code\")")
	g.p("}\n")
	g.p("func check%s(v %s, field string, off int) error {", n, n)
	g.p("switch v {")
	var names []string
	for _, c := range k.Values {
		names = append(names, codeConst(k, c))
	}
	g.p("case %s: return nil", strings.Join(names, ", "))
	g.p("}")
	g.p("return fieldErr(ErrBadField, field, off, \"no such code: \"+v.String())")
	g.p("}\n")
	g.p("func append%s(b []byte, v %s) []byte { return append(b, '0'+byte(v)) }\n", n, n)
	g.p("func len%s(%s) int { return 1 }", n, n)
}

func genStruct(g w, s *spec.Spec, k *spec.Kind) {
	n := k.GoType
	g.p("type %s struct {", n)
	for _, f := range fieldsOfItems(k.Parts) {
		g.p("%s %s // %s", exported(f.Name), goType(f.Kind), f.Kind.Doc)
	}
	g.p("}\n")
	ctx := &itemCtx{dst: "v.", wrap: func(e string) string { return "inField(" + e + ", field)" }, ret: "v, ", limit: "limit", owner: k}
	g.p("func parse%s(s string, off, limit int, field string) (v %s, err error) {", n, n)
	g.p("if limit-off > %d { return v, fieldErr(ErrTooLong, field, off, reasonLength(limit-off, %d)) }", k.MaxLen(), k.MaxLen())
	g.p("var end int")
	decodeItems(g, ctx, k.Parts, false, false)
	g.p("return v, nil")
	g.p("}\n")
	g.p("func check%s(v %s, field string, off int) error {", n, n)
	g.p("if n := len%s(v); n > %d { return fieldErr(ErrTooLong, field, off, reasonLength(n, %d)) }", n, k.MaxLen(), k.MaxLen())
	checkItems(g, ctx, k.Parts)
	g.p("return nil")
	g.p("}\n")
	g.p("func append%s(b []byte, v %s) []byte {", n, n)
	appendItems(g, "v.", k.Parts)
	g.p("return b")
	g.p("}\n")
	g.p("func len%s(v %s) int {", n, n)
	g.p("n := 0")
	lenItems(g, "v.", k.Parts)
	g.p("return n")
	g.p("}\n")
	g.p("// Parse%s parses a whole %s.", n, k.Doc)
	g.p("func Parse%s(s string) (%s, error) {", n, n)
	g.p("v, err := parse%s(s, 0, len(s), %q)", n, k.Name)
	g.p("if err != nil { return %s{}, err }", n)
	g.p("return v, nil")
	g.p("}\n")
	g.p("// Check reports whether v is a valid %s.", k.Name)
	g.p("func (v %s) Check() error { return check%s(v, %q, 0) }\n", n, n, k.Name)
	g.p("// String returns v in its wire form, valid or not.")
	g.p("func (v %s) String() string {", n)
	g.p("return string(v.AppendTo(make([]byte, 0, len%s(v))))", n)
	g.p("}\n")
	g.p("// AppendTo appends v in its wire form, valid or not.")
	g.p("func (v %s) AppendTo(b []byte) []byte { return append%s(b, v) }\n", n, n)
	g.p("// MarshalText returns the wire form, so v reads naturally in JSON.")
	g.p("func (v %s) MarshalText() ([]byte, error) { return v.AppendTo(nil), nil }\n", n)
	g.p("// UnmarshalText parses the wire form.")
	g.p("func (v *%s) UnmarshalText(b []byte) error {", n)
	g.p("p, err := Parse%s(string(b))", n)
	g.p("if err != nil { return err }")
	g.p("*v = p")
	g.p("return nil")
	g.p("}")
}

func fieldsOfItems(items []spec.Item) []*spec.Field {
	m := spec.Message{Items: items}
	return m.Fields()
}
