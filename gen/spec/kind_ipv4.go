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

func (ipv4Base) DocRules(*Kind) []string {
	return []string{"four decimal octets 0..255 joined by `.`; no sign, no leading zero"}
}

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
