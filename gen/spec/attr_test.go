package spec

import (
	"strings"
	"testing"
)

// withBase registers b for the length of the test.
func withBase(t *testing.T, b Base) {
	t.Helper()
	saved := bases
	bases = append(append([]Base{}, bases...), b)
	t.Cleanup(func() { bases = saved })
}

// fixedBase is a text of exactly len bytes: a base whose attribute len no
// other base takes, declared in its own Attrs and nowhere else.
type fixedBase struct{ textBase }

func (fixedBase) Name() string { return "fixed" }

func (fixedBase) Attrs() []attr {
	return []attr{numberAttr("len", func(k *Kind) *int { return &k.Max }), bytesAttr("allow", func(k *Kind) *string { return &k.AllowSrc })}
}

func (fixedBase) Check(k *Kind, r *errs) {
	if k.Max == 0 {
		r.errorf(k.Pos, "kind %s: a fixed needs len, at least 1", k.Name)
	}
	k.Min = k.Max
	k.buildAllowed(r)
}

// TestBaseDeclaresItsAttributes: an attribute a base declares is read by
// the parser as its shape says, with no rule of its own there: once, a
// number, refused for the bases that do not take it.
func TestBaseDeclaresItsAttributes(t *testing.T) {
	withBase(t, fixedBase{})
	s, err := Parse("t.spec", "kind tok fixed \"a token\" {\n    len 4\n    allow \"a-f\"\n    example \"abcd\"\n    invalid \"abc\" bad_field \"tok\"\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	if k := s.Kind("tok"); k.Min != 4 || k.Max != 4 || k.Attrs["len"].Line != 2 {
		t.Errorf("kind tok: min %d, max %d, len at %v; want 4, 4, line 2", k.Min, k.Max, k.Attrs["len"])
	}
	for _, tc := range []struct{ src, want string }{
		{"kind tok fixed \"t\" {\n    len 4\n    len 5\n}\n", "t.spec:3:5: kind tok: len set twice (first at t.spec:2:5)"},
		{"kind tok fixed \"t\" {\n    len four\n}\n", `t.spec:2:9: "len": "four" is not a number`},
		{"kind tok text \"t\" {\n    max 4\n    len 4\n}\n", `t.spec:3:5: kind tok: "len" means nothing for base text (it takes min, max, utf8, nocontrol, deny, allow, denyrunes, example, invalid)`},
	} {
		_, err := Parse("t.spec", tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %s", tc.src, err, tc.want)
		}
	}
}
