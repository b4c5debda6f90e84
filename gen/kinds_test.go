package main

import (
	"slices"
	"strings"
	"testing"

	"mi/gen/spec"
)

// backEndKinds lists, for each back end that writes code per base, the
// bases it has an entry for.
func backEndKinds() map[string][]string {
	return map[string][]string{
		"go (kinds_go.go)":         keys(goKinds),
		"rapid (kinds_rapid.go)":   keys(rapidKinds),
		"fuzz (kinds_fuzz.go)":     keys(fuzzKinds),
		"wireshark (kinds_lua.go)": keys(luaKinds),
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestEveryBaseHasEveryBackEnd: every base of gen/spec has an entry in
// every back end, and no back end has one for a base that does not exist,
// so that a new base is not half done and a new back end covers them all.
func TestEveryBaseHasEveryBackEnd(t *testing.T) {
	bases := spec.Bases()
	for be, has := range backEndKinds() {
		for _, b := range bases {
			if !slices.Contains(has, b) {
				t.Errorf("base %s has no entry in the %s back end", b, be)
			}
		}
		for _, b := range has {
			if !slices.Contains(bases, b) {
				t.Errorf("the %s back end has an entry for %s, which is no base of gen/spec", be, b)
			}
		}
	}
}

// TestScratchSpecHasEveryBase: mi.spec and testdata/extra.spec hold a kind
// of every base, so that every entry of every back end is generated and
// its output compiled and tested (TestScratchSpecThroughEveryBackEnd,
// TestScratchSpecDissector).
func TestScratchSpecHasEveryBase(t *testing.T) {
	s, err := spec.Load(writeScratchSpec(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range spec.Bases() {
		if !slices.ContainsFunc(s.Kinds, func(k *spec.Kind) bool { return k.Base == b }) {
			t.Errorf("no kind of base %s in mi.spec or testdata/extra.spec: add one to testdata/extra.spec", b)
		}
	}
}

// TestLuaFilesOfEveryBase: the gen/lua files each base's entries call
// exist, so a dissector that uses the base loads.
func TestLuaFilesOfEveryBase(t *testing.T) {
	for b, lk := range luaKinds {
		for _, f := range lk.funcs() {
			if _, err := luaFiles.ReadFile("lua/" + f + ".lua"); err != nil {
				t.Errorf("base %s calls gen/lua/%s.lua: %v", b, f, err)
			}
		}
	}
}

// TestLuaOnlyForBasesInUse: the dissector holds the functions of the bases
// its spec uses, and not those of the others.
func TestLuaOnlyForBasesInUse(t *testing.T) {
	s, err := spec.Parse("other.spec", otherSpec) // no dnsname
	if err != nil {
		t.Fatal(err)
	}
	fs, err := wiresharkFiles(s)
	if err != nil {
		t.Fatal(err)
	}
	lua := string(fs[0].data)
	for fn, want := range map[string]bool{"text_decode": true, "struct_decode": true, "ipv4_decode": true, "dnsname_decode": false, "is_domain_name": false} {
		if got := strings.Contains(lua, "local function "+fn+"("); got != want {
			t.Errorf("the dissector of a spec with no dnsname kind defines %s: %v, want %v", fn, got, want)
		}
	}
}

// TestEveryBaseAnswersCompat: a kind of every base, compared with itself
// and with a kind of every other base, gets an answer from the model's
// compat rules, whatever the pair: none for itself, and for another base a
// judgement of the base change, breaking or not. A base whose Compat does
// not know another base's kinds would panic or stay silent here.
func TestEveryBaseAnswersCompat(t *testing.T) {
	s, err := spec.Load(writeScratchSpec(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	byBase := map[string]*spec.Kind{}
	for _, k := range s.Kinds {
		if byBase[k.Base] == nil {
			byBase[k.Base] = k
		}
	}
	for _, a := range spec.Bases() {
		for _, b := range spec.Bases() {
			o, n := byBase[a], byBase[b]
			if o == nil || n == nil {
				continue // TestScratchSpecHasEveryBase says so
			}
			changes := compareKinds(t, o, n)
			switch {
			case a == b && o == n && len(changes) > 0:
				t.Errorf("kind %s compared with itself: %v", o.Name, changes)
			case a != b && !slices.ContainsFunc(changes, func(c spec.Change) bool { return c.Aspect == "base" }):
				t.Errorf("kind %s (%s) -> %s (%s): no judgement of the base change in %v", o.Name, a, n.Name, b, changes)
			}
		}
	}
}

// compareKinds is spec.CompareKinds, with a panic as a test failure.
func compareKinds(t *testing.T, o, n *spec.Kind) (changes []spec.Change) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("kind %s (%s) -> %s (%s): compat panics: %v", o.Name, o.Base, n.Name, n.Base, r)
		}
	}()
	return spec.CompareKinds(o, n)
}
