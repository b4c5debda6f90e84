package lumi

import (
	"errors"
	"io/fs"
	"net/netip"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseHosts(t *testing.T) {
	in := `# comment line
127.0.0.1	localhost
127.0.1.1  Node.BB.com bb.com   # alias in another case
::1        localhost ip6-localhost
::ffff:10.0.0.1 mapped.com
10.0.0.2   bb.com second.com
0.0.0.0    blocked.com
not-an-ip  x.com
10.0.0.3
   10.0.0.4   trailing.com.
`
	want := map[string]netip.Addr{
		"localhost.":    netip.MustParseAddr("127.0.0.1"),
		"node.bb.com.":  netip.MustParseAddr("127.0.1.1"),
		"bb.com.":       netip.MustParseAddr("127.0.1.1"),
		"mapped.com.":   netip.MustParseAddr("10.0.0.1"),
		"second.com.":   netip.MustParseAddr("10.0.0.2"),
		"trailing.com.": netip.MustParseAddr("10.0.0.4"),
	}
	got := parseHosts([]byte(in))
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("parseHosts mismatch (-want +got):\n%s", diff)
	}
}

func TestHostsFileMissingOrDisabled(t *testing.T) {
	for _, path := range []string{"-", t.TempDir() + "/nonexistent"} {
		if a, ok := newHostsFile(path).lookup("localhost."); ok {
			t.Errorf("%s: lookup = %v, want nothing", path, a)
		}
	}
}

// TestCheckHostsFile: a hosts file a user names must be readable; the
// default and none are never an error.
func TestCheckHostsFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, path string
		want       error // errors.Is
	}{
		{"a file", writeHosts(t, "10.0.0.1 bb.com\n"), nil},
		{"an empty file", writeHosts(t, ""), nil},
		{"the default", "", nil},
		{"none", "-", nil},
		{"missing", filepath.Join(dir, "none", "hosts"), fs.ErrNotExist},
		{"a directory", dir, syscall.EISDIR},
	} {
		err := CheckHostsFile(tc.path)
		if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
			t.Errorf("%s: CheckHostsFile(%q) = %v, want %v", tc.name, tc.path, err, tc.want)
		}
	}
}
