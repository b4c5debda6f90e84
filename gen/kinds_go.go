package main

import (
	"fmt"
	"strconv"
	"strings"

	"mi/gen/spec"
)

// goKind is the Go back end's part of a base: the Go type of a value in
// package wire and the functions of a kind there. Each base of gen/spec
// has an entry in goKinds (TestEveryBaseHasEveryBackEnd).
type goKind interface {
	// typ is the Go type of a value; zero its zero value, ready to
	// compare with.
	typ(k *spec.Kind) string
	zero(k *spec.Kind) string
	// write writes parseN(s, off, limit, field), checkN(v, field, off),
	// appendN(b, v), lenN(v), and what package wire exports for the kind
	// (N is k.GoName()).
	write(g w, k *spec.Kind)
}

var goKinds = map[string]goKind{
	spec.Text:     goText{},
	spec.DNSName:  goText{dns: true},
	spec.Hostname: goText{host: true},
	spec.IPv4:     goIPv4{},
	spec.Uint16:   goDecimal{16},
	spec.Uint8:    goDecimal{8},
	spec.Struct:   goStruct{},
	spec.Codes:    goCodes{},
	spec.Enum:     goEnum{},
}

// goOf is the Go back end's entry of k's base.
func goOf(k *spec.Kind) goKind { return goKinds[k.Base] }

// goType is the Go type of a value of k in package wire.
func goType(k *spec.Kind) string { return goOf(k).typ(k) }

// goText writes a text kind; dns adds the DNS name check. A host name's
// label rules are data of its textKind (label, and the edge bits of its
// byte table), checked in the same pass as its bytes.
type goText struct{ dns, host bool }

func (goText) typ(*spec.Kind) string  { return "string" }
func (goText) zero(*spec.Kind) string { return `""` }

func (t goText) write(g w, k *spec.Kind) {
	n, check := k.GoName(), "check"
	if t.host {
		check = "checkHost"
	}
	g.p("func check%s(v string, field string, off int) error {", n)
	if t.dns {
		g.p("if err := %sText.%s(v, field, off); err != nil { return err }", lower(n), check)
		g.p("if _, ok := dns.IsDomainName(v); !ok { return fieldErr(ErrBadField, field, off, \"not a DNS name\") }")
		g.p("return nil")
	} else {
		g.p("return %sText.%s(v, field, off)", lower(n), check)
	}
	g.p("}\n")
	goStringKind(g, k)
	goRuneSet(g, k)
	goTextKind(g, k, t.host)
}

// goStringKind writes what every kind of Go type string has around its
// checkN: parseN, appendN, lenN and the exported CheckN.
func goStringKind(g w, k *spec.Kind) {
	n := k.GoName()
	g.p("func parse%s(s string, off, limit int, field string) (string, error) {", n)
	g.p("v := s[off:limit]")
	g.p("return v, check%s(v, field, off)", n)
	g.p("}\n")
	g.p("func append%s(b []byte, v string) []byte { return append(b, v...) }\n", n)
	g.p("func len%s(v string) int { return len(v) }\n", n)
	g.p("// Check%s reports whether v is a valid %s.", n, k.Name)
	g.p("func Check%s(v string) error { return check%s(v, %q, 0) }\n", n, n, k.Name)
}

// goRuneSet writes the code points a kind denies, for its textKind.
func goRuneSet(g w, k *spec.Kind) {
	if len(k.DenyRunes) == 0 {
		return
	}
	g.p("// %sRunes holds the code points a %s may not contain: %s.", lower(k.GoName()), k.Name, spec.RunesString(k.DenyRunes))
	g.p("var %sRunes = runeSet%s\n", lower(k.GoName()), goRunes(k.DenyRunes))
}

// goRunes is a composite literal of ranges: {{0x80, 0x9f}, {0x61c, 0x61c}}.
func goRunes(rs []spec.RuneRange) string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("{%#x, %#x}", r.Lo, r.Hi))
	}
	return "{" + strings.Join(out, ", ") + "}"
}

