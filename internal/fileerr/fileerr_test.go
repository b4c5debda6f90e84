package fileerr

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFlag(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "none", "x.log")
	_, openErr := os.Open(missing)
	_, readErr := os.ReadFile(dir) // a directory
	for _, tc := range []struct {
		name, flag, path string
		err              error
		want             string
	}{
		{"open: the path once, with the flag", "-log", missing, openErr, "-log " + missing + ": no such file or directory"},
		{"read of a directory", "-secret-file", dir, readErr, "-secret-file " + dir + ": is a directory"},
		{"a path error of another file is kept whole", "-log", "other.log", openErr, "-log: open " + missing + ": no such file or directory"},
		{"an error naming the path itself", "-auth", "s.txt", errors.New("s.txt:3: want \"user secret\", got 1 words"), "-auth: s.txt:3: want \"user secret\", got 1 words"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Flag(tc.flag, tc.path, tc.err)
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("errors.Is does not reach the cause")
			}
		})
	}
	if err := Flag("-log", missing, openErr); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(%v, fs.ErrNotExist) = false", err)
	}
}
