package main

import (
	"bytes"
	"strings"
	"testing"
)

// runLumictl runs lumictl in-process with args.
func runLumictl(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut})
	return code, out.String(), errOut.String()
}

func TestTopLevel(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr []string // substrings of stderr
	}{
		{"no arguments", nil, exitUsage, []string{"usage: lumictl COMMAND", "decode ", "pcap "}},
		{"-h", []string{"-h"}, exitOK, []string{"usage: lumictl COMMAND", "Commands:"}},
		{"--help", []string{"--help"}, exitOK, []string{"Commands:"}},
		{"help", []string{"help"}, exitOK, []string{"Commands:"}},
		{"help decode", []string{"help", "decode"}, exitOK, []string{"usage: lumictl decode [-hex] MESSAGE", "-hex"}},
		{"help unknown", []string{"help", "nope"}, exitUsage, []string{`unknown command "nope"`}},
		{"unknown command", []string{"frobnicate"}, exitUsage, []string{`lumictl: unknown command "frobnicate"`, "lumictl -h"}},
		{"unknown flag", []string{"decode", "-x", "RR0"}, exitUsage, []string{"flag provided but not defined: -x", "usage: lumictl decode"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runLumictl(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout: %q, want nothing", stdout)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
		})
	}
}

// TestEveryCommandHasHelp runs -h on each entry of the command table.
func TestEveryCommandHasHelp(t *testing.T) {
	_, _, top := runLumictl("-h")
	seen := map[string]bool{}
	for _, c := range commands {
		if seen[c.name] {
			t.Errorf("command %q twice in the table", c.name)
		}
		seen[c.name] = true
		if c.summary == "" || c.synopsis == "" || c.setup == nil {
			t.Errorf("command %q: missing summary, synopsis or setup", c.name)
		}
		if !strings.Contains(top, "  "+c.name+" ") {
			t.Errorf("top-level usage does not list %q:\n%s", c.name, top)
		}
		code, stdout, stderr := runLumictl(c.name, "-h")
		if code != exitOK || stdout != "" || !strings.HasPrefix(stderr, "usage: lumictl "+c.name+" "+c.synopsis+"\n") {
			t.Errorf("%s -h: exit %d, stdout %q, stderr:\n%s", c.name, code, stdout, stderr)
		}
	}
}
