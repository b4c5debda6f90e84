package mermaid

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a locate", "PLu1@bb.com:u2@bb.com", "PLu1@bb.com:u2@bb.com"},
		{"a chat line", "L14Hola! Que tal?", "L14Hola! Que tal?"},
		{"syntax", "a;b#c<d>e", "a#59;b#35;c#60;d#62;e"},
		{"html", `<br/>&lt;"x"`, "#60;br/#62;#38;lt#59;#34;x#34;"},
		{"an entity code", "#59;", "#35;59#59;"},
		{"a directive", `%%{init: {"theme":"dark"}}%%`, "#37;#37;{init: {#34;theme#34;:#34;dark#34;}}#37;#37;"},
		{"katex", "$$x^2$$", "#36;#36;x^2#36;#36;"},
		{"mermaid's stand-ins", "ﬂ°°59¶ß", "#64258;°°59#182;ß"},
		{"style", "style:x;", "#115;tyle:x#59;"},
		{"classDef", "a classDef:b#", "a #99;lassDef:b#35;"},
		{"wrap", "wrap:x", "#119;rap:x"},
		{"nowrap", ":nowrap:x", "#58;nowrap:x"},
		{"wrap later", "x wrap:y", "x wrap:y"},
		{"arrows", "a-->>b end", "a--#62;#62;b end"},
		{"a newline: quoted", "RR0\n    end", `#34;RR0\n    end#34;`},
		{"a control byte", "\x1b[31mred", `#34;\x1b[31mred#34;`},
		{"a bidi override", "\u202eabc", `#34;\u202eabc#34;`},
		{"invalid UTF-8", "PR\xff", `#34;PR\xff#34;`},
		{"U+FFFD itself is printable", "PR\ufffd", "PR\ufffd"},
		{"empty", "", "#34;#34;"},
		{"a leading space", " RR0", "#34; RR0#34;"},
		{"a trailing space", "RR0 ", "#34;RR0 #34;"},
		{"quoted already", `"RR0"`, `#34;\#34;RR0\#34;#34;`},
		{"a quote inside", `a"b`, "a#34;b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Text(tt.in)); diff != "" {
				t.Errorf("Text(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

var entity = regexp.MustCompile(`#(\d+);`)

// decode is what a reader of the rendered diagram sees in a Text: the
// entity codes as their characters, and a text that begins with a quote
// unquoted.
func decode(t *rapid.T, s string) string {
	s = entity.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.Atoi(m[1 : len(m)-1])
		return string(rune(n))
	})
	if strings.HasPrefix(s, `"`) {
		u, err := strconv.Unquote(s)
		if err != nil {
			t.Fatalf("%q begins with a quote but is not quoted: %v", s, err)
		}
		return u
	}
	return s
}

// TestTextProperties: whatever the bytes, Text is one line of printable
// text that holds nothing Mermaid reads as syntax, and shows the bytes
// exactly.
func TestTextProperties(t *testing.T) {
	special := []string{";", "#", "<", ">", `"`, "&", "%", "$", ":", " ", "\n", "\r", "\x00", "\x1b", "\xff",
		"\u202e", "ﬂ", "°", "¶", "ß", "style", "classDef", "wrap:", "no", "end", "-->>", "%%", "#59;", "<br>", "a", "é"}
	rapid.Check(t, func(t *rapid.T) {
		parts := rapid.SliceOf(rapid.OneOf(rapid.SampledFrom(special), rapid.String())).Draw(t, "parts")
		in := strings.Join(parts, "")
		out := Text(in)
		if !utf8.ValidString(out) {
			t.Fatalf("Text(%q) = %q: not UTF-8", in, out)
		}
		for _, r := range out {
			if !unicode.IsPrint(r) {
				t.Fatalf("Text(%q) = %q holds %U", in, out, r)
			}
		}
		bare := entity.ReplaceAllString(out, "")
		if i := strings.IndexAny(bare, `;#<>"&%$`+"\ufb02\u00b6"); i >= 0 {
			t.Fatalf("Text(%q) = %q: %q outside an entity code", in, out, bare[i:])
		}
		if strings.Contains(out, "style") || strings.Contains(out, "classDef") || wrapPrefix(out) ||
			strings.TrimSpace(out) != out || out == "" {
			t.Fatalf("Text(%q) = %q", in, out)
		}
		if got := decode(t, out); got != in {
			t.Fatalf("Text(%q) = %q, which reads %q", in, out, got)
		}
	})
}

func TestSequence(t *testing.T) {
	var d Sequence
	d.Message("agent", "node", "PRab")
	d.Message("node", "agent", "RR0")
	d.Note([]string{"agent"}, "started")
	d.Message("a1", "endpoint", "x")
	d.Message("style", "a b", "y")
	d.Note([]string{"agent", "node"}, "one", "two;")
	d.Message("a1", "node", "z")
	want := "sequenceDiagram\n" +
		"    participant agent\n" +
		"    participant node\n" +
		"    participant a1\n" +
		"    participant _4 as endpoint\n" +
		"    participant _5 as #115;tyle\n" +
		"    participant _6 as a b\n" +
		"    agent->>node: PRab\n" +
		"    node->>agent: RR0\n" +
		"    Note over agent: started\n" +
		"    a1->>_4: x\n" +
		"    _5->>_6: y\n" +
		"    Note over agent,node: one<br/>two#59;\n" +
		"    a1->>node: z\n"
	if diff := cmp.Diff(want, d.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var empty Sequence
	if got := empty.String(); got != "sequenceDiagram\n" {
		t.Errorf("empty: %q", got)
	}
}

func TestPlain(t *testing.T) {
	for name, want := range map[string]bool{
		"agent": true, "node": true, "caller": true, "a1": true, "nodeA": true, "stdin": true, "c_2": true,
		"": false, "1a": false, "_x": false, "a-b": false, "a b": false, "a:b": false, "a;b": false,
		"end": false, "endpoint": false, "Note": false, "office": false, "participant": false, "options": false,
		"mystyle": false, "xclassDef": false, "é": false,
	} {
		if got := plain(name); got != want {
			t.Errorf("plain(%q) = %v, want %v", name, got, want)
		}
	}
}
