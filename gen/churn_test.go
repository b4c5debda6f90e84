package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"mi/gen/spec"
)

// TestNoChurn: lines that change no meaning (blank lines and comments at
// the top of the spec) change no generated file but the docs, which link
// to spec lines. Generated Go holds no spec line numbers: conform finds a
// scenario's lines at run time, and a wire test failure names its input.
func TestNoChurn(t *testing.T) {
	src, err := os.ReadFile("../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	gen := func(text string) map[string][]byte {
		t.Helper()
		s, err := spec.Parse("spec/mi.spec", text)
		if err != nil {
			t.Fatal(err)
		}
		out, err := generate(s)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string][]byte{}
		for _, f := range out {
			m[f.path] = f.data
		}
		return m
	}
	before := gen(string(src))
	after := gen("# a comment\n\n# and a blank line or two\n\n\n" + string(src))
	goFiles := 0
	for path, data := range before {
		if strings.HasSuffix(path, ".go") {
			goFiles++
		}
		if strings.HasPrefix(path, "docs/") && strings.HasSuffix(path, ".md") {
			continue
		}
		if !bytes.Equal(data, after[path]) {
			t.Errorf("%s changes when lines are inserted at the top of the spec", path)
		}
	}
	if len(before) != len(after) || goFiles < 5 {
		t.Errorf("generated %d files, then %d; %d Go files", len(before), len(after), goFiles)
	}
}
