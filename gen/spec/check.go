package spec

import (
	"strings"
)

// damage is what of a spec was refused or found broken: whatever leans on
// it is not checked, so that one mistake is reported once, where it is,
// while the parts that stand alone are all checked in the same run.
type damage struct {
	refused      map[string]bool // kinds (and codes) refused unread, by name
	refusedProto map[string]bool // protocols refused unread, by name
	refusedTag   map[string]bool // messages refused unread, by tag
	broken       map[*Kind]bool  // kinds read with an error in them, or in a kind they use
	protos       map[*Protocol]bool
	msgs         map[*Message]bool // messages whose items are not what the spec meant
	incomplete   bool              // a statement no one can tell was refused
	quiet        int               // statements refused for a mistake reported elsewhere
}

func newDamage() *damage {
	return &damage{refused: map[string]bool{}, refusedProto: map[string]bool{}, refusedTag: map[string]bool{},
		broken: map[*Kind]bool{}, protos: map[*Protocol]bool{}, msgs: map[*Message]bool{}}
}

// kind reports whether k, or a kind of its parts, is broken.
func (d *damage) kind(k *Kind) bool {
	if d.broken[k] {
		return true
	}
	for _, f := range fieldsOf(k.Parts) {
		if d.broken[f.Kind] {
			return true
		}
	}
	return false
}

// message reports whether m, its protocol or a kind of its fields is broken.
func (d *damage) message(m *Message) bool {
	if d.msgs[m] || d.protos[m.Proto] {
		return true
	}
	for _, f := range m.Fields() {
		if d.kind(f.Kind) {
			return true
		}
	}
	return false
}

// whole reports whether nothing was refused or broken: what is checked
// against the whole model (a scenario's datagrams) can then be.
func (d *damage) whole() bool {
	return !d.incomplete && len(d.refused)+len(d.refusedProto)+len(d.refusedTag)+len(d.broken)+len(d.protos)+len(d.msgs) == 0
}

// failed runs f and reports whether it reported an error.
func (r *errs) failed(f func()) bool {
	n := len(r.list)
	f()
	return len(r.list) > n
}

// check validates what the grammar cannot: that every field can be
// delimited, that limits fit the protocols, that each base's attributes are
// coherent, and that every example and invalid input behaves as it says.
// Every part is checked, but for what leans on a part d holds as refused or
// broken: a part with an error found here is added to d, so that what leans
// on it (a message on its kinds, an example on its message) is not checked
// either. d is nil for a model with no damage (an IR).
func (s *Spec) check(r *errs, d *damage) {
	if d == nil {
		d = newDamage()
	}
	for _, k := range s.Kinds {
		if !d.kind(k) && r.failed(func() { k.Impl().Check(k, r) }) {
			d.broken[k] = true
		}
	}
	for _, p := range s.Protocols {
		if r.failed(func() { checkProtocol(p, r) }) {
			d.protos[p] = true
		}
	}
	s.checkGoNames(r)
	t := *s // a breaking statement about what was refused was not wrong
	t.Breaking = nil
	for _, b := range s.Breaking {
		if w := strings.Fields(b.Subject); len(w) < 2 || !(d.refused[w[1]] || d.refusedProto[w[1]] || len(w) == 3 && d.refusedTag[w[2]]) {
			t.Breaking = append(t.Breaking, b)
		}
	}
	t.checkBreaking(r)
	for _, m := range s.Messages {
		if !d.message(m) && r.failed(func() { s.checkMessage(m, r) }) {
			d.msgs[m] = true // its examples lean on a coherent message
		}
	}
	s.checkExamples(r, d)
	if d.whole() {
		s.checkScenarios(r) // checked against every message
	}
}

