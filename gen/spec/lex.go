package spec

import (
	"fmt"
	"strconv"
	"strings"
)

// token is one word, quoted string or brace of a spec file. Statements end at
// a newline, so the lexer keeps line numbers and the parser reads line by line.
type token struct {
	text   string // the word, or the unquoted string
	quoted bool
	line   int
}

// lexLines splits src into statements: one slice of tokens per non-empty line.
func lexLines(file, src string) ([][]token, error) {
	var out [][]token
	for i, raw := range strings.Split(src, "\n") {
		toks, err := lexLine(raw, i+1)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, i+1, err)
		}
		if len(toks) > 0 {
			out = append(out, toks)
		}
	}
	return out, nil
}

func lexLine(s string, line int) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			return toks, nil
		case c == '{' || c == '}':
			toks = append(toks, token{text: string(c), line: line})
			i++
		case c == '"':
			q, n, err := quoted(s[i:])
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{text: q, quoted: true, line: line})
			i += n
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r#{}\"", rune(s[j])) {
				j++
			}
			toks = append(toks, token{text: s[i:j], line: line})
			i = j
		}
	}
	return toks, nil
}

// quoted reads a Go-syntax double-quoted string at the start of s.
func quoted(s string) (string, int, error) {
	for j := 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			v, err := strconv.Unquote(s[:j+1])
			if err != nil {
				return "", 0, fmt.Errorf("bad string %s: %v", s[:j+1], err)
			}
			return v, j + 1, nil
		}
	}
	return "", 0, fmt.Errorf("unterminated string %s", s)
}
