package main

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"mi/gen/spec"
)

// runCompat compares the spec at newPath with the one at oldPath (the
// breaking-change check, as in go run ./gen -spec NEW -compat OLD), naming
// the old one oldName in what it prints (make compat's REF:spec/mi.spec,
// not the temporary file it is read from), or oldPath when oldName is "".
// It prints every change that matters on the wire to stdout: the breaking
// ones the new spec does not acknowledge, then those it accepts with its
// reason, then the compatible ones, then the breaking statements that
// acknowledge nothing: an error when they name the old spec's version,
// else a warning (the record of a break of another version), and a
// summary line. It returns 1 if a breaking change is not acknowledged, a
// statement naming the old version is stale, or the new spec's version is
// lower than the old one's, else 0. A spec that cannot be read or does not
// check has its errors printed to stderr and gives 2.
func runCompat(newPath, oldPath, oldName string, stdout, stderr io.Writer) int {
	if oldName == "" {
		oldName = oldPath
	}
	var specs [2]*spec.Spec
	bad := false
	for i, f := range [][2]string{{oldPath, oldName}, {newPath, newPath}} {
		src, err := os.ReadFile(f[0])
		if err == nil {
			specs[i], err = spec.Parse(f[1], string(src))
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			fmt.Fprintf(stderr, "compat: %s does not check; nothing compared\n", f[1])
			bad = true
		}
	}
	if bad {
		return 2
	}
	old, cur := specs[0], specs[1]
	changes := spec.Compare(old, cur)
	stale := cur.Accept(changes, old.Version)
	var breaking, accepted, errs, kept int
	for _, c := range changes {
		if c.Breaking && c.Accepted == nil {
			breaking++
			fmt.Fprintf(stdout, "BREAKING %s\n    to accept it: breaking %s %s against %d \"why\"", c, strconv.Quote(c.Subject), c.Aspect, old.Version)
			if cur.Version <= old.Version {
				fmt.Fprintf(stdout, ", with version %d", old.Version+1)
			}
			fmt.Fprintln(stdout)
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
		what := fmt.Sprintf("%s:%s: breaking %s %s against %d acknowledges no breaking change against %s (version %d)",
			newPath, b.Pos, strconv.Quote(b.Subject), b.Aspect, b.Against, oldName, old.Version)
		if b.Names(old.Version) {
			errs++
			fmt.Fprintf(stdout, "STALE %s: remove it\n", what)
		} else {
			kept++
			fmt.Fprintf(stdout, "warning: %s: kept, it names version %d\n", what, b.Against)
		}
	}
	if cur.Version < old.Version {
		fmt.Fprintf(stdout, "VERSION %s is version %d, %s version %d: a spec's version never goes down\n", newPath, cur.Version, oldName, old.Version)
		errs++
	}
	fmt.Fprintf(stdout, "compat: %d breaking, %d accepted, %d compatible, %d stale, %d kept (%s version %d against %s version %d)\n",
		breaking, accepted, len(changes)-breaking-accepted, len(stale)-kept, kept, newPath, cur.Version, oldName, old.Version)
	if breaking > 0 || errs > 0 {
		return 1
	}
	return 0
}
