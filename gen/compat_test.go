package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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
	// Without mi.spec's own acknowledgements, each case has its own.
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
			[]string{"compat: 0 breaking, 0 accepted, 0 compatible, 0 stale, 0 kept (" + newPath + " version 2 against " + oldPath + " version 2)\n"}, nil},
		{"user max narrowed", narrowUser, "", 1,
			[]string{"BREAKING " + at("max 3", "max 35\n    utf8") + "kind user: max 35 -> 34 narrows it", "\n    to accept it: breaking \"kind user\" max against 2 \"why\", with version 3\n",
				"compat: 1 breaking, 0 accepted, 0 compatible, 0 stale, 0 kept "}, nil},
		{"code added", []string{"    3 Offline", "    4 Moved \"moved\"\n    3 Offline"}, "", 0,
			[]string{"compatible " + at("4 Moved", "codes LocateCode") + "codes LocateCode: new value 4 Moved", "compat: 0 breaking, 0 accepted, 1 compatible, 0 stale, 0 kept "}, nil},
		{"breaking first", []string{"    max 35\n    utf8", "    max 36\n    utf8", "port 3344", "port 3345"}, "", 1,
			[]string{"BREAKING " + at("port 3345", "port 3344") + "protocol PLUMI: port 3344 -> 3345", "compatible " + at("max 3", "max 35\n    utf8") + "kind user: max 35 -> 36 widens it", "compat: 1 breaking, 0 accepted, 1 compatible, 0 stale, 0 kept "}, nil},
		{"break accepted", append(narrowUser, bump...), ackUser, 0,
			[]string{"breaking, accepted: " + at("max 3", "max 35\n    utf8") + "kind user: max 35 -> 34 narrows it", "\n    " + newPath + ":{breaking \"kind}: names are shorter now\n",
				"compat: 0 breaking, 1 accepted, 0 compatible, 0 stale, 0 kept "}, nil},
		{"another break beside an accepted one", append([]string{"port 3344", "port 3345"}, append(narrowUser, bump...)...), ackUser, 1,
			[]string{"BREAKING " + at("port 3345", "port 3344") + "protocol PLUMI: port 3344 -> 3345", "breaking, accepted: " + at("max 3", "max 35\n    utf8") + "kind user: max 35 -> 34",
				"compat: 1 breaking, 1 accepted, 0 compatible, 0 stale, 0 kept "}, nil},
		{"acknowledgement of another aspect", append(narrowUser, bump...), strings.Replace(ackUser, " max ", " min ", 1), 1,
			[]string{"BREAKING " + at("max 3", "max 35\n    utf8") + "kind user: max 35 -> 34", "STALE " + newPath + ":{breaking \"kind}: breaking \"kind user\" min against 2 acknowledges no breaking change against " + oldPath + " (version 2): remove it\n",
				"compat: 1 breaking, 0 accepted, 0 compatible, 1 stale, 0 kept "}, nil},
		{"stale acknowledgement", bump, ackUser, 1,
			[]string{"STALE " + newPath + ":{breaking \"kind}: breaking \"kind user\" max against 2 acknowledges no breaking change", "compat: 0 breaking, 0 accepted, 0 compatible, 1 stale, 0 kept "}, nil},
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
			if code := runCompat(newPath, oldPath, "", &stdout, &stderr); code != tc.code {
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
				containsInOrder(t, out.name, out.got, out.want)
			}
			if n := strings.Count("\n"+stdout.String(), "\ncompat: "); tc.code != 2 && n != 1 {
				t.Errorf("%d summary lines, want 1:\n%s", n, &stdout)
			}
		})
	}
}

