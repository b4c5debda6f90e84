package lineedit

import (
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// grapheme is what a person sees as one character (a letter with its
// combining marks, a flag, an emoji sequence joined with ZWJ) and the
// terminal cells it takes.
type grapheme struct {
	s string
	w int
}

// graphemes cuts s into grapheme clusters, each measured in cells.
func graphemes(s string) []grapheme {
	var gs []grapheme
	state := -1
	for s != "" {
		var g string
		var w int
		g, s, w, state = uniseg.FirstGraphemeClusterInString(s, state)
		gs = append(gs, grapheme{g, w})
	}
	return gs
}

func join(gs []grapheme) string {
	var b strings.Builder
	for _, g := range gs {
		b.WriteString(g.s)
	}
	return b.String()
}

// typable: r may go into the line. Control characters never do: the
// line is echoed as typed, and a control character would act on the
// terminal instead of showing.
func typable(r rune) bool {
	return r >= 0x20 && r != 0x7f && !(r >= 0x80 && r < 0xa0) && r != utf8.RuneError
}

// segment cuts s into the graphemes of a line, and returns with them the
// cursor's place in graphemes: after the grapheme that holds byte
// cursor-1. A grapheme of no width (a combining mark or a joiner at the
// start of the line, a bidi control) would show nothing, or act on its
// neighbours on the screen: it is dropped. The graphemes of a line all
// have a width, so only what was just typed can be.
func segment(s string, cursor int) ([]grapheme, int) {
	var line []grapheme
	pos, off := 0, 0
	for _, g := range graphemes(s) {
		start := off
		off += len(g.s)
		if g.w == 0 {
			continue
		}
		line = append(line, g)
		if start < cursor {
			pos = len(line)
		}
	}
	return line, pos
}

// insert returns line with what of s may be typed inserted before
// grapheme pos, and the cursor after it. What is inserted may join the
// graphemes around it: a combining mark typed after its letter, the
// second half of a flag, what follows a ZWJ. Bytes past limit are
// dropped.
func insert(line []grapheme, pos int, s string, limit int) ([]grapheme, int) {
	before, after := join(line[:pos]), join(line[pos:])
	var kept strings.Builder
	for _, r := range s {
		if typable(r) {
			kept.WriteRune(r)
		}
	}
	s = kept.String()
	if room := limit - len(before) - len(after); len(s) > room {
		s = s[:max(0, room)]
		for s != "" && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	if s == "" {
		return line, pos
	}
	return segment(before+s+after, len(before)+len(s))
}

// remove returns line without graphemes from up to to, and the cursor
// where they were. What was either side of them may join.
func remove(line []grapheme, from, to int) ([]grapheme, int) {
	before := join(line[:from])
	return segment(before+join(line[to:]), len(before))
}
