-- byte_set turns {lo, hi} ranges into a set of bytes.
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
end
