//go:build unix

package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A node owns its config: a second node on the same file is refused while
// the first runs, and starts once it has stopped.
func TestConfigOwnedByOneNode(t *testing.T) {
	n := startNode(t, "127.0.0.1:0", "bb.com", []string{"u1"}, nil)
	opts := Options{ConfigPath: n.cfgPath, Listen: "127.0.0.1:0", LogPath: "-", HostsFile: "-"}
	if _, err := New(opts); err == nil || !strings.Contains(err.Error(), "in use by another node") {
		t.Fatalf("second node on %s: %v, want it refused as in use", n.cfgPath, err)
	}
	n.stop()
	second, err := New(opts)
	if err != nil {
		t.Fatalf("after the first stopped: %v", err)
	}
	closeUnrun(second)
}

// closeUnrun frees what New opened for a node that never ran.
func closeUnrun(n *Node) {
	n.lock.Close()
	for _, w := range n.workers {
		w.conn.Close()
	}
}

// Temp files that writes killed mid-way left beside the config are gone
// once a node starts on it; other files are kept.
func TestStaleTempFilesRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n.cfg")
	if err := crashA.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		killWriter(t, path, 20*time.Millisecond)
	}
	// One for certain, as a kill between two writes leaves none.
	dir := filepath.Dir(path)
	for _, name := range []string{".n.cfg.tmp123456", "n.cfg.keep", ".other.cfg.tmp1"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n, err := New(Options{ConfigPath: path, Listen: "127.0.0.1:0", LogPath: "-", HostsFile: "-"})
	if err != nil {
		t.Fatal(err)
	}
	defer closeUnrun(n)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{".n.cfg.lock", ".other.cfg.tmp1", "n.cfg", "n.cfg.keep"}
	if strings.Join(left, " ") != strings.Join(want, " ") {
		t.Errorf("files beside the config: %q, want %q", left, want)
	}
}

// A node whose config is missing says so, with the -config hint, and leaves
// no lock file behind.
func TestMissingConfigLeavesNoLock(t *testing.T) {
	dir := t.TempDir()
	_, err := New(Options{ConfigPath: filepath.Join(dir, "none.cfg"), Listen: "127.0.0.1:0", LogPath: "-"})
	if err == nil || !strings.Contains(err.Error(), "-config") {
		t.Fatalf("New: %v, want the missing config with the -config hint", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// The lock file is beside the config unless LockPath (lumi-node -lock)
// puts it elsewhere, as for a config folder the node cannot write; one it
// cannot create says so, naming the flag and the path, and why the node
// wants it.
func TestLockPath(t *testing.T) {
	why := " (the lock file keeps two nodes from writing the same config file; it is beside the config unless -lock puts it elsewhere, in a folder the node can write)"
	for _, tc := range []struct {
		name, lock string // lock: under the test's folder, which holds conf/bb.cfg and a file "file"
		err        string // "" for none; DIR stands for the test's folder
	}{
		{"beside the config", "", ""},
		{"elsewhere", "bb.lock", ""},
		{"in a missing folder", "none/bb.lock", "node: -lock DIR/none/bb.lock: no such file or directory" + why},
		{"under a file", "file/bb.lock", "node: -lock DIR/file/bb.lock: not a directory" + why},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "conf", "bb.cfg")
			if err := os.Mkdir(filepath.Dir(cfg), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := (Config{Domain: "bb.com", Users: []string{"u1"}}).WriteFile(cfg); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			opts := Options{ConfigPath: cfg, Listen: "127.0.0.1:0", LogPath: "-", HostsFile: "-", SourcePorts: -1}
			at := filepath.Join(dir, "conf", ".bb.cfg.lock")
			if tc.lock != "" {
				opts.LockPath = filepath.Join(dir, tc.lock)
				at = opts.LockPath
			}
			n, err := New(opts)
			if tc.err != "" {
				if diff := cmp.Diff(strings.ReplaceAll(tc.err, "DIR", dir), fmt.Sprint(err)); diff != "" {
					t.Errorf("New (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer closeUnrun(n)
			var locks []string
			for _, d := range []string{dir, filepath.Dir(cfg)} {
				m, _ := filepath.Glob(filepath.Join(d, "*.lock")) // dot files too
				locks = append(locks, m...)
			}
			if diff := cmp.Diff([]string{at}, locks); diff != "" {
				t.Errorf("lock files (-want +got):\n%s", diff)
			}
			// A node on the same config with the same lock is refused.
			if second, err := New(opts); err == nil {
				closeUnrun(second)
				t.Errorf("a second node on %s with the lock %s started", cfg, at)
			} else if want := "node: config " + cfg + " is in use by another node (it holds the lock " + at + ")"; err.Error() != want {
				t.Errorf("second node: %v, want %s", err, want)
			}
		})
	}
}
