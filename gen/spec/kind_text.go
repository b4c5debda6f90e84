package spec

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// textBase is a run of bytes from an allowed set, with a length range.
type textBase struct{}

func (textBase) Name() string { return Text }

func (textBase) Attrs() []string {
	return []string{"min", "max", "utf8", "nocontrol", "deny", "allow", "denyrunes"}
}

func (textBase) Check(k *Kind, r *errs) {
	if _, ok := k.Attrs["max"]; !ok || k.Max == 0 {
		r.errorf(k.Pos, "kind %s: a %s needs max, at least 1", k.Name, k.Base)
	}
	if k.Min > k.Max {
		r.errorf(k.Attrs["min"], "kind %s: min %d is over max %d", k.Name, k.Min, k.Max)
	}
	if k.buildAllowed(r) && k.Min > 0 && !k.holdsAny() {
		r.errorf(k.Pos, "kind %s: allow, deny and nocontrol leave no byte a value could hold", k.Name)
	}
	k.buildDenyRunes(r)
}

func (k *Kind) holdsAny() bool {
	for _, ok := range k.Allowed {
		if ok {
			return true
		}
	}
	return false
}

// Textual reports whether k's values are runs of bytes of any length from
// Min to Max (text and the bases built on it): the parts a struct's length
// budget can shorten, which a generator draws by length.
func (k *Kind) Textual() bool { _, ok := k.Impl().(interface{ textual() }); return ok }

func (textBase) textual() {}

func (textBase) Bounds(k *Kind) (int, int) { return k.Min, k.Max }

func (textBase) CanHold(k *Kind, c byte) bool { return k.Allowed[c] }

func (textBase) Width(*Kind) int { return 0 }

func (textBase) Decode(k *Kind, s string, off, limit int) (any, *WireError) {
	return decodeText(k, s, off, limit)
}

func (textBase) Encode(_ *Kind, b []byte, v any) []byte { return append(b, v.(string)...) }

func (textBase) DocRules(k *Kind) []string { return textRules(k) }

// docByteList names each byte of set for a person: a printable one as
// itself in code, the others by name and value, so that "\r\n" reads as
// the two bytes CR and LF, not as a four-character sequence.
func docByteList(set string) string {
	names := map[byte]string{' ': "space (0x20)", '\t': "TAB (0x09)", '\n': "LF (0x0a)", '\r': "CR (0x0d)"}
	var parts []string
	for i := 0; i < len(set); i++ {
		c := set[i]
		switch name, ok := names[c]; {
		case ok:
			parts = append(parts, name)
		case c > ' ' && c < 0x7f:
			parts = append(parts, DocCode(string(c)))
		default:
			parts = append(parts, fmt.Sprintf("0x%02x", c))
		}
	}
	return strings.Join(parts, ", ")
}

func textRules(k *Kind) []string {
	var r []string
	if k.AllowSrc != "" {
		r = append(r, "only the bytes "+DocCode(k.AllowSrc))
	}
	if k.Deny != "" {
		r = append(r, "none of the bytes "+docByteList(k.Deny))
	}
	if k.NoControl {
		r = append(r, "no control bytes (0x00-0x1f, 0x7f)")
	}
	if k.UTF8 {
		r = append(r, "valid UTF-8")
	}
	if len(k.DenyRunes) > 0 {
		r = append(r, "no code point "+RunesString(k.DenyRunes))
	}
	return r
}

// DocCode shows bytes in a Markdown code span; bytes a table cannot hold,
// and what a reader would not see as it is (invalid UTF-8, controls, bidi
// controls that would turn the page around), are shown Go-quoted.
func DocCode(s string) string {
	if s == "" {
		return "(empty)"
	}
	if strings.ContainsAny(s, "|`\n\r") || strings.IndexFunc(s, func(r rune) bool { return !strconv.IsPrint(r) || r == utf8.RuneError }) >= 0 {
		s = strconv.Quote(s)
		s = strings.ReplaceAll(s, "|", `\x7c`)
	}
	return "`" + s + "`"
}

func (textBase) Lua(k *Kind) string { return luaText(k, "text_decode") }

// luaText is the Lua entry of a text kind; decode names its decoder.
func luaText(k *Kind, decode string) string {
	runes := ""
	if len(k.DenyRunes) > 0 {
		var rs []string
		for _, r := range k.DenyRunes {
			rs = append(rs, fmt.Sprintf("{%d, %d}", r.Lo, r.Hi))
		}
		runes = ", deny_runes = {" + strings.Join(rs, ", ") + "}"
	}
	return fmt.Sprintf("{ftype = \"STRING\", width = 0, min = %d, max = %d, utf8 = %v, allowed = byte_set(%s)%s, decode = %s}",
		k.Min, k.Max, k.UTF8, LuaRanges(&k.Allowed), runes, decode)
}

