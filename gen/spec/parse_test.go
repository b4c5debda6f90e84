package spec

import (
	"os"
	"strings"
	"testing"
)

const okSpec = `
kind word text "a word" {
    min 1
    max 10
    deny ": "
}
kind port uint16 "a port" {
    min 1
    max 65535
}
codes Result "a result" {
    0 Yes "yes"
    1 No "no"
}
protocol P "a protocol" {
    transport udp
    port 9 "where"
    tag 2
    max 40
}
message P AB Ab "a message" {
    field r Result
    field w word
    if r Yes {
        literal ":"
        field port port
    }
    example "AB0x:1"
    invalid "AB" truncated "r"
}
`

func TestParseOK(t *testing.T) {
	s, err := Parse("ok.spec", okSpec)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Messages[0]
	if got := len(m.Fields()); got != 3 {
		t.Errorf("fields: %d", got)
	}
	if got := m.MaxLen(); got != 2+1+10+1+5 {
		t.Errorf("MaxLen %d", got)
	}
}

// TestParseErrors: every bad spec is refused with file:line and a reason.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, edit, want string
	}{
		{"unknown statement", "frobnicate x", "bad.spec:32:1: unknown statement"},
		{"unknown kind", strings.Replace(okSpec, "field w word", "field w nope", 1), `bad.spec:23:13: field w: unknown kind "nope"`},
		{"separator inside field", strings.Replace(okSpec, `deny ": "`, `deny " "`, 1), `may contain ":", the separator after it`},
		{"over the limit", strings.Replace(okSpec, "max 40", "max 10", 1), "over the P limit of 10"},
		{"two variable fields", strings.Replace(okSpec, "field w word\n", "field w word\n    field x word\n", 1), "put a literal between them"},
		{"unclosed block", "kind w text \"d\" {\n max 3\n", "block is never closed"},
		{"bad string", "const X 1 \"oops", "unterminated string"},
		{"bad condition", strings.Replace(okSpec, "if r Yes", "if r Maybe", 1), `has no code "Maybe"`},
		{"tag length", strings.Replace(okSpec, "message P AB", "message P ABC", 1), "tag must be 2 bytes"},
		{"unknown error class", strings.Replace(okSpec, "truncated \"r\"", "oops \"r\"", 1), `unknown error "oops"`},
		{"duplicate field", strings.Replace(okSpec, "field port port", "field w port", 1), "field w appears twice"},
	} {
		src := tc.edit
		if !strings.Contains(src, "protocol") {
			src = okSpec + "\n" + src
		}
		_, err := Parse("bad.spec", src)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "bad.spec:") {
			t.Errorf("%s: error %v, want one starting bad.spec:N and containing %q", tc.name, err, tc.want)
		}
	}
}

// TestRealSpec: the project's spec parses.
func TestRealSpec(t *testing.T) {
	if _, err := os.Stat("../../spec/mi.spec"); err != nil {
		t.Skip("spec not found")
	}
	if _, err := Load("../../spec/mi.spec"); err != nil {
		t.Fatal(err)
	}
}
