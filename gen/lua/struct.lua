-- struct_decode reads the parts of a struct kind from s[off:limit]: its
-- length, then its ops; its value lists the parts.
local function struct_decode(k, s, off, limit)
  if limit - off > k.max then
    return nil, werr("too_long", "", off, fmt("length %d, limit %d", limit - off, k.max))
  end
  local d = {s = s, off = off, framed = false, vals = {}}
  local err = run_ops(d, k.parts, limit)
  if err then return nil, err end
  if d.off ~= limit then return nil, werr("trailing", k.last, d.off, fmt("the value ends at %d", d.off)) end
  return d.vals
end
