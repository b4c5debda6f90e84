package spec

import "fmt"

// ipv4Base is a dotted quad of canonical decimal octets.
type ipv4Base struct{}

func (ipv4Base) Name() string { return IPv4 }

func (ipv4Base) Attrs() []string { return nil }

func (ipv4Base) Check(*Kind, *errs) {}

func (ipv4Base) Bounds(*Kind) (int, int) { return len("0.0.0.0"), len("255.255.255.255") }

func (ipv4Base) CanHold(_ *Kind, c byte) bool { return c == '.' || isDigit(c) }

func (ipv4Base) Width(*Kind) int { return 0 }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (ipv4Base) Decode(_ *Kind, s string, off, limit int) (any, *WireError) {
	var a [4]byte
	p := off
	for i := range a {
		if i > 0 {
			if p >= limit || s[p] != '.' {
				return nil, wireErr("bad_field", "", p, "want 4 decimal octets separated by dots")
			}
			p++
		}
		v, next, reason := scanDecimal(s, p, limit, 255)
		if reason != "" {
			return nil, wireErr("bad_field", "", p, "octet: %s", reason)
		}
		a[i], p = byte(v), next
	}
	if p != limit {
		return nil, wireErr("bad_field", "", p, "want 4 decimal octets separated by dots")
	}
	return a, nil
}

func (ipv4Base) Encode(_ *Kind, b []byte, v any) []byte {
	a := v.([4]byte)
	return fmt.Appendf(b, "%d.%d.%d.%d", a[0], a[1], a[2], a[3])
}

func (ipv4Base) GoType(*Kind) string { return "netip.Addr" }

func (ipv4Base) GoZero(*Kind) string { return "(netip.Addr{})" }

func (ipv4Base) GoKind(g Go, k *Kind) {
	g.P(`func parse%[1]s(s string, off, limit int, field string) (netip.Addr, error) {
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

func (ipv4Base) Rapid(g Go, k *Kind) {
	n := k.GoName()
	g.P("\n// %s draws an IPv4 address.", n)
	g.P("func %s() *rapid.Generator[netip.Addr] {", n)
	g.P("return rapid.Custom(func(t *rapid.T) netip.Addr {")
	g.P("var a [4]byte")
	g.P("for i := range a { a[i] = rapid.Byte().Draw(t, \"octet\") }")
	g.P("return netip.AddrFrom4(a)")
	g.P("})")
	g.P("}\n")
	g.P("// Bad%s draws what is not an IPv4 address.", n)
	g.P("func Bad%s() *rapid.Generator[netip.Addr] {", n)
	g.P("return rapid.SampledFrom([]netip.Addr{{}, netip.IPv6Loopback(), netip.MustParseAddr(\"::ffff:1.2.3.4\")})")
	g.P("}")
}

// The zero Addr and IPv6 addresses are no IPv4 address.
func (ipv4Base) HasBad(*Kind) bool { return true }

func (ipv4Base) DocRules(*Kind) []string {
	return []string{"four decimal octets 0..255 joined by `.`; no sign, no leading zero"}
}

// The wire package exports no parser of a lone value of this base.
func (ipv4Base) GoFuzz(*Kind) string { return "" }

func (ipv4Base) Lua(*Kind) string {
	return `{ftype = "IPv4", width = 0, decode = ipv4_decode, value = ipv4_value}`
}

func (ipv4Base) LuaFuncs() []string { return []string{luaScanDecimal, luaIPv4} }

// luaScanDecimal is scanDecimal (decode.go) in Lua.
const luaScanDecimal = `-- scan_decimal reads a canonical decimal number of s[off:limit] up to the
-- first byte that is not a digit: the number, where it stopped, and why it
-- is no number (nil if it is one).
local function scan_decimal(s, off, limit, max)
  local n, p = 0, off
  while p < limit do
    local c = byte(s, p + 1)
    if c < 48 or c > 57 then break end
    n = n * 10 + c - 48
    if n > max then return 0, p, "over " .. max end
    p = p + 1
  end
  if p == off then return 0, p, "want a decimal digit" end
  if byte(s, off + 1) == 48 and p - off > 1 then return 0, p, "leading zero" end
  return n, p, nil
end`

// luaIPv4 is ipv4Base.Decode in Lua; the tree gets an Address.
const luaIPv4 = `-- ipv4_decode reads a dotted quad of canonical decimal octets.
local function ipv4_decode(k, s, off, limit)
  local a, p = {}, off
  for i = 1, 4 do
    if i > 1 then
      if p >= limit or byte(s, p + 1) ~= 46 then
        return nil, werr("bad_field", "", p, "want 4 decimal octets separated by dots")
      end
      p = p + 1
    end
    local v, next, reason = scan_decimal(s, p, limit, 255)
    if reason then return nil, werr("bad_field", "", p, "octet: " .. reason) end
    a[i], p = v, next
  end
  if p ~= limit then return nil, werr("bad_field", "", p, "want 4 decimal octets separated by dots") end
  return a
end

local function ipv4_value(k, v) return Address.ip(fmt("%d.%d.%d.%d", v[1], v[2], v[3], v[4])) end`
