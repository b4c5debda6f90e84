package spec

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// token is one word, quoted string or brace of a spec file. Statements end at
// a newline, so the lexer keeps positions and the parser reads line by line.
type token struct {
	text   string // the word, or the unquoted string
	quoted bool
	pos    Pos
	src    string // a quoted string as written, quotes included: where each byte of text came from
}

// at is the position of byte off of the token's text: in a quoted string,
// the place in the source where that byte was written (the backslash of an
// escape); off == len(text) is the closing quote.
func (t token) at(off int) Pos {
	if !t.quoted || t.src == "" {
		return Pos{t.pos.Line, t.pos.Col + min(max(off, 0), len(t.text))}
	}
	in, n := t.src[1:], 0 // in: what is left of the source; n: bytes of text so far
	for len(in) > 0 && in[0] != '"' {
		r, multibyte, rest, err := strconv.UnquoteChar(in, '"')
		if err != nil {
			break
		}
		w := 1
		if r >= utf8.RuneSelf && multibyte {
			w = utf8.RuneLen(r)
		}
		if off < n+w {
			break
		}
		n += w
		in = rest
	}
	return Pos{t.pos.Line, t.pos.Col + len(t.src) - len(in)}
}

// line is the tokens of one line; bad says it did not lex (reported): its
// statement is refused without another word.
type line struct {
	toks []token
	bad  bool
}

// lexLines splits src into statements: one per non-empty line.
func lexLines(src string, r *errs) []line {
	var out []line
	for i, raw := range strings.Split(src, "\n") {
		l := lexLine(raw, i+1, r)
		if len(l.toks) > 0 {
			out = append(out, l)
			if r.lines == nil {
				r.lines = map[Pos][]token{}
			}
			r.lines[l.toks[0].pos] = l.toks
		}
	}
	return out
}

// lexLine reads one line. A mistake in it is reported once, and the line is
// still cut into tokens as well as it can be, so that a block it opens is
// skipped with it rather than read as statements of the level around it.
func lexLine(s string, ln int, r *errs) line {
	var l line
	for i := 0; i < len(s); {
		c := s[i]
		pos := Pos{ln, i + 1}
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			return l
		case c == '{' || c == '}':
			l.toks = append(l.toks, token{text: string(c), pos: pos})
			i++
		case c == '"':
			q, n, bad, msg := quoted(s[i:])
			if msg != "" {
				r.errorf(Pos{ln, i + 1 + bad}, "%s", msg)
				l.bad = true
			}
			if n == 0 { // unterminated: the string runs to the end of the line
				q = s[i+1:]
				l.toks = append(l.toks, token{text: q, quoted: true, pos: pos, src: s[i:]})
				if t := strings.TrimRight(q, " \t\r"); strings.HasSuffix(t, "{") {
					// Most likely the quote before " {" was left out: the
					// line opens a block, to be skipped with it.
					l.toks = append(l.toks, token{text: "{", pos: Pos{ln, i + 1 + len(t)}})
				}
				return l
			}
			l.toks = append(l.toks, token{text: q, quoted: true, pos: pos, src: s[i : i+n]})
			i += n
		case c < 0x20 || c >= 0x7f:
			r.errorf(pos, "byte %s outside a string: write it inside quotes, escaped", strconv.QuoteRune(rune(c)))
			l.bad = true
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r#{}\"", rune(s[j])) && s[j] >= 0x20 && s[j] < 0x7f {
				j++
			}
			l.toks = append(l.toks, token{text: s[i:j], pos: pos})
			i = j
		}
	}
	return l
}

// quoted reads a Go-syntax double-quoted string at the start of s: its
// value and length. When it is wrong, msg says why and bad is the offset
// in s of the first byte at fault; n is 0 for a string never closed.
func quoted(s string) (v string, n, bad int, msg string) {
	for j := 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			v, err := strconv.Unquote(s[:j+1])
			if err == nil {
				return v, j + 1, 0, ""
			}
			// Find the escape at fault, the way Unquote reads.
			in := s[1:j]
			for len(in) > 0 {
				_, _, rest, err := strconv.UnquoteChar(in, '"')
				if err != nil {
					break
				}
				in = rest
			}
			bad = j - len(in)
			end := min(len(in), 10)
			if len(in) > 1 && in[0] == '\\' {
				end = 2
				for strings.IndexByte("xuU", in[1]) >= 0 && end < len(in) && end < 10 && isHex(in[end]) {
					end++
				}
			}
			return s[1:j], j + 1, bad, "bad escape " + strconv.Quote(in[:end]) + " in string " + clip(s[:j+1]) + ": " + err.Error()
		}
	}
	return "", 0, 0, "unterminated string " + clip(s) + ": close it with \" on the same line"
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// clip shortens what the spec said for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
