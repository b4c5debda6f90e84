package testenv

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recorder is a testing.TB that records how a test ended.
type recorder struct {
	testing.TB // nil: only the methods below are called
	ended      string
}

type ended struct{}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.ended = "FAIL: " + fmt.Sprintf(format, args...)
	panic(ended{})
}

func (r *recorder) Skipf(format string, args ...any) {
	r.ended = "SKIP: " + fmt.Sprintf(format, args...)
	panic(ended{})
}

// run calls Program as a test would, and says how the test ended.
func run(name string) (path, how string) {
	r := &recorder{}
	defer func() {
		if v := recover(); v != nil && v != (ended{}) {
			panic(v)
		}
	}()
	defer func() { how = r.ended }()
	return Program(r, name, "nothing is tested", "apt-get install nothing"), ""
}

// TestProgram: a missing program skips the test, or fails it under
// CI=true; one that is installed is found.
func TestProgram(t *testing.T) {
	const missing = "no-such-program-here is not installed (apt-get install nothing): nothing is tested"
	for _, tt := range []struct {
		ci, name, how string
		found         bool
	}{
		{"", "no-such-program-here", "SKIP: " + missing, false},
		{"true", "no-such-program-here", "FAIL: " + missing + "; CI=true requires it", false},
		{"true", "go", "", true},
	} {
		t.Setenv("CI", tt.ci)
		path, how := run(tt.name)
		if diff := cmp.Diff(tt.how, how); diff != "" {
			t.Errorf("CI=%q, %s: how the test ended (-want +got):\n%s", tt.ci, tt.name, diff)
		}
		if (path != "") != tt.found {
			t.Errorf("CI=%q, %s: path %q, want found=%v", tt.ci, tt.name, path, tt.found)
		}
	}
}
