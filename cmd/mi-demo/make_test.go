package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeGo plays go for the Makefile: it says that it compiles, and builds
// a mi-demo (at -o, or in -o's folder) that says how it was run.
const fakeGo = `#!/bin/sh
echo "go $1 (compiling)"
while [ $# -gt 0 ]; do
	if [ "$1" = -o ]; then out=$2; fi
	shift
done
case "$out" in */) out="${out}mi-demo" ;; esac
printf '#!/bin/sh\necho "mi-demo ran $*"\n' > "$out"
chmod +x "$out"
`

// TestMakeDemoSaysBuilding: make demo, demo-live and demo-cluster say
// what they build before Go compiles (a first build is a minute of
// silence otherwise), then run what they built.
func TestMakeDemoSaysBuilding(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make here")
	}
	goPath := filepath.Join(t.TempDir(), "go")
	if err := os.WriteFile(goPath, []byte(fakeGo), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ target, want string }{
		{"demo", "building mi-demo... (the first build may take a minute)\ngo build (compiling)\nmi-demo ran \n"},
		{"demo-live", "building mi-demo... (the first build may take a minute)\ngo build (compiling)\nmi-demo ran -live\n"},
		{"demo-cluster", "building mi-demo and lumi-node... (the first build may take a minute)\ngo build (compiling)\nmi-demo ran -cluster\n"},
	} {
		cmd := exec.Command("make", "--no-print-directory", "-s", tc.target, "GO="+goPath)
		cmd.Dir = filepath.Join("..", "..")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("make %s: %v\n%s", tc.target, err, out)
			continue
		}
		if diff := cmp.Diff(tc.want, strings.ReplaceAll(string(out), "\r", "")); diff != "" {
			t.Errorf("make %s (-want +got):\n%s", tc.target, diff)
		}
	}
}
