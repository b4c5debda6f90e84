package spec

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seedBase is a small spec that checks, for TestSeededErrors to break.
const seedBase = "../testdata/errors/ok.spec"

// specErrors parses src as file and returns its errors as
// "file:line:col: message", in the order Parse gives them.
func specErrors(t *testing.T, file, src string) []string {
	t.Helper()
	_, err := Parse(file, src)
	if err == nil {
		return nil
	}
	list, ok := err.(ErrorList)
	if !ok {
		t.Fatalf("error %T, want ErrorList: %v", err, err)
	}
	var out []string
	for _, e := range list {
		out = append(out, e.Error())
	}
	return out
}

// TestSeededErrors: each mistake seeded into a spec that checks is
// reported once, where it was made (the byte, inside a string), with the
// name it most likely meant, and nothing that follows from it is.
func TestSeededErrors(t *testing.T) {
	data, err := os.ReadFile(seedBase)
	if err != nil {
		t.Fatal(err)
	}
	base := string(data)
	if got := specErrors(t, "ok.spec", base); got != nil {
		t.Fatalf("the base spec does not check:\n%s", strings.Join(got, "\n"))
	}
	for _, tc := range []struct {
		name  string
		edits []string // old, new, ...: each old once in the base
		want  []string
	}{
		{"misspelt kind: did you mean, and the message leans on nothing", []string{"    field from addr", "    field from adr"}, []string{
			`ok.spec:44:16: field from: unknown kind "adr" (declare it before use); did you mean addr?`}},
		{"misspelt error class", []string{`invalid "a:b" bad_field`, `invalid "a:b" bad_feild`}, []string{
			`ok.spec:9:19: invalid: unknown error "bad_feild"; did you mean bad_field?`}},
		{"misspelt statement: what it declared is not missed", []string{"message P CD Cd", "mesage P CD Cd"}, []string{
			`ok.spec:60:1: unknown statement "mesage" in the top level; did you mean message?`}},
		{"misspelt attribute", []string{"    min 1\n    max 65535", "    min 1\n    mx 65535"}, []string{
			`ok.spec:27:5: unknown statement "mx" in kind port; did you mean max?`}},
		{"misspelt base: the kind's uses are not reported", []string{"kind port uint16", "kind port uint61"}, []string{
			`ok.spec:25:11: kind port: unknown base "uint61" (want dnsname, enum, hostname, ipv4, struct, text, uint16, uint8); did you mean uint16?`}},
		{"misspelt protocol: the message's uses are not reported", []string{"message P AB Ab", "message PP AB Ab"}, []string{
			`ok.spec:42:9: unknown protocol "PP" (declare it before use); did you mean P?`}},
		{"misspelt code", []string{"if r Yes", "if r Yse"}, []string{
			`ok.spec:45:10: if: Result has no code "Yse"; did you mean Yes?`}},
		{"misspelt tag in a step", []string{`step b a RB "RBabc"`, `step b a BR "RBabc"`}, []string{
			`ok.spec:74:14: step: no P message "BR" declared before; did you mean RB?`}},
		{"misspelt summary field", []string{`    field w word` + "\n", `    field w word` + "\n" + `    summary "$ww"` + "\n"}, []string{
			`ok.spec:57:14: message RB: summary: "$ww" is not a field of the message; did you mean w?`}},
		{"unterminated string: one error, its block skipped", []string{`message P GH Gh "two words" {`, `message P GH Gh "two words {`}, []string{
			`ok.spec:65:17: unterminated string "two words {: close it with " on the same line`}},
		{"unterminated string in a block", []string{`    example "GHab/cd"`, `    example "GHab/cd`}, []string{
			`ok.spec:69:13: unterminated string "GHab/cd: close it with " on the same line`}},
		{"bad escape: at its backslash", []string{`example "abc"`, `example "a\qc"`}, []string{
			`ok.spec:8:15: bad escape "\\q" in string "a\qc": invalid syntax`}},
		{"allow item: at its byte", []string{`allow "a-z 0-9"`, `allow "a-z 0-9 9-0"`}, []string{
			`ok.spec:14:20: kind nick: allow range "9-0" is empty ('9' comes after '0')`}},
		{"example refused: at its byte, escapes counted", []string{`example "CDlaura"`, `example "CD\x6caura!"`}, []string{
			`ok.spec:62:24: message CD: example "CDlaura!" is refused: bad_field in field "n" at offset 7: byte '!' not allowed`}},
		{"control character in a doc: at its byte", []string{`kind nick text "a nickname"`, `kind nick text "a nick\tname"`}, []string{
			`ok.spec:12:23: "kind": text "a nick\tname" holds a control character; write one line of text`}},
		{"empty codes: the if on them is not reported", []string{"    0 Yes \"yes\"\n    1 No \"no\"\n", ""}, []string{
			`ok.spec:30:1: codes Result: lists no value; a code field could never decode`}},
		{"every phase in one run", []string{
			"    min 1\n    max 65535", "    min 1\n    mx 65535",
			"    field w word\n    example", "    field w word\n    literal \"b\"\n    field v word\n    example",
			`example "abc"`, `example "ab@c"`,
		}, []string{
			`ok.spec:8:16: kind word: example "ab@c" is refused: bad_field in field "word" at offset 2: byte '@' not allowed`,
			`ok.spec:27:5: unknown statement "mx" in kind port; did you mean max?`,
			`ok.spec:56:5: message RB: field w (kind word) may contain "b", the separator after it`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := base
			for i := 0; i+1 < len(tc.edits); i += 2 {
				if strings.Count(src, tc.edits[i]) != 1 {
					t.Fatalf("the base holds %q %d times, want once", tc.edits[i], strings.Count(src, tc.edits[i]))
				}
				src = strings.Replace(src, tc.edits[i], tc.edits[i+1], 1)
			}
			if diff := cmp.Diff(tc.want, specErrors(t, "ok.spec", src)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEightMistakes: a spec with eight mistakes of eight sorts gets the
// eight of them in one run, sorted, and nothing else.
func TestEightMistakes(t *testing.T) {
	const file = "../testdata/errors/eight.spec"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		file + `:9:16: kind word: example "ab@c" is refused: bad_field in field "word" at offset 2: byte '@' not allowed`,
		file + `:10:19: invalid: unknown error "bad_feild"; did you mean bad_field?`,
		file + `:15:20: kind nick: allow range "9-0" is empty ('9' comes after '0')`,
		file + `:28:5: unknown statement "mx" in kind port; did you mean max?`,
		file + `:45:16: field from: unknown kind "adr" (declare it before use); did you mean addr?`,
		file + `:57:5: message RB: field w (kind word) may contain "b", the separator after it`,
		file + `:63:1: unknown statement "mesage" in the top level; did you mean message?`,
		file + `:68:17: unterminated string "two words {: close it with " on the same line`,
	}
	if diff := cmp.Diff(want, specErrors(t, file, string(data))); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// TestSuggest: a name is suggested for a misspelling within reach, and
// only then.
func TestSuggest(t *testing.T) {
	names := []string{"addr", "bad_field", "message", "max", "min", "nick"}
	for in, want := range map[string]string{
		"adr": "addr", "bad_feild": "bad_field", "mesage": "message", "mx": "max", "MAX": "max",
		"nope": "", "x": "", "frobnicate": "", "messages": "message", "addr": "",
	} {
		if got := suggest(in, names); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
