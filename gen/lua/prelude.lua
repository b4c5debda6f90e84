local byte, sub, find, fmt, concat = string.byte, string.sub, string.find, string.format, table.concat

-- werr is a refusal: the error class (spec/README.md), the field path ("":
-- the field being read), the offset in the message from 0, and why.
local function werr(class, field, off, reason)
  return {class = class, field = field, offset = off, reason = reason}
end

local escapes = {[7] = "\\a", [8] = "\\b", [9] = "\\t", [10] = "\\n", [11] = "\\v", [12] = "\\f", [13] = "\\r"}

-- quote_ascii is one ASCII byte inside Go quotes q (34 or 39).
local function quote_ascii(c, q)
  if escapes[c] then return escapes[c] end
  if c == q or c == 92 then return "\\" .. string.char(c) end
  if c >= 32 and c < 127 then return string.char(c) end
  return fmt("\\x%02x", c)
end

-- quote_byte is Go's %q of a byte: the character literal of the rune of
-- that value ('x', '\n', '\x01', 'é', '\u0085').
local function quote_byte(c)
  if c < 128 then return "'" .. quote_ascii(c, 39) .. "'" end
  if c < 0xa1 or c == 0xad then return fmt("'\\u%04x'", c) end
  return "'" .. string.char(0xc0 + math.floor(c / 64), 0x80 + c % 64) .. "'"
end

-- quote_string is Go's %q of a string, but for runes beyond ASCII, which
-- are kept as they are when valid UTF-8 (Go escapes those it cannot print).
local function quote_string(s)
  local out, i = {'"'}, 1
  while i <= #s do
    local c, n = byte(s, i), 1
    if c < 128 then
      out[#out + 1] = quote_ascii(c, 34)
    else
      if c >= 0xc2 and c <= 0xf4 then
        n = c >= 0xf0 and 4 or c >= 0xe0 and 3 or 2
        local ok = i + n - 1 <= #s
        for j = i + 1, i + n - 1 do
          local cj = byte(s, j)
          if not cj or cj < 0x80 or cj > 0xbf then ok = false end
        end
        if not ok then n = 1 end
      end
      out[#out + 1] = n > 1 and sub(s, i, i + n - 1) or fmt("\\x%02x", c)
    end
    i = i + n
  end
  out[#out + 1] = '"'
  return concat(out)
end

-- run_ops runs a plan's ops over d.s from d.off to limit, appending to
-- d.vals what each field holds: {field, v, off, len}. d.framed says a length
-- prefix bounds the input, so a field at its end is empty, not missing.
local function run_ops(d, ops, limit)
  local s = d.s
  for _, op in ipairs(ops) do
    if op.lit then
      if not op.found and (limit - d.off < #op.lit or sub(s, d.off + 1, d.off + #op.lit) ~= op.lit) then
        return werr("bad_separator", op.after, d.off, "want " .. quote_string(op.lit))
      end
      d.off = d.off + #op.lit
    else
      local f = op.field
      local k = f.kind
      local e
      if k.width > 0 then
        if d.off + k.width > limit then return werr("truncated", f.name, d.off, "missing") end
        e = d.off + k.width
      elseif not d.framed and d.off == #s then
        return werr("truncated", f.name, d.off, "missing")
      elseif op.term then
        local p = find(s, string.char(op.term), d.off + 1, true)
        if not p or p > limit then return werr("bad_separator", f.name, limit, "missing " .. quote_byte(op.term)) end
        e = p - 1
      else
        e = limit
      end
      local v, err = k.decode(k, s, d.off, e)
      if err then
        if err.field == "" then err.field = f.name else err.field = f.name .. "." .. err.field end
        return err
      end
      d.vals[#d.vals + 1] = {field = f, v = v, off = d.off, len = e - d.off}
      d.off = e
    end
  end
end