// narrowUser narrows kind user, a breaking change; ackUser accepts it
// against version 2, with bump, which makes the spec version 3.
var (
	narrowUser = []string{"    max 35\n    utf8", "    max 34\n    utf8"}
	ackUser    = "\nbreaking \"kind user\" max against 2 \"names are shorter now\"\n"
	bump       = []string{"\nversion 2\n", "\nversion 3\n"}
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

// TestRunCompatRelease: the release flow. mi.spec, with its breaking
// statements, against itself (a release just tagged) and after a
// compatible addition gives 0, its statements kept as the record of the
// breaks of version 0; against version 0 it accepts them. A break after a
// release needs a new version and a statement naming the released one; a
// stale statement is an error only when it names the old spec's version.
// The old spec is named as the caller says (make compat's REF:PATH), in
// positions and errors alike.
func TestRunCompatRelease(t *testing.T) {
	mi, err := os.ReadFile("../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	// v0 is mi.spec as version 0 was: no version, no denyrunes (nor the
	// invalid inputs only they refuse), no breaking statements, and a
	// domain a DNS library judged (dnsname), as version 1 had it too.
	v0 := regexp.MustCompile(`(?m)^(version 2|breaking .*|    denyrunes .*|    invalid "[^"]*\\u(00[89]|061c|200[ef]|202|206)[^"]*" .*)$`).ReplaceAll(dnsnameDomain(t, mi), nil)
	// line is the line of the first statement of mi.spec that starts with s.
	line := func(s string) string {
		return strconv.Itoa(1 + bytes.Count(mi[:bytes.Index(mi, []byte("\n"+s))+1], []byte("\n")))
	}
	edit := func(src []byte, pairs ...string) string {
		s := string(src)
		for i := 0; i < len(pairs); i += 2 {
			if !strings.Contains(s, pairs[i]) {
				t.Fatalf("%q not in mi.spec", pairs[i])
			}
			s = strings.Replace(s, pairs[i], pairs[i+1], 1)
		}
		return s
	}
	const presence = "\nmessage PLUMI PZ Presence \"presence: a user's status\" {\n    field addr addr\n}\n"
	dir := t.TempDir()
	oldPath, newPath := filepath.Join(dir, "mi.spec@166e3dd"), filepath.Join(dir, "new.spec")
	for _, tc := range []struct {
		name     string
		old, new string
		oldName  string
		code     int
		stdout   []string // lines that must appear, in this order
		stderr   []string
	}{
		{name: "itself", old: string(mi), new: string(mi), code: 0, stdout: []string{
			"warning: " + newPath + ":" + line(`breaking "kind user"`) + ":1: breaking \"kind user\" runes against 0 acknowledges no breaking change against " + oldPath + " (version 2): kept, it names version 0",
			"warning: " + newPath + ":" + line(`breaking "kind domain"`) + ":1: breaking \"kind domain\" base against 1",
			"warning: " + newPath + ":" + line(`breaking "kind nick"`) + ":1: breaking \"kind nick\" runes against 0",
			"compat: 0 breaking, 0 accepted, 0 compatible, 0 stale, 3 kept (" + newPath + " version 2 against " + oldPath + " version 2)"}},
		{name: "a compatible addition after the release", old: string(mi), new: string(mi) + presence, code: 0, stdout: []string{
			"compatible " + newPath + ":", "message PZ (Presence) added",
			"compat: 0 breaking, 0 accepted, 1 compatible, 0 stale, 3 kept"}},
		{name: "against version 0", old: string(v0), new: string(mi), code: 0, stdout: []string{
			"breaking, accepted: ", "kind user: denyrunes", "breaking, accepted: ", "kind domain: base dnsname -> hostname", "breaking, accepted: ", "kind nick: denyrunes",
			"compat: 0 breaking, 3 accepted, 1 compatible, 0 stale, 0 kept (" + newPath + " version 2 against " + oldPath + " version 0)"}},
		{name: "a break after the release, in the released version", old: string(mi),
			new: edit(mi, "    max 35\n    utf8", "    max 34\n    utf8") + "breaking \"kind user\" max against 2 \"shorter\"\n", code: 2, stderr: []string{
				"breaking \"kind user\" max against 2: the spec is version 2; a break makes a new version: write version 3"}},
		{name: "a break after the release, in a new version", old: string(mi),
			new: edit(mi, "    max 35\n    utf8", "    max 34\n    utf8", "\nversion 2\n", "\nversion 3\n") + "breaking \"kind user\" max against 2 \"shorter\"\n", code: 0, stdout: []string{
				"breaking, accepted: ", "kind user: max 35 -> 34", "warning: ", "kind user\" runes against 0", "warning: ", "kind domain\" base against 1", "warning: ", "kind nick\" runes against 0",
				"compat: 0 breaking, 1 accepted, 0 compatible, 0 stale, 3 kept (" + newPath + " version 3 against " + oldPath + " version 2)"}},
		{name: "a break after the release, unaccepted", old: string(mi),
			new: edit(mi, "    max 35\n    utf8", "    max 34\n    utf8"), code: 1, stdout: []string{
				"BREAKING ", "kind user: max 35 -> 34", "to accept it: breaking \"kind user\" max against 2 \"why\", with version 3\n",
				"compat: 1 breaking, 0 accepted, 0 compatible, 0 stale, 3 kept"}},
		{name: "stale, naming the old version", old: string(mi),
			new: edit(mi, "\nversion 2\n", "\nversion 3\n") + "breaking \"kind user\" max against 2 \"shorter\"\n", code: 1, stdout: []string{
				"STALE " + newPath + ":", "breaking \"kind user\" max against 2 acknowledges no breaking change against " + oldPath + " (version 2): remove it",
				"compat: 0 breaking, 0 accepted, 0 compatible, 1 stale, 3 kept"}},
		{name: "a version going down", old: edit(mi, "\nversion 2\n", "\nversion 3\n"), new: string(mi), code: 1, stdout: []string{
			"VERSION " + newPath + " is version 2, " + oldPath + " version 3: a spec's version never goes down"}},
		{name: "named by its ref", old: string(v0), new: edit(mi, "port 3344", "port 3345"), oldName: "v0:spec/mi.spec", code: 1, stdout: []string{
			"BREAKING " + newPath + ":", " (was v0:spec/mi.spec:", "): protocol PLUMI: port 3344 -> 3345",
			"compat: 1 breaking, 3 accepted, 1 compatible, 0 stale, 0 kept (" + newPath + " version 2 against v0:spec/mi.spec version 0)"}},
		{name: "named by its ref, not checking", old: edit(mi, "    max 35\n", "    max x\n"), new: string(mi), oldName: "v1:spec/mi.spec", code: 2, stderr: []string{
			fmt.Sprintf("v1:spec/mi.spec:%d:9: ", 1+strings.Count(string(mi[:bytes.Index(mi, []byte("    max 35\n"))]), "\n")), "compat: v1:spec/mi.spec does not check; nothing compared"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(oldPath, []byte(tc.old), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(newPath, []byte(tc.new), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			if code := runCompat(newPath, oldPath, tc.oldName, &stdout, &stderr); code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, &stdout, &stderr)
			}
			for _, out := range []struct {
				name string
				got  string
				want []string
			}{{"stdout", stdout.String(), tc.stdout}, {"stderr", stderr.String(), tc.stderr}} {
				containsInOrder(t, out.name, out.got, out.want)
				if strings.Contains(out.got, "166e3dd") && tc.oldName != "" {
					t.Errorf("%s names the file the old spec was read from, not %s:\n%s", out.name, tc.oldName, out.got)
				}
			}
		})
	}
}

// dnsnameDomain is mi with kind domain as versions 0 and 1 had it: a
// dnsname, which has no label or edge, and took what only the hostname
// rules refuse.
func dnsnameDomain(t *testing.T, mi []byte) []byte {
	t.Helper()
	block := regexp.MustCompile(`(?s)\nkind domain hostname (.*?\n)}\n`)
	m := block.FindSubmatchIndex(mi)
	if m == nil {
		t.Fatal("no kind domain hostname block in mi.spec")
	}
	body := regexp.MustCompile(`(?m)^    (label|edge) .*\n|^    invalid "(bb\.com\.|\.|-bb|bb\.c-)" .*\n`).ReplaceAll(mi[m[2]:m[3]], nil)
	out := append([]byte{}, mi[:m[0]]...)
	out = append(out, "\nkind domain dnsname "...)
	out = append(out, body...)
	out = append(out, "}\n"...)
	return append(out, mi[m[1]:]...)
}

// containsInOrder checks that got, the output called name, holds each of
// want, in this order.
func containsInOrder(t *testing.T, name, got string, want []string) {
	t.Helper()
	rest := got
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("%s: no %q (in this order) in:\n%s", name, w, got)
			return
		}
		rest = rest[i+len(w):]
	}
}
