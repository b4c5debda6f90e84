package spec

import (
	"strconv"
	"strings"
)

// token is one word, quoted string or brace of a spec file. Statements end at
// a newline, so the lexer keeps positions and the parser reads line by line.
type token struct {
	text   string // the word, or the unquoted string
	quoted bool
	pos    Pos
}

// lexLines splits src into statements: one slice of tokens per non-empty
// line. A line that does not lex is reported and left out.
func lexLines(src string, r *errs) [][]token {
	var out [][]token
	for i, raw := range strings.Split(src, "\n") {
		toks, ok := lexLine(raw, i+1, r)
		if ok && len(toks) > 0 {
			out = append(out, toks)
		}
	}
	return out
}

func lexLine(s string, line int, r *errs) ([]token, bool) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		pos := Pos{line, i + 1}
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			return toks, true
		case c == '{' || c == '}':
			toks = append(toks, token{text: string(c), pos: pos})
			i++
		case c == '"':
			q, n, msg := quoted(s[i:])
			if msg != "" {
				r.errorf(pos, "%s", msg)
				return nil, false
			}
			toks = append(toks, token{text: q, quoted: true, pos: pos})
			i += n
		case c < 0x20 || c >= 0x7f:
			r.errorf(pos, "byte %s outside a string: write it inside quotes, escaped", strconv.QuoteRune(rune(c)))
			return nil, false
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r#{}\"", rune(s[j])) && s[j] >= 0x20 && s[j] < 0x7f {
				j++
			}
			toks = append(toks, token{text: s[i:j], pos: pos})
			i = j
		}
	}
	return toks, true
}

// quoted reads a Go-syntax double-quoted string at the start of s; msg says
// what is wrong with it, if anything.
func quoted(s string) (v string, n int, msg string) {
	for j := 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			v, err := strconv.Unquote(s[:j+1])
			if err != nil {
				return "", 0, "bad string " + clip(s[:j+1]) + ": " + err.Error()
			}
			return v, j + 1, ""
		}
	}
	return "", 0, "unterminated string " + clip(s)
}

// clip shortens what the spec said for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
