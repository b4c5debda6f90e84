-- utf8_len is the length of the valid UTF-8 sequence at s[i] (from 1) that
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
