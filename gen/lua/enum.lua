-- enum_decode reads one of the kind's words, compared byte for byte.
local function enum_decode(k, s, off, limit)
  local v = sub(s, off + 1, limit)
  if k.words[v] then return v end
  return nil, werr("bad_field", "", off, "not one of its words")
end
