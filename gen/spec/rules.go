package spec

// A Rule is one check of a kind's decoder, as data: what a decoder in
// another language runs, in order, over a field's bytes s[off:limit], the
// first failing rule giving the error. The words of Check, and what each
// reads of a Rule, are listed in docs/ir.md ("Rules"); Class is the error
// class of a failure and At where its offset points:
//
//	start  the field's first byte (off)
//	byte   the first byte the rule refuses
//	scan   where the rule's scan stopped (see the rule's entry)
type Rule struct {
	Check string `json:"check"`
	Class string `json:"class"`
	At    string `json:"at"`
	// N is the rule's number: a length for min_len and max_len, a value
	// for min and for decimal (its maximum).
	N int `json:"n"`
	// Set is a byte set (bytes) or a code point set (deny_runes) as
	// inclusive ranges.
	Set [][2]int `json:"set"`
	// Codes are the digits a code rule accepts.
	Codes []int `json:"codes"`
	// Label is a hostname rule's longest label; the bytes a label may
	// not start or end with are its kind's edge (bytes, with edge_hex),
	// as the values of a word rule are its kind's words.
	Label int `json:"label"`
}

// Rules are k's checks in the order its decoder runs them. A struct kind's
// rules end with "plan" (run the kind's plan over the field) and "end".
func (k *Kind) Rules() []Rule {
	out := []Rule{}
	for _, rule := range k.Impl().Rules(k) {
		out = append(out, rule.filled())
	}
	return out
}

// filled is r with its lists empty rather than nil: the IR writes every
// list as [].
func (r Rule) filled() Rule {
	if r.Set == nil {
		r.Set = [][2]int{}
	}
	if r.Codes == nil {
		r.Codes = []int{}
	}
	return r
}

// textRules are the checks decodeText makes, in its order.
func textCheckRules(k *Kind) []Rule {
	out := []Rule{
		{Check: "min_len", Class: "bad_field", At: "start", N: k.Min},
		{Check: "max_len", Class: "too_long", At: "start", N: k.Max},
		{Check: "bytes", Class: "bad_field", At: "byte", Set: byteRanges(func(c byte) bool { return k.Allowed[c] })},
	}
	if k.UTF8 {
		out = append(out, Rule{Check: "utf8", Class: "bad_field", At: "byte"})
		if len(k.DenyRunes) > 0 {
			out = append(out, Rule{Check: "deny_runes", Class: "bad_field", At: "byte", Set: runeRanges(k.DenyRunes)})
		}
	}
	return out
}

// FrameStep is one step of reading a whole message, before and after its
// plan; Check names it, Class, Field and At say the error it gives.
type FrameStep struct {
	Check string `json:"check"`
	Class string `json:"class"`
	Field string `json:"field"`
	At    string `json:"at"`
	When  string `json:"when"`
}

// FrameOrder is how every message is read, in order; the first failing
// step gives the error. docs/ir.md says what each step does.
var FrameOrder = []FrameStep{
	{Check: "datagram_max", Class: "too_long", Field: "datagram", At: "max", When: "length_digits == 0"},
	{Check: "tag_present", Class: "truncated", Field: "type", At: "input_end"},
	{Check: "tag_known", Class: "unknown_type", Field: "type", At: "zero"},
	{Check: "length_present", Class: "truncated", Field: "length", At: "input_end", When: "length_digits > 0"},
	{Check: "length_digits", Class: "bad_field", Field: "length", At: "byte", When: "length_digits > 0"},
	{Check: "length_short", Class: "truncated", Field: "plan.first", At: "input_end", When: "length_digits > 0"},
	{Check: "length_long", Class: "trailing", Field: "plan.last", At: "frame_end", When: "length_digits > 0"},
	{Check: "plan", Class: "", Field: "", At: ""},
	{Check: "end", Class: "trailing", Field: "plan.last_then or plan.last_else", At: "scan"},
}

// OpOrder is how one op of a plan is run: the checks of a literal, then
// those of a field, each in order. docs/ir.md says what each does.
var OpOrder = []FrameStep{
	{Check: "literal", Class: "bad_separator", Field: "op.after", At: "scan", When: "op.lit != \"\" and not op.found"},
	{Check: "fixed_width", Class: "truncated", Field: "op.field", At: "scan", When: "kind.width > 0"},
	{Check: "field_present", Class: "truncated", Field: "op.field", At: "scan", When: "not framed"},
	{Check: "terminator", Class: "bad_separator", Field: "op.field", At: "limit", When: "op.term != 0"},
	{Check: "rules", Class: "", Field: "op.field", At: ""},
}
