package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestOneNodePerAddress: a second lumi-node process started on the
// address a first one serves, as another domain's node by mistake, exits
// 1 at once with one line naming the address, where SO_REUSEPORT let it
// join the first's port and take part of its agents' datagrams; the first
// serves on.
func TestOneNodePerAddress(t *testing.T) {
	users := []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"}
	w := newWorld(t, map[string][]string{"bb.com": users})
	addr := w.nodeAddr("bb.com")
	cfg := filepath.Join(w.dir, "cc.cfg")
	if err := os.WriteFile(cfg, []byte("cc.org\npau\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, workers := range []string{"1", "2"} {
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "lumi-node"), "-config", cfg, "-listen", addr, "-workers", workers,
			"-log", "-", "-hosts", "-", "-source-ports", testSourcePorts)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Run()
		want := "lumi-node: cannot start: node: " + addr + " is already served by another process\n"
		if diff := cmp.Diff(want, stderr.String()); diff != "" || cmd.ProcessState.ExitCode() != 1 {
			t.Errorf("-workers %s: exit %d, want 1; stderr (-want +got):\n%s", workers, cmd.ProcessState.ExitCode(), diff)
		}
	}
	for _, u := range users { // agents from several ports, spread over the first node's workers
		p := strconv.Itoa(freeUDPPort(t))
		if code, out, errOut := lumictl(t, "register", "-node", addr, "-port", p, u+"@bb.com"); code != 0 || out != "ok\n" {
			t.Errorf("register %s from port %s: exit %d, %q %s", u, p, code, out, errOut)
		}
	}
}
