package spec

import (
	"fmt"
	"strconv"
	"strings"
)

// structBase is literals and sub-fields in a fixed order: one Go struct.
type structBase struct{}

func (structBase) Name() string { return Struct }

func (structBase) Attrs() []string { return []string{"field", "literal", "max"} }

func (structBase) Check(k *Kind, r *errs) {
	if len(k.Parts) == 0 {
		r.errorf(k.Pos, "kind %s: a struct needs parts (field and literal lines)", k.Name)
		return
	}
	if k.Parts[0].Field == nil {
		r.errorf(k.Parts[0].Pos, "kind %s: a struct starts with a field", k.Name)
	}
	for _, f := range fieldsOf(k.Parts) {
		if f.Kind.Base == Struct {
			r.errorf(f.Pos, "kind %s: field %s is a struct; structs do not nest", k.Name, f.Name)
			return
		}
	}
	var sp Spec
	sp.checkItems(r, "kind "+k.Name, k.Parts, "")
	if lo := itemsLen(k.Parts, (*Kind).MinLen); k.Max > 0 && k.Max < lo {
		r.errorf(k.limit(), "kind %s: max %d is under its shortest value, %d bytes", k.Name, k.Max, lo)
	} else if b := drawBudget(k); b < 0 {
		r.errorf(k.limit(), "kind %s: the rapid back end cannot draw it: with its other parts at their longest, its text parts do not fit max %d", k.Name, k.MaxLen())
	}
}

// isText reports whether a kind's values are drawn by length (text and
// dnsname: their wiregen NLen(min, max) generator).
func isText(k *Kind) bool { _, ok := k.Impl().(interface{ isText() }); return ok }

func (textBase) isText() {}

// drawBudget is what a valid value leaves unused when its literals and
// other parts take their longest and its text parts their shortest; under 0
// the rapid generator could not keep within max.
func drawBudget(k *Kind) int {
	used := 0
	for _, it := range k.Parts {
		switch {
		case it.Field == nil:
			used += len(it.Literal)
		case isText(it.Field.Kind):
			used += it.Field.Kind.MinLen()
		default:
			used += it.Field.Kind.MaxLen()
		}
	}
	return k.MaxLen() - used
}

func (structBase) Bounds(k *Kind) (int, int) {
	lo, hi := itemsLen(k.Parts, (*Kind).MinLen), itemsLen(k.Parts, (*Kind).MaxLen)
	if k.Max > 0 && k.Max < hi {
		hi = k.Max
	}
	return lo, hi
}

func (structBase) CanHold(k *Kind, c byte) bool {
	for _, it := range k.Parts {
		if it.Literal != "" && strings.IndexByte(it.Literal, c) >= 0 || it.Field != nil && it.Field.Kind.CanHold(c) {
			return true
		}
	}
	return false
}

func (structBase) Width(*Kind) int { return 0 }

func (structBase) Decode(k *Kind, s string, off, limit int) (any, *WireError) {
	return decodeStruct(k, s, off, limit)
}

func (structBase) Encode(k *Kind, b []byte, v any) []byte { return encodeStruct(k, b, v) }

func (structBase) GoType(k *Kind) string { return k.GoType }

func (structBase) GoZero(k *Kind) string { return "(" + k.GoType + "{})" }

func (structBase) GoKind(g Go, k *Kind) {
	n, max := k.GoType, k.MaxLen()
	g.P("type %s struct {", n)
	for _, f := range fieldsOf(k.Parts) {
		g.P("%s %s // %s", Exported(f.Name), f.Kind.Impl().GoType(f.Kind), f.Kind.Doc)
	}
	g.P("}\n")
	ctx := &GoCtx{Dst: "v.", Wrap: func(e string) string { return "inField(" + e + ", field)" }, Ret: "v, ", Limit: "limit"}
	ops := k.PartOps()
	g.P("func parse%s(s string, off, limit int, field string) (v %s, err error) {", n, n)
	g.P("if limit-off > %d { return v, fieldErr(ErrTooLong, field, off, reasonLength(limit-off, %d)) }", max, max)
	g.P("var end int")
	open := EndsOpen(ops)
	g.DecodeOps(ctx, ops, false, !open)
	if !open {
		g.P("if off != limit { %s }", ctx.fail("ErrTrailing", lastField(ops, k.Name), "off", `"the value ends here"`))
	}
	g.P("return v, nil")
	g.P("}\n")
	g.P("func check%s(v %s, field string, off int) error {", n, n)
	g.P("if n := len%s(v); n > %d { return fieldErr(ErrTooLong, field, off, reasonLength(n, %d)) }", n, max, max)
	g.CheckItems(ctx, k.Parts)
	g.P("return nil")
	g.P("}\n")
	g.P("func append%s(b []byte, v %s) []byte {", n, n)
	g.AppendItems("v.", k.Parts)
	g.P("return b")
	g.P("}\n")
	g.P("func len%s(v %s) int {", n, n)
	g.P("n := 0")
	g.LenItems("v.", k.Parts)
	g.P("return n")
	g.P("}\n")
	g.P(`// Parse%[1]s parses a whole %[2]s.
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
}`, n, k.Doc, k.Name)
}

