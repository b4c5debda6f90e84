package spec

// codesBase is one ASCII digit from a closed list of named values.
type codesBase struct{}

func (codesBase) Name() string { return Codes }

func (codesBase) Attrs() []attr { return nil }

// The parser refuses a codes block with no value.
func (codesBase) Check(*Kind, *errs) {}

func (codesBase) Bounds(*Kind) (int, int) { return 1, 1 }

func (codesBase) CanHold(_ *Kind, c byte) bool { return isDigit(c) }

func (codesBase) Width(*Kind) int { return 1 }

func (codesBase) Decode(k *Kind, s string, off, _ int) (any, *WireError) {
	for _, c := range k.Values {
		if int(s[off]-'0') == c.Value {
			return c, nil
		}
	}
	return nil, wireErr("bad_field", "", off, "byte %q: no such code", s[off])
}

func (codesBase) Encode(_ *Kind, b []byte, v any) []byte { return append(b, byte('0'+v.(*Code).Value)) }

// The codes are listed with each message that carries them.
func (codesBase) DocRules(*Kind) []string { return nil }

func (codesBase) Domain() string { return Codes }

func (codesBase) Aspects() []string { return []string{"values"} }

// Compat matches the codes by name, then by value, and reports those
// removed, renamed, renumbered and added.
func (codesBase) Compat(d *diff, o, n *Kind) {
	m := compatCodes(o, n)
	image := map[*Code]bool{}
	meaning := func(v int) string {
		for _, c := range n.Values {
			if c.Value == v {
				return "now means " + c.Name
			}
		}
		return "is now refused"
	}
	for _, oc := range o.Values {
		nc := m[oc]
		if nc == nil {
			d.add(true, "values", oc.Pos, n.Pos, "%d %s removed: an old peer may send it, a new receiver refuses it", oc.Value, oc.Name)
			continue
		}
		image[nc] = true
		if nc.Name != oc.Name {
			d.add(false, "values", oc.Pos, nc.Pos, "%d %s renamed %s (wire-invisible)", oc.Value, oc.Name, nc.Name)
		}
		if nc.Value != oc.Value {
			d.add(true, "values", oc.Pos, nc.Pos, "%s %d -> %d: the digit %d %s, so old and new peers misread each other", oc.Name, oc.Value, nc.Value, oc.Value, meaning(oc.Value))
		}
	}
	for _, nc := range n.Values {
		if !image[nc] {
			d.add(false, "values", o.Pos, nc.Pos, "new value %d %s: an old receiver refuses it", nc.Value, nc.Name)
		}
	}
}

// compatCodes matches the codes of two codes kinds: by name, then an old
// code left over with a new one of the same value (renamed).
func compatCodes(o, n *Kind) map[*Code]*Code {
	m := map[*Code]*Code{}
	used := map[*Code]bool{}
	for _, oc := range o.Values {
		for _, nc := range n.Values {
			if nc.Name == oc.Name {
				m[oc], used[nc] = nc, true
			}
		}
	}
	for _, oc := range o.Values {
		for _, nc := range n.Values {
			if m[oc] == nil && !used[nc] && nc.Value == oc.Value {
				m[oc], used[nc] = nc, true
			}
		}
	}
	return m
}

// Rules are the checks of the decoder as the IR states them (rules.go).
func (codesBase) Rules(k *Kind) []Rule {
	r := Rule{Check: "code", Class: "bad_field", At: "start", Codes: []int{}}
	for _, c := range k.Values {
		r.Codes = append(r.Codes, c.Value)
	}
	return []Rule{r}
}
