-- ---------------------------------------------------------------------------
-- The runtime: decoding messages (gen/spec/decode.go), framing streams,
-- trees, columns and registration. Nothing below depends on the spec.

-- Ops name fields and kinds; a struct's parts become fields of their own.
for _, k in pairs(kinds) do
  for _, op in ipairs(k.parts or {}) do
    if op.field then op.field = {name = op.field, kind = kinds[op.kind]} end
  end
end

-- decode_message reads message m from s, which starts with its tag: the
-- values read (those before the error if there is one) and the error.
local function decode_message(P, m, s)
  local h = P.taglen + P.digits
  if P.digits > 0 then
    if #s < h then return {}, werr("truncated", "length", #s, "missing") end
    local info = 0
    for i = P.taglen, h - 1 do
      local c = byte(s, i + 1)
      if c < 48 or c > 57 then
        return {}, werr("bad_field", "length", i, "byte " .. quote_byte(c) .. ": want a decimal digit")
      end
      info = info * 10 + c - 48
    end
    if #s < h + info then return {}, werr("truncated", m.first, #s, fmt("length %d, want %d", #s, h + info)) end
    if #s > h + info then return {}, werr("trailing", m.last, h + info, fmt("length %d, want %d", #s, h + info)) end
  end
  local d = {s = s, off = h, framed = P.digits > 0, vals = {}}
  local err = run_ops(d, m.head, #s)
  if err then return d.vals, err end
  local last = m.last_then
  if m.cond then
    local rest
    rest, last = m.else_, m.last_else
    for _, v in ipairs(d.vals) do
      if v.field == m.cond.field and v.v.value == m.cond.code then rest, last = m.then_, m.last_then end
    end
    err = run_ops(d, rest, #s)
    if err then return d.vals, err end
  end
  if d.off ~= #s then
    return d.vals, werr("trailing", last, d.off, fmt("length %d, message ends at %d", #s, d.off))
  end
  return d.vals
end

-- decode reads one message of protocol P from s (Spec.Decode): the message
-- (nil for a tag no message has), the values read and the error.
local function decode(P, s)
  if P.digits == 0 and #s > P.max then
    return nil, {}, werr("too_long", "datagram", P.max, fmt("length %d, limit %d", #s, P.max))
  end
  if #s < P.taglen then return nil, {}, werr("truncated", "type", #s, "missing") end
  local m = P.bytag[sub(s, 1, P.taglen)]
  if not m then
    return nil, {}, werr("unknown_type", "type", 0, "no message has tag " .. quote_string(sub(s, 1, P.taglen)))
  end
  local vals, err = decode_message(P, m, s)
  return m, vals, err
end

-- frame finds the first message of a stream protocol's data s: "ok" and its
-- length; "short" when s ends before the model could say (the header or
-- the info is cut); "bad" when no length follows (an unknown tag, a length
-- that is not digits), and the message is the rest of s.
local function frame(P, s)
  if #s < P.taglen then return "short" end
  if not P.bytag[sub(s, 1, P.taglen)] then return "bad" end
  local h = P.taglen + P.digits
  if #s < h then return "short" end
  local info = 0
  for i = P.taglen + 1, h do
    local c = byte(s, i)
    if c < 48 or c > 57 then return "bad" end
    info = info * 10 + c - 48
  end
  if #s < h + info then return "short" end
  return "ok", h + info
end

-- plausible reports whether a stream that starts with s could start with
-- one of P's openers.
local function plausible(P, s)
  if #s < P.taglen then
    for tag in pairs(P.openers) do
      if sub(tag, 1, #s) == s then return true end
    end
    return false
  end
  if not P.openers[sub(s, 1, P.taglen)] then return false end
  for i = P.taglen + 1, math.min(#s, P.taglen + P.digits) do
    local c = byte(s, i)
    if c < 48 or c > 57 then return false end
  end
  return true
end

-- either joins words as a list does in prose: a, b or c.
local function either(words)
  if #words == 1 then return words[1] end
  return concat(words, ", ", 1, #words - 1) .. " or " .. words[#words]
end

local function human(path)
  local s = path:gsub("[._]", " ")
  return s:sub(1, 1):upper() .. s:sub(2)
end

-- plain is a value as the Info column shows it: as it is when it is
-- printable ASCII without spaces or quotes, else Go-quoted.
local function plain(raw)
  if #raw > 0 and not find(raw, "[^%w%p]") and not find(raw, '"', 1, true) then return raw end
  return quote_string(raw)
end

local function error_text(err)
  return fmt("field %s at offset %d: %s: %s", quote_string(err.field), err.offset, (err.class:gsub("_", " ")), err.reason)
end

-- field_hf is the ProtoField of a field path for values of kind k: one per
-- path, kind and type; a path whose type differs from its first use gets
-- the type as a suffix (plumi.x-uint16), so that a filter on a name always
-- compares values of one type.
local function field_hf(P, path, k)
  local abbr = P.abbr .. "." .. path
  local t = P.ftype_of[abbr]
  if t and t ~= k.ftype then abbr = abbr .. "-" .. k.ftype:lower() end
  P.ftype_of[abbr] = k.ftype
  local key = abbr .. "\0" .. (k.name or "")
  if not P.hf_by[key] then
    local b = k.ftype:find("^UINT") and base.DEC or nil
    P.hf_by[key] = ProtoField.new(P.titles[path] or human(path), abbr, ftypes[k.ftype], k.vs, b, nil, k.doc)
    P.fields[#P.fields + 1] = P.hf_by[key]
  end
  return P.hf_by[key]
end

local fixed = {
  type = {ftype = "STRING", doc = "the message type tag"},
  length = {ftype = "UINT32", doc = "the length of the info, after the header"},
  error = {ftype = "STRING", doc = "why the message is malformed, as the wire package says it"},
  ["error.class"] = {ftype = "STRING", doc = "the error class: truncated, too_long, unknown_type, bad_field, bad_separator, trailing"},
  ["error.field"] = {ftype = "STRING", doc = "the field path the error names (datagram, type, length, a field, field.part)"},
  ["error.offset"] = {ftype = "UINT32", doc = "the offset of the error in the message, from 0"},
  ["error.reason"] = {ftype = "STRING", doc = "what is wrong"},
  unframed = {ftype = "FRAMENUM", doc = "stream data after a header that frames nothing, in this frame"},
}

local code_name = {ftype = "STRING", name = "", doc = "the name of the code"}

-- describe is how the tree shows a value of kind k at path: its
-- ProtoField, its title, the ProtoField of its name (a code's, PATH.name),
-- and the descriptions of its parts.
local function describe(P, path, k)
  local d = {hf = field_hf(P, path, k), hname = P.titles[path] or human(path), sub = {}}
  if k.vs then d.name_hf = field_hf(P, path .. ".name", code_name) end
  for _, op in ipairs(k.parts or {}) do
    if op.field then d.sub[op.field.name] = describe(P, path .. "." .. op.field.name, op.field.kind) end
  end
  return d
end

-- setup makes P's Proto, ProtoFields and experts, and resolves its tables.
local function setup(P)
  P.abbr = P.name:lower()
  P.proto = Proto(P.name, P.name .. ": " .. P.doc)
  P.fields, P.hf_by, P.ftype_of, P.hf, P.bytag = {}, {}, {}, {}, {}
  for _, name in ipairs({"type", "length", "error", "error.class", "error.field", "error.offset", "error.reason"}) do
    if name ~= "length" or P.digits > 0 then P.hf[name] = field_hf(P, name, fixed[name]) end
  end
  if P.digits > 0 then P.hf.unframed = field_hf(P, "unframed", fixed.unframed) end
  P.lost = {} -- stream direction: the frame whose header framed nothing
  -- The experts' names, so that no field takes them.
  P.ftype_of[P.abbr .. ".malformed"], P.ftype_of[P.abbr .. ".dissector_bug"] = "EXPERT", "EXPERT"
  local openers = {}
  for _, tag in ipairs(P.openers) do openers[tag] = true end
  P.openers = openers
  for _, m in ipairs(P.messages) do
    P.bytag[m.tag] = m
    local byname = {}
    for _, f in ipairs(m.fields) do
      f.kind = kinds[f.kind]
      local d = describe(P, f.name, f.kind)
      f.hf, f.hname, f.name_hf, f.sub = d.hf, d.hname, d.name_hf, d.sub
      byname[f.name] = f
    end
    for _, ops in ipairs({m.head, m.then_, m.else_}) do
      for _, op in ipairs(ops) do
        if op.field then op.field = byname[op.field] end
      end
    end
    if m.cond then m.cond.field = byname[m.cond.field] end
  end
  P.malformed = ProtoExpert.new(P.abbr .. ".malformed", "Malformed " .. P.name .. " message",
    expert.group.MALFORMED, expert.severity.ERROR)
  P.bug = ProtoExpert.new(P.abbr .. ".dissector_bug", "The " .. P.name .. " dissector failed",
    expert.group.MALFORMED, expert.severity.ERROR)
  P.proto.fields = P.fields
  P.proto.experts = {P.malformed, P.bug}
end

-- range is n bytes of tvb from off; none at the end of the message.
local function range(tvb, off, n)
  if n <= 0 then return tvb:range(off, 0) end
  return tvb:range(off, n)
end

-- add_value adds one value v, as description f says, at base_off in tvb,
-- with its name (a code's) and its parts below it.
local function add_value(tree, tvb, base_off, s, f, v)
  local k = v.field.kind
  local raw = sub(s, v.off + 1, v.off + v.len)
  local r = range(tvb, base_off + v.off, v.len)
  local item
  if k.value then
    item = tree:add(f.hf, r, k.value(k, v.v, raw))
  else
    item = tree:add_packet_field(f.hf, r, ENC_UTF_8)
  end
  if k.label then item:set_text(f.hname .. ": " .. k.label(k, v.v, raw)) end
  if f.name_hf then item:add(f.name_hf, r, k.show(k, v.v, raw)):set_generated() end
  if k.parts then
    for _, pv in ipairs(v.v) do add_value(item, tvb, base_off, s, f.sub[pv.field.name], pv) end
  end
  return item
end

-- template renders a message's summary template from the spec: each
-- field by its shown value, a group only when all its fields are there.
local function template(parts, shown)
  local out = {}
  for _, p in ipairs(parts) do
    if p.text then
      out[#out + 1] = p.text
    elseif p.field then
      if shown[p.field] == nil then return nil end
      out[#out + 1] = shown[p.field]
    else
      out[#out + 1] = template(p.group, shown) or ""
    end
  end
  return concat(out)
end

-- summary is a message in the Info column: its tag (and a code that follows
-- it, RL0), then the spec's summary of it, or else the code's name and the
-- other fields as name=value; and the error.
local function summary(P, m, s, vals, err)
  local head = plain(sub(s, 1, P.taglen))
  local words, shown = {}, {}
  for i, v in ipairs(vals) do
    local k = v.field.kind
    local raw = sub(s, v.off + 1, v.off + v.len)
    shown[v.field.name] = k.show and k.show(k, v.v, raw) or plain(raw)
    if k.code and i == 1 and v.off == P.taglen + P.digits then
      head = head .. raw
      words[#words + 1] = shown[v.field.name]
    else
      words[#words + 1] = v.field.name .. "=" .. shown[v.field.name]
    end
  end
  local line = m and m.summary and not err and template(m.summary, shown)
  if line then words = {line} end
  if err then words[#words + 1] = "[Malformed: " .. error_text(err) .. "]" end
  if #words == 0 then return head end
  return head .. " " .. concat(words, " ")
end

-- render adds message s, at base_off in tvb, to the tree: its header, its
-- values, and its error. It returns the message's summary.
local function render(P, tvb, base_off, tree, m, vals, err, s)
  local t = tree:add(P.proto, range(tvb, base_off, #s))
  if #s >= P.taglen then
    local item = t:add_packet_field(P.hf.type, range(tvb, base_off, P.taglen), ENC_UTF_8)
    local tag = plain(sub(s, 1, P.taglen))
    if m then
      local role = m.answers and (", the reply to " .. either(m.answers)) or (m.role == "request" and ", a request" or "")
      item:set_text(fmt("Type: %s (%s%s: %s)", tag, m.name, role, m.doc))
    else
      item:set_text("Type: " .. tag .. " (no such message)")
    end
  end
  local h = P.taglen + P.digits
  if P.digits > 0 and #s >= h and not find(sub(s, P.taglen + 1, h), "%D") then
    t:add(P.hf.length, range(tvb, base_off + P.taglen, P.digits), tonumber(sub(s, P.taglen + 1, h)))
  end
  for _, v in ipairs(vals) do
    local item = add_value(t, tvb, base_off, s, v.field, v)
    local sig = m and m.signature
    if sig and sig.field == v.field.name then
      item:append_text(fmt(" (signs bytes 0 to %d: the message before its %s)", v.off - sig.sep - 1, quote_string(sub(s, v.off - sig.sep + 1, v.off))))
    end
  end
  local sum = summary(P, m, s, vals, err)
  t:append_text(", " .. sum)
  if err then
    local text = error_text(err)
    local r = range(tvb, base_off + err.offset, #s - err.offset)
    local e = t:add(P.hf.error, r, text)
    e:add(P.hf["error.class"], r, err.class)
    e:add(P.hf["error.field"], r, err.field)
    e:add(P.hf["error.offset"], r, err.offset)
    e:add(P.hf["error.reason"], r, err.reason)
    e:add_proto_expert_info(P.malformed, P.name .. (m and (" " .. m.tag) or "") .. ": " .. text)
  end
  return sum
end

-- columns sets the Protocol and Info columns, or appends to them when P
-- has already set them in this dissection (several messages in a segment).
local function columns(P, pinfo, sums)
  if #sums == 0 then return end
  local text = concat(sums, " | ")
  if tostring(pinfo.cols.protocol) == P.name then
    pinfo.cols.info:append(" | " .. text)
  else
    pinfo.cols.protocol = P.name
    pinfo.cols.info = text
  end
end

local fin_field
do
  local ok, f = pcall(Field.new, "tcp.flags.fin")
  if ok then fin_field = f end
end

local stream_field
do
  local ok, f = pcall(Field.new, "tcp.stream")
  if ok then stream_field = f end
end

-- stream_key names the direction of the TCP stream being dissected: its
-- tcp.stream index, or its addresses and ports when no tree is built
-- (field extractors see only what a tree holds).
local function stream_key(pinfo)
  local all = stream_field and {stream_field()} or {}
  local last = all[#all]
  if last ~= nil then return tostring(last.value) .. ":" .. tostring(pinfo.src_port) end
  return tostring(pinfo.src) .. ":" .. tostring(pinfo.src_port) .. ">" .. tostring(pinfo.dst) .. ":" .. tostring(pinfo.dst_port)
end

-- fin reports whether the TCP segment being dissected ends its stream. It
-- cannot tell when no tree is built (tshark -2 without a filter: the first
-- pass): then a message cut by the end of the stream stays a segment of a
-- PDU being reassembled, as with any protocol over TCP.
local function fin()
  if not fin_field then return false end
  local all = {fin_field()}
  local last = all[#all]
  return last ~= nil and last.value == true
end

-- dissect_one shows the whole payload as one message: a datagram, or a
-- segment of a stream protocol without a length prefix. A heuristic call
-- claims it only if it decodes.
local function dissect_one(P, tvb, pinfo, tree, heuristic)
  if heuristic then -- every datagram no one else took: refuse cheaply
    if tvb:len() < P.taglen or (P.digits == 0 and tvb:len() > P.max) then return false end
    if not P.bytag[tvb:raw(0, P.taglen)] then return false end
  end
  local s = tvb:raw(0, tvb:len())
  local m, vals, err = decode(P, s)
  if heuristic and (err or (P.transport == "tcp" and not P.openers[m.tag])) then return false end
  columns(P, pinfo, {render(P, tvb, 0, tree, m, vals, err, s)})
  if heuristic then return true end
  return tvb:len()
end

-- dissect_stream frames a stream protocol's messages: several in a
-- segment, one across segments (asking TCP for one more segment until it
-- is whole). A message the stream ends inside (the segment has FIN) is
-- decoded as it is, truncated. After a header that frames nothing (an
-- unknown tag, a length that is not digits) the rest of the segment is one
-- malformed message, and what follows in that direction is not framed at
-- all, as a reader of the stream would stop there.
local function dissect_stream(P, tvb, pinfo, tree)
  local s = tvb:raw(0, tvb:len())
  local off, sums, ended = 0, {}, fin()
  local key = stream_key(pinfo)
  local lost = P.lost[key]
  if lost and pinfo.number > lost then
    local t = tree:add(P.proto, tvb:range(0, tvb:len()))
    t:add(P.hf.unframed, tvb:range(0, tvb:len()), lost):set_text(fmt("After the header of frame %d, which frames nothing: not framed", lost))
    columns(P, pinfo, {fmt("[not framed: after the header of frame %d, which frames nothing]", lost)})
    return tvb:len()
  end
  while off < #s do
    local rest = sub(s, off + 1)
    local st, n = frame(P, rest)
    if st == "short" and not ended then
      pinfo.desegment_offset = off
      pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
      break
    end
    if st ~= "ok" then n = #rest end
    if st == "bad" and not (P.lost[key] and P.lost[key] < pinfo.number) then P.lost[key] = pinfo.number end
    local msg = sub(rest, 1, n)
    local m, vals, err = decode(P, msg)
    sums[#sums + 1] = render(P, tvb, off, tree, m, vals, err, msg)
    off = off + n
  end
  columns(P, pinfo, sums)
  return tvb:len()
end

-- heuristic_stream claims a connection whose data starts with an opener:
-- a whole one that decodes (then the conversation is P's), or the start of
-- one, reassembled until it is whole.
local function heuristic_stream(P, tvb, pinfo, tree)
  -- Every segment no one else took: refuse cheaply, by its first bytes.
  if not plausible(P, tvb:raw(0, math.min(tvb:len(), P.taglen + P.digits))) then return false end
  local s = tvb:raw(0, tvb:len())
  local st, n = frame(P, s)
  if st == "ok" then
    local m, _, err = decode(P, sub(s, 1, n))
    if err or not P.openers[m.tag] then return false end
    pinfo.conversation = P.proto
  elseif st ~= "short" or fin() or not plausible(P, s) then
    return false
  end
  dissect_stream(P, tvb, pinfo, tree)
  return true
end

-- guard runs a dissector function under pcall: a failure of the dissector
-- is shown as an expert note, never raised. A heuristic that fails claims
-- nothing; a dissector that fails has taken the bytes.
local function guard(P, fn, heuristic)
  return function(tvb, pinfo, tree)
    local ok, r = pcall(fn, P, tvb, pinfo, tree)
    if ok then return r end
    pcall(function()
      tree:add(P.proto, tvb:range(0, tvb:len())):add_proto_expert_info(P.bug, "dissector error: " .. tostring(r))
    end)
    if heuristic then return false end
    return tvb:len()
  end
end

local function register(P)
  setup(P)
  local stream = P.transport == "tcp" and P.digits > 0
  P.proto.dissector = guard(P, stream and dissect_stream or dissect_one, false)
  local ports = DissectorTable.get(P.transport .. ".port")
  if P.port > 0 then
    ports:add(P.port, P.proto)
  else
    ports:add_for_decode_as(P.proto)
  end
  if stream then
    P.proto:register_heuristic(P.transport, guard(P, heuristic_stream, true))
  else
    P.proto:register_heuristic(P.transport, guard(P, function(P, tvb, pinfo, tree)
      return dissect_one(P, tvb, pinfo, tree, true)
    end, true))
  end
end

local ready = {}
for _, P in ipairs(protocols) do
  local ok, err = pcall(register, P)
  if ok then
    ready[P.name] = P
  else
    io.stderr:write("mi.lua: protocol " .. P.name .. " is not dissected: " .. tostring(err) .. "\n")
  end
end

-- What other Lua scripts (and the tests) may use: the tables, and the
-- decoders as the model has them. parse_kind reads a whole value of a kind
-- (Kind.ParseKind): the value, or nil and the error. decode reads one
-- message of a protocol (Spec.Decode): the message (nil for an unknown
-- tag), the values read ({field, v, off, len}; a struct's v lists its
-- parts) and the error. An error is {class, field, offset, reason}.
_G.mi_dissector = {
  source = debug and debug.getinfo and debug.getinfo(1, "S").source or "mi.lua",
  kinds = kinds,
  protocols = ready,
  parse_kind = function(name, s)
    local k = kinds[name]
    local v, err = k.decode(k, s, 0, #s)
    if err then
      if err.field == "" then err.field = name else err.field = name .. "." .. err.field end
      return nil, err
    end
    return v
  end,
  decode = function(name, s) return decode(ready[name], s) end,
}
