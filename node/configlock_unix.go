//go:build unix

package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"mi/internal/fileerr"
)

// whyLock says what the lock file is for, to one who cannot create it.
const whyLock = "the lock file keeps two nodes from writing the same config file; " +
	"it is beside the config unless -lock puts it elsewhere, in a folder the node can write"

// lockConfig makes this node the one owner of the config at path: it holds
// an exclusive lock on the file lockPath (default DefaultLockPath(path))
// until the returned file is closed. With the lock held no other node can
// be writing the config, so every temp file of an earlier write
// (".NAME.tmp*" beside it, left by a crash in the middle of WriteFile) is
// stale; lockConfig removes them and returns their names.
func lockConfig(path, lockPath string) (*os.File, []string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if lockPath == "" {
		lockPath = DefaultLockPath(path)
	}
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (%s)", fileerr.Flag("-lock", lockPath, err), whyLock)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil, fmt.Errorf("config %s is in use by another node (it holds the lock %s)", path, lockPath)
		}
		return nil, nil, fmt.Errorf("%w (%s)", fileerr.Flag("-lock", lockPath, err), whyLock)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	var removed []string
	for _, e := range entries {
		if name := e.Name(); strings.HasPrefix(name, "."+base+".tmp") && e.Type().IsRegular() {
			if err := os.Remove(filepath.Join(dir, name)); err == nil {
				removed = append(removed, name)
			}
		}
	}
	return f, removed, nil
}
