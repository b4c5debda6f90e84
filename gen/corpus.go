package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"mi/gen/spec"
)

// corpusDir is where go test -fuzz looks for the seeds of the fuzz package.
const corpusDir = "fuzz/testdata/fuzz"

// seedPrefix marks the files this back end owns; other files in the corpus
// (crashers kept as regression cases) are never touched.
const seedPrefix = "spec-"

// corpusFiles is the fuzzing back end: every example and invalid input of the
// spec becomes a seed of the fuzz target that reads its protocol, and every
// sequence becomes one stream seed.
func corpusFiles(s *spec.Spec) ([]file, error) {
	var out []file
	seed := func(target, name string, in string) {
		data := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(in))
		out = append(out, file{filepath.ToSlash(filepath.Join(corpusDir, target, seedPrefix+name)), []byte(data)})
	}
	for _, m := range s.Messages {
		target := "FuzzDecode" + m.Proto.Name
		for i, e := range m.Examples {
			seed(target, fmt.Sprintf("%s-%d", m.Tag, i+1), e.Input)
		}
		for i, in := range m.Invalid {
			seed(target, fmt.Sprintf("%s-invalid-%d", m.Tag, i+1), in.Input)
		}
	}
	for i, sq := range s.Sequences {
		if sq.Proto.LengthDigits == 0 {
			continue // datagrams: each step is a message seed already
		}
		var stream strings.Builder
		for _, st := range sq.Steps {
			stream.WriteString(st.Example)
		}
		seed("Fuzz"+sq.Proto.Name+"Stream", fmt.Sprintf("sequence-%d", i+1), stream.String())
	}
	for _, k := range s.Kinds {
		if fuzzCall(k) == "" {
			continue // no target reads seeds of this kind
		}
		for i, e := range k.Examples {
			seed(kindTarget(k), fmt.Sprintf("%d", i+1), e.Input)
		}
		for i, in := range k.Invalid {
			seed(kindTarget(k), fmt.Sprintf("invalid-%d", i+1), in.Input)
		}
	}
	f, err := kindFuzzFile(s)
	return append(out, f), err
}

// kindTarget is the fuzz target of a kind's exported parser or checker.
func kindTarget(k *spec.Kind) string { return "FuzzKind" + k.GoName() }

// kindFuzzFile writes a fuzz target for every kind the wire package exports
// a parser or checker of: each checks the generated code against the model.
func kindFuzzFile(s *spec.Spec) (file, error) {
	var b bytes.Buffer
	header(&b, s, "fuzz", "testing", "mi/wire")
	g := newW(&b)
	g.p("var _ = wire.PLUMIMax // not every spec needs every import")
	for _, k := range s.Kinds {
		if call := fuzzCall(k); call != "" {
			g.p("\n// %s checks the wire package's %s against the model.", kindTarget(k), k.Name)
			g.p("func %s(f *testing.F) { %s }", kindTarget(k), call)
		}
	}
	return gofile("fuzz/zkinds_test.go", &b)
}

// pruneCorpus removes seeds this back end wrote before but no longer writes,
// so the corpus follows the spec exactly.
func pruneCorpus(root string, out []file) error {
	keep := map[string]bool{}
	for _, f := range out {
		keep[filepath.Join(root, f.path)] = true
	}
	old, err := filepath.Glob(filepath.Join(root, corpusDir, "*", seedPrefix+"*"))
	if err != nil {
		return err
	}
	for _, p := range old {
		if !keep[p] {
			if err := os.Remove(p); err != nil {
				return err
			}
		}
	}
	return nil
}
