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

func (textBase) Bounds(k *Kind) (int, int) { return k.Min, k.Max }

func (textBase) CanHold(k *Kind, c byte) bool { return k.Allowed[c] }

func (textBase) Width(*Kind) int { return 0 }

func (textBase) Decode(k *Kind, s string, off, limit int) (any, *WireError) {
	return decodeText(k, s, off, limit)
}

func (textBase) Encode(_ *Kind, b []byte, v any) []byte { return append(b, v.(string)...) }

func (textBase) GoType(*Kind) string { return "string" }

func (textBase) GoZero(*Kind) string { return `""` }

func (textBase) GoKind(g Go, k *Kind) { goText(g, k, false) }

// goText writes a text kind's functions; dns adds the DNS name check.
func goText(g Go, k *Kind, dns bool) {
	n := k.GoName()
	set := Lower(n) + "Bytes"
	g.P("func check%s(v string, field string, off int) error {", n)
	if k.Min > 0 {
		g.P("if len(v) < %d { return fieldErr(ErrBadField, field, off, reasonShort(len(v), %d)) }", k.Min, k.Min)
	}
	g.P("if len(v) > %d { return fieldErr(ErrTooLong, field, off, reasonLength(len(v), %d)) }", k.Max, k.Max)
	deny := denied(k)
	few := len(deny) <= 3 && !k.UTF8
	hi := false // whether the scan below tracks high bytes for the UTF-8 check
	switch {
	case len(deny) == 0:
		// every byte allowed: nothing to scan
	case few:
		// A few denied bytes: IndexByte scans faster than a per-byte test.
		g.P("if i := indexAnyByte(v, %q); i >= 0 { return fieldErr(ErrBadField, field, off+i, reasonByte(v[i])) }", deny)
	default:
		if hi = k.UTF8; hi {
			g.P("var hi byte // any byte >= 0x80 means UTF-8 to check")
		}
		g.P("for i := 0; i < len(v); i++ {")
		g.P("if !%s.has(v[i]) { return fieldErr(ErrBadField, field, off+i, reasonByte(v[i])) }", set)
		if k.UTF8 {
			g.P("hi |= v[i]")
		}
		g.P("}")
	}
	if k.UTF8 {
		goUTF8(g, k, hi)
	}
	if dns {
		g.P("if _, ok := dns.IsDomainName(v); !ok { return fieldErr(ErrBadField, field, off, \"not a DNS name\") }")
	}
	g.P("return nil")
	g.P("}\n")
	g.P("func parse%s(s string, off, limit int, field string) (string, error) {", n)
	g.P("v := s[off:limit]")
	g.P("return v, check%s(v, field, off)", n)
	g.P("}\n")
	g.P("func append%s(b []byte, v string) []byte { return append(b, v...) }\n", n)
	g.P("func len%s(v string) int { return len(v) }\n", n)
	g.P("// Check%s reports whether v is a valid %s.", n, k.Name)
	g.P("func Check%s(v string) error { return check%s(v, %q, 0) }\n", n, n, k.Name)
	goRuneSet(g, k)
	if few || len(deny) == 0 {
		return // checked without a byte set
	}
	var words [8]uint32
	for c := 0; c < 256; c++ {
		if k.Allowed[c] {
			words[c>>5] |= 1 << (c & 31)
		}
	}
	g.P("// %s holds the bytes a %s may contain.", set, k.Name)
	g.P("var %s = byteSet{%#08x, %#08x, %#08x, %#08x, %#08x, %#08x, %#08x, %#08x}", set,
		words[0], words[1], words[2], words[3], words[4], words[5], words[6], words[7])
}

// goUTF8 writes the checks of a UTF-8 kind: the encoding, then the code
// points it denies. hi says the byte scan before it tracked the high bytes:
// ASCII text then skips both.
func goUTF8(g Go, k *Kind, hi bool) {
	bad := "{ return fieldErr(ErrBadField, field, off+badUTF8(v), \"invalid UTF-8\") }"
	switch {
	case len(k.DenyRunes) == 0 && hi:
		g.P("if hi >= 0x80 && !utf8.ValidString(v) %s", bad)
		return
	case hi:
		g.P("if hi >= 0x80 {")
		defer g.P("}")
	}
	g.P("if !utf8.ValidString(v) %s", bad)
	if len(k.DenyRunes) > 0 {
		g.P("if i, r := %sRunes.index(v); i >= 0 { return fieldErr(ErrBadField, field, off+i, reasonRune(r)) }", Lower(k.GoName()))
	}
}

// goRuneSet writes the code points a kind denies, for goUTF8's check.
func goRuneSet(g Go, k *Kind) {
	if len(k.DenyRunes) == 0 {
		return
	}
	g.P("// %sRunes holds the code points a %s may not contain: %s.", Lower(k.GoName()), k.Name, RunesString(k.DenyRunes))
	g.P("var %sRunes = runeSet%s\n", Lower(k.GoName()), goRunes(k.DenyRunes))
}

// goRunes is a composite literal of ranges: {{0x80, 0x9f}, {0x61c, 0x61c}}.
func goRunes(rs []RuneRange) string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("{%#x, %#x}", r.Lo, r.Hi))
	}
	return "{" + strings.Join(out, ", ") + "}"
}

// denied lists the bytes a text kind may not hold.
func denied(k *Kind) string {
	var b []byte
	for c := 0; c < 256; c++ {
		if !k.Allowed[c] {
			b = append(b, byte(c))
		}
	}
	return string(b)
}

func (textBase) Rapid(g Go, k *Kind) { rapidText(g, k, "text") }

// rapidText writes the generators of a text kind; draw names the wiregen
// function that draws from its rule.
func rapidText(g Go, k *Kind, draw string) {
	n := k.GoName()
	var set, deny strings.Builder
	high := false
	for c := 0; c < 256; c++ {
		switch {
		case k.Allowed[c] && c < 0x80:
			set.WriteByte(byte(c))
		case k.Allowed[c]:
			high = true
		default:
			deny.WriteByte(byte(c))
		}
	}
	runes := ""
	if len(k.DenyRunes) > 0 {
		runes = ", runes: [][2]rune" + goRunes(k.DenyRunes)
	}
	g.P("\nvar rule%s = textRule{min: %d, max: %d, set: %q, high: %v, utf8: %v, deny: %q%s}\n",
		n, k.Min, k.Max, set.String(), high, k.UTF8, deny.String(), runes)
	g.P("// %sLen draws a valid %s of min to max bytes.", n, k.Name)
	g.P("func %sLen(min, max int) *rapid.Generator[string] { return %s(rule%s, min, max) }\n", n, draw, n)
	g.P("// %s draws a valid %s: %s.", n, k.Name, k.Doc)
	g.P("func %s() *rapid.Generator[string] { return %sLen(%d, %d) }\n", n, n, k.Min, k.Max)
	g.P("// Bad%s draws an invalid %s.", n, k.Name)
	g.P("func Bad%s() *rapid.Generator[string] { return badText(rule%s, %v) }", n, n, draw == "dnsName")
}

// A value longer than max is always invalid.
func (textBase) HasBad(*Kind) bool { return true }

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

func (textBase) GoFuzz(k *Kind) string {
	return fmt.Sprintf("fuzzCheck(f, %q, wire.Check%s)", k.Name, k.GoName())
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