func (textBase) LuaFuncs() []string { return []string{luaUTF8, luaTextDecode} }

// luaUTF8 checks UTF-8 as Go does: no overlong form, no surrogate, nothing
// over U+10FFFF, a truncated sequence invalid at its first byte.
const luaUTF8 = `-- utf8_len is the length of the valid UTF-8 sequence at s[i] (from 1) that
-- ends by s[e], or 0 if there is none there (Go's rules: no overlong form,
-- no surrogate, nothing over U+10FFFF).
local function utf8_len(s, i, e)
  local c = byte(s, i)
  if c < 0x80 then return 1 end
  local n, lo, hi
  if c >= 0xc2 and c <= 0xdf then n, lo, hi = 2, 0x80, 0xbf
  elseif c == 0xe0 then n, lo, hi = 3, 0xa0, 0xbf
  elseif c == 0xed then n, lo, hi = 3, 0x80, 0x9f
  elseif c >= 0xe1 and c <= 0xef then n, lo, hi = 3, 0x80, 0xbf
  elseif c == 0xf0 then n, lo, hi = 4, 0x90, 0xbf
  elseif c == 0xf4 then n, lo, hi = 4, 0x80, 0x8f
  elseif c >= 0xf1 and c <= 0xf3 then n, lo, hi = 4, 0x80, 0xbf
  else return 0 end
  if i + n - 1 > e then return 0 end
  local c2 = byte(s, i + 1)
  if c2 < lo or c2 > hi then return 0 end
  for j = i + 2, i + n - 1 do
    local cj = byte(s, j)
    if cj < 0x80 or cj > 0xbf then return 0 end
  end
  return n
end

-- rune_at is the code point of the valid UTF-8 sequence of n bytes at s[i]
-- (from 1).
local lead_bits = {[2] = 32, [3] = 16, [4] = 8}
local function rune_at(s, i, n)
  local r = byte(s, i)
  if n == 1 then return r end
  r = r % lead_bits[n]
  for j = i + 1, i + n - 1 do r = r * 64 + byte(s, j) - 128 end
  return r
end

-- bad_utf8 is the offset (from 0) of the first byte of v that is not valid
-- UTF-8, or #v.
local function bad_utf8(v)
  local i = 1
  while i <= #v do
    local n = utf8_len(v, i, #v)
    if n == 0 then return i - 1 end
    i = i + n
  end
  return #v
end`

// luaTextDecode is decodeText (decode.go) in Lua.
const luaTextDecode = `-- byte_set turns {lo, hi} ranges into a set of bytes.
local function byte_set(ranges)
  local set = {}
  for _, r in ipairs(ranges) do
    for c = r[1], r[2] do set[c] = true end
  end
  return set
end

-- denied_rune is the offset (from 0) and value of the first code point of
-- v, valid UTF-8, in the ascending {lo, hi} ranges rs (nil: none), or nil.
local function denied_rune(rs, v)
  if not rs then return nil end
  local i = 1
  while i <= #v do
    local n = utf8_len(v, i, #v)
    local r = rune_at(v, i, n)
    for _, rg in ipairs(rs) do
      if r < rg[1] then break end
      if r <= rg[2] then return i - 1, r end
    end
    i = i + n
  end
end

-- text_decode applies a text kind's rules to s[off:limit]: its length,
-- then every byte, then UTF-8 and the code points it denies.
local function text_decode(k, s, off, limit)
  local n = limit - off
  if n < k.min then return nil, werr("bad_field", "", off, fmt("length %d, at least %d", n, k.min)) end
  if n > k.max then return nil, werr("too_long", "", off, fmt("length %d, limit %d", n, k.max)) end
  for i = off, limit - 1 do
    local c = byte(s, i + 1)
    if not k.allowed[c] then return nil, werr("bad_field", "", i, "byte " .. quote_byte(c) .. " not allowed") end
  end
  local v = sub(s, off + 1, limit)
  if k.utf8 then
    local i = bad_utf8(v)
    if i < n then return nil, werr("bad_field", "", off + i, "invalid UTF-8") end
    local j, r = denied_rune(k.deny_runes, v)
    if j then return nil, werr("bad_field", "", off + j, fmt("rune U+%04X not allowed", r)) end
  end
  return v
end`
