-- bad_label is where (from 0) the first label of v that breaks a hostname
-- kind's rules starts, and why: an empty label, one over k.label_max bytes,
-- one that starts or ends with a byte of k.edge; nil when none does.
local function bad_label(k, v)
  local at = 1
  while true do
    local dot = string.find(v, ".", at, true)
    local e = (dot or (#v + 1)) - 1
    local n = e - at + 1
    if n == 0 then return at - 1, "an empty label" end
    if n > k.label_max then return at - 1, fmt("a label over %d bytes", k.label_max) end
    if string.find(k.edge, sub(v, at, at), 1, true) or string.find(k.edge, sub(v, e, e), 1, true) then
      return at - 1, "a label starts or ends with a byte of " .. k.edge
    end
    if not dot then return nil end
    at = dot + 1
  end
end

-- hostname_decode is a text whose labels follow the kind's label and edge.
local function hostname_decode(k, s, off, limit)
  local v, err = text_decode(k, s, off, limit)
  if err then return nil, err end
  local i, why = bad_label(k, v)
  if i then return nil, werr("bad_field", "", off + i, "not a host name: " .. why) end
  return v
end
