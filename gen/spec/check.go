package spec

import (
	"fmt"
	"strings"
)

// check validates what the grammar cannot: that every field can be
// delimited, that limits fit the protocols, and that the rules are coherent.
func (s *Spec) check() error {
	for _, k := range s.Kinds {
		if err := s.checkKind(k); err != nil {
			return err
		}
	}
	for _, p := range s.Protocols {
		if p.Transport == "" || p.TagLen == 0 || p.Max == 0 {
			return s.errf(p.Line, "protocol %s needs transport, tag and max", p.Name)
		}
	}
	for _, m := range s.Messages {
		if err := s.checkMessage(m); err != nil {
			return err
		}
	}
	return nil
}

func (s *Spec) errf(line int, format string, args ...any) error {
	return &specError{s.File, line, fmt.Sprintf(format, args...)}
}

func (s *Spec) checkKind(k *Kind) error {
	switch k.Base {
	case Text, DNSName:
		if k.Max == 0 || k.Min > k.Max {
			return s.errf(k.Line, "kind %s: needs max, and min <= max", k.Name)
		}
		if err := k.buildAllowed(); err != nil {
			return s.errf(k.Line, "%v", err)
		}
	case Uint16:
		if k.Min > k.Max || k.Max > 65535 {
			return s.errf(k.Line, "kind %s: range %d..%d does not fit uint16", k.Name, k.Min, k.Max)
		}
	case Struct:
		if len(k.Parts) == 0 || k.GoType == "" {
			return s.errf(k.Line, "kind %s: a struct needs a Go type and parts", k.Name)
		}
		if k.Parts[0].Field == nil {
			return s.errf(k.Line, "kind %s: a struct starts with a field", k.Name)
		}
		return s.checkItems(k.Line, k.Name, k.Parts, "")
	}
	return nil
}

// buildAllowed turns allow/deny/nocontrol into a byte set.
func (k *Kind) buildAllowed() error {
	for c := 0; c < 256; c++ {
		k.Allowed[c] = k.AllowSrc == ""
	}
	for _, w := range strings.Fields(k.AllowSrc) {
		lo, hi := w[0], w[0]
		if len(w) == 3 && w[1] == '-' {
			hi = w[2]
		} else if len(w) != 1 {
			return fmt.Errorf("kind %s: allow item %q is neither a byte nor a range X-Y", k.Name, w)
		}
		for c := int(lo); c <= int(hi); c++ {
			k.Allowed[c] = true
		}
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
	return nil
}

// CanHold reports whether some value of k may contain byte c: a field whose
// kind can hold its terminator cannot be delimited.
func (k *Kind) CanHold(c byte) bool {
	switch k.Base {
	case Text, DNSName:
		return k.Allowed[c]
	case IPv4:
		return c == '.' || c >= '0' && c <= '9'
	case Uint16, Codes:
		return c >= '0' && c <= '9'
	}
	for _, it := range k.Parts {
		if it.Literal != "" && strings.IndexByte(it.Literal, c) >= 0 || it.Field != nil && it.Field.Kind.CanHold(c) {
			return true
		}
	}
	return false
}

// FixedWidth reports whether a value of k always has the same length, so
// that it needs no terminator.
func (k *Kind) FixedWidth() bool { return k.Base == Codes }

func (s *Spec) checkMessage(m *Message) error {
	if len(m.Tag) != m.Proto.TagLen {
		return s.errf(m.Line, "message %s: tag must be %d bytes in %s", m.Tag, m.Proto.TagLen, m.Proto.Name)
	}
	for i, it := range m.Items {
		if it.Cond != nil && i != len(m.Items)-1 {
			return s.errf(m.Line, "message %s: an if group must be the last item", m.Tag)
		}
	}
	if err := s.checkItems(m.Line, m.Tag, m.Items, ""); err != nil {
		return err
	}
	if n := m.MaxLen(); n > m.Proto.Max {
		return s.errf(m.Line, "message %s: can be %d bytes, over the %s limit of %d", m.Tag, n, m.Proto.Name, m.Proto.Max)
	}
	if d := m.Proto.LengthDigits; d > 0 {
		info := m.MaxLen() - len(m.Tag) - d
		if limit := pow10(d) - 1; info > limit {
			return s.errf(m.Line, "message %s: info can be %d bytes; a %d-digit length holds %d", m.Tag, info, d, limit)
		}
	}
	return nil
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
func (s *Spec) checkItems(line int, owner string, items []Item, after string) error {
	for i, it := range items {
		switch {
		case it.Cond != nil:
			if len(it.Cond.Items) == 0 || it.Cond.Items[0].Literal == "" {
				return s.errf(line, "%s: an if group starts with a literal", owner)
			}
			if err := s.checkItems(line, owner, it.Cond.Items, after); err != nil {
				return err
			}
		case it.Field != nil:
			if err := s.checkTerm(line, owner, it.Field, terms(items[i+1:], after)); err != nil {
				return err
			}
		}
	}
	return nil
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
		return []string{rest[0].Cond.Items[0].Literal, after}
	}
	return []string{"field"}
}

func (s *Spec) checkTerm(line int, owner string, f *Field, terms []string) error {
	for _, t := range terms {
		switch {
		case t == "field" && !f.Kind.FixedWidth():
			return s.errf(f.Line, "%s: field %s has variable width and is followed by another field; put a literal between them", owner, f.Name)
		case t != "" && t != "field" && f.Kind.CanHold(t[0]):
			return s.errf(f.Line, "%s: field %s (kind %s) may contain %q, the separator after it", owner, f.Name, f.Kind.Name, t[:1])
		}
		if f.Kind.Base == Struct {
			last := f.Kind.Parts[len(f.Kind.Parts)-1]
			if last.Field != nil {
				if err := s.checkTerm(line, f.Kind.Name, last.Field, []string{t}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
