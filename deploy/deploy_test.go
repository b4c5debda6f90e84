// Package deploy holds the files that run lumi-node in production: a
// systemd unit, a logrotate snippet and a Prometheus scrape job. Its tests
// check each with the tool that reads it.
package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mi/internal/testenv"
)

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestUnitVerifies: systemd-analyze verify finds nothing to say about an
// instance of the unit. It checks that ExecStart's program exists, so the
// test points it at a lumi-node built here; nothing else is changed.
// systemd-analyze is where systemd is, so it is checked where it runs.
func TestUnitVerifies(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil { // not installed by .ci/run: it comes with systemd
		t.Skipf("systemd-analyze is not installed: the unit is not verified (%v)", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "lumi-node")
	run(t, "go", "build", "-o", bin, "mi/cmd/lumi-node")
	unit, err := os.ReadFile("lumi-node@.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Type=notify", "DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "StateDirectory=", "Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %s", want)
		}
	}
	const exec = "ExecStart=/usr/local/bin/lumi-node "
	if !strings.Contains(string(unit), exec) {
		t.Fatalf("the unit does not start /usr/local/bin/lumi-node")
	}
	inst := filepath.Join(dir, "lumi-node@bb.com.service")
	if err := os.WriteFile(inst, []byte(strings.Replace(string(unit), exec, "ExecStart="+bin+" ", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := run(t, sa, "verify", inst); strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify:\n%s", out)
	}
}

// TestScrapeJob: the scrape job example is a valid Prometheus config.
func TestScrapeJob(t *testing.T) {
	promtool := testenv.Program(t, "promtool", "the scrape job is not checked", "apt-get install prometheus")
	run(t, promtool, "check", "config", filepath.Join("prometheus", "lumi-node.yml"))
}

// TestLogrotate: logrotate reads the snippet, and a run on a log of its
// pattern rotates it and runs the reload (here a script that records it).
func TestLogrotate(t *testing.T) {
	lr := testenv.Program(t, "logrotate", "the logrotate snippet is not checked", "apt-get install logrotate")
	dir := t.TempDir()
	conf, err := os.ReadFile(filepath.Join("logrotate", "lumi-node"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(conf), "/var/log/", dir+"/var/log/")
	const reload = "systemctl reload 'lumi-node@*.service'"
	if !strings.Contains(s, reload) {
		t.Fatalf("the snippet does not reload the units")
	}
	marker := filepath.Join(dir, "reloaded")
	s = strings.Replace(s, reload, "touch "+marker, 1)
	logDir := filepath.Join(dir, "var", "log", "lumi-node", "bb.com")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(logDir, "nodelumi.log"), []byte("------ INICI LOG ------\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(dir, "lumi-node.conf")
	if err := os.WriteFile(confPath, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, lr, "-f", "-s", filepath.Join(dir, "state"), confPath)
	if _, err := os.Stat(filepath.Join(logDir, "nodelumi.log.1")); err != nil {
		t.Errorf("the log was not rotated: %v", err)
	}
	if _, err := os.Stat(filepath.Join(logDir, "nodelumi.log")); err == nil {
		t.Errorf("a new log was created by logrotate; the node makes its own (nocreate)")
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the reload did not run: %v", err)
	}
}
