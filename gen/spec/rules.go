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
	// Words are the values a word rule accepts, each exactly.
	Words []string `json:"words"`
	// Label, Name and Edge are a hostname rule's limits: the longest
	// label, the longest name, and the bytes a label may not start or
	// end with.
	Label int    `json:"label"`
	Name  int    `json:"name"`
	Edge  string `json:"edge"`
}

// Rules are k's checks in the order its decoder runs them. A struct kind's
// rules end with "plan" (run the kind's plan over the field) and "end".
func (k *Kind) Rules() []Rule {
	out := []Rule{}
	if r, ok := k.Impl().(interface{ Rules(*Kind) []Rule }); ok {
		for _, rule := range r.Rules(k) {
			out = append(out, rule.filled())
		}
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
	if r.Words == nil {
		r.Words = []string{}
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

func (textBase) Rules(k *Kind) []Rule { return textCheckRules(k) }

func (dnsnameBase) Rules(k *Kind) []Rule {
	return append(textCheckRules(k), Rule{Check: "dns_name", Class: "bad_field", At: "start"})
}

func (d decimal) Rules(k *Kind) []Rule {
	return []Rule{
		{Check: "decimal", Class: "bad_field", At: "start", N: k.Max},
		{Check: "min", Class: "bad_field", At: "start", N: k.Min},
	}
}

func (ipv4Base) Rules(*Kind) []Rule {
	return []Rule{{Check: "dotted_quad", Class: "bad_field", At: "scan"}}
}

func (codesBase) Rules(k *Kind) []Rule {
	r := Rule{Check: "code", Class: "bad_field", At: "start", Codes: []int{}}
	for _, c := range k.Values {
		r.Codes = append(r.Codes, c.Value)
	}
	return []Rule{r}
}

func (structBase) Rules(k *Kind) []Rule {
	return []Rule{
		{Check: "max_len", Class: "too_long", At: "start", N: k.MaxLen()},
		{Check: "plan", At: "scan"},
		{Check: "end", Class: "trailing", At: "scan"},
	}
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
