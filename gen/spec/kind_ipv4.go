package spec

import "fmt"

// ipv4Base is a dotted quad of canonical decimal octets.
type ipv4Base struct{}

func (ipv4Base) Name() string { return IPv4 }

func (ipv4Base) Attrs() []attr { return nil }

func (ipv4Base) Check(*Kind, *errs) {}

func (ipv4Base) Bounds(*Kind) (int, int) { return len("0.0.0.0"), len("255.255.255.255") }

func (ipv4Base) CanHold(_ *Kind, c byte) bool { return c == '.' || isDigit(c) }

func (ipv4Base) Width(*Kind) int { return 0 }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (ipv4Base) Decode(_ *Kind, s string, off, limit int) (any, *WireError) {
	var a [4]byte
	p := off
	for i := range a {
		if i > 0 {
			if p >= limit || s[p] != '.' {
				return nil, wireErr("bad_field", "", p, "want 4 decimal octets separated by dots")
			}
			p++
		}
		v, next, reason := scanDecimal(s, p, limit, 255)
		if reason != "" {
			return nil, wireErr("bad_field", "", p, "octet: %s", reason)
		}
		a[i], p = byte(v), next
	}
	if p != limit {
		return nil, wireErr("bad_field", "", p, "want 4 decimal octets separated by dots")
	}
	return a, nil
}

func (ipv4Base) Encode(_ *Kind, b []byte, v any) []byte {
	a := v.([4]byte)
	return fmt.Appendf(b, "%d.%d.%d.%d", a[0], a[1], a[2], a[3])
}

func (ipv4Base) DocRules(*Kind) []string {
	return []string{"four decimal octets 0..255 joined by `.`; no sign, no leading zero"}
}

func (ipv4Base) Domain() string { return IPv4 }

func (ipv4Base) Aspects() []string { return nil }

// Every ipv4 kind holds the same values.
func (ipv4Base) Compat(*diff, *Kind, *Kind) {}

// Rules are the checks of the decoder as the IR states them (rules.go).
func (ipv4Base) Rules(*Kind) []Rule {
	return []Rule{{Check: "dotted_quad", Class: "bad_field", At: "scan"}}
}
