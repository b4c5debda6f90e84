//go:build unix

package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
