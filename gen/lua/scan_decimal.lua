-- scan_decimal reads a canonical decimal number of s[off:limit] up to the
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
end
