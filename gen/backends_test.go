package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestScratchSpecThroughEveryBackEnd appends testdata/extra.spec to mi.spec
// (a fieldless message in each protocol, a single-valued code list, uint8,
// a struct holding a number, a message ending in a literal, a field name
// with an initialism, a text that denies code points but no byte, a
// signed message, a reply to two requests, one declared after it, an
// enum),
// generates every output from it, and runs the wire
// package's and the fuzz package's own tests against the generated codecs
// through a build overlay: the real tree is not touched.
func TestScratchSpecThroughEveryBackEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests the wire package against a scratch spec")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	dir := t.TempDir()
	specPath := writeScratchSpec(t, dir)
	out := filepath.Join(dir, "out")
	if err := run(specPath, out); err != nil {
		t.Fatal(err)
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	replace := map[string]string{}
	for _, f := range []string{"wire/zconst.go", "wire/zkinds.go", "wire/zmessages.go", "wire/zspec_test.go", "wire/wiregen/zgen.go"} {
		replace[filepath.Join(repo, f)] = filepath.Join(out, f)
	}
	for want, in := range map[string]string{
		"type Ping struct":       "wire/zmessages.go",
		"type Bye struct":        "wire/zmessages.go",
		"PeerIP netip.Addr":      "wire/zmessages.go",
		"TTL uint8":              "wire/zmessages.go",
		"func parseTTL(":         "wire/zkinds.go",
		"PongAlive PongCode = 0": "wire/zkinds.go",
		"Bad: nil},":             "wire/wiregen/zgen.go",
		"func BadEndpoint(":      "wire/wiregen/zgen.go",
		"func BadMsgTrace(":      "wire/wiregen/zgen.go",
		"var labelRunes = runeSet{{0x80, 0x9f}, {0x202a, 0x202e}, {0x2066, 0x2069}}":              "wire/zkinds.go",
		"func (m *Sealed) AppendSigned(b []byte) ([]byte, error) {":                               "wire/zmessages.go",
		"return request == TagPing || request == TagSealed":                                       "wire/zconst.go",
		`{"PLUMI", "psabc:00ff", "psabc"},`:                                                       "wire/zspec_test.go",
		"Signature: `tok` signs the bytes before the `:` in front of it, the tag through `name`.": "docs/protocol.md",
		"The reply to `pz` or `ps`.":                                                              "docs/protocol.md",
		"func checkStatus(v string, field string, off int) error {":                               "wire/zkinds.go",
		`case "online", "away", "dnd":`:                                                           "wire/zkinds.go",
		"Status string `json:\"status\"`":                                                         "wire/zmessages.go",
		`func BadStatus() *rapid.Generator[string] { return notWord("online", "away", "dnd") }`:   "wire/wiregen/zgen.go",
		`fuzzCheck(f, "status", wire.CheckStatus)`:                                                "fuzz/zkinds_test.go",
		"one of the words `online`, `away`, `dnd`, byte for byte":                                 "docs/protocol.md",
		"A request, answered by `rz`.":                                                            "docs/protocol.md",
	} {
		b, err := os.ReadFile(filepath.Join(out, in))
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s does not declare %q (err %v)", in, want, err)
		}
	}
	overlay, _ := json.Marshal(map[string]any{"Replace": replace})
	ovPath := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(ovPath, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"vet", "-overlay=" + ovPath, "./wire/...", "./fuzz/"},
		{"test", "-overlay=" + ovPath, "-count=1", "-run", "Spec|RoundTrip|Encode|Model|Allocs", "./wire/...", "./fuzz/"},
	} {
		cmd := exec.Command(goTool, args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "MI_SPEC="+specPath)
		start := time.Now()
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args[:1], " "), err, b)
		}
		t.Logf("go %s: %v\n%s", args[0], time.Since(start).Round(time.Millisecond), b)
	}
}

// writeScratchSpec writes mi.spec with testdata/extra.spec appended into
// dir and returns its path.
func writeScratchSpec(t *testing.T, dir string) string {
	t.Helper()
	base, err := os.ReadFile("../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	extra, err := os.ReadFile("testdata/extra.spec")
	if err != nil {
		t.Fatal(err)
	}
	specPath := filepath.Join(dir, "scratch.spec")
	if err := os.WriteFile(specPath, append(base, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	return specPath
}