func checkProtocol(p *Protocol, r *errs) {
	for _, a := range []string{"transport", "tag", "max"} {
		if _, ok := p.Attrs[a]; !ok {
			r.errorf(p.Pos, "protocol %s needs %s", p.Name, a)
		}
	}
	if _, ok := p.Attrs["tag"]; ok && (p.TagLen < 1 || p.TagLen > 8) {
		r.errorf(p.Attrs["tag"], "protocol %s: tag is %d bytes; want 1 to 8", p.Name, p.TagLen)
	}
	if _, ok := p.Attrs["length"]; ok && (p.LengthDigits < 1 || p.LengthDigits > 6) {
		r.errorf(p.Attrs["length"], "protocol %s: length is %d digits; want 1 to 6", p.Name, p.LengthDigits)
	}
}

// limit is where a kind's length limit is set, for errors about it.
func (k *Kind) limit() Pos {
	if p, ok := k.Attrs["max"]; ok {
		return p
	}
	return k.Pos
}

// MinLen and MaxLen bound the encoded length of a value of k.
func (k *Kind) MinLen() int { lo, _ := k.Impl().Bounds(k); return lo }

// MaxLen is the longest encoding of a value of k.
func (k *Kind) MaxLen() int { _, hi := k.Impl().Bounds(k); return hi }

// CanHold reports whether some value of k may contain byte c: a field whose
// kind can hold its terminator cannot be delimited.
func (k *Kind) CanHold(c byte) bool { return k.Impl().CanHold(k, c) }

// FixedWidth reports whether a value of k always has the same length, so
// that it needs no terminator.
func (k *Kind) FixedWidth() bool { return k.Impl().Width(k) > 0 }

func itemsLen(items []Item, f func(*Kind) int) int {
	n := 0
	for _, it := range items {
		switch {
		case it.Field != nil:
			n += f(it.Field.Kind)
		case it.Cond != nil:
			n += itemsLen(it.Cond.Items, f)
		default:
			n += len(it.Literal)
		}
	}
	return n
}

// MaxLen is the longest encoding of m, tag and length prefix included.
func (m *Message) MaxLen() int {
	return len(m.Tag) + m.Proto.LengthDigits + itemsLen(m.Items, (*Kind).MaxLen)
}

func (s *Spec) checkMessage(m *Message, r *errs) {
	if len(m.Tag) != m.Proto.TagLen {
		r.errorf(m.Pos, "message %s: tag must be %d bytes in %s", m.Tag, m.Proto.TagLen, m.Proto.Name)
	}
	s.checkItems(r, "message "+m.Tag, m.Items, "")
	if n := m.MaxLen(); n > m.Proto.Max {
		r.errorf(m.Pos, "message %s: can be %d bytes, over the %s limit of %d (at %s)", m.Tag, n, m.Proto.Name, m.Proto.Max, r.at(m.Proto.Attrs["max"]))
	}
	if d := m.Proto.LengthDigits; d > 0 {
		info := m.MaxLen() - len(m.Tag) - d
		if limit := pow10(d) - 1; info > limit {
			r.errorf(m.Pos, "message %s: info can be %d bytes; a %d-digit length holds %d", m.Tag, info, d, limit)
		}
	}
}

func pow10(d int) int {
	n := 1
	for ; d > 0; d-- {
		n *= 10
	}
	return n
}

// checkItems checks that each variable-width field is followed by a literal
// (or ends the input) whose first byte its kind cannot hold. after is the
// terminator that follows the whole list ("" = end of input).
func (s *Spec) checkItems(r *errs, owner string, items []Item, after string) {
	for i, it := range items {
		switch {
		case it.Cond != nil:
			if len(it.Cond.Items) == 0 || it.Cond.Items[0].Literal == "" {
				r.errorf(it.Pos, "%s: an if group starts with a literal", owner)
				continue
			}
			s.checkItems(r, owner, it.Cond.Items, after)
		case it.Field != nil:
			s.checkTerm(r, owner, it.Field, terms(items[i+1:], after))
		}
	}
}

