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
