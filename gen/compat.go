package main

import (
	"fmt"
	"io"
	"strconv"

	"mi/gen/spec"
)

// runCompat compares the spec at newPath with the one at oldPath (the
// breaking-change check, as in go run ./gen -spec NEW -compat OLD). It
// prints every change that matters on the wire to stdout: the breaking
// ones the new spec does not acknowledge, then those it accepts with its
// reason, then the compatible ones, then the breaking statements that
// acknowledge nothing, and a summary line. It returns 1 if a breaking
// change is not acknowledged or a statement is stale, else 0. A spec that
// cannot be read or does not check has its errors printed to stderr and
// gives 2.
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
	stale := specs[1].Accept(changes)
	var breaking, accepted int
	for _, c := range changes {
		if c.Breaking && c.Accepted == nil {
			breaking++
			fmt.Fprintf(stdout, "BREAKING %s\n    to accept it: breaking %s %s \"why\"\n", c, strconv.Quote(c.Subject), c.Aspect)
		}
	}
	for _, c := range changes {
		if b := c.Accepted; b != nil {
			accepted++
			fmt.Fprintf(stdout, "breaking, accepted: %s\n    %s:%s: %s\n", c, newPath, b.Pos, b.Reason)
		}
	}
	for _, c := range changes {
		if !c.Breaking {
			fmt.Fprintf(stdout, "compatible %s\n", c)
		}
	}
	for _, b := range stale {
		fmt.Fprintf(stdout, "STALE %s:%s: breaking %s %s acknowledges no breaking change against %s: remove it\n", newPath, b.Pos, strconv.Quote(b.Subject), b.Aspect, oldPath)
	}
	fmt.Fprintf(stdout, "compat: %d breaking, %d accepted, %d compatible, %d stale (%s against %s)\n",
		breaking, accepted, len(changes)-breaking-accepted, len(stale), newPath, oldPath)
	if breaking > 0 || len(stale) > 0 {
		return 1
	}
	return 0
}
