package spec

import (
	"fmt"
	"strings"
)

// codesBase is one ASCII digit from a closed list of named values.
type codesBase struct{}

func (codesBase) Name() string { return Codes }

func (codesBase) Attrs() []string { return nil }

// The parser refuses a codes block with no value.
func (codesBase) Check(*Kind, *errs) {}

func (codesBase) Bounds(*Kind) (int, int) { return 1, 1 }

func (codesBase) CanHold(_ *Kind, c byte) bool { return isDigit(c) }

func (codesBase) Width(*Kind) int { return 1 }

func (codesBase) Decode(k *Kind, s string, off, _ int) (any, *WireError) {
	for _, c := range k.Values {
		if int(s[off]-'0') == c.Value {
			return c, nil
		}
	}
	return nil, wireErr("bad_field", "", off, "byte %q: no such code", s[off])
}

func (codesBase) Encode(_ *Kind, b []byte, v any) []byte { return append(b, byte('0'+v.(*Code).Value)) }

// The codes are listed with each message that carries them.
func (codesBase) DocRules(*Kind) []string { return nil }

func (codesBase) Lua(k *Kind) string {
	var vals, vs []string
	for _, c := range k.Values {
		vals = append(vals, fmt.Sprintf("[%d] = {value = %d, name = %s, doc = %s}", c.Value, c.Value, LuaString(c.Name), LuaString(c.Doc)))
		vs = append(vs, fmt.Sprintf("[%d] = %s", c.Value, LuaString(c.Name)))
	}
	return fmt.Sprintf("{ftype = \"UINT8\", width = 1, code = true, values = {%s}, vs = {%s}, decode = codes_decode, value = codes_value, show = codes_show, label = codes_label}",
		strings.Join(vals, ", "), strings.Join(vs, ", "))
}

func (codesBase) LuaFuncs() []string { return []string{luaCodes} }

// luaCodes is codesBase.Decode in Lua; a code shows as its name.
const luaCodes = `-- codes_decode reads one digit that must be one of the kind's codes.
local function codes_decode(k, s, off)
  local c = byte(s, off + 1)
  local v = k.values[c - 48]
  if v then return v end
  return nil, werr("bad_field", "", off, "byte " .. quote_byte(c) .. ": no such code")
end

local function codes_value(k, v) return v.value end
local function codes_show(k, v) return v.name end
local function codes_label(k, v) return fmt("%s (%d): %s", v.name, v.value, v.doc) end`
