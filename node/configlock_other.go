//go:build !unix

package node

import "os"

// lockConfig does nothing where there is no flock: without a lock, a temp
// file beside the config may belong to a write in progress, so none is
// removed.
func lockConfig(_, _ string) (*os.File, []string, error) { return nil, nil, nil }
