-- ipv4_decode reads a dotted quad of canonical decimal octets.
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

local function ipv4_value(k, v) return Address.ip(fmt("%d.%d.%d.%d", v[1], v[2], v[3], v[4])) end