// goTextKind writes the rules of a text kind as wire's textKind: its
// byte table, its code points, its labels.
func goTextKind(g w, k *spec.Kind, host bool) {
	n := lower(k.GoName())
	class := byteClasses(k, host)
	printable, plainElse := true, false
	for c := range class {
		if c >= 0x20 && c < 0x7f {
			printable = printable && class[c] == cPlain
		} else {
			plainElse = plainElse || class[c]&cPlain != 0
		}
	}
	g.p("// %sText is what a %s may hold.", n, k.Name)
	g.p("var %sText = textKind{", n)
	g.p("min: %d, max: %d,", k.Min, k.Max)
	g.p("class: &%sClass,", n)
	switch few := denied(class); {
	case !host && len(few) >= 1 && len(few) <= 3:
		g.p("few: %q,", few)
	case printable:
		g.p("printable: true,")
		if plainElse {
			g.p("plainElse: true,")
		}
	}
	if len(k.DenyRunes) > 0 {
		g.p("runes: %sRunes,", n)
	}
	if host {
		g.p("label: %d,", k.Label)
		g.p("edge: %q,", k.Edge)
	}
	g.p("}\n")
	legend := "0 not allowed, 1 plain, 2 part of UTF-8"
	if host {
		legend += ", 4 a dot between labels,\n// +8 no label starts or ends with it"
	}
	g.p("// %sClass is the class of each byte in a %s (wire's byteClass):", n, k.Name)
	g.p("// %s.", legend)
	g.p("var %sClass = byteClass{", n)
	for row := 0; row < 256; row += 16 {
		var cells []string
		for _, c := range class[row : row+16] {
			cells = append(cells, strconv.Itoa(int(c)))
		}
		g.p("%s, // %#02x", strings.Join(cells, ", "), row)
	}
	g.p("}")
}

// denied lists the bytes of class 0 if every other byte is plain, or
// returns "" if a byte is of another class (UTF-8, a dot).
func denied(class [256]uint8) string {
	var few []byte
	for c, b := range class {
		switch b {
		case 0:
			few = append(few, byte(c))
		case cPlain:
		default:
			return ""
		}
	}
	return string(few)
}

// The bits of a byte's class, as wire's kinds.go names them.
const (
	cPlain = 1 << iota
	cUTF8
	cDot
	cEdge
)

// byteClasses is the class of each byte in a value of text kind k, as
// wire's textKind reads it: a byte not allowed is 0; one of a utf8 kind
// over 0x7f is part of UTF-8 to decode; a host name's dot separates its
// labels; an edge byte may not start or end one.
func byteClasses(k *spec.Kind, host bool) [256]uint8 {
	var class [256]uint8
	for c := range class {
		switch {
		case !k.Allowed[c]:
			continue
		case host && c == '.':
			class[c] = cDot
		case k.UTF8 && c >= 0x80:
			class[c] = cUTF8
		default:
			class[c] = cPlain
		}
		if host && strings.IndexByte(k.Edge, byte(c)) >= 0 {
			class[c] |= cEdge
		}
	}
	return class
}

// goIPv4 writes a dotted quad as a netip.Addr.
type goIPv4 struct{}

func (goIPv4) typ(*spec.Kind) string  { return "netip.Addr" }
func (goIPv4) zero(*spec.Kind) string { return "(netip.Addr{})" }

func (goIPv4) write(g w, k *spec.Kind) {
	g.p(`func parse%[1]s(s string, off, limit int, field string) (netip.Addr, error) {
	a, at, why := scanIPv4(s, off, limit)
	if why != "" {
		return netip.Addr{}, fieldErr(ErrBadField, field, at, why)
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

// len%[1]s is what append%[1]s writes, for any address: a struct's check
// measures its parts before it checks them.
func len%[1]s(v netip.Addr) int {
	if !v.Is4() {
		var b [64]byte
		return len(v.AppendTo(b[:0]))
	}
	a := v.As4()
	return 3 + decimalLen(int(a[0])) + decimalLen(int(a[1])) + decimalLen(int(a[2])) + decimalLen(int(a[3]))
}`, k.GoName())
}

// goDecimal writes a canonical decimal as an unsigned integer of bits.
type goDecimal struct{ bits int }

func (d goDecimal) typ(*spec.Kind) string { return fmt.Sprintf("uint%d", d.bits) }
func (goDecimal) zero(*spec.Kind) string  { return "0" }

