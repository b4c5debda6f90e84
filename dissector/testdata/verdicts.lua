-- Run by tshark after mi.lua, in the dissector tests of dissector/ and gen/:
-- reads inputs from $MI_LUA_IN ("k KIND HEX" or "m PROTOCOL HEX") and writes,
-- a line for each, "ok" (and for a message its tag and each field path with
-- its bytes, in hex) or "err CLASS FIELD OFFSET".
local api = assert(rawget(_G, "mi_dissector"), "mi.lua is not loaded")
local out = assert(io.open(os.getenv("MI_LUA_OUT"), "wb"))
local bytes, digits = {}, {}
for c = 0, 255 do
  local x = string.format("%02x", c)
  bytes[x], digits[string.char(c)] = string.char(c), x
end
local function verdict(err) return string.format("err %s %s %d", err.class, err.field, err.offset) end
for line in io.lines(os.getenv("MI_LUA_IN")) do
  local what, name, h = line:match("^(%a) (%S+) (%x*)$")
  local s = h:gsub("..", bytes)
  local ok, res = pcall(function()
    if what == "k" then
      local _, err = api.parse_kind(name, s)
      return err and verdict(err) or "ok"
    end
    local m, vals, err = api.decode(name, s)
    if err then return verdict(err) end
    local words = {"ok", (m.tag:gsub(".", digits))}
    for _, v in ipairs(vals) do
      words[#words + 1] = v.field.name .. "=" .. s:sub(v.off + 1, v.off + v.len):gsub(".", digits)
      for _, pv in ipairs(v.field.kind.parts and v.v or {}) do
        words[#words + 1] = v.field.name .. "." .. pv.field.name .. "=" .. s:sub(pv.off + 1, pv.off + pv.len):gsub(".", digits)
      end
    end
    return table.concat(words, " ")
  end)
  if not ok then res = "lua " .. (tostring(res):gsub("\n", " ")) end
  out:write(res, "\n")
end
out:close()
