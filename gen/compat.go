package main

import (
	"fmt"
	"io"

	"mi/gen/spec"
)

// runCompat compares the spec at newPath with the one at oldPath (the
// breaking-change check, as in go run ./gen -spec NEW -compat OLD). It
// prints every change that matters on the wire, breaking ones first, and a
// summary line to stdout, and returns 1 if a change breaks peers of the
// two specs, else 0. A spec that cannot be read or does not check has its
// errors printed to stderr and gives 2.
func runCompat(newPath, oldPath string, stdout, stderr io.Writer) int {
	var specs [2]*spec.Spec
	bad := false
	for i, path := range []string{oldPath, newPath} {
		s, err := spec.Load(path)
		if err != nil {
			fmt.Fprintln(stderr, err)
			fmt.Fprintf(stderr, "compat: %s does not check; nothing compared\n", path)
			bad = true
		}
		specs[i] = s
	}
	if bad {
		return 2
	}
	changes := spec.Compare(specs[0], specs[1])
	breaking := 0
	for _, c := range changes {
		if c.Breaking {
			breaking++
			fmt.Fprintf(stdout, "BREAKING %s\n", c)
		}
	}
	for _, c := range changes {
		if !c.Breaking {
			fmt.Fprintf(stdout, "compatible %s\n", c)
		}
	}
	fmt.Fprintf(stdout, "compat: %d breaking, %d compatible (%s against %s)\n", breaking, len(changes)-breaking, newPath, oldPath)
	if breaking > 0 {
		return 1
	}
	return 0
}
