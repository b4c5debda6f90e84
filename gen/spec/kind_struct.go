package spec

import "strings"

// structBase is literals and sub-fields in a fixed order: one Go struct.
type structBase struct{}

func (structBase) Name() string { return Struct }

func (structBase) Attrs() []string { return []string{"field", "literal", "max"} }

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
		}
	}
	var sp Spec
	sp.checkItems(r, "kind "+k.Name, k.Parts, "")
	if lo := itemsLen(k.Parts, (*Kind).MinLen); k.Max > 0 && k.Max < lo {
		r.errorf(k.limit(), "kind %s: max %d is under its shortest value, %d bytes", k.Name, k.Max, lo)
	}
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
