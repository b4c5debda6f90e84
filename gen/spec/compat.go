package spec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Change is one difference between two specs that matters on the wire (or,
// for consts, in behaviour). Breaking means that a peer built from one spec
// and a peer built from the other can refuse or misread each other's
// messages, in either direction; a compatible change still makes old
// receivers refuse what is new, and Msg says so.
type Change struct {
	Breaking bool
	// Old and New are the places of the change in each spec. When a side
	// lacks the element itself (a message removed, a field added), its
	// position is that of the nearest element standing for it there (the
	// protocol, the message, the item before); it is zero only when that
	// side has nothing at all (a protocol or const added or removed).
	Old, New         Pos
	OldFile, NewFile string
	Msg              string
	// Subject and Aspect say what changed as a breaking statement names
	// it: the element ("kind user", "message PLUMI PR") and what of it
	// ("runes", "items"); see Aspects.
	Subject, Aspect string
	// Accepted is the new spec's breaking statement that acknowledges
	// this breaking change (Accept sets it), or nil.
	Accepted *Breaking
}

// String formats c as NEWFILE:L:C (was OLDFILE:L:C): message.
func (c Change) String() string {
	return fmt.Sprintf("%s (was %s): %s", compatAt(c.NewFile, c.New), compatAt(c.OldFile, c.Old), c.Msg)
}

func compatAt(file string, p Pos) string {
	if p == (Pos{}) {
		return file
	}
	return file + ":" + p.String()
}

// Compare lists the changes from old to new that matter on the wire:
// framing, messages, the items of messages and struct kinds, the content of
// the kinds their fields use (compared by content, not name, and reported
// once per pair of kinds, at the kinds' own lines), codes, and consts. Docs,
// examples, invalid inputs, sequences and answers lines are not compared.
// The list is sorted by new position, then old.
func Compare(old, new *Spec) []Change {
	r := &compatRun{old: old, new: new, kinds: map[[2]*Kind]bool{}}
	r.protocols()
	r.consts()
	sort.SliceStable(r.out, func(i, j int) bool {
		a, b := r.out[i], r.out[j]
		switch {
		case a.New != b.New:
			return a.New.Before(b.New)
		case a.Old != b.Old:
			return a.Old.Before(b.Old)
		}
		return a.Msg < b.Msg
	})
	return r.out
}

// compatRun is one comparison. kinds memoizes the pairs of kinds already
// compared, so that a kind used by many fields is reported once.
type compatRun struct {
	old, new *Spec
	out      []Change
	kinds    map[[2]*Kind]bool
}

// elem is an element of the specs as a change names it: text as its
// message says it ("message RL (if group)", "kind line -> nick"), subject
// as a breaking statement does ("message PLUMI RL", "kind nick").
type elem struct{ text, subject string }

func named(subject string) elem { return elem{subject, subject} }

func (r *compatRun) add(breaking bool, e elem, aspect string, o, n Pos, format string, args ...any) {
	r.out = append(r.out, Change{Breaking: breaking, Old: o, New: n, OldFile: r.old.File, NewFile: r.new.File,
		Msg: fmt.Sprintf(format, args...), Subject: e.subject, Aspect: aspect})
}

func compatProto(s *Spec, name string) *Protocol {
	for _, p := range s.Protocols {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func (r *compatRun) protocols() {
	for _, op := range r.old.Protocols {
		np := compatProto(r.new, op.Name)
		if np == nil {
			var tags []string
			for _, m := range r.old.MessagesOf(op) {
				tags = append(tags, m.Tag)
			}
			r.add(true, named("protocol "+op.Name), "removed", op.Pos, Pos{}, "protocol %s removed, with its messages %s: old peers still speak it", op.Name, strings.Join(tags, ", "))
			continue
		}
		r.protocol(op, np)
		r.messages(op, np)
	}
	for _, np := range r.new.Protocols {
		if compatProto(r.old, np.Name) == nil {
			r.add(false, named("protocol "+np.Name), "added", Pos{}, np.Pos, "protocol %s added: old peers do not speak it", np.Name)
		}
	}
}

func compatAttr(attrs map[string]Pos, name string, or Pos) Pos {
	if p, ok := attrs[name]; ok {
		return p
	}
	return or
}

func (r *compatRun) protocol(o, n *Protocol) {
	at := func(name string) (Pos, Pos) {
		return compatAttr(o.Attrs, name, o.Pos), compatAttr(n.Attrs, name, n.Pos)
	}
	what := named("protocol " + n.Name)
	if o.Transport != n.Transport {
		op, np := at("transport")
		r.add(true, what, "transport", op, np, "%s: transport %s -> %s: old and new peers no longer reach each other", what.text, o.Transport, n.Transport)
	}
	if o.Port != n.Port {
		port := func(p int) string {
			if p == 0 {
				return "dynamic"
			}
			return strconv.Itoa(p)
		}
		op, np := at("port")
		r.add(true, what, "port", op, np, "%s: port %s -> %s: old and new peers no longer reach each other", what.text, port(o.Port), port(n.Port))
	}
	if o.TagLen != n.TagLen {
		op, np := at("tag")
		r.add(true, what, "tag", op, np, "%s: tag length %d -> %d bytes: old and new peers read each other's message types wrong", what.text, o.TagLen, n.TagLen)
	}
	if o.LengthDigits != n.LengthDigits {
		digits := func(d int) string {
			if d == 0 {
				return "none"
			}
			return fmt.Sprintf("%d digits", d)
		}
		op, np := at("length")
		r.add(true, what, "length", op, np, "%s: length prefix %s -> %s: old and new peers frame messages differently", what.text, digits(o.LengthDigits), digits(n.LengthDigits))
	}
	op, np := at("max")
	switch {
	case n.Max < o.Max:
		r.add(true, what, "max", op, np, "%s: max %d -> %d narrows it: a new receiver refuses the %s messages an old peer may send", what.text, o.Max, n.Max, compatSpan(n.Max+1, o.Max))
	case n.Max > o.Max:
		r.add(false, what, "max", op, np, "%s: max %d -> %d widens it: an old receiver refuses the %s messages a new peer may send", what.text, o.Max, n.Max, compatSpan(o.Max+1, n.Max))
	}
}

// compatSpan names a range of lengths: "36-byte", "21- to 35-byte".
func compatSpan(lo, hi int) string {
	switch {
	case lo == hi && lo == 0:
		return "empty"
	case lo == hi:
		return fmt.Sprintf("%d-byte", lo)
	}
	return fmt.Sprintf("%d- to %d-byte", lo, hi)
}

// compatRange names a range of numbers: "0", "1024..65535".
func compatRange(lo, hi int) string {
	if lo == hi {
		return strconv.Itoa(lo)
	}
	return fmt.Sprintf("%d..%d", lo, hi)
}

func (r *compatRun) messages(op, np *Protocol) {
	olds, news := r.old.MessagesOf(op), r.new.MessagesOf(np)
	byTag := func(ms []*Message, tag string) *Message {
		for _, m := range ms {
			if m.Tag == tag {
				return m
			}
		}
		return nil
	}
	matched := map[*Message]bool{}
	var pairs [][2]*Message
	var gone []*Message
	for _, om := range olds {
		if nm := byTag(news, om.Tag); nm != nil {
			pairs = append(pairs, [2]*Message{om, nm})
			matched[nm] = true
		} else {
			gone = append(gone, om)
		}
	}
	for _, om := range gone {
		var nm *Message
		for _, m := range news {
			if !matched[m] && m.GoType == om.GoType && byTag(olds, m.Tag) == nil {
				nm = m
			}
		}
		if nm == nil {
			r.add(true, msgElem(op, om), "removed", om.Pos, np.Pos, "message %s (%s) removed: an old peer may still send it, and a new receiver refuses it as an unknown type", om.Tag, om.GoType)
			continue
		}
		matched[nm] = true
		pairs = append(pairs, [2]*Message{om, nm})
		r.add(true, msgElem(np, nm), "tag", om.Pos, nm.Pos, "message %s renamed %s (Go type %s): a new receiver refuses %s from an old peer as an unknown type, and an old receiver refuses %s", om.Tag, nm.Tag, om.GoType, om.Tag, nm.Tag)
	}
	for _, nm := range news {
		if !matched[nm] {
			r.add(false, msgElem(np, nm), "added", op.Pos, nm.Pos, "message %s (%s) added: an old receiver refuses it as an unknown type", nm.Tag, nm.GoType)
		}
	}
	for _, p := range pairs {
		om, nm := p[0], p[1]
		if om.GoType != nm.GoType {
			r.add(false, msgElem(np, nm), "gotype", om.Pos, nm.Pos, "message %s: Go type %s -> %s (wire-invisible)", nm.Tag, om.GoType, nm.GoType)
		}
		r.items(msgElem(np, nm), om.Items, nm.Items, om.Pos, nm.Pos)
		r.signature(msgElem(np, nm), om, nm)
	}
}

// signature reports a signature added or removed: the bytes are the
// same, but one peer signs or checks what the other takes for data.
func (r *compatRun) signature(e elem, om, nm *Message) {
	switch {
	case om.Signature == nil && nm.Signature != nil:
		r.add(true, e, "signature", om.Pos, nm.Signature.Pos, "%s: signature %s added: a new receiver refuses what an old peer sends there, which signs nothing", e.text, nm.Signature.Name)
	case om.Signature != nil && nm.Signature == nil:
		r.add(true, e, "signature", om.Signature.Pos, nm.Pos, "%s: signature %s removed: an old receiver refuses what a new peer sends there, which signs nothing", e.text, om.Signature.Name)
	}
}

// msgElem names message m of protocol p.
func msgElem(p *Protocol, m *Message) elem {
	return elem{"message " + m.Tag, "message " + p.Name + " " + m.Tag}
}

// compatToken is an item as the wire sees it: a field slot (whatever its
// name), a literal's bytes, or the if group.
func compatToken(it Item) string {
	switch {
	case it.Field != nil:
		return "F"
	case it.Cond != nil:
		return "C"
	}
	return "L" + it.Literal
}

// compatAlign matches the items of two lists by their wire tokens (a
// longest common subsequence): mo[i] is the new index matched to old item
// i, or -1, and mn the reverse.
func compatAlign(o, n []Item) (mo, mn []int) {
	a, b := make([]string, len(o)), make([]string, len(n))
	for i, it := range o {
		a[i] = compatToken(it)
	}
	for j, it := range n {
		b[j] = compatToken(it)
	}
	l := make([][]int, len(a)+1)
	for i := range l {
		l[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	mo, mn = make([]int, len(a)), make([]int, len(b))
	for i := range mo {
		mo[i] = -1
	}
	for j := range mn {
		mn[j] = -1
	}
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			mo[i], mn[j] = j, i
			i++
			j++
		case l[i+1][j] >= l[i][j+1]:
			i++
		default:
			j++
		}
	}
	return mo, mn
}

// items compares two item lists of the same owner (a message, a struct
// kind, an if group): literals and the if group by their place on the
// wire, fields by name (a field renamed in the same slot keeps its
// identity), and each field's kind by content.
func (r *compatRun) items(owner elem, o, n []Item, oAt, nAt Pos) {
	mo, mn := compatAlign(o, n)
	// stand[i] is the place in the other list that stands for item i: its
	// match, else the matched item before it, else the owner.
	stand := func(m []int, other []Item, at Pos) []Pos {
		out := make([]Pos, len(m))
		for i, j := range m {
			if j >= 0 {
				at = other[j].Pos
			}
			out[i] = at
		}
		return out
	}
	oStand, nStand := stand(mo, n, nAt), stand(mn, o, oAt)

	// Literals and if groups in each gap between matched items: paired in
	// order (a literal changed), the rest added or removed.
	i, j := 0, 0
	for i <= len(o) || j <= len(n) {
		var ol, nl, oc, nc []int
		for ; i < len(o) && mo[i] < 0; i++ {
			switch {
			case o[i].Cond != nil:
				oc = append(oc, i)
			case o[i].Field == nil:
				ol = append(ol, i)
			}
		}
		for ; j < len(n) && mn[j] < 0; j++ {
			switch {
			case n[j].Cond != nil:
				nc = append(nc, j)
			case n[j].Field == nil:
				nl = append(nl, j)
			}
		}
		for k := 0; k < len(ol) || k < len(nl); k++ {
			switch {
			case k >= len(nl):
				r.add(true, owner, "items", o[ol[k]].Pos, oStand[ol[k]], "%s: literal %s removed: old and new peers split the message differently", owner.text, strconv.Quote(o[ol[k]].Literal))
			case k >= len(ol):
				r.add(true, owner, "items", nStand[nl[k]], n[nl[k]].Pos, "%s: literal %s added: old and new peers split the message differently", owner.text, strconv.Quote(n[nl[k]].Literal))
			default:
				r.add(true, owner, "items", o[ol[k]].Pos, n[nl[k]].Pos, "%s: literal %s -> %s: old and new peers split the message differently", owner.text, strconv.Quote(o[ol[k]].Literal), strconv.Quote(n[nl[k]].Literal))
			}
		}
		for _, k := range oc {
			c := o[k].Cond
			r.add(true, owner, "items", c.Pos, oStand[k], "%s: if group (if %s %s) removed: an old peer sends it, a new receiver refuses it as trailing bytes", owner.text, c.Field.Name, c.Code.Name)
		}
		for _, k := range nc {
			c := n[k].Cond
			r.add(true, owner, "items", nStand[k], c.Pos, "%s: if group (if %s %s) added: a new peer sends it, an old receiver refuses it as trailing bytes", owner.text, c.Field.Name, c.Code.Name)
		}
		i, j = i+1, j+1 // past the matched pair (or the end)
	}

	// Fields by name.
	oNames, nNames := map[string]*Field{}, map[string]*Field{}
	for _, it := range o {
		if it.Field != nil {
			oNames[it.Field.Name] = it.Field
		}
	}
	for _, it := range n {
		if it.Field != nil {
			nNames[it.Field.Name] = it.Field
		}
	}
	rename := map[string]string{} // old name -> new name
	taken := map[string]bool{}    // new names with an old field
	for name := range oNames {
		if nNames[name] != nil {
			rename[name], taken[name] = name, true
		}
	}
	for i, it := range o {
		if it.Field == nil || mo[i] < 0 || n[mo[i]].Field == nil {
			continue
		}
		of, nf := it.Field, n[mo[i]].Field
		if nNames[of.Name] == nil && oNames[nf.Name] == nil {
			rename[of.Name], taken[nf.Name] = nf.Name, true
			r.add(false, owner, "items", of.Pos, nf.Pos, "%s: field %s renamed %s (wire-invisible)", owner.text, of.Name, nf.Name)
		}
	}
	var oOrder, nOrder []*Field // the fields of both lists, in each list's order
	for i, it := range o {
		if f := it.Field; f != nil {
			if _, ok := rename[f.Name]; ok {
				oOrder = append(oOrder, f)
			} else {
				r.add(true, owner, "items", f.Pos, oStand[i], "%s: field %s removed: old and new peers split the message differently", owner.text, f.Name)
			}
		}
	}
	for j, it := range n {
		if f := it.Field; f != nil {
			if taken[f.Name] {
				nOrder = append(nOrder, f)
			} else {
				r.add(true, owner, "items", nStand[j], f.Pos, "%s: field %s added: old and new peers split the message differently", owner.text, f.Name)
			}
		}
	}
	for k := range oOrder {
		if rename[oOrder[k].Name] != nOrder[k].Name {
			names := func(fs []*Field) string {
				var s []string
				for _, f := range fs {
					s = append(s, f.Name)
				}
				return strings.Join(s, ", ")
			}
			r.add(true, owner, "items", oOrder[k].Pos, nOrder[k].Pos, "%s: fields reordered (%s -> %s): old and new peers read each other's fields as others", owner.text, names(oOrder), names(nOrder))
			break
		}
	}
	for _, of := range oOrder {
		r.kind(of.Kind, nNames[rename[of.Name]].Kind)
	}

	// The if group, when both lists have one in the same place.
	for i, it := range o {
		if it.Cond != nil && mo[i] >= 0 {
			r.cond(owner, it.Cond, n[mo[i]].Cond, rename)
		}
	}
}

func (r *compatRun) cond(owner elem, o, n *Cond, rename map[string]string) {
	switch {
	case rename[o.Field.Name] != n.Field.Name:
		r.add(true, owner, "items", o.Pos, n.Pos, "%s: if condition %s %s -> %s %s: the group is sent on another field", owner.text, o.Field.Name, o.Code.Name, n.Field.Name, n.Code.Name)
	case compatCodes(o.Field.Kind, n.Field.Kind)[o.Code] != n.Code:
		r.add(true, owner, "items", o.Pos, n.Pos, "%s: if condition %s %s -> %s %s: the group is sent with another code", owner.text, o.Field.Name, o.Code.Name, n.Field.Name, n.Code.Name)
	}
	r.items(elem{owner.text + " (if group)", owner.subject}, o.Items, n.Items, o.Pos, n.Pos)
}

// kind compares the content of the kinds of one field in the two specs,
// once per pair. Within a domain the new kind's base judges the change
// (Base.Compat), whatever the bases' names; across domains no value reads
// the same.
func (r *compatRun) kind(o, n *Kind) {
	key := [2]*Kind{o, n}
	if r.kinds[key] {
		return
	}
	r.kinds[key] = true
	word := "kind"
	if o.Base == Codes && n.Base == Codes {
		word = "codes" // the statement that declares them, as a breaking statement names it
	}
	d := &diff{r: r, what: named(word + " " + n.Name)}
	if o.Name != n.Name {
		d.what.text = fmt.Sprintf("%s %s -> %s", word, o.Name, n.Name)
	}
	before := len(r.out)
	if o.Impl().Domain() == n.Impl().Domain() {
		n.Impl().Compat(d, o, n)
	} else {
		d.add(true, "base", o.Pos, n.Pos, "base %s -> %s: old and new peers cannot read each other's values", o.Base, n.Base)
	}
	if o.Name != n.Name && len(r.out) == before {
		d.add(false, "name", o.Pos, n.Pos, "other name, same content (wire-invisible)")
	}
}

// CompareKinds lists the changes on the wire from kind o to kind n, as
// Compare reports them of a field whose kind changes so.
func CompareKinds(o, n *Kind) []Change {
	r := &compatRun{old: &Spec{}, new: &Spec{}, kinds: map[[2]*Kind]bool{}}
	r.kind(o, n)
	return r.out
}

// diff is where a base's Compat reports the changes of one pair of kinds.
type diff struct {
	r    *compatRun
	what elem
}

// add reports a change of an aspect of the kind, at o and n in the old and
// new specs; the message follows the kind's name.
func (d *diff) add(breaking bool, aspect string, o, n Pos, format string, args ...any) {
	d.r.add(breaking, d.what, aspect, o, n, "%s: %s", d.what.text, fmt.Sprintf(format, args...))
}

// items compares the items of the kinds (a struct's parts).
func (d *diff) items(o, n []Item, oAt, nAt Pos) { d.r.items(d.what, o, n, oAt, nAt) }

// limit reports a change of a kind's lower or upper bound (attribute a),
// where narrowed values are refused by new receivers and widened ones by
// old receivers; refused names the values in between.
func (d *diff) limit(a string, o, n *Kind, ov, nv int, refused func(lo, hi int) string) {
	op, np := compatAttr(o.Attrs, a, o.Pos), compatAttr(n.Attrs, a, n.Pos)
	narrows := nv < ov
	if a == "min" {
		narrows = nv > ov
	}
	lo, hi := min(ov, nv), max(ov, nv)
	if a == "max" {
		lo++
	} else {
		hi--
	}
	switch {
	case ov == nv:
	case narrows:
		d.add(true, a, op, np, "%s %d -> %d narrows it: a new receiver refuses %s, which an old peer may send", a, ov, nv, refused(lo, hi))
	default:
		d.add(false, a, op, np, "%s %d -> %d widens it: an old receiver refuses %s, which a new peer may send", a, ov, nv, refused(lo, hi))
	}
}

func compatLengths(lo, hi int) string { return "the " + compatSpan(lo, hi) + " values" }

func (r *compatRun) consts() {
	val := func(c *Const) string { return strconv.Itoa(c.Value) + c.Unit }
	find := func(s *Spec, name string) *Const {
		for _, c := range s.Consts {
			if c.Name == name {
				return c
			}
		}
		return nil
	}
	for _, oc := range r.old.Consts {
		switch nc := find(r.new, oc.Name); {
		case nc == nil:
			r.add(false, named("const "+oc.Name), "value", oc.Pos, Pos{}, "const %s (%s) removed: a behaviour change, not a wire one", oc.Name, val(oc))
		case val(nc) != val(oc):
			r.add(false, named("const "+oc.Name), "value", oc.Pos, nc.Pos, "const %s %s -> %s: a behaviour change, not a wire one", oc.Name, val(oc), val(nc))
		}
	}
	for _, nc := range r.new.Consts {
		if find(r.old, nc.Name) == nil {
			r.add(false, named("const "+nc.Name), "value", Pos{}, nc.Pos, "const %s (%s) added: a behaviour change, not a wire one", nc.Name, val(nc))
		}
	}
}
