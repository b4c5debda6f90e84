package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mi/gen/spec"
)

// TestRunIR: gen -ir prints JSON of version 1 that holds every message of
// the spec, and nothing on stderr.
func TestRunIR(t *testing.T) {
	var out, errb bytes.Buffer
	if rc := runIR("../spec/mi.spec", &out, &errb); rc != 0 || errb.Len() > 0 {
		t.Fatalf("runIR: %d, stderr %q", rc, errb.String())
	}
	var ir struct {
		Version  int `json:"version"`
		Messages []struct {
			Proto string `json:"proto"`
			Tag   string `json:"tag"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(out.Bytes(), &ir); err != nil {
		t.Fatalf("IR is not JSON: %v", err)
	}
	if ir.Version != 1 || spec.IRVersion != 1 {
		t.Errorf("version %d (spec.IRVersion %d), want 1", ir.Version, spec.IRVersion)
	}
	s, err := spec.Load("../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, m := range ir.Messages {
		have[m.Proto+" "+m.Tag] = true
	}
	for _, m := range s.Messages {
		if !have[m.Proto.Name+" "+m.Tag] {
			t.Errorf("IR has no message %s %s", m.Proto.Name, m.Tag)
		}
	}
	if len(ir.Messages) != len(s.Messages) {
		t.Errorf("IR has %d messages, the spec %d", len(ir.Messages), len(s.Messages))
	}
}

// TestRunIRBadSpec: a spec that does not check prints its errors, each at
// file:line:col, and nothing on stdout.
func TestRunIRBadSpec(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.spec")
	if err := os.WriteFile(path, []byte("kind x text \"doc\" {\n    max 3\n}\nfrobnicate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if rc := runIR(path, &out, &errb); rc != 2 || out.Len() > 0 {
		t.Fatalf("runIR: %d, stdout %q", rc, out.String())
	}
	if want := path + ":4:1: unknown statement"; !strings.Contains(errb.String(), want) {
		t.Errorf("stderr %q, want %q", errb.String(), want)
	}
}
