package wire_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"mi/wire"
)

func TestSplitLine(t *testing.T) {
	long := strings.Repeat("a", 98) + "é" + "b" // é straddles byte 99
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"empty", "", []string{""}},
		{"short", "hola", []string{"hola"}},
		{"exactly 99", strings.Repeat("x", 99), []string{strings.Repeat("x", 99)}},
		{"100 bytes", strings.Repeat("x", 100), []string{strings.Repeat("x", 99), "x"}},
		{"character at the limit", long, []string{strings.Repeat("a", 98), "éb"}},
		{"line breaks", "a\nb\r\nc\rd", []string{"a", "b", "c", "d"}},
		{"trailing newline", "a\n", []string{"a", ""}},
		{"not UTF-8", strings.Repeat("\x80", 100), []string{strings.Repeat("\x80", 99), "\x80"}},
	} {
		var got []string
		for _, l := range wire.SplitLine(tc.in) {
			got = append(got, l.Text)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: SplitLine (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestSplitLineProperties: every piece encodes, none splits a character of
// valid UTF-8, and the pieces join back to the text without its breaks.
func TestSplitLineProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		text := rapid.OneOf(rapid.String(), rapid.StringMatching(`[a-zé€😀\n ]{0,400}`)).Draw(t, "text")
		var joined strings.Builder
		for _, l := range wire.SplitLine(text) {
			if _, err := l.Append(nil); err != nil {
				t.Fatalf("piece %q does not encode: %v", l.Text, err)
			}
			if utf8.ValidString(text) && !utf8.ValidString(l.Text) {
				t.Fatalf("piece %q splits a character", l.Text)
			}
			joined.WriteString(l.Text)
		}
		want := strings.NewReplacer("\r\n", "", "\n", "", "\r", "").Replace(text)
		if joined.String() != want {
			t.Fatalf("pieces join to %q, want %q", joined.String(), want)
		}
	})
}
