// Package atomicfile replaces small files so that a crash at any moment
// leaves either the old file or the new one, never a mix or an empty file:
// the bytes go to a temp file in the same directory, which is synced,
// renamed over the file, and the directory synced.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// WriteFile replaces the file at path with data. An existing file's mode
// is kept; a new one gets perm. The temp file is named ".BASE.tmp*", beside
// the file; it is removed when the write fails.
func WriteFile(path string, data []byte, perm os.FileMode) (err error) {
	if fi, err := os.Stat(path); err == nil {
		perm = fi.Mode().Perm()
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the temp file's name means nothing to the reader
		}
		return fmt.Errorf("write %s: cannot create a file in directory %s: %w", path, filepath.Clean(dir), err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	// Durable before the rename, or the rename could reach the disk first.
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) {
		// Some file systems cannot fsync a directory; the rename is then as
		// durable as they can make it.
		return nil
	}
	return err
}
