package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNoArguments: mi-agent run without arguments prints its usage, as -h
// does, to stderr, and exits 2 (bad usage); a command line without -addr
// says that it is required, and where the flags are listed.
func TestNoArguments(t *testing.T) {
	var help bytes.Buffer
	if code := run([]string{"-h"}, strings.NewReader(""), new(bytes.Buffer), &help, nil, os.Getenv); code != exitOK {
		t.Fatalf("-h: exit %d", code)
	}
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{nil, help.String()},
		{[]string{"-nick", "laura"}, "mi-agent: -addr is required: your MI address, user@domain (mi-agent -h lists every flag)\n"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, strings.NewReader(""), &stdout, &stderr, nil, os.Getenv)
		if code != exitUsage || stdout.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q; want %d and nothing", tc.args, code, stdout.String(), exitUsage)
		}
		if diff := cmp.Diff(tc.stderr, stderr.String()); diff != "" {
			t.Errorf("%q: stderr (-want +got):\n%s", tc.args, diff)
		}
	}
}

// TestFileErrorsNamed: a file that cannot be read or written is named by
// its flag and its path, for people and in -json's message.
func TestFileErrorsNamed(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none")
	n := newTestNode(t) // never reached: the files fail first
	base := []string{"-addr", "laura@bb.com", "-node", n.conn.LocalAddr().String(), "-hosts", "-", "-listen", "127.0.0.1:0"}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // the message
	}{
		{"secret file missing", append(base, "-log", "-", "-secret-file", filepath.Join(missing, "secret")), exitUsage,
			"-secret-file " + filepath.Join(missing, "secret") + ": no such file or directory"},
		{"hosts file missing", append(base, "-log", "-", "-hosts", filepath.Join(missing, "hosts")), exitUsage,
			"-hosts " + filepath.Join(missing, "hosts") + ": no such file or directory"},
		{"log folder missing", append(base, "-log", filepath.Join(missing, "p2p.log")), exitFail,
			"-log " + filepath.Join(missing, "p2p.log") + ": no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(tc.args, strings.NewReader(""), &out, &out, nil, os.Getenv)
			if diff := cmp.Diff("! "+tc.want+"\n", out.String()); diff != "" || code != tc.code {
				t.Errorf("exit %d, want %d; output (-want +got):\n%s", code, tc.code, diff)
			}
			out.Reset()
			run(append(tc.args, "-json"), strings.NewReader(""), &out, &out, nil, os.Getenv)
			if !strings.Contains(out.String(), `"message":"`) || !strings.Contains(out.String(), tc.want+`"}`) {
				t.Errorf("-json: %s, want the message to end %q", out.String(), tc.want)
			}
		})
	}
}
