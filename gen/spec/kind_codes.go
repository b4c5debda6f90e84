package spec

import (
	"fmt"
	"strings"
)

// codesBase is one ASCII digit from a closed list of named values.
type codesBase struct{}

func (codesBase) Name() string { return Codes }

func (codesBase) Attrs() []string { return nil }

// The parser refuses a codes block with no value.
func (codesBase) Check(*Kind, *errs) {}

func (codesBase) Bounds(*Kind) (int, int) { return 1, 1 }

func (codesBase) CanHold(_ *Kind, c byte) bool { return isDigit(c) }

func (codesBase) Width(*Kind) int { return 1 }

func (codesBase) Decode(k *Kind, s string, off, _ int) (any, *WireError) {
	for _, c := range k.Values {
		if int(s[off]-'0') == c.Value {
			return c, nil
		}
	}
	return nil, wireErr("bad_field", "", off, "byte %q: no such code", s[off])
}

func (codesBase) Encode(_ *Kind, b []byte, v any) []byte { return append(b, byte('0'+v.(*Code).Value)) }

func (codesBase) GoType(k *Kind) string { return k.GoType }

func (codesBase) GoZero(*Kind) string { return "0" }

func (codesBase) GoKind(g Go, k *Kind) {
	t := k.GoType
	g.P("// %s is the %s: one ASCII digit on the wire.", t, k.Doc)
	g.P("type %s uint8\n", t)
	g.P("const (")
	for _, c := range k.Values {
		g.P("%s %s = %d // %s", CodeConst(k, c), t, c.Value, c.Doc)
	}
	g.P(")\n")
	for _, m := range []struct{ name, doc string }{{"String", "the code's name"}, {"Doc", "what the code means"}} {
		g.P("// %s returns %s.", m.name, m.doc)
		g.P("func (c %s) %s() string {", t, m.name)
		g.P("switch c {")
		for _, c := range k.Values {
			v := c.Name
			if m.name == "Doc" {
				v = c.Doc
			}
			g.P("case %s: return %q", CodeConst(k, c), v)
		}
		g.P("}")
		g.P("return %q + strconv.Itoa(int(c)) + \")\"", t+"(")
		g.P("}\n")
	}
	g.P("// MarshalText returns the code's name, so JSON reads %q rather than a digit.", k.Values[0].Name)
	g.P("func (c %s) MarshalText() ([]byte, error) { return []byte(c.String()), nil }\n", t)
	g.P("// UnmarshalText reads a code's name.")
	g.P("func (c *%s) UnmarshalText(b []byte) error {", t)
	g.P("switch string(b) {")
	for _, c := range k.Values {
		g.P("case %q: *c = %s", c.Name, CodeConst(k, c))
	}
	g.P("default: return errors.New(%q + strconv.Quote(string(b)))", "wire: no such "+t+": ")
	g.P("}")
	g.P("return nil")
	g.P("}\n")
	g.P("func parse%s(s string, off, limit int, field string) (%s, error) {", t, t)
	g.P("switch s[off] {")
	var names []string
	for _, c := range k.Values {
		g.P("case '%d': return %s, nil", c.Value, CodeConst(k, c))
		names = append(names, CodeConst(k, c))
	}
	g.P("}")
	g.P("return 0, fieldErr(ErrBadField, field, off, reasonByte(s[off])+\": no such code\")")
	g.P("}\n")
	g.P("func check%s(v %s, field string, off int) error {", t, t)
	g.P("switch v {")
	g.P("case %s: return nil", strings.Join(names, ", "))
	g.P("}")
	g.P("return fieldErr(ErrBadField, field, off, \"no such code: \"+v.String())")
	g.P("}\n")
	g.P("func append%s(b []byte, v %s) []byte { return append(b, '0'+byte(v)) }\n", t, t)
	g.P("func len%s(%s) int { return 1 }", t, t)
}

func (codesBase) Rapid(g Go, k *Kind) {
	n, t := k.GoName(), RapidType(k)
	var vals, ints []string
	for _, c := range k.Values {
		vals = append(vals, "wire."+CodeConst(k, c))
		ints = append(ints, fmt.Sprint(c.Value))
	}
	g.P("\n// %s draws a valid %s.", n, k.GoType)
	g.P("func %s() *rapid.Generator[%s] { return rapid.SampledFrom([]%s{%s}) }\n", n, t, t, strings.Join(vals, ", "))
	g.P("// Bad%s draws a value that is no %s.", n, k.GoType)
	g.P("func Bad%s() *rapid.Generator[%s] {", n, t)
	g.P("return rapid.Map(outside(0, 255, %s), func(v int) %s { return %s(v) })", strings.Join(ints, ", "), t, t)
	g.P("}")
}

// At most ten of the 256 values of the Go type are codes.
func (codesBase) HasBad(*Kind) bool { return true }

// The codes are listed with each message that carries them.
func (codesBase) DocRules(*Kind) []string { return nil }

// The wire package exports no parser of a lone value of this base.
func (codesBase) GoFuzz(*Kind) string { return "" }

func (codesBase) Lua(k *Kind) string {
	var vals, vs []string
	for _, c := range k.Values {
		vals = append(vals, fmt.Sprintf("[%d] = {value = %d, name = %s, doc = %s}", c.Value, c.Value, LuaString(c.Name), LuaString(c.Doc)))
		vs = append(vs, fmt.Sprintf("[%d] = %s", c.Value, LuaString(c.Name)))
	}
	return fmt.Sprintf("{ftype = \"UINT8\", width = 1, code = true, values = {%s}, vs = {%s}, decode = codes_decode, value = codes_value, show = codes_show, label = codes_label}",
		strings.Join(vals, ", "), strings.Join(vs, ", "))
}

func (codesBase) LuaFuncs() []string { return []string{luaCodes} }

// luaCodes is codesBase.Decode in Lua; a code shows as its name.
const luaCodes = `-- codes_decode reads one digit that must be one of the kind's codes.
local function codes_decode(k, s, off)
  local c = byte(s, off + 1)
  local v = k.values[c - 48]
  if v then return v end
  return nil, werr("bad_field", "", off, "byte " .. quote_byte(c) .. ": no such code")
end

local function codes_value(k, v) return v.value end
local function codes_show(k, v) return v.name end
local function codes_label(k, v) return fmt("%s (%d): %s", v.name, v.value, v.doc) end`
