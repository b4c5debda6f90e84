package main

import (
	"encoding/json"
	"fmt"
	"io"

	"mi/gen/spec"
)

// runIR is gen -ir: it loads the spec and prints its checked model as the
// JSON IR (docs/ir.md) to stdout, returning 0; a spec that does not load or
// check has its errors printed to stderr, one file:line:col per line, and
// returns 2. The IR's file is specPath as given.
func runIR(specPath string, stdout, stderr io.Writer) int {
	s, err := spec.Load(specPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s.IR()); err != nil {
		fmt.Fprintln(stderr, "gen:", err)
		return 1
	}
	return 0
}