// Rapid draws the parts in order within the struct's length budget; the
// invalid generator breaks one part or overflows the budget.
func (b structBase) Rapid(g Go, k *Kind) {
	n, t, max := k.GoType, RapidType(k), k.MaxLen()
	parts := fieldsOf(k.Parts)
	lits := 0
	for _, it := range k.Parts {
		lits += len(it.Literal)
	}
	// room sums f over the text parts after part i.
	room := func(i int, f func(*Kind) int) int {
		n := 0
		for _, p := range parts[i+1:] {
			if isText(p.Kind) {
				n += f(p.Kind)
			}
		}
		return n
	}
	other := func(f func(*Kind) int) int {
		n := lits
		for _, p := range parts {
			if !isText(p.Kind) {
				n += f(p.Kind)
			}
		}
		return n
	}
	g.P("\n// %s draws a valid %s.", n, k.Doc)
	g.P("func %s() *rapid.Generator[%s] {", n, t)
	g.P("return rapid.Custom(func(t *rapid.T) (v %s) {", t)
	g.P("used := %d // literals, and the other parts at their longest", other((*Kind).MaxLen))
	for i, p := range parts {
		if isText(p.Kind) {
			g.P("v.%s = %sLen(%d, min(%d, %d-used-%d)).Draw(t, %q)", Exported(p.Name), p.Kind.GoName(), p.Kind.Min, p.Kind.Max, max, room(i, (*Kind).MinLen), p.Name)
			g.P("used += len(v.%s)", Exported(p.Name))
		} else {
			g.P("v.%s = %s().Draw(t, %q)", Exported(p.Name), p.Kind.GoName(), p.Name)
		}
	}
	g.P("_ = used")
	g.P("return v")
	g.P("})")
	g.P("}")
	if !b.HasBad(k) {
		return
	}
	var cases []string
	for _, p := range parts {
		if p.Kind.Impl().HasBad(p.Kind) {
			cases = append(cases, fmt.Sprintf("v.%s = Bad%s().Draw(t, %q)", Exported(p.Name), p.Kind.GoName(), p.Name))
		}
	}
	g.P("\n// Bad%s draws an invalid %s.", n, k.Name)
	g.P("func Bad%s() *rapid.Generator[%s] {", n, t)
	g.P("return rapid.Custom(func(t *rapid.T) (v %s) {", t)
	g.P("v = %s().Draw(t, \"valid\")", n)
	g.P("switch rapid.IntRange(0, %d).Draw(t, \"break\") {", len(cases)-1+btoi(overflows(k)))
	for i, c := range cases {
		g.P("case %d: %s", i, c)
	}
	if overflows(k) {
		g.P("default: // every part valid, the whole too long")
		g.P("used := %d // literals, and the other parts at their shortest", other((*Kind).MinLen))
		for i, p := range parts {
			if isText(p.Kind) {
				g.P("v.%s = %sLen(max(%d, %d+1-used-%d), %d).Draw(t, %q)", Exported(p.Name), p.Kind.GoName(), p.Kind.Min, max, room(i, (*Kind).MaxLen), p.Kind.Max, p.Name)
				g.P("used += len(v.%s)", Exported(p.Name))
			}
		}
	}
	g.P("}")
	g.P("return v")
	g.P("})")
	g.P("}")
}

// overflows reports whether valid text parts can make the whole too long.
func overflows(k *Kind) bool {
	n := 0
	for _, it := range k.Parts {
		switch {
		case it.Field == nil:
			n += len(it.Literal)
		case isText(it.Field.Kind):
			n += it.Field.Kind.Max
		default:
			n += it.Field.Kind.MinLen()
		}
	}
	return n > k.MaxLen()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (structBase) HasBad(k *Kind) bool {
	for _, f := range fieldsOf(k.Parts) {
		if f.Kind.Impl().HasBad(f.Kind) {
			return true
		}
	}
	return overflows(k)
}

func (structBase) DocRules(k *Kind) []string {
	return []string{"`" + strings.Join(FormatItems(k.Parts), " ") + "`"}
}

// FormatItems is the one-line grammar of items, for docs and comments.
func FormatItems(items []Item) []string {
	var parts []string
	for _, it := range items {
		switch {
		case it.Literal != "":
			parts = append(parts, strconv.Quote(it.Literal))
		case it.Field != nil:
			parts = append(parts, it.Field.Name)
		case it.Cond != nil:
			parts = append(parts, "[", strings.Join(FormatItems(it.Cond.Items), " "), "] if "+it.Cond.Field.Name+" is "+it.Cond.Code.Name)
		}
	}
	return parts
}

func (structBase) GoFuzz(k *Kind) string {
	return fmt.Sprintf("fuzzParse(f, %q, wire.Parse%s)", k.Name, k.GoType)
}

func (structBase) Lua(k *Kind) string {
	return fmt.Sprintf("{ftype = \"STRING\", width = 0, max = %d, last = %s, parts = %s, decode = struct_decode}",
		k.MaxLen(), LuaString(lastField(k.PartOps(), k.Name)), LuaOps(k.PartOps()))
}

func (structBase) LuaFuncs() []string { return []string{luaStruct} }

// luaStruct is decodeStruct (decode.go) in Lua.
const luaStruct = `-- struct_decode reads the parts of a struct kind from s[off:limit]: its
-- length, then its ops; its value lists the parts.
local function struct_decode(k, s, off, limit)
  if limit - off > k.max then
    return nil, werr("too_long", "", off, fmt("length %d, limit %d", limit - off, k.max))
  end
  local d = {s = s, off = off, framed = false, vals = {}}
  local err = run_ops(d, k.parts, limit)
  if err then return nil, err end
  if d.off ~= limit then return nil, werr("trailing", k.last, d.off, fmt("the value ends at %d", d.off)) end
  return d.vals
end`
