package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/internal/syncbuf"
)

// TestCannotStart: a node that cannot start says why once, on one line
// "lumi-node: cannot start: ..." (no log line repeats it), and exits 1;
// a file's error names its flag and its path, and an address another
// node serves is named.
func TestCannotStart(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bb.cfg")
	if err := os.WriteFile(cfg, []byte("bb.com\nu1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "none")
	served := start(t, "-log", "-").addr.String()
	base := []string{"-config", cfg, "-listen", "127.0.0.1:0", "-hosts", "-", "-log", "-", "-source-ports", "8"}
	for _, tc := range []struct {
		name string
		args []string
		want string // the first line of stderr
	}{
		{"config missing", []string{"-config", filepath.Join(missing, "bb.cfg")},
			"lumi-node: cannot start: node: open " + filepath.Join(missing, "bb.cfg") + ": no such file or directory (the config file is set with -config); it holds the domain alone on its first line, then the user names, e.g."},
		{"log folder missing", append(base, "-log", filepath.Join(missing, "x.log")),
			"lumi-node: cannot start: node: -log " + filepath.Join(missing, "x.log") + ": no such file or directory"},
		{"hosts file missing", append(base, "-hosts", filepath.Join(missing, "hosts")),
			"lumi-node: cannot start: -hosts " + filepath.Join(missing, "hosts") + ": no such file or directory"},
		{"hosts file a folder", append(base, "-hosts", dir),
			"lumi-node: cannot start: -hosts " + dir + ": is a directory"},
		{"secrets missing", append(base, "-auth", filepath.Join(missing, "secrets")),
			"lumi-node: cannot start: -auth " + filepath.Join(missing, "secrets") + ": no such file or directory"},
		{"profile folder missing", append(base, "-cpuprofile", filepath.Join(missing, "cpu.pprof")),
			"lumi-node: cannot start: -cpuprofile " + filepath.Join(missing, "cpu.pprof") + ": no such file or directory"},
		{"lock folder missing", append(base, "-lock", filepath.Join(missing, "bb.lock")),
			"lumi-node: cannot start: node: -lock " + filepath.Join(missing, "bb.lock") + ": no such file or directory (the lock file keeps two nodes from writing the same config file; it is beside the config unless -lock puts it elsewhere, in a folder the node can write)"},
		{"address served, one worker", append(base, "-listen", served, "-workers", "1"),
			"lumi-node: cannot start: node: " + served + " is already served by another process"},
		{"address served, workers", append(base, "-listen", served, "-workers", "2"),
			"lumi-node: cannot start: node: " + served + " is already served by another process"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr syncbuf.Buffer
			// A node that starts after all stops here, and fails the test.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			code := run(ctx, tc.args, strings.NewReader(""), io.Discard, &stderr, nil)
			first, _, _ := strings.Cut(stderr.String(), "\n")
			if diff := cmp.Diff(tc.want, first); diff != "" || code != exitError {
				t.Errorf("exit %d, want %d; first line of stderr (-want +got):\n%s", code, exitError, diff)
			}
			if n := strings.Count(stderr.String(), "cannot start"); n != 1 || strings.Contains(stderr.String(), "level=") {
				t.Errorf("said %d times, or with a log line, want once:\n%s", n, stderr.String())
			}
		})
	}
}
