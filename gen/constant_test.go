package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"mi/gen/spec"
)

// otherSpec shares no name with mi.spec: whatever the generator writes
// alike for both does not vary with the spec.
const otherSpec = `
protocol Q "another protocol" {
    transport udp
    port 9 "a port"
    tag 1
    length 2 "the info length"
    max 60
}
codes Verdict "a verdict" {
    0 Yes "yes"
}
kind word text "a word" {
    max 8
    utf8
    deny "@;"
    denyrunes "U+0080-U+009F"
}
kind hops uint8 "hops" {
    max 9
}
kind spot ipv4 "a place"
kind at struct At "a word at a place" {
    field w word
    literal "@"
    field p spot
}
message Q a Ask "a question" {
    field at at
    literal ";"
    field n hops
}
message Q b Tell "an answer" {
    answers a
    field v Verdict
}
`

// TestGeneratedGoVariesWithSpec: no declaration of the generated Go is
// the same for two specs that share no name. Code that never varies is
// hand-written source of the package it belongs to (wire/kinds.go,
// wire/wiregen/cases.go), not a string of the generator.
func TestGeneratedGoVariesWithSpec(t *testing.T) {
	mi, err := spec.Load("../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	other, err := spec.Parse("other.spec", otherSpec)
	if err != nil {
		t.Fatal(err)
	}
	a, b := goDecls(t, mi), goDecls(t, other)
	for src, at := range a {
		if b[src] != "" && !strings.HasPrefix(src, modelVocabulary) {
			t.Errorf("%s: the same for every spec: move it to hand-written source\n%s", at, src)
		}
	}
}

// TestLuaIsLuaSource: no Go string of the generator holds Lua functions:
// the dissector's runtime is Lua source in gen/lua, embedded, which a
// reader and a Lua linter see as Lua.
func TestLuaIsLuaSource(t *testing.T) {
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	more, err := filepath.Glob("spec/*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(paths, more...) {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		fs := token.NewFileSet()
		f, err := parser.ParseFile(fs, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if l, ok := n.(*ast.BasicLit); ok && l.Kind == token.STRING && strings.Contains(l.Value, "local function") {
				t.Errorf("%s: Lua in a Go string: move it to gen/lua", fs.Position(l.Pos()))
			}
			return true
		})
	}
}

// modelVocabulary starts the one declaration alike for every spec that is
// written on purpose: the scenario classes of the spec language
// (spec.Classes), which internal/conform takes from the model so that the
// two never disagree.
const modelVocabulary = "var Classes = []string{"

// goDecls maps the source of each top-level declaration of the Go files
// generated from s, but for imports and blank vars (they keep imports
// used), to the file it is in.
func goDecls(t *testing.T, s *spec.Spec) map[string]string {
	t.Helper()
	out, err := generate(s)
	if err != nil {
		t.Fatal(err)
	}
	decls := map[string]string{}
	for _, f := range out {
		if !strings.HasSuffix(f.path, ".go") {
			continue
		}
		fs := token.NewFileSet()
		file, err := parser.ParseFile(fs, f.path, f.data, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			if keepsImport(d) {
				continue
			}
			var src bytes.Buffer
			printer.Fprint(&src, fs, d)
			decls[src.String()] = f.path
		}
	}
	return decls
}

// keepsImport reports whether d is an import or a var _ = x.
func keepsImport(d ast.Decl) bool {
	g, ok := d.(*ast.GenDecl)
	if !ok {
		return false
	}
	if g.Tok == token.IMPORT {
		return true
	}
	for _, sp := range g.Specs {
		v, ok := sp.(*ast.ValueSpec)
		if !ok || len(v.Names) != 1 || v.Names[0].Name != "_" {
			return false
		}
	}
	return g.Tok == token.VAR
}
