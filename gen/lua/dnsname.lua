-- last_rune_start is where the rune that ends at s[e] starts (from 1), as
-- Go's utf8.DecodeLastRuneInString(s[:e]) finds it.
local function last_rune_start(s, e)
  if byte(s, e) < 0x80 then return e end
  local lim = e - 3
  if lim < 1 then lim = 1 end
  local start = e - 1
  while start >= lim do
    local c = byte(s, start)
    if c < 0x80 or c >= 0xc0 then break end
    start = start - 1
  end
  if start < 1 then start = 1 end
  local size = utf8_len(s, start, e)
  if size == 0 then size = 1 end
  if start + size - 1 ~= e then return e end
  return start
end

-- is_fqdn is miekg/dns IsFqdn: s ends with a dot that is not escaped.
local function is_fqdn(s)
  local n = #s
  if n == 0 or byte(s, n) ~= 46 then return false end
  n = n - 1
  if n == 0 or byte(s, n) ~= 92 then return true end
  local j = n
  while j >= 1 and byte(s, j) == 92 do j = j - 1 end
  local i = -1 -- strings.LastIndexFunc(s[:n], not a backslash), from 0
  if j >= 1 then i = last_rune_start(s, j) - 1 end
  return (n - i) % 2 ~= 0
end

local function is_ddd(s, i) -- s[i..i+2] (from 1) are three digits
  local a, b, c = byte(s, i, i + 2)
  return a ~= nil and b ~= nil and c ~= nil and a >= 48 and a <= 57 and b >= 48 and b <= 57 and c >= 48 and c <= 57
end

-- is_domain_name is miekg/dns IsDomainName: labels of 1 to 63 bytes, at
-- most 255 bytes in all, no empty label but the root's final dot.
local function is_domain_name(s)
  local lenmsg = 256
  if #s == 0 then return false end
  if not is_fqdn(s) then s = s .. "." end
  local off, begin, was_dot, escape = 0, 0, false, false
  local i = 0
  while i < #s do
    local c = byte(s, i + 1)
    if c == 92 then
      escape = not escape
      if off + 1 > lenmsg then return false end
      if is_ddd(s, i + 2) then
        i = i + 3
        begin = begin + 3
      else
        i = i + 1
        begin = begin + 1
      end
      was_dot = false
    elseif c == 46 then
      escape = false
      if i == 0 and #s > 1 then return false end
      if was_dot then return false end
      was_dot = true
      local label = i - begin
      if label >= 64 then return false end
      off = off + 1 + label
      if off > lenmsg then return false end
      begin = i + 1
    else
      escape = false
      was_dot = false
    end
    i = i + 1
  end
  return not escape
end

-- dnsname_decode is a text that must also be a DNS name.
local function dnsname_decode(k, s, off, limit)
  local v, err = text_decode(k, s, off, limit)
  if err then return nil, err end
  if not is_domain_name(v) then return nil, werr("bad_field", "", off, "not a DNS name") end
  return v
end
