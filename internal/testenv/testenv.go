// Package testenv finds the programs tests run beside the code: tshark,
// redis-server, prometheus, python3 and the like. Where one is missing a
// test skips, saying what goes untested and how to install it; under
// CI=true, whose .ci/run installs them all, it fails instead, so that CI
// never passes by skipping.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// CI says whether the tests run under CI (CI=true), where nothing they
// need may be missing.
func CI() bool { return os.Getenv("CI") == "true" }

// Program returns the path of the program name. Where it is not
// installed, it ends t: a skip that says what goes untested and how to
// install it, or under CI=true a failure.
func Program(t testing.TB, name, untested, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	Missing(t, "%s is not installed (%s): %s", name, install, untested)
	return ""
}

// Missing ends t for want of what it needs, described by format and args:
// a skip, or under CI=true a failure.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if CI() {
		t.Fatalf(format+"; CI=true requires it", args...)
	}
	t.Skipf(format, args...)
}
