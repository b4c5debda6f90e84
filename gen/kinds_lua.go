package main

import (
	"embed"
	"fmt"
	"strings"

	"mi/gen/spec"
)

// The Wireshark back end's part of each base: the kind's entry in
// dissector/mi.lua's table of kinds, and the Lua functions its entries
// call. Those functions, and the runtime around them, never vary with the
// spec: they are Lua source in gen/lua, embedded, each written once into
// the dissector when a kind in use needs it.
//
// The contract of a kind's Lua table, which entry returns as a table
// constructor, is:
//
//	ftype   the ProtoField type of a value: "STRING", "UINT8", "UINT16", "IPv4"
//	width   the length of every value, or 0 if values vary (Base.Width)
//	decode  function(k, s, off, limit): reads s[off:limit] (offsets from 0,
//	        as in decode.go) and returns the value, or nil and an error made
//	        by werr(class, field, offset, reason), whose field is "" for the
//	        field itself, or the part of a struct
//	parts   a struct: the ops of its parts (luaOps); its value is a list of
//	        {field = {name, kind}, v, off, len} the runtime shows as subtrees
//	vs      optional: the ProtoField's value string table
//	value   optional function(k, v, raw): the value given to the tree (raw,
//	        the field's bytes, if absent)
//	show    optional function(k, v, raw): the value in the Info column (raw,
//	        quoted if need be, if absent)
//	label   optional function(k, v, raw): the tree item's text after the
//	        field's name (Wireshark's own if absent)
//	code    optional: true for a one-digit code, which the Info column shows
//	        glued to the tag when it follows the header (RL0)
//
// The functions of gen/lua may use what the runtime's prelude
// (gen/lua/prelude.lua) defines before them: werr, quote_byte,
// quote_string, run_ops, and the locals byte, sub, find, fmt.

//go:embed lua/*.lua
var luaFiles embed.FS

// luaSource is the Lua source of gen/lua/NAME.lua.
func luaSource(name string) string {
	b, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic(err) // embedded: a missing file is a bug of this package, caught by its tests
	}
	return string(b)
}

// luaKind is the Wireshark back end's part of a base. Each base of
// gen/spec has an entry in luaKinds (TestEveryBaseHasEveryBackEnd).
type luaKind interface {
	// entry is the kind's entry in the dissector's table of kinds: a
	// Lua table constructor whose decode mirrors the model's Decode.
	entry(k *spec.Kind) string
	// funcs names the files of gen/lua whose functions the entries call,
	// in the order they must be defined.
	funcs() []string
}

var luaKinds = map[string]luaKind{
	spec.Text:     luaText{"text_decode", []string{"utf8", "text"}},
	spec.DNSName:  luaText{"dnsname_decode", []string{"utf8", "text", "dnsname"}},
	spec.Hostname: luaHostname{luaText{"hostname_decode", []string{"utf8", "text", "hostname"}}},
	spec.IPv4:     luaIPv4{},
	spec.Uint16:   luaDecimal{16},
	spec.Uint8:    luaDecimal{8},
	spec.Struct:   luaStruct{},
	spec.Codes:    luaCodes{},
	spec.Enum:     luaEnum{},
}

