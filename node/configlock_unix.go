//go:build unix

package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// lockConfig makes this node the one owner of the config at path: it holds
// an exclusive lock on a file beside it (".NAME.lock") until the returned
// file is closed. With the lock held no other node can be writing the
// config, so every temp file of an earlier write (".NAME.tmp*", left by a
// crash in the middle of WriteFile) is stale; lockConfig removes them and
// returns their names.
func lockConfig(path string) (*os.File, []string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.OpenFile(filepath.Join(dir, "."+base+".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil, fmt.Errorf("config %s is in use by another node", path)
		}
		return nil, nil, fmt.Errorf("lock %s: %w", f.Name(), err)
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
