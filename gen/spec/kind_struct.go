package spec

import (
	"strconv"
	"strings"
)

// structBase is literals and sub-fields in a fixed order: one Go struct.
type structBase struct{}

func (structBase) Name() string { return Struct }

func (structBase) Attrs() []attr { return []attr{fieldAttr, literalAttr, maxAttr} }

func (structBase) Check(k *Kind, r *errs) {
	if len(k.Parts) == 0 {
		r.errorf(k.Pos, "kind %s: a struct needs parts (field and literal lines)", k.Name)
		return
	}
	if k.Parts[0].Field == nil {
		r.errorf(k.Parts[0].Pos, "kind %s: a struct starts with a field", k.Name)
	}
	for _, f := range fieldsOf(k.Parts) {
		if f.Kind.Base == Struct {
			r.errorf(f.Pos, "kind %s: field %s is a struct; structs do not nest", k.Name, f.Name)
			return
		}
	}
	var sp Spec
	sp.checkItems(r, "kind "+k.Name, k.Parts, "")
	if lo := itemsLen(k.Parts, (*Kind).MinLen); k.Max > 0 && k.Max < lo {
		r.errorf(k.limit(), "kind %s: max %d is under its shortest value, %d bytes", k.Name, k.Max, lo)
	} else if b := drawBudget(k); b < 0 {
		r.errorf(k.limit(), "kind %s: the rapid back end cannot draw it: with its other parts at their longest, its text parts do not fit max %d", k.Name, k.MaxLen())
	}
}

// drawBudget is what a valid value leaves unused when its literals and
// other parts take their longest and its text parts their shortest; under 0
// the rapid generator could not keep within max.
func drawBudget(k *Kind) int {
	used := 0
	for _, it := range k.Parts {
		switch {
		case it.Field == nil:
			used += len(it.Literal)
		case it.Field.Kind.Textual():
			used += it.Field.Kind.MinLen()
		default:
			used += it.Field.Kind.MaxLen()
		}
	}
	return k.MaxLen() - used
}

func (structBase) Bounds(k *Kind) (int, int) {
	lo, hi := itemsLen(k.Parts, (*Kind).MinLen), itemsLen(k.Parts, (*Kind).MaxLen)
	if k.Max > 0 && k.Max < hi {
		hi = k.Max
	}
	return lo, hi
}

func (structBase) CanHold(k *Kind, c byte) bool {
	for _, it := range k.Parts {
		if it.Literal != "" && strings.IndexByte(it.Literal, c) >= 0 || it.Field != nil && it.Field.Kind.CanHold(c) {
			return true
		}
	}
	return false
}

func (structBase) Width(*Kind) int { return 0 }

func (structBase) Decode(k *Kind, s string, off, limit int) (any, *WireError) {
	return decodeStruct(k, s, off, limit)
}

func (structBase) Encode(k *Kind, b []byte, v any) []byte { return encodeStruct(k, b, v) }

func (structBase) DocRules(k *Kind) []string {
	return []string{"`" + strings.Join(FormatItems(k.Parts), " ") + "`"}
}

// FormatItems is the one-line grammar of items, for docs and comments.
func FormatItems(items []Item) []string {
	var parts []string
	for _, it := range items {
		switch {
		case it.Literal != "":
			parts = append(parts, strconv.Quote(it.Literal))
		case it.Field != nil:
			parts = append(parts, it.Field.Name)
		case it.Cond != nil:
			parts = append(parts, "[", strings.Join(FormatItems(it.Cond.Items), " "), "] if "+it.Cond.Field.Name+" is "+it.Cond.Code.Name)
		}
	}
	return parts
}

func (structBase) Domain() string { return Struct }

func (structBase) Aspects() []string { return []string{"items", "max"} }

// Compat compares the parts, as a message's items are, and the length.
func (structBase) Compat(d *diff, o, n *Kind) {
	if o.GoType != n.GoType {
		d.add(false, "gotype", o.Pos, n.Pos, "Go type %s -> %s (wire-invisible)", o.GoType, n.GoType)
	}
	d.items(o.Parts, n.Parts, o.Pos, n.Pos)
	// A declared max counts where it is under what the parts allow. Both
	// are measured against the new parts: a change of the parts' own
	// limits is reported at the parts' kinds.
	if o.Max != n.Max {
		hi := itemsLen(n.Parts, (*Kind).MaxLen)
		eff := func(declared int) int {
			if declared > 0 && declared < hi {
				return declared
			}
			return hi
		}
		d.limit("max", o, n, eff(o.Max), eff(n.Max), compatLengths)
	}
}

// Rules are the checks of the decoder as the IR states them (rules.go).
func (structBase) Rules(k *Kind) []Rule {
	return []Rule{
		{Check: "max_len", Class: "too_long", At: "start", N: k.MaxLen()},
		{Check: "plan", At: "scan"},
		{Check: "end", Class: "trailing", At: "scan"},
	}
}
