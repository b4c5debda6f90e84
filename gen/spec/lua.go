package spec

import (
	"fmt"
	"strings"
)

// This file holds what the Wireshark back end (gen/wireshark.go) shares
// with the bases: Lua literals of bytes, byte sets and decode plans. Each
// base writes its own part of the dissector (Base.Lua, Base.LuaFuncs); the
// back end writes the runtime that interprets them.
//
// The contract of a kind's Lua table, which Base.Lua returns as a table
// constructor, is:
//
//	ftype   the ProtoField type of a value: "STRING", "UINT8", "UINT16", "IPv4"
//	width   the length of every value, or 0 if values vary (Base.Width)
//	decode  function(k, s, off, limit): reads s[off:limit] (offsets from 0,
//	        as in decode.go) and returns the value, or nil and an error made
//	        by werr(class, field, offset, reason), whose field is "" for the
//	        field itself, or the part of a struct
//	parts   a struct: the ops of its parts (LuaOps); its value is a list of
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
// The functions LuaFuncs returns may use what the runtime's prelude
// defines before them: werr, quote_byte, quote_string, run_ops, and the
// locals byte, sub, find, fmt.

// LuaString is s as a Lua string literal: printable ASCII as it is, every
// other byte as a three-digit decimal escape, so that any bytes survive.
func LuaString(s string) string {
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

// LuaRanges is a byte set as a Lua list of {lo, hi} ranges.
func LuaRanges(set *[256]bool) string {
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

// LuaOps is a list of plan ops as the runtime's run_ops reads them: a
// literal {lit, after, found} or a field {field, kind, term}, fields and
// kinds by name, term a byte (absent when the field runs to the end of its
// span).
func LuaOps(ops []Op) string {
	var parts []string
	for _, op := range ops {
		if op.Lit != "" {
			parts = append(parts, fmt.Sprintf("{lit = %s, after = %s, found = %v}", LuaString(op.Lit), LuaString(op.After), op.Found))
			continue
		}
		term := ""
		if op.Term != 0 {
			term = fmt.Sprintf(", term = %d", op.Term)
		}
		parts = append(parts, fmt.Sprintf("{field = %s, kind = %s%s}", LuaString(op.Field.Name), LuaString(op.Field.Kind.Name), term))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// LuaFuncs lists the Lua functions of every base, each chunk once, in the
// order of bases: the part of the dissector's runtime the bases write. It
// does not depend on a spec, so the runtime is the same whatever it holds.
func LuaFuncs() []string {
	var out []string
	seen := map[string]bool{}
	for _, b := range bases {
		for _, f := range b.LuaFuncs() {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}
