// Package fileerr words the error of a file that a flag names, for people:
// the flag, the path and why, once each ("-log /var/log/x.log: permission
// denied"), where Go's own error would say "open /var/log/x.log: ..."
// without the flag, and a program's wrapping often lost the path.
package fileerr

import (
	"errors"
	"io/fs"
)

// Flag returns err, the failure of the file at path that flag names, as
// "FLAG PATH: cause" when err is the *fs.PathError of an operation on
// path (its operation and path said once, by the flag), else as
// "FLAG: err", for an error that names the path itself (a reader's
// "PATH:LINE: ..."). errors.Is and errors.As reach err.
func Flag(flag, path string, err error) error { return &flagError{flag, path, err} }

type flagError struct {
	flag, path string
	err        error
}

func (e *flagError) Error() string {
	var pe *fs.PathError
	if errors.As(e.err, &pe) && pe == e.err && pe.Path == e.path {
		return e.flag + " " + e.path + ": " + pe.Err.Error()
	}
	return e.flag + ": " + e.err.Error()
}

func (e *flagError) Unwrap() error { return e.err }
