package spec

import (
	"fmt"
	"strconv"
	"strings"
)

// decimal is what the unsigned bases share: a canonical decimal number
// (no sign, no leading zero) in a range that fits bits.
type decimal struct{ bits int }

func (decimal) Attrs() []string { return []string{"min", "max"} }

func (d decimal) top() int { return 1<<d.bits - 1 }

// Check defaults max to the type's top and checks the range.
func (d decimal) Check(k *Kind, r *errs) {
	if _, ok := k.Attrs["max"]; !ok {
		k.Max = d.top()
	}
	switch {
	case k.Max > d.top():
		r.errorf(k.limit(), "kind %s: max %d does not fit %s (at most %d)", k.Name, k.Max, k.Base, d.top())
	case k.Min > k.Max:
		r.errorf(k.Attrs["min"], "kind %s: min %d is over max %d", k.Name, k.Min, k.Max)
	}
}

func (decimal) Bounds(k *Kind) (int, int) {
	return len(strconv.Itoa(k.Min)), len(strconv.Itoa(k.Max))
}

func (decimal) CanHold(_ *Kind, c byte) bool { return isDigit(c) }

func (decimal) Width(*Kind) int { return 0 }

// uint16Base is a decimal 0..65535.
type uint16Base struct{ decimal }

func (uint16Base) Name() string { return Uint16 }

func (decimal) Decode(k *Kind, s string, off, limit int) (any, *WireError) {
	v, next, reason := scanDecimal(s, off, limit, k.Max)
	switch {
	case reason != "":
	case next != limit:
		reason = "not a decimal number"
	case v < k.Min:
		reason = "under " + strconv.Itoa(k.Min)
	}
	if reason != "" {
		return nil, wireErr("bad_field", "", off, "%s", reason)
	}
	return v, nil
}

func (decimal) Encode(_ *Kind, b []byte, v any) []byte {
	return strconv.AppendInt(b, int64(v.(int)), 10)
}

func (d decimal) GoType(*Kind) string { return fmt.Sprintf("uint%d", d.bits) }

func (decimal) GoZero(*Kind) string { return "0" }

func (d decimal) GoKind(g Go, k *Kind) {
	g.P(`func parse%[1]s(s string, off, limit int, field string) (%[4]s, error) {
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

func len%[1]s(v %[4]s) int { return decimalLen(int(v)) }`, k.GoName(), k.Min, k.Max, d.GoType(k))
}

func (d decimal) Rapid(g Go, k *Kind) {
	n, t := k.GoName(), d.GoType(k)
	g.P("\n// %s draws a valid %s.", n, k.Name)
	g.P("func %s() *rapid.Generator[%s] {", n, t)
	g.P("return rapid.Map(rapid.IntRange(%d, %d), func(v int) %s { return %s(v) })", k.Min, k.Max, t, t)
	g.P("}")
	if !d.HasBad(k) {
		return
	}
	var gens []string
	if k.Min > 0 {
		gens = append(gens, fmt.Sprintf("rapid.IntRange(0, %d)", k.Min-1))
	}
	if k.Max < d.top() {
		gens = append(gens, fmt.Sprintf("rapid.IntRange(%d, %d)", k.Max+1, d.top()))
	}
	g.P("\n// Bad%s draws an out-of-range %s.", n, k.Name)
	g.P("func Bad%s() *rapid.Generator[%s] {", n, t)
	g.P("return rapid.Map(rapid.OneOf(%s), func(v int) %s { return %s(v) })", strings.Join(gens, ", "), t, t)
	g.P("}")
}

// Only a range narrower than the Go type's leaves values to refuse.
func (d decimal) HasBad(k *Kind) bool { return k.Min > 0 || k.Max < d.top() }

func (decimal) DocRules(k *Kind) []string {
	return []string{fmt.Sprintf("decimal %d..%d; no sign, no leading zero", k.Min, k.Max)}
}

// The wire package exports no parser of a lone value of this base.
func (decimal) GoFuzz(*Kind) string { return "" }

func (d decimal) Lua(k *Kind) string {
	return fmt.Sprintf("{ftype = \"UINT%d\", width = 0, min = %d, max = %d, decode = decimal_decode, value = decimal_value}", d.bits, k.Min, k.Max)
}

func (decimal) LuaFuncs() []string { return []string{luaScanDecimal, luaDecimal} }

// luaDecimal is decimal.Decode in Lua.
const luaDecimal = `-- decimal_decode reads a canonical decimal number in the kind's range.
local function decimal_decode(k, s, off, limit)
  local v, next, reason = scan_decimal(s, off, limit, k.max)
  if not reason then
    if next ~= limit then reason = "not a decimal number"
    elseif v < k.min then reason = "under " .. k.min end
  end
  if reason then return nil, werr("bad_field", "", off, reason) end
  return v
end

local function decimal_value(k, v) return v end`