func (d goDecimal) write(g w, k *spec.Kind) {
	g.p(`func parse%[1]s(s string, off, limit int, field string) (%[4]s, error) {
	v, next, f := scanDecimal(s, off, limit, %[3]d)
	if f != decOK || next != limit || v < %[2]d {
		return 0, decimalErr(field, off, f, next, limit, %[2]d, %[3]d)
	}
	return %[4]s(v), nil
}

func check%[1]s(v %[4]s, field string, off int) error {
	if int(v) < %[2]d || int(v) > %[3]d {
		return fieldErr(ErrBadField, field, off, "out of range %[2]d..%[3]d: "+strconv.Itoa(int(v)))
	}
	return nil
}

func append%[1]s(b []byte, v %[4]s) []byte { return strconv.AppendUint(b, uint64(v), 10) }

func len%[1]s(v %[4]s) int { return decimalLen(int(v)) }`, k.GoName(), k.Min, k.Max, d.typ(k))
}

// goStruct writes a struct kind as a Go struct with a field per part.
type goStruct struct{}

func (goStruct) typ(k *spec.Kind) string  { return k.GoType }
func (goStruct) zero(k *spec.Kind) string { return "(" + k.GoType + "{})" }

func (goStruct) write(g w, k *spec.Kind) {
	n := k.GoType
	g.p("type %s struct {", n)
	for _, f := range spec.FieldsOf(k.Parts) {
		g.p("%s %s // %s", spec.Exported(f.Name), goType(f.Kind), f.Kind.Doc)
	}
	g.p("}\n")
	goStructParse(g, k)
	max := k.MaxLen()
	g.p("func check%s(v %s, field string, off int) error {", n, n)
	g.p("if n := len%s(v); n > %d { return sizeErr(ErrTooLong, field, off, n, %d) }", n, max, max)
	g.checkItems(structCtx(), k.Parts)
	g.p("return nil")
	g.p("}\n")
	g.p("func append%s(b []byte, v %s) []byte {", n, n)
	g.appendItems("v.", k.Parts)
	g.p("return b")
	g.p("}\n")
	g.p("func len%s(v %s) int {", n, n)
	g.p("n := 0")
	g.lenItems("v.", k.Parts)
	g.p("return n")
	g.p("}\n")
	goStructMethods(g, k)
}

// structCtx is how a struct's parts are read and checked: into v, each
// error within the struct's field.
func structCtx() *goCtx {
	return &goCtx{Dst: "v.", Wrap: func(e string) string { return "inField(" + e + ", field)" }, Ret: "v, ", Limit: "limit"}
}

// goStructParse writes parseN: the struct's length, then its plan.
func goStructParse(g w, k *spec.Kind) {
	n, max := k.GoType, k.MaxLen()
	ctx, ops := structCtx(), k.PartOps()
	g.p("func parse%s(s string, off, limit int, field string) (v %s, err error) {", n, n)
	g.p("if limit-off > %d { return v, sizeErr(ErrTooLong, field, off, limit-off, %d) }", max, max)
	g.p("var end int")
	open := spec.EndsOpen(ops)
	g.decodeOps(ctx, ops, false, !open)
	if !open {
		g.p("if off != limit { %s }", ctx.fail("ErrTrailing", k.TrailingField(), "off", `"the value ends here"`))
	}
	g.p("return v, nil")
	g.p("}\n")
}

// goStructMethods writes what package wire exports of a struct kind.
func goStructMethods(g w, k *spec.Kind) {
	g.p(`// Parse%[1]s parses a whole %[2]s.
func Parse%[1]s(s string) (%[1]s, error) {
	v, err := parse%[1]s(s, 0, len(s), %[3]q)
	if err != nil {
		return %[1]s{}, err
	}
	return v, nil
}

// Check reports whether v is a valid %[3]s.
func (v %[1]s) Check() error { return check%[1]s(v, %[3]q, 0) }

// String returns v in its wire form, valid or not.
func (v %[1]s) String() string {
	return string(v.AppendTo(make([]byte, 0, len%[1]s(v))))
}

// AppendTo appends v in its wire form, valid or not.
func (v %[1]s) AppendTo(b []byte) []byte { return append%[1]s(b, v) }

// MarshalText returns the wire form, so v reads naturally in JSON.
func (v %[1]s) MarshalText() ([]byte, error) { return v.AppendTo(nil), nil }

// UnmarshalText parses the wire form.
func (v *%[1]s) UnmarshalText(b []byte) error {
	p, err := Parse%[1]s(string(b))
	if err != nil {
		return err
	}
	*v = p
	return nil
}`, k.GoType, k.Doc, k.Name)
}

