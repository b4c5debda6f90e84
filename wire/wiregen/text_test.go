package wiregen

import (
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"

	"mi/wire"
)

// TestValidTextHoldsNoDeniedRune: a valid user or nickname never holds a
// code point its kind denies, however it is drawn (and the wire package
// agrees that it is valid).
func TestValidTextHoldsNoDeniedRune(t *testing.T) {
	for name, k := range map[string]struct {
		rule  textRule
		check func(string) error
	}{"user": {ruleUser, wire.CheckUser}, "nick": {ruleNick, wire.CheckNick}} {
		if len(k.rule.runes) == 0 {
			t.Fatalf("kind %s denies no code point", name)
		}
		t.Run(name, rapid.MakeCheck(func(t *rapid.T) {
			v := text(k.rule, 1, k.rule.max).Draw(t, "v")
			for _, c := range v {
				if k.rule.denied(c) {
					t.Fatalf("%q holds %U", v, c)
				}
			}
			if err := k.check(v); err != nil {
				t.Fatalf("%q: %v", v, err)
			}
		}))
	}
}

// TestBadTextDrawsDeniedRunes: the invalid values of a kind that denies
// code points include valid UTF-8 that holds one, which the wire package
// refuses.
func TestBadTextDrawsDeniedRunes(t *testing.T) {
	seen := 0
	rapid.Check(t, func(t *rapid.T) {
		v := BadUser().Draw(t, "v")
		if wire.CheckUser(v) == nil {
			t.Fatalf("%q is valid", v)
		}
		if !utf8.ValidString(v) {
			return
		}
		for _, c := range v {
			if ruleUser.denied(c) {
				seen++
				return
			}
		}
	})
	if seen == 0 {
		t.Error("no invalid user held a denied code point")
	}
}
