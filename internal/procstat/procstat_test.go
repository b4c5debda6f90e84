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
