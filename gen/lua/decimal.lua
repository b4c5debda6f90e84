-- decimal_decode reads a canonical decimal number in the kind's range.
local function decimal_decode(k, s, off, limit)
  local v, next, reason = scan_decimal(s, off, limit, k.max)
  if not reason then
    if next ~= limit then reason = "not a decimal number"
    elseif v < k.min then reason = "under " .. k.min end
  end
  if reason then return nil, werr("bad_field", "", off, reason) end
  return v
end

local function decimal_value(k, v) return v end
