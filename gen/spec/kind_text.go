package spec

// textBase is a run of bytes from an allowed set, with a length range.
type textBase struct{}

func (textBase) Name() string { return Text }

func (textBase) Attrs() []string { return []string{"min", "max", "utf8", "nocontrol", "deny", "allow"} }

func (textBase) Check(k *Kind, r *errs) {
	if _, ok := k.Attrs["max"]; !ok || k.Max == 0 {
		r.errorf(k.Pos, "kind %s: a %s needs max, at least 1", k.Name, k.Base)
	}
	if k.Min > k.Max {
		r.errorf(k.Attrs["min"], "kind %s: min %d is over max %d", k.Name, k.Min, k.Max)
	}
	k.buildAllowed(r)
	if k.Min > 0 && !k.holdsAny() {
		r.errorf(k.Pos, "kind %s: allow, deny and nocontrol leave no byte a value could hold", k.Name)
	}
}

func (k *Kind) holdsAny() bool {
	for _, ok := range k.Allowed {
		if ok {
			return true
		}
	}
	return false
}

func (textBase) Bounds(k *Kind) (int, int) { return k.Min, k.Max }

func (textBase) CanHold(k *Kind, c byte) bool { return k.Allowed[c] }

func (textBase) Width(*Kind) int { return 0 }

func (textBase) Decode(k *Kind, s string, off, limit int) (any, *WireError) {
	return decodeText(k, s, off, limit)
}

func (textBase) Encode(_ *Kind, b []byte, v any) []byte { return append(b, v.(string)...) }
