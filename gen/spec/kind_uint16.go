package spec

import (
	"fmt"
	"strconv"
)

// decimal is what the unsigned bases share: a canonical decimal number
// (no sign, no leading zero) in a range that fits bits.
type decimal struct{ bits int }

func (decimal) Attrs() []attr { return []attr{minAttr, maxAttr} }

func (d decimal) top() int { return 1<<d.bits - 1 }

// Check defaults max to the type's top and checks the range.
func (d decimal) Check(k *Kind, r *errs) {
	if _, ok := k.Attrs["max"]; !ok {
		k.Max = d.top()
	}
	switch {
	case k.Max > d.top():
		r.errorf(k.limit(), "kind %s: max %d does not fit %s (at most %d)", k.Name, k.Max, k.Base, d.top())
	case k.Min > k.Max:
		r.errorf(k.Attrs["min"], "kind %s: min %d is over max %d", k.Name, k.Min, k.Max)
	}
}

func (decimal) Bounds(k *Kind) (int, int) {
	return len(strconv.Itoa(k.Min)), len(strconv.Itoa(k.Max))
}

func (decimal) CanHold(_ *Kind, c byte) bool { return isDigit(c) }

func (decimal) Width(*Kind) int { return 0 }

// uint16Base is a decimal 0..65535.
type uint16Base struct{ decimal }

func (uint16Base) Name() string { return Uint16 }

func (decimal) Decode(k *Kind, s string, off, limit int) (any, *WireError) {
	v, next, reason := scanDecimal(s, off, limit, k.Max)
	switch {
	case reason != "":
	case next != limit:
		reason = "not a decimal number"
	case v < k.Min:
		reason = "under " + strconv.Itoa(k.Min)
	}
	if reason != "" {
		return nil, wireErr("bad_field", "", off, "%s", reason)
	}
	return v, nil
}

func (decimal) Encode(_ *Kind, b []byte, v any) []byte {
	return strconv.AppendInt(b, int64(v.(int)), 10)
}

func (decimal) DocRules(k *Kind) []string {
	return []string{fmt.Sprintf("decimal %d..%d; no sign, no leading zero", k.Min, k.Max)}
}

// The decimals differ only in their range: a change between them is
// judged by it.
func (decimal) Domain() string { return "decimal" }

func (decimal) Aspects() []string { return []string{"min", "max"} }

func (decimal) Compat(d *diff, o, n *Kind) {
	if o.Base != n.Base {
		d.add(false, "base", o.Pos, n.Pos, "base %s -> %s: the same canonical decimal on the wire", o.Base, n.Base)
	}
	d.limit("min", o, n, o.Min, n.Min, compatRange)
	d.limit("max", o, n, o.Max, n.Max, compatRange)
}

// Rules are the checks of the decoder as the IR states them (rules.go).
func (decimal) Rules(k *Kind) []Rule {
	return []Rule{
		{Check: "decimal", Class: "bad_field", At: "start", N: k.Max},
		{Check: "min", Class: "bad_field", At: "start", N: k.Min},
	}
}