// terms lists the possible terminators of the item before rest: the next
// literal, or (if rest starts with an optional group) its literal or what
// follows the list.
func terms(rest []Item, after string) []string {
	if len(rest) == 0 {
		return []string{after}
	}
	switch {
	case rest[0].Literal != "":
		return []string{rest[0].Literal}
	case rest[0].Cond != nil:
		if len(rest[0].Cond.Items) == 0 {
			return []string{after}
		}
		return []string{rest[0].Cond.Items[0].Literal, after}
	}
	return []string{"field"}
}

func (s *Spec) checkTerm(r *errs, owner string, f *Field, terms []string) {
	for _, t := range terms {
		switch {
		case t == "field" && !f.Kind.FixedWidth():
			r.errorf(f.Pos, "%s: field %s has variable width and is followed by another field; put a literal between them", owner, f.Name)
			return
		case t != "" && t != "field" && f.Kind.CanHold(t[0]):
			r.errorf(f.Pos, "%s: field %s (kind %s) may contain %q, the separator after it", owner, f.Name, f.Kind.Name, t[:1])
			return
		}
		if f.Kind.Base == Struct && t != "field" {
			last := f.Kind.Parts[len(f.Kind.Parts)-1]
			if last.Field != nil {
				s.checkTerm(r, "kind "+f.Kind.Name, last.Field, []string{t})
			}
		}
	}
}

// buildAllowed turns allow/deny/nocontrol into a byte set, reporting an
// allow item that is neither a byte nor a range; ok says there was none.
func (k *Kind) buildAllowed(r *errs) (ok bool) {
	before := len(r.list)
	defer func() { ok = len(r.list) == before }()
	for c := 0; c < 256; c++ {
		k.Allowed[c] = k.AllowSrc == ""
	}
	for _, f := range fieldsAt(k.AllowSrc) {
		w, at := f.text, r.in(k.Attrs["allow"], 1, f.off)
		lo, hi := w[0], w[0]
		switch {
		case len(w) == 3 && w[1] == '-':
			hi = w[2]
		case len(w) != 1:
			r.errorf(at, "kind %s: allow item %q is neither a byte nor a range X-Y", k.Name, w)
			continue
		}
		if lo > hi {
			r.errorf(at, "kind %s: allow range %q is empty (%q comes after %q)", k.Name, w, lo, hi)
		}
		for c := int(lo); c <= int(hi); c++ {
			k.Allowed[c] = true
		}
	}
	if k.AllowSrc != "" && strings.TrimSpace(k.AllowSrc) == "" {
		r.errorf(k.Attrs["allow"], "kind %s: allow lists no bytes", k.Name)
	}
	for i := 0; i < len(k.Deny); i++ {
		k.Allowed[k.Deny[i]] = false
	}
	if k.NoControl {
		for c := 0; c < 0x20; c++ {
			k.Allowed[c] = false
		}
		k.Allowed[0x7f] = false
	}
	return ok
}

// span is a word of a string and its offset in it.
type span struct {
	text string
	off  int
}

// fieldsAt is strings.Fields (of spaces and tabs) with each word's offset.
func fieldsAt(s string) []span {
	var out []span
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		out = append(out, span{s[i:j], i})
		i = j
	}
	return out
}

// checkExamples decodes every example and invalid input with the model's
// own decoder: an example must decode as its message (or kind) and encode
// back to the same bytes; an invalid input must be refused with the class
// and in the field it names. An error names the byte it is about. The
// examples of what d holds broken are not decoded.
func (s *Spec) checkExamples(r *errs, d *damage) {
	for _, k := range s.Kinds {
		if d.kind(k) {
			continue
		}
		for _, e := range k.Examples {
			v, err := k.ParseKind(e.Input)
			switch {
			case err != nil:
				r.errorf(r.in(e.Pos, 1, err.Offset), "kind %s: example %q is refused: %v", k.Name, e.Input, err)
			case string(k.Impl().Encode(k, nil, v)) != e.Input:
				r.errorf(e.Pos, "kind %s: example %q encodes back as %q", k.Name, e.Input, k.Impl().Encode(k, nil, v))
			}
		}
		for _, in := range k.Invalid {
			_, err := k.ParseKind(in.Input)
			checkRefusal(r, "kind "+k.Name, in, err)
		}
	}
	for _, m := range s.Messages {
		if d.message(m) {
			continue
		}
		for _, e := range m.Examples {
			if !s.leansOnDamage(m.Proto, e.Input, d) {
				s.checkExample(r, m, e.Input, e.Pos, 1)
			}
		}
		for _, in := range m.Invalid {
			if !s.leansOnDamage(m.Proto, in.Input, d) {
				_, err := s.Decode(m.Proto, []byte(in.Input))
				checkRefusal(r, "message "+m.Tag, in, err)
			}
		}
	}
	for _, sq := range s.Sequences {
		for _, st := range sq.Steps {
			if !d.message(st.Msg) && !s.leansOnDamage(st.Msg.Proto, st.Example, d) {
				s.checkExample(r, st.Msg, st.Example, st.Pos, 4)
			}
		}
	}
}

