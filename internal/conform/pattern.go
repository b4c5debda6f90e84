package conform

import (
	"fmt"
	"strconv"
	"strings"
)

// The text of a step is bytes with variables:
//
//   - $name is the value of the variable name (letters, digits and _, as
//     many as follow the $); $$ is a literal $, and a $ followed by
//     anything else is itself. A name that is not bound is an error.
//   - In a pattern (expect, read), {name} is a capture: it matches the
//     shortest non-empty run of bytes up to the next occurrence of the
//     literal run that follows it, or up to the end when nothing follows,
//     and binds $name to those bytes for the later steps of the scenario.
//     {name:N} matches exactly N bytes (a PMI length, "N{len:2}{nick}"). A
//     capture without a width must be followed by a literal run or end the
//     pattern. A { that does not open a well-formed capture is itself.
//
// The whole datagram or message must match; there is no backtracking.

// lookupFunc returns the value of a variable and whether it is bound.
type lookupFunc func(name string) (string, bool)

func isNameByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// varAt returns the name of the variable whose $ is at s[i], or "" if the
// $ starts none ($$ or a lone $).
func varAt(s string, i int) string {
	j := i + 1
	for j < len(s) && isNameByte(s[j]) {
		j++
	}
	return s[i+1 : j]
}

// refs returns the variables s refers to with $name, in order.
func refs(s string) []string {
	var names []string
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '$' {
			i++
			continue
		}
		if name := varAt(s, i); name != "" {
			names = append(names, name)
			i += len(name)
		}
	}
	return names
}

// expand substitutes the variables of s.
func expand(s string, lookup lookupFunc) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		name := varAt(s, i)
		if name == "" {
			b.WriteByte('$')
			continue
		}
		v, ok := lookup(name)
		if !ok {
			return "", fmt.Errorf("variable $%s is not bound", name)
		}
		b.WriteString(v)
		i += len(name)
	}
	return b.String(), nil
}

// token is one piece of a compiled pattern: a literal run, or a capture.
type token struct {
	lit     string // the bytes of a literal run
	capture string // the variable a capture binds; "" for a literal run
	width   int    // {name:N}: exactly N bytes; 0: up to the next literal run
}

// pattern is a compiled pattern.
type pattern []token

// captureAt parses the capture whose { is at s[i]: its name, width and
// length in s; ok is false if s[i:] does not start one.
func captureAt(s string, i int) (name string, width, n int, ok bool) {
	j := i + 1
	if j >= len(s) || !(s[j] == '_' || 'a' <= s[j] && s[j] <= 'z' || 'A' <= s[j] && s[j] <= 'Z') {
		return "", 0, 0, false
	}
	for j < len(s) && isNameByte(s[j]) {
		j++
	}
	name = s[i+1 : j]
	if j < len(s) && s[j] == ':' {
		k := j + 1
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		w, err := strconv.Atoi(s[j+1 : k])
		if err != nil || w <= 0 || w > 1<<16 {
			return "", 0, 0, false
		}
		width, j = w, k
	}
	if j >= len(s) || s[j] != '}' {
		return "", 0, 0, false
	}
	return name, width, j + 1 - i, true
}

// compile splits p into literal runs and captures, substituting the
// variables of the literal runs.
func compile(p string, lookup lookupFunc) (pattern, error) {
	var toks pattern
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, token{lit: lit.String()})
			lit.Reset()
		}
	}
	seen := map[string]bool{}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '$':
			if i+1 < len(p) && p[i+1] == '$' {
				lit.WriteByte('$')
				i++
				continue
			}
			name := varAt(p, i)
			if name == "" {
				lit.WriteByte('$')
				continue
			}
			v, ok := lookup(name)
			if !ok {
				return nil, fmt.Errorf("variable $%s is not bound", name)
			}
			lit.WriteString(v)
			i += len(name)
		case '{':
			name, width, n, ok := captureAt(p, i)
			if !ok {
				lit.WriteByte(c)
				continue
			}
			if seen[name] {
				return nil, fmt.Errorf("{%s} is captured twice in one pattern", name)
			}
			seen[name] = true
			flush()
			toks = append(toks, token{capture: name, width: width})
			i += n - 1
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	for i, t := range toks {
		if t.capture != "" && t.width == 0 && i+1 < len(toks) && toks[i+1].capture != "" {
			return nil, fmt.Errorf("{%s} is followed by {%s} with no literal bytes between them: give the first a width, {%s:N}",
				t.capture, toks[i+1].capture, t.capture)
		}
	}
	return toks, nil
}

// captures returns the names the pattern binds, in order.
func (p pattern) captures() []string {
	var names []string
	for _, t := range p {
		if t.capture != "" {
			names = append(names, t.capture)
		}
	}
	return names
}

// String is the pattern as it is matched: variables substituted, captures
// as written.
func (p pattern) String() string {
	var b strings.Builder
	for _, t := range p {
		switch {
		case t.capture == "":
			b.WriteString(t.lit)
		case t.width > 0:
			fmt.Fprintf(&b, "{%s:%d}", t.capture, t.width)
		default:
			fmt.Fprintf(&b, "{%s}", t.capture)
		}
	}
	return b.String()
}

// match reports whether b matches the whole pattern, and the values of its
// captures.
func (p pattern) match(b string) (map[string]string, bool) {
	var caps map[string]string
	bind := func(name, v string) {
		if caps == nil {
			caps = make(map[string]string)
		}
		caps[name] = v
	}
	pos := 0
	for i, t := range p {
		rest := b[pos:]
		switch {
		case t.capture == "":
			if !strings.HasPrefix(rest, t.lit) {
				return nil, false
			}
			pos += len(t.lit)
		case t.width > 0:
			if len(rest) < t.width {
				return nil, false
			}
			bind(t.capture, rest[:t.width])
			pos += t.width
		case i+1 == len(p):
			if rest == "" {
				return nil, false
			}
			bind(t.capture, rest)
			pos = len(b)
		default: // compile made sure a literal run follows
			if rest == "" {
				return nil, false
			}
			j := strings.Index(rest[1:], p[i+1].lit)
			if j < 0 {
				return nil, false
			}
			bind(t.capture, rest[:1+j])
			pos += 1 + j
		}
	}
	if pos != len(b) {
		return nil, false
	}
	return caps, true
}
