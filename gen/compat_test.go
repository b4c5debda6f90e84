package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRunCompat: a breaking edit gives 1, a compatible one 0, a spec that
// does not check 2 with its errors on stderr and nothing on stdout;
// breaking changes are listed first, each with the statement that would
// accept it, then the accepted ones with their reasons, then the
// compatible ones, then stale acknowledgements, then the summary. A break
// the new spec acknowledges gives 0; any other break, or a stale
// acknowledgement, still gives 1.
func TestRunCompat(t *testing.T) {
	mi, err := os.ReadFile("../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	// mi.spec's own acknowledgements would be stale against itself.
	mi = regexp.MustCompile(`(?m)^breaking .*$`).ReplaceAll(mi, nil)
	dir := t.TempDir()
	oldPath, newPath := filepath.Join(dir, "old.spec"), filepath.Join(dir, "new.spec")
	if err := os.WriteFile(oldPath, mi, 0o644); err != nil {
		t.Fatal(err)
	}
	// at is the "new (was old): " prefix of a change; each side names the
	// text whose position it is, so the test follows edits of mi.spec.
	at := func(n, o string) string { return newPath + ":{" + n + "} (was " + oldPath + ":[" + o + "]): " }
	for _, tc := range []struct {
		name   string
		edits  []string // old, new pairs applied to mi.spec
		extra  string   // appended to the edited spec
		code   int
		stdout []string // text that must appear, in this order
		stderr []string
	}{
		{"same spec", nil, "", 0,
			[]string{"compat: 0 breaking, 0 accepted, 0 compatible, 0 stale (" + newPath + " against " + oldPath + ")\n"}, nil},
		{"user max narrowed", narrowUser, "", 1,
			[]string{"BREAKING " + at("max 3", "max 35\n    utf8") + "kind user: max 35 -> 34 narrows it", "\n    to accept it: breaking \"kind user\" max \"why\"\n",
				"compat: 1 breaking, 0 accepted, 0 compatible, 0 stale "}, nil},
		{"code added", []string{"    3 Offline", "    4 Moved \"moved\"\n    3 Offline"}, "", 0,
			[]string{"compatible " + at("4 Moved", "codes LocateCode") + "codes LocateCode: new value 4 Moved", "compat: 0 breaking, 0 accepted, 1 compatible, 0 stale "}, nil},
		{"breaking first", []string{"    max 35\n    utf8", "    max 36\n    utf8", "port 3344", "port 3345"}, "", 1,
			[]string{"BREAKING " + at("port 3345", "port 3344") + "protocol PLUMI: port 3344 -> 3345", "compatible " + at("max 3", "max 35\n    utf8") + "kind user: max 35 -> 36 widens it", "compat: 1 breaking, 0 accepted, 1 compatible, 0 stale "}, nil},
		{"break accepted", narrowUser, ackUser, 0,
			[]string{"breaking, accepted: " + at("max 3", "max 35\n    utf8") + "kind user: max 35 -> 34 narrows it", "\n    " + newPath + ":{breaking \"kind}: names are shorter now\n",
				"compat: 0 breaking, 1 accepted, 0 compatible, 0 stale "}, nil},
		{"another break beside an accepted one", append([]string{"port 3344", "port 3345"}, narrowUser...), ackUser, 1,
			[]string{"BREAKING " + at("port 3345", "port 3344") + "protocol PLUMI: port 3344 -> 3345", "breaking, accepted: " + at("max 3", "max 35\n    utf8") + "kind user: max 35 -> 34",
				"compat: 1 breaking, 1 accepted, 0 compatible, 0 stale "}, nil},
		{"acknowledgement of another aspect", narrowUser, strings.Replace(ackUser, " max ", " min ", 1), 1,
			[]string{"BREAKING " + at("max 3", "max 35\n    utf8") + "kind user: max 35 -> 34", "STALE " + newPath + ":{breaking \"kind}: breaking \"kind user\" min acknowledges no breaking change against " + oldPath + ": remove it\n",
				"compat: 1 breaking, 0 accepted, 0 compatible, 1 stale "}, nil},
		{"stale acknowledgement", nil, ackUser, 1,
			[]string{"STALE " + newPath + ":{breaking \"kind}: breaking \"kind user\" max acknowledges no breaking change", "compat: 0 breaking, 0 accepted, 0 compatible, 1 stale "}, nil},
		{"does not check", []string{"    max 35\n", "    max x\n"}, "", 2,
			nil, []string{newPath + ":{max x}: ", "compat: " + newPath + " does not check"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := string(mi)
			for i := 0; i < len(tc.edits); i += 2 {
				if !strings.Contains(src, tc.edits[i]) {
					t.Fatalf("%q not in mi.spec", tc.edits[i])
				}
				src = strings.Replace(src, tc.edits[i], tc.edits[i+1], 1)
			}
			src += tc.extra
			if err := os.WriteFile(newPath, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			for i, w := range tc.stdout {
				tc.stdout[i] = resolve(t, resolve(t, w, "{", "}", src), "[", "]", string(mi))
			}
			for i, w := range tc.stderr {
				tc.stderr[i] = resolve(t, w, "{", "}", src)
			}
			var stdout, stderr bytes.Buffer
			if code := runCompat(newPath, oldPath, &stdout, &stderr); code != tc.code {
				t.Errorf("exit code %d, want %d", code, tc.code)
			}
			for _, out := range []struct {
				name string
				got  string
				want []string
			}{{"stdout", stdout.String(), tc.stdout}, {"stderr", stderr.String(), tc.stderr}} {
				if len(out.want) == 0 && out.got != "" {
					t.Errorf("%s: want nothing, got:\n%s", out.name, out.got)
				}
				rest := out.got
				for _, w := range out.want {
					i := strings.Index(rest, w)
					if i < 0 {
						t.Errorf("%s: no %q (in this order) in:\n%s", out.name, w, out.got)
						break
					}
					rest = rest[i+len(w):]
				}
			}
			if n := strings.Count("\n"+stdout.String(), "\ncompat: "); tc.code != 2 && n != 1 {
				t.Errorf("%d summary lines, want 1:\n%s", n, &stdout)
			}
		})
	}
}

// narrowUser narrows kind user, a breaking change; ackUser accepts it.
var (
	narrowUser = []string{"    max 35\n    utf8", "    max 34\n    utf8"}
	ackUser    = "\nbreaking \"kind user\" max \"names are shorter now\"\n"
)

// resolve replaces open+TEXT+close in w with the line:col where TEXT first
// appears in src (for "max x", where its value starts: the error's column).
func resolve(t *testing.T, w, open, close, src string) string {
	i := strings.Index(w, open)
	j := strings.Index(w, close)
	if i < 0 || j < i {
		return w
	}
	needle := w[i+1 : j]
	at := strings.Index(src, needle)
	if at < 0 {
		t.Fatalf("%q not in the spec", needle)
	}
	if needle == "max x" {
		at += len("max ")
	}
	line := strings.Count(src[:at], "\n") + 1
	col := at - strings.LastIndex(src[:at], "\n")
	return w[:i] + fmt.Sprintf("%d:%d", line, col) + w[j+1:]
}
