// Package mermaid writes Mermaid sequence diagrams, which GitHub and most
// documentation sites render from a ```mermaid block: the sequences of
// docs/protocol.md and the failed scenarios of lumictl conform -diagram.
//
// Any text may go into a diagram, bytes from the network included: Text
// writes what Mermaid would read as syntax as entity codes and quotes what
// is not printable, so that no text ends its line, starts a statement or
// a directive, or reaches a terminal as a control sequence.
package mermaid

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text is s as the text of a message, a note or a participant's label, to
// be shown as it is.
//
// s is quoted first (strconv.Quote) when it is not printable UTF-8 (a
// newline, a control byte, a bidi override, invalid bytes), is empty,
// begins or ends with a space (Mermaid trims them), or begins with a
// quote (so that a quoted text is never mistaken for one). Then these
// are written as entity codes (#59;), which Mermaid shows as the
// character:
//
//   - ; and # end a text (a new statement, a comment), and # starts an
//     entity code;
//   - < and > make HTML (<br> is a line break), " and & too;
//   - % starts a %%{init}%% directive, read anywhere in a diagram;
//   - $ starts $$KaTeX$$;
//   - ﬂ and ¶ begin and end Mermaid's own stand-ins for entity codes;
//   - the s of "style" and the c of "classDef": in a line holding one of
//     them, then ":" and "#", Mermaid drops the last ";", ending an
//     entity code early;
//   - the first character of a text that begins with wrap: or nowrap:,
//     which would set the text's wrapping and be dropped.
func Text(s string) string {
	if needsQuote(s) {
		s = strconv.Quote(s)
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case strings.ContainsRune(`;#<>"&%$`+"\ufb02\u00b6", r),
			i == 0 && wrapPrefix(s),
			strings.HasPrefix(s[i:], "style"),
			strings.HasPrefix(s[i:], "classDef"):
			fmt.Fprintf(&b, "#%d;", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsQuote(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' || s[0] == '"' || !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return true
		}
	}
	return false
}

// wrapPrefix reports whether s begins as Mermaid's wrapping options do.
func wrapPrefix(s string) bool {
	s = strings.TrimPrefix(s, ":")
	s = strings.TrimPrefix(s, "no")
	return strings.HasPrefix(s, "wrap:")
}

// Sequence is a sequenceDiagram being written: its participants, declared
// in the order they first appear, then its messages and notes in the
// order written. The zero value is an empty diagram.
type Sequence struct {
	names []string          // the participants, in order of appearance
	ids   map[string]string // a participant's id in the diagram
	body  strings.Builder
}

// Message draws text going from one participant to another: from->>to.
func (d *Sequence) Message(from, to, text string) {
	f, t := d.id(from), d.id(to)
	fmt.Fprintf(&d.body, "    %s->>%s: %s\n", f, t, Text(text))
}

// Note writes a note over one participant or across two, each line of it
// on a line of its own.
func (d *Sequence) Note(over []string, lines ...string) {
	ids := make([]string, len(over))
	for i, who := range over {
		ids[i] = d.id(who)
	}
	texts := make([]string, len(lines))
	for i, l := range lines {
		texts[i] = Text(l)
	}
	fmt.Fprintf(&d.body, "    Note over %s: %s\n", strings.Join(ids, ","), strings.Join(texts, "<br/>"))
}

// id returns the id of the participant name, declaring it when new.
func (d *Sequence) id(name string) string {
	if id, ok := d.ids[name]; ok {
		return id
	}
	if d.ids == nil {
		d.ids = map[string]string{}
	}
	id := name
	if !plain(name) {
		// Never a plain name: those begin with a letter.
		id = "_" + strconv.Itoa(len(d.names)+1)
	}
	d.ids[name] = id
	d.names = append(d.names, name)
	return id
}

// String returns the diagram, the text of a ```mermaid block.
func (d *Sequence) String() string {
	var b strings.Builder
	b.WriteString("sequenceDiagram\n")
	for _, name := range d.names {
		if id := d.ids[name]; id != name {
			fmt.Fprintf(&b, "    participant %s as %s\n", id, Text(name))
		} else {
			fmt.Fprintf(&b, "    participant %s\n", name)
		}
	}
	b.WriteString(d.body.String())
	return b.String()
}

// keywords are the words Mermaid's sequence lexer reads as statements
// before it reads a participant's name, ignoring case: a name that is one
// (end, Note) is taken for it, and in versions before the lexer's rules
// ended at a word boundary a name that begins with one (endpoint, office)
// too.
var keywords = []string{"accdescr", "acctitle", "activate", "actor", "alt", "and", "autonumber", "box", "break",
	"create", "critical", "deactivate", "destroy", "details", "else", "end", "left", "link", "loop", "note", "off",
	"opt", "over", "par", "participant", "properties", "rect", "right", "sequencediagram", "title"}

// plain reports whether name can be a participant's id as it is: a
// letter, then letters, digits and _, not beginning with a keyword nor
// holding what Text escapes.
func plain(name string) bool {
	if name == "" || !isLetter(name[0]) || strings.Contains(name, "style") || strings.Contains(name, "classDef") {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isLetter(c) && !('0' <= c && c <= '9') && c != '_' {
			return false
		}
	}
	lower := strings.ToLower(name)
	for _, k := range keywords {
		if strings.HasPrefix(lower, k) {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