// goCodes writes a codes kind as a named uint8 with a constant per code.
type goCodes struct{}

func (goCodes) typ(k *spec.Kind) string { return k.GoType }
func (goCodes) zero(*spec.Kind) string  { return "0" }

func (goCodes) write(g w, k *spec.Kind) {
	t := k.GoType
	g.p("// %s is the %s: one ASCII digit on the wire.", t, k.Doc)
	g.p("type %s uint8\n", t)
	g.p("const (")
	for _, c := range k.Values {
		g.p("%s %s = %d // %s", spec.CodeConst(k, c), t, c.Value, c.Doc)
	}
	g.p(")\n")
	goCodesNames(g, k)
	g.p("func parse%s(s string, off, limit int, field string) (%s, error) {", t, t)
	g.p("switch s[off] {")
	var names []string
	for _, c := range k.Values {
		g.p("case '%d': return %s, nil", c.Value, spec.CodeConst(k, c))
		names = append(names, spec.CodeConst(k, c))
	}
	g.p("}")
	g.p("return 0, byteErr(field, off, s[off], \": no such code\")")
	g.p("}\n")
	g.p("func check%s(v %s, field string, off int) error {", t, t)
	g.p("switch v {")
	g.p("case %s: return nil", strings.Join(names, ", "))
	g.p("}")
	g.p("return fieldErr(ErrBadField, field, off, \"no such code: \"+v.String())")
	g.p("}\n")
	g.p("func append%s(b []byte, v %s) []byte { return append(b, '0'+byte(v)) }\n", t, t)
	g.p("func len%s(%s) int { return 1 }", t, t)
}

// goCodesNames writes a codes type's String, Doc and text marshalling.
func goCodesNames(g w, k *spec.Kind) {
	t := k.GoType
	for _, m := range []struct{ name, doc string }{{"String", "the code's name"}, {"Doc", "what the code means"}} {
		g.p("// %s returns %s.", m.name, m.doc)
		g.p("func (c %s) %s() string {", t, m.name)
		g.p("switch c {")
		for _, c := range k.Values {
			v := c.Name
			if m.name == "Doc" {
				v = c.Doc
			}
			g.p("case %s: return %q", spec.CodeConst(k, c), v)
		}
		g.p("}")
		g.p("return %q + strconv.Itoa(int(c)) + \")\"", t+"(")
		g.p("}\n")
	}
	g.p("// MarshalText returns the code's name, so JSON reads %q rather than a digit.", k.Values[0].Name)
	g.p("func (c %s) MarshalText() ([]byte, error) { return []byte(c.String()), nil }\n", t)
	g.p("// UnmarshalText reads a code's name.")
	g.p("func (c *%s) UnmarshalText(b []byte) error {", t)
	g.p("switch string(b) {")
	for _, c := range k.Values {
		g.p("case %q: *c = %s", c.Name, spec.CodeConst(k, c))
	}
	g.p("default: return errors.New(%q + strconv.Quote(string(b)))", "wire: no such "+t+": ")
	g.p("}")
	g.p("return nil")
	g.p("}\n")
}

// goEnum writes an enum kind as a string that must be one of its words.
type goEnum struct{}

func (goEnum) typ(*spec.Kind) string  { return "string" }
func (goEnum) zero(*spec.Kind) string { return `""` }

func (goEnum) write(g w, k *spec.Kind) {
	g.p("func check%s(v string, field string, off int) error {", k.GoName())
	g.p("switch v {")
	g.p("case %s: return nil", quotedWords(k))
	g.p("}")
	g.p("return fieldErr(ErrBadField, field, off, \"not one of its words\")")
	g.p("}\n")
	goStringKind(g, k)
}

// quotedWords lists the words of an enum kind as Go strings: "a", "b".
func quotedWords(k *spec.Kind) string {
	var out []string
	for _, w := range k.Words {
		out = append(out, strconv.Quote(w.Text))
	}
	return strings.Join(out, ", ")
}
