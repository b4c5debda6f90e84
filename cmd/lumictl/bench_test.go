package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestBenchSelf(t *testing.T) {
	for _, kind := range []string{"pr", "pl"} {
		var stdout, stderr bytes.Buffer
		code := run([]string{"bench", "-self", "-echo", "-kind", kind, "-c", "2", "-d", "100ms", "-log", "-"}, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr})
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", kind, code, stdout.String(), stderr.String())
		}
		for _, re := range []string{
			`config: (2|4) users loaded in`,
			`node ` + kind + ` c=2 d=100ms: \d+ req/s`,
			`echo ` + kind + ` c=2 d=100ms: \d+ req/s`,
			`ratio node/echo: \d+\.\d\d`,
		} {
			if !regexp.MustCompile(re).MatchString(stdout.String()) {
				t.Errorf("%s: output lacks /%s/:\n%s", kind, re, stdout.String())
			}
		}
	}
}

func TestBenchUsage(t *testing.T) {
	for _, args := range [][]string{
		{"bench"},
		{"bench", "-self", "-target", "127.0.0.1:1"},
		{"bench", "-self", "-kind", "xx"},
		{"bench", "-target", "nonsense"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}); code != exitUsage {
			t.Errorf("%q: exit %d, want %d\n%s", args, code, exitUsage, stderr.String())
		}
	}
}
