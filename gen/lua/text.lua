-- byte_set turns {lo, hi} ranges into a set of bytes.
local function byte_set(ranges)
  local set = {}
  for _, r in ipairs(ranges) do
    for c = r[1], r[2] do set[c] = true end
  end
  return set
end

-- The class of a byte in a text kind, as wire's byteClass has it (nil: the
-- kind does not allow the byte).
local PLAIN, UTF8, DOT = 1, 2, 3

-- byte_class turns the {lo, hi} ranges of the bytes a text kind allows
-- into the class of each: plain, part of UTF-8 (a byte over 0x7f of a utf8
-- kind), or a host name's dot between labels.
local function byte_class(ranges, utf8, host)
  local class = {}
  for _, r in ipairs(ranges) do
    for c = r[1], r[2] do
      if host and c == 46 then class[c] = DOT
      elseif utf8 and c >= 0x80 then class[c] = UTF8
      else class[c] = PLAIN end
    end
  end
  return class
end

-- rune_denied says whether the code point r is in the ascending {lo, hi}
-- ranges rs (nil: none).
local function rune_denied(rs, r)
  if not rs then return false end
  for _, rg in ipairs(rs) do
    if r < rg[1] then return false end
    if r <= rg[2] then return true end
  end
  return false
end

-- label_fault says what is wrong with the label s[a..b] (from 1) of a host
-- name of kind k, or nil: empty, over k.label_max bytes, or starting or
-- ending with a byte of k.edge.
local function label_fault(k, s, a, b)
  if b < a then return "an empty label" end
  if b - a + 1 > k.label_max then return fmt("a label over %d bytes", k.label_max) end
  if k.edge[byte(s, a)] or k.edge[byte(s, b)] then
    return "a label starts or ends with a byte of " .. k.edge_text
  end
end

-- text_fault is the first fault of s[i..e] (from 1) as a value of text
-- kind k, found in one pass over its bytes and their classes, as wire's
-- textKind.scan finds it: a byte not allowed ends the pass; the first
-- invalid UTF-8, denied code point and (for a host name, whose kind has
-- label_max) bad label are kept, and rank in that order after it. It
-- returns where the fault is (from 1) and why, or nil.
local function text_fault(k, s, i, e)
  local class = k.class
  local bad_utf8, bad_rune, rune, bad_label, label_why
  local start = i -- where the current label starts
  while i <= e do
    local c = byte(s, i)
    local cl = class[c]
    if cl == PLAIN then
      i = i + 1
    elseif cl == DOT then
      if not bad_label then
        label_why = label_fault(k, s, start, i - 1)
        if label_why then bad_label = start end
      end
      i = i + 1
      start = i
    elseif not cl then
      return i, "byte " .. quote_byte(c) .. " not allowed"
    elseif bad_utf8 then
      i = i + 1 -- once UTF-8 is broken, only the bytes are left to check
    else
      local n = utf8_len(s, i, e)
      if n == 0 then
        bad_utf8 = i
        i = i + 1
      else
        if not bad_rune then
          local r = rune_at(s, i, n)
          if rune_denied(k.deny_runes, r) then bad_rune, rune = i, r end
        end
        for j = i + 1, i + n - 1 do
          if not class[byte(s, j)] then return j, "byte " .. quote_byte(byte(s, j)) .. " not allowed" end
        end
        i = i + n
      end
    end
  end
  if k.label_max and not bad_label then
    label_why = label_fault(k, s, start, e)
    if label_why then bad_label = start end
  end
  if bad_utf8 then return bad_utf8, "invalid UTF-8" end
  if bad_rune then return bad_rune, fmt("rune U+%04X not allowed", rune) end
  if bad_label then return bad_label, "not a host name: " .. label_why end
end

-- text_decode applies a text kind's rules to s[off:limit]: its length,
-- then its bytes, UTF-8, code points and labels in one pass (text_fault).
local function text_decode(k, s, off, limit)
  local n = limit - off
  if n < k.min then return nil, werr("bad_field", "", off, fmt("length %d, at least %d", n, k.min)) end
  if n > k.max then return nil, werr("too_long", "", off, fmt("length %d, limit %d", n, k.max)) end
  local at, why = text_fault(k, s, off + 1, limit)
  if at then return nil, werr("bad_field", "", at - 1, why) end
  return sub(s, off + 1, limit)
end