// luaChunks is the Lua source of the functions the kinds of s call, each
// file once, in the order of spec.Bases: a base no kind uses adds nothing.
func luaChunks(s *spec.Spec) []string {
	used := map[string]bool{}
	for _, k := range s.Kinds {
		used[k.Base] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, b := range spec.Bases() {
		if !used[b] {
			continue
		}
		for _, f := range luaKinds[b].funcs() {
			if !seen[f] {
				seen[f] = true
				out = append(out, luaSource(f))
			}
		}
	}
	return out
}

// luaText is a text kind; decode names its decoder, in the files funcs.
type luaText struct {
	decode string
	files  []string
}

func (t luaText) funcs() []string { return t.files }

func (t luaText) entry(k *spec.Kind) string { return textEntry(k, t.decode, false, "") }

// textEntry is the entry of a text kind: its byte classes (text.lua's
// byte_class, from the ranges it allows) and code points, and what more
// a base adds.
func textEntry(k *spec.Kind, decode string, host bool, more string) string {
	runes := ""
	if len(k.DenyRunes) > 0 {
		var rs []string
		for _, r := range k.DenyRunes {
			rs = append(rs, fmt.Sprintf("{%d, %d}", r.Lo, r.Hi))
		}
		runes = ", deny_runes = {" + strings.Join(rs, ", ") + "}"
	}
	return fmt.Sprintf("{ftype = \"STRING\", width = 0, min = %d, max = %d, class = byte_class(%s, %v, %v)%s%s, decode = %s}",
		k.Min, k.Max, luaRanges(&k.Allowed), k.UTF8, host, runes, more, decode)
}

// luaHostname is a text with the label rules of a hostname kind.
type luaHostname struct{ luaText }

func (h luaHostname) entry(k *spec.Kind) string {
	var edge [256]bool
	for i := 0; i < len(k.Edge); i++ {
		edge[k.Edge[i]] = true
	}
	more := fmt.Sprintf(", label_max = %d, edge = byte_set(%s), edge_text = %s", k.Label, luaRanges(&edge), luaString(k.Edge))
	return textEntry(k, h.decode, true, more)
}

// luaIPv4 is a dotted quad; the tree gets an Address.
type luaIPv4 struct{}

func (luaIPv4) funcs() []string { return []string{"scan_decimal", "ipv4"} }

func (luaIPv4) entry(*spec.Kind) string {
	return `{ftype = "IPv4", width = 0, decode = ipv4_decode, value = ipv4_value}`
}

// luaDecimal is a canonical decimal shown as an unsigned integer of bits.
type luaDecimal struct{ bits int }

func (luaDecimal) funcs() []string { return []string{"scan_decimal", "decimal"} }

func (d luaDecimal) entry(k *spec.Kind) string {
	return fmt.Sprintf("{ftype = \"UINT%d\", width = 0, min = %d, max = %d, decode = decimal_decode, value = decimal_value}", d.bits, k.Min, k.Max)
}

// luaStruct runs the plan of a struct's parts.
type luaStruct struct{}

func (luaStruct) funcs() []string { return []string{"struct"} }

func (luaStruct) entry(k *spec.Kind) string {
	return fmt.Sprintf("{ftype = \"STRING\", width = 0, max = %d, last = %s, parts = %s, decode = struct_decode}",
		k.MaxLen(), luaString(k.TrailingField()), luaOps(k.PartOps()))
}

// luaCodes is one digit of a list of codes; a code shows as its name.
type luaCodes struct{}

func (luaCodes) funcs() []string { return []string{"codes"} }

func (luaCodes) entry(k *spec.Kind) string {
	var vals, vs []string
	for _, c := range k.Values {
		vals = append(vals, fmt.Sprintf("[%d] = {value = %d, name = %s, doc = %s}", c.Value, c.Value, luaString(c.Name), luaString(c.Doc)))
		vs = append(vs, fmt.Sprintf("[%d] = %s", c.Value, luaString(c.Name)))
	}
	return fmt.Sprintf("{ftype = \"UINT8\", width = 1, code = true, values = {%s}, vs = {%s}, decode = codes_decode, value = codes_value, show = codes_show, label = codes_label}",
		strings.Join(vals, ", "), strings.Join(vs, ", "))
}

// luaEnum is one word of a list, a set of the words in Lua.
type luaEnum struct{}

func (luaEnum) funcs() []string { return []string{"enum"} }

func (luaEnum) entry(k *spec.Kind) string {
	var words []string
	for _, w := range k.Words {
		words = append(words, "["+luaString(w.Text)+"] = true")
	}
	return fmt.Sprintf("{ftype = \"STRING\", width = 0, words = {%s}, decode = enum_decode}", strings.Join(words, ", "))
}

// luaString is s as a Lua string literal: printable ASCII as it is, every
// other byte as a three-digit decimal escape, so that any bytes survive.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "\\%03d", c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// luaRanges is a byte set as a Lua list of {lo, hi} ranges.
func luaRanges(set *[256]bool) string {
	var parts []string
	for c := 0; c < 256; c++ {
		if !set[c] {
			continue
		}
		lo := c
		for c+1 < 256 && set[c+1] {
			c++
		}
		parts = append(parts, fmt.Sprintf("{%d, %d}", lo, c))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// luaOps is a list of plan ops as the runtime's run_ops reads them: a
// literal {lit, after, found} or a field {field, kind, term}, fields and
// kinds by name, term a byte (absent when the field runs to the end of its
// span).
func luaOps(ops []spec.Op) string {
	var parts []string
	for _, op := range ops {
		if op.Lit != "" {
			parts = append(parts, fmt.Sprintf("{lit = %s, after = %s, found = %v}", luaString(op.Lit), luaString(op.After), op.Found))
			continue
		}
		term := ""
		if op.Term != 0 {
			term = fmt.Sprintf(", term = %d", op.Term)
		}
		parts = append(parts, fmt.Sprintf("{field = %s, kind = %s%s}", luaString(op.Field.Name), luaString(op.Field.Kind.Name), term))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
