package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"mi/gen/spec"
)

// FuzzSpec feeds arbitrary text to the spec parser and checker: they must
// never panic, and must either refuse the text with positioned errors or
// accept it. An accepted spec goes through every back end, whose Go output
// must format (gofile checks it); its IR must read back, and it must be
// compatible with itself.
func FuzzSpec(f *testing.F) {
	// Small specs, one shape each: the engine mutates what it is given,
	// and each run checks the whole input, so the 900-line spec as a seed
	// made it crawl (15 execs in 20 s). TestFuzzSeedsCheck keeps them valid.
	for _, src := range seedSpecs(f) {
		f.Add(src)
	}
	for _, s := range []string{"", "# only a comment\n", "kind", "}", "{", "message P A B \"d\" {\n", "codes C \"d\" {\n}\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		s, err := spec.Parse("fuzz.spec", src)
		if err != nil {
			list, ok := err.(spec.ErrorList)
			if !ok || len(list) == 0 || len(list) > spec.MaxErrors+1 {
				t.Fatalf("error %T %v: want an ErrorList of 1 to %d errors", err, err, spec.MaxErrors+1)
			}
			for i, e := range list {
				if e.Pos.Line < 1 || e.Pos.Col < 1 || e.Pos.Line > strings.Count(src, "\n")+1 || e.Msg == "" || !utf8.ValidString(e.Msg) && utf8.ValidString(src) {
					t.Fatalf("error %d %q: bad position or message", i, e)
				}
				if i > 0 && e.Pos.Before(list[i-1].Pos) {
					t.Fatalf("errors out of order: %v before %v", list[i-1], e)
				}
			}
			return
		}
		if _, err := generate(s); err != nil {
			t.Fatalf("spec checks but a back end fails: %v", err)
		}
		j, err := json.Marshal(s.IR())
		if err != nil {
			t.Fatalf("IR does not marshal: %v", err)
		}
		var ir spec.IR
		if err := json.Unmarshal(j, &ir); err != nil {
			t.Fatalf("IR does not unmarshal: %v", err)
		}
		if _, err := spec.FromIR(&ir); err != nil {
			t.Fatalf("spec checks but its IR does not: %v", err)
		}
		if ch := spec.Compare(s, s); len(ch) != 0 {
			t.Fatalf("a spec compared with itself changes: %v", ch[0])
		}
	})
}

// seedSpecs returns the small valid specs of testdata/seeds.
func seedSpecs(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "seeds", "*.spec"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no seed specs in testdata/seeds: %v", err)
	}
	var srcs []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		srcs = append(srcs, string(b))
	}
	return srcs
}

// TestFuzzSeedsCheck: every seed of FuzzSpec is a spec that checks and
// generates, so the fuzzer starts from the valid shapes it mutates.
func TestFuzzSeedsCheck(t *testing.T) {
	for i, src := range seedSpecs(t) {
		s, err := spec.Parse(fmt.Sprintf("seed%d.spec", i), src)
		if err != nil {
			t.Errorf("seed %d: %v", i, err)
			continue
		}
		if _, err := generate(s); err != nil {
			t.Errorf("seed %d: a back end fails: %v", i, err)
		}
	}
}
