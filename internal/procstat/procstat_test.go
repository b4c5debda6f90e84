package procstat

import (
	"os"
	"strings"
	"testing"
)

func TestField(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	if got := Field("VmRSS"); !strings.HasSuffix(got, " kB") {
		t.Errorf("VmRSS = %q, want a size in kB", got)
	}
	if got := Field("NoSuchField"); got != "?" {
		t.Errorf("unknown field = %q, want ?", got)
	}
}

func TestRSSKiB(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc on this system")
	}
	if got := RSSKiB(os.Getpid()); got <= 0 {
		t.Errorf("RSSKiB = %d, want a size", got)
	}
	if got := RSSKiB(-1); got != -1 {
		t.Errorf("RSSKiB of no process = %d, want -1", got)
	}
}

func TestFSType(t *testing.T) {
	if _, err := os.Stat("/proc/mounts"); err != nil {
		t.Skip("no /proc on this system")
	}
	// The longest mount point that holds the directory wins: /proc/self
	// is on proc, not on the file system of /.
	if got := FSType("/proc/self"); got != "proc" {
		t.Errorf("FSType(/proc/self) = %q, want proc", got)
	}
	if got := FSType(t.TempDir()); got == "" {
		t.Error("FSType of a temporary directory is unknown")
	}
}