// leansOnDamage reports whether input starts with the tag of a message d
// holds refused or broken: decoding it would only repeat that.
func (s *Spec) leansOnDamage(p *Protocol, input string, d *damage) bool {
	if len(input) < p.TagLen {
		return false
	}
	tag := input[:p.TagLen]
	if o := s.message(p, tag); o != nil {
		return d.message(o)
	}
	return d.refusedTag[tag]
}

// checkExample decodes input, word i of the statement at pos, as m.
func (s *Spec) checkExample(r *errs, m *Message, input string, pos Pos, i int) {
	d, err := s.Decode(m.Proto, []byte(input))
	switch {
	case err != nil:
		r.errorf(r.in(pos, i, err.Offset), "message %s: example %q is refused: %v", m.Tag, input, err)
	case d.Msg != m:
		r.errorf(pos, "message %s: example %q decodes as message %s", m.Tag, input, d.Msg.Tag)
	case string(d.Encode()) != input:
		r.errorf(pos, "message %s: example %q encodes back as %q", m.Tag, input, d.Encode())
	}
}

func checkRefusal(r *errs, owner string, in Invalid, err *WireError) {
	switch {
	case err == nil:
		r.errorf(in.Pos, "%s: invalid input %q is accepted; want %s in field %q", owner, in.Input, in.Err, in.Field)
	case err.Class != in.Err || err.Field != in.Field:
		r.errorf(r.in(in.Pos, 1, err.Offset), "%s: invalid input %q is refused with %s in field %q (%s at offset %d), not %s in field %q",
			owner, in.Input, err.Class, err.Field, err.Reason, err.Offset, in.Err, in.Field)
	}
}

// goReserved are names the wire package declares by hand or for every spec.
var goReserved = []string{"Message", "Error", "Role", "Reader", "Writer", "NewReader", "NewWriter", "Address", "Signed"}

// checkGoNames refuses specs whose names would collide once turned into Go:
// kinds by their Go name, and the types and constants of messages and codes.
func (s *Spec) checkGoNames(r *errs) {
	seen := map[string]Pos{}
	claim := func(name string, pos Pos, what string) {
		if first, ok := seen[name]; ok {
			r.errorf(pos, "%s becomes the Go name %s, already taken (at %s)", what, name, r.at(first))
			return
		}
		seen[name] = pos
	}
	for _, k := range s.Kinds {
		claim("kind:"+k.GoName(), k.Pos, "kind "+k.Name)
	}
	types := map[string]bool{}
	for _, k := range s.Kinds {
		if k.GoType != "" {
			claim(k.GoType, k.Pos, "kind "+k.Name)
			types[k.GoType] = true
		}
		for _, c := range k.Values {
			claim(CodeConst(k, c), c.Pos, "code "+c.Name)
		}
	}
	for _, m := range s.Messages {
		if contains(goReserved, m.GoType) && !types[m.GoType] {
			r.errorf(m.Pos, "message %s: Go type %s is a name the wire package already uses", m.Tag, m.GoType)
		}
		claim(m.GoType, m.Pos, "message "+m.Tag)
	}
}
