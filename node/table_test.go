package node

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// fold must agree with strings.ToLower on every string, or a name loaded
// from the config (keyed by strings.ToLower) would not be found by a
// datagram naming it (looked up by fold).
func TestFoldIsToLower(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.OneOf(rapid.String(), rapid.StringOf(rapid.RuneFrom([]rune("aZİıKkſßΣσς\xff")))).Draw(t, "s")
		if got, want := string(fold(nil, s)), strings.ToLower(s); got != want {
			t.Fatalf("fold(%q) = %q, strings.ToLower = %q", s, got, want)
		}
	})
}

// The table behaves as a map from folded name to name, whatever the order
// of adds and removes (remove moves the last user of a shard into the
// hole, which must keep the index right).
func TestTableAsMap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tb := newTable(rapid.IntRange(0, 100).Draw(t, "hint"))
		model := map[string]string{}
		name := rapid.StringOf(rapid.RuneFrom([]rune("abAB1é"))).Filter(func(s string) bool { return s != "" })
		for range rapid.IntRange(0, 200).Draw(t, "steps") {
			n := name.Draw(t, "name")
			k := strings.ToLower(n)
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0:
				have, added := tb.add(n)
				if old, ok := model[k]; ok != !added || (ok && have != old) {
					t.Fatalf("add(%q) = %q, %v; model has %q, %v", n, have, added, old, ok)
				}
				if added {
					model[k] = n
				}
			case 1:
				have, ok := tb.remove(n)
				if old, mok := model[k]; ok != mok || have != old {
					t.Fatalf("remove(%q) = %q, %v; model has %q, %v", n, have, ok, old, mok)
				}
				delete(model, k)
			case 2:
				have, ok := tb.lookup(n)
				if old, mok := model[k]; ok != mok || have != old {
					t.Fatalf("lookup(%q) = %q, %v; model has %q, %v", n, have, ok, old, mok)
				}
			}
			if tb.len() != len(model) {
				t.Fatalf("%d users, model %d", tb.len(), len(model))
			}
		}
		for k, n := range model {
			if have, ok := tb.withUserName(k); !ok || have != n {
				t.Fatalf("user %q: %q, %v", k, have, ok)
			}
		}
	})
}

// withUserName looks a folded key up the way requests do.
func (t *table) withUserName(key string) (string, bool) {
	var have string
	ok := t.withUser(fold(nil, key), func(u *userState) { have = u.name })
	return have, ok
}
