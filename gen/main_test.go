package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedFilesUpToDate regenerates into an empty directory and
// compares with the committed files: a deleted or stale generated file
// fails here as well as in make test's drift check.
func TestGeneratedFilesUpToDate(t *testing.T) {
	tmp := t.TempDir()
	if err := run("../spec/mi.spec", tmp); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := filepath.Walk(tmp, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(tmp, path)
		want, err := os.ReadFile(filepath.Join("..", rel))
		if err != nil {
			t.Errorf("%s: not committed: %v", rel, err)
			return nil
		}
		got, _ := os.ReadFile(path)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: stale; run make generate", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Errorf("generator wrote only %d files", n)
	}
}

// TestGenerateIsDeterministic: two runs write the same bytes.
func TestGenerateIsDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := run("../spec/mi.spec", dir); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"wire/zmessages.go", "wire/wiregen/zgen.go", "docs/protocol.md"} {
		x, _ := os.ReadFile(filepath.Join(a, f))
		y, _ := os.ReadFile(filepath.Join(b, f))
		if !bytes.Equal(x, y) || len(x) == 0 {
			t.Errorf("%s differs between runs", f)
		}
	}
}
