package spec

// Op is one move of a decoder through a message or a struct. The decode
// plan is part of the model so that every decoder built from it (the model's
// own, the generated Go, a dissector) reads the same bytes the same way and
// refuses the same input with the same error in the same field.
type Op struct {
	Lit   string // a literal to match; "" for a field
	After string // literal: the field an error names when it is missing
	Found bool   // literal: its byte ended the field before it, so it is there

	Field *Field
	Term  byte // variable-width field: the byte that ends it; 0: it runs to the end of its span
}

// Plan is how a message is read: Head, then, when the message has an if
// group, Then if the condition's code is there and Else if not.
type Plan struct {
	Head       []Op
	Cond       *Cond
	Then, Else []Op
	// First is the field a "truncated" error names when a length prefix
	// says more than there is; Last (per branch) the field a "trailing"
	// error names.
	First, Last, LastThen, LastElse string
}

// header is the name of the last part of a protocol's header.
func header(p *Protocol) string {
	if p.LengthDigits > 0 {
		return "length"
	}
	return "type"
}

// Plan returns the decode plan of m.
func (m *Message) Plan() Plan {
	items := m.Items
	var cond *Cond
	if n := len(items); n > 0 && items[n-1].Cond != nil {
		cond, items = items[n-1].Cond, items[:n-1]
	}
	pl := Plan{Cond: cond, First: header(m.Proto), Last: header(m.Proto)}
	if fs := m.Fields(); len(fs) > 0 {
		pl.First, pl.Last = fs[0].Name, fs[len(fs)-1].Name
	}
	if cond == nil {
		pl.Head = opsOf(items, header(m.Proto))
		pl.LastThen = lastField(pl.Head, header(m.Proto))
		return pl
	}
	at := 0
	for i, it := range items {
		if it.Field == cond.Field {
			at = i + 1
		}
	}
	pl.Head = opsOf(items[:at], header(m.Proto))
	prev := lastField(pl.Head, header(m.Proto))
	pl.Then = opsOf(append(append([]Item{}, items[at:]...), cond.Items...), prev)
	pl.Else = opsOf(items[at:], prev)
	pl.LastThen, pl.LastElse = lastField(pl.Then, prev), lastField(pl.Else, prev)
	return pl
}

// PartOps is the plan of a struct kind's parts.
func (k *Kind) PartOps() []Op { return opsOf(k.Parts, k.Name) }

// TrailingField is the field a struct kind's "trailing" error names: its
// last field.
func (k *Kind) TrailingField() string { return lastField(k.PartOps(), k.Name) }

// opsOf turns items without a condition into ops; prev names what comes
// before them.
func opsOf(items []Item, prev string) []Op {
	var ops []Op
	for i, it := range items {
		if it.Literal != "" {
			found := false
			if n := len(ops); n > 0 && ops[n-1].Field != nil && ops[n-1].Term != 0 && len(it.Literal) == 1 {
				found = true
			}
			ops = append(ops, Op{Lit: it.Literal, After: prev, Found: found})
			continue
		}
		op := Op{Field: it.Field}
		if !it.Field.Kind.FixedWidth() && i+1 < len(items) && items[i+1].Literal != "" {
			op.Term = items[i+1].Literal[0]
		}
		ops = append(ops, op)
		prev = it.Field.Name
	}
	return ops
}

func lastField(ops []Op, prev string) string {
	for i := len(ops) - 1; i >= 0; i-- {
		if ops[i].Field != nil {
			return ops[i].Field.Name
		}
	}
	return prev
}

// EndsOpen reports whether ops end with a variable field that runs to the
// end of its span, so that nothing can trail them.
func EndsOpen(ops []Op) bool {
	n := len(ops)
	return n > 0 && ops[n-1].Field != nil && ops[n-1].Term == 0 && !ops[n-1].Field.Kind.FixedWidth()
}
