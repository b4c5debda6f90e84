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

// goText writes a text kind; dns adds the DNS name check, host the host
// name's label check (wire's badLabel).
type goText struct{ dns, host bool }

func (goText) typ(*spec.Kind) string  { return "string" }
func (goText) zero(*spec.Kind) string { return `""` }

func (t goText) write(g w, k *spec.Kind) {
	n := k.GoName()
	set := lower(n) + "Bytes"
	g.p("func check%s(v string, field string, off int) error {", n)
	if k.Min > 0 {
		g.p("if len(v) < %d { return fieldErr(ErrBadField, field, off, reasonShort(len(v), %d)) }", k.Min, k.Min)
	}
	g.p("if len(v) > %d { return fieldErr(ErrTooLong, field, off, reasonLength(len(v), %d)) }", k.Max, k.Max)
	deny := denied(k)
	few := len(deny) <= 3 && !k.UTF8
	hi := false // whether the scan below tracks high bytes for the UTF-8 check
	switch {
	case len(deny) == 0:
		// every byte allowed: nothing to scan
	case few:
		// A few denied bytes: IndexByte scans faster than a per-byte test.
		g.p("if i := indexAnyByte(v, %q); i >= 0 { return fieldErr(ErrBadField, field, off+i, reasonByte(v[i])) }", deny)
	default:
		if hi = k.UTF8; hi {
			g.p("var hi byte // any byte >= 0x80 means UTF-8 to check")
		}
		g.p("for i := 0; i < len(v); i++ {")
		g.p("if !%s.has(v[i]) { return fieldErr(ErrBadField, field, off+i, reasonByte(v[i])) }", set)
		if k.UTF8 {
			g.p("hi |= v[i]")
		}
		g.p("}")
	}
	if k.UTF8 {
		goUTF8(g, k, hi)
	}
	if t.dns {
		g.p("if _, ok := dns.IsDomainName(v); !ok { return fieldErr(ErrBadField, field, off, \"not a DNS name\") }")
	}
	if t.host {
		g.p("if i, why := badLabel(v, %d, %q); i >= 0 { return fieldErr(ErrBadField, field, off+i, why) }", k.Label, k.Edge)
	}
	g.p("return nil")
	g.p("}\n")
	goStringKind(g, k)
	goRuneSet(g, k)
	if few || len(deny) == 0 {
		return // checked without a byte set
	}
	goByteSet(g, k, set)
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

// goByteSet writes the bytes a text kind allows as a bitmap named set.
func goByteSet(g w, k *spec.Kind, set string) {
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

// goUTF8 writes the checks of a UTF-8 kind: the encoding, then the code
// points it denies. hi says the byte scan before it tracked the high bytes:
// ASCII text then skips both.
func goUTF8(g w, k *spec.Kind, hi bool) {
	bad := "{ return fieldErr(ErrBadField, field, off+badUTF8(v), \"invalid UTF-8\") }"
	switch {
	case len(k.DenyRunes) == 0 && hi:
		g.p("if hi >= 0x80 && !utf8.ValidString(v) %s", bad)
		return
	case hi:
		g.p("if hi >= 0x80 {")
		defer g.p("}")
	}
	g.p("if !utf8.ValidString(v) %s", bad)
	if len(k.DenyRunes) > 0 {
		g.p("if i, r := %sRunes.index(v); i >= 0 { return fieldErr(ErrBadField, field, off+i, reasonRune(r)) }", lower(k.GoName()))
	}
}

// goRuneSet writes the code points a kind denies, for goUTF8's check.
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

// goIPv4 writes a dotted quad as a netip.Addr.
type goIPv4 struct{}

func (goIPv4) typ(*spec.Kind) string  { return "netip.Addr" }
func (goIPv4) zero(*spec.Kind) string { return "(netip.Addr{})" }

func (goIPv4) write(g w, k *spec.Kind) {
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
	g.p("if n := len%s(v); n > %d { return fieldErr(ErrTooLong, field, off, reasonLength(n, %d)) }", n, max, max)
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
	g.p("if limit-off > %d { return v, fieldErr(ErrTooLong, field, off, reasonLength(limit-off, %d)) }", max, max)
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
	g.p("return 0, fieldErr(ErrBadField, field, off, reasonByte(s[off])+\": no such code\")")
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
