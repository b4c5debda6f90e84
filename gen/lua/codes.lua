-- codes_decode reads one digit that must be one of the kind's codes.
local function codes_decode(k, s, off)
  local c = byte(s, off + 1)
  local v = k.values[c - 48]
  if v then return v end
  return nil, werr("bad_field", "", off, "byte " .. quote_byte(c) .. ": no such code")
end

local function codes_value(k, v) return v.value end
local function codes_show(k, v) return v.name end
local function codes_label(k, v) return fmt("%s (%d): %s", v.name, v.value, v.doc) end
