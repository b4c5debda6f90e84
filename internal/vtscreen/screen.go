// Package vtscreen is a model of a terminal's screen for tests: it
// interprets what a program writes to a terminal (text, CR, LF, backspace,
// the CSI sequences that move the cursor and erase) and says what a person
// would see, row by row, and where the cursor is.
//
// Its widths are a terminal's own, independent of any line editor's: a
// character of the East Asian wide ranges or an emoji takes two cells,
// combining marks, variation selectors and tag characters join the cell
// before them, a character after a zero-width joiner joins the cell of
// the sequence, and a regional indicator joins the one before it in a
// flag of two cells, as terminals that draw grapheme clusters do. Writing over half of a
// wide character blanks its other half, and a wide character that does
// not fit in a row's last cell goes to the next row, as in xterm.
package vtscreen

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Screen is a terminal's screen of fixed size.
type Screen struct {
	cols, rows int
	cells      [][]cell
	x, y       int
	wrapNext   bool   // a character was written in the last column: the next one goes to the next row
	lastX      int    // the cell last drawn, which a combining mark joins
	lastY      int    // -1 after the cursor moved
	pending    []byte // an escape sequence or UTF-8 character cut by the end of a write
}

// cell is one cell: the text drawn there and its width (2 for the left
// half of a wide character, 0 for the right half, 1 otherwise).
type cell struct {
	s string
	w int
}

// New returns an empty screen of cols columns and rows rows.
func New(cols, rows int) *Screen {
	s := &Screen{cols: cols, rows: rows, lastY: -1}
	for range rows {
		s.cells = append(s.cells, s.blankRow())
	}
	return s
}

func (s *Screen) blankRow() []cell {
	r := make([]cell, s.cols)
	for i := range r {
		r[i] = cell{" ", 1}
	}
	return r
}

// Write interprets b as written to the terminal.
func (s *Screen) Write(b []byte) (int, error) {
	n := len(b)
	b = append(s.pending, b...)
	s.pending = nil
	for len(b) > 0 {
		used := s.step(b)
		if used == 0 {
			s.pending = append([]byte(nil), b...)
			break
		}
		b = b[used:]
	}
	return n, nil
}

// step interprets what b begins with and returns the bytes used, 0 if b
// holds only the beginning of it.
func (s *Screen) step(b []byte) int {
	switch c := b[0]; {
	case c == '\r':
		s.x, s.wrapNext, s.lastY = 0, false, -1
		return 1
	case c == '\n':
		s.lineFeed()
		s.wrapNext, s.lastY = false, -1
		return 1
	case c == '\b':
		if s.x > 0 {
			s.x--
		}
		s.wrapNext, s.lastY = false, -1
		return 1
	case c == 0x1b:
		return s.escape(b)
	case c < 0x20 || c == 0x7f:
		return 1
	}
	if !utf8.FullRune(b) {
		return 0
	}
	r, n := utf8.DecodeRune(b)
	s.put(r)
	return n
}

// escape interprets an escape sequence.
func (s *Screen) escape(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	if b[1] != '[' {
		return 2
	}
	i := 2
	for i < len(b) && b[i] >= 0x20 && b[i] <= 0x3f {
		i++
	}
	if i == len(b) {
		return 0
	}
	params, final := string(b[2:i]), b[i]
	s.csi(params, final)
	return i + 1
}

func (s *Screen) csi(params string, final byte) {
	if strings.HasPrefix(params, "?") { // modes: not drawn
		return
	}
	args := strings.Split(params, ";")
	arg := func(i, def int) int {
		if i >= len(args) || args[i] == "" {
			return def
		}
		n, err := strconv.Atoi(args[i])
		if err != nil {
			return def
		}
		return n
	}
	switch final {
	case 'A':
		s.y = max(0, s.y-max(1, arg(0, 1)))
	case 'B':
		s.y = min(s.rows-1, s.y+max(1, arg(0, 1)))
	case 'C':
		s.x = min(s.cols-1, s.x+max(1, arg(0, 1)))
	case 'D':
		s.x = max(0, min(s.x, s.cols-1)-max(1, arg(0, 1)))
	case 'H':
		s.y = min(s.rows-1, max(1, arg(0, 1))-1)
		s.x = min(s.cols-1, max(1, arg(1, 1))-1)
	case 'K':
		switch arg(0, 0) {
		case 0:
			s.erase(s.y, s.x, s.cols)
		case 1:
			s.erase(s.y, 0, s.x+1)
		case 2:
			s.erase(s.y, 0, s.cols)
		}
	case 'J':
		switch arg(0, 0) {
		case 0:
			s.erase(s.y, s.x, s.cols)
			for y := s.y + 1; y < s.rows; y++ {
				s.cells[y] = s.blankRow()
			}
		case 2, 3:
			for y := range s.cells {
				s.cells[y] = s.blankRow()
			}
		}
	case 'm':
		return // colours: not modelled
	}
	s.wrapNext, s.lastY = false, -1
}

// erase blanks the cells of row y from x0 up to x1, and the other half
// of a wide character cut at either end.
func (s *Screen) erase(y, x0, x1 int) {
	row := s.cells[y]
	if x0 > 0 && x0 < s.cols && row[x0].w == 0 {
		x0--
	}
	if x1 < s.cols && row[x1].w == 0 {
		x1++
	}
	for x := x0; x < x1 && x < s.cols; x++ {
		row[x] = cell{" ", 1}
	}
}

func (s *Screen) lineFeed() {
	if s.y < s.rows-1 {
		s.y++
		return
	}
	s.cells = append(s.cells[1:], s.blankRow())
	if s.lastY >= 0 {
		s.lastY--
	}
}

// put draws r at the cursor, or joins it to the cell before.
func (s *Screen) put(r rune) {
	if s.lastY >= 0 {
		if last := &s.cells[s.lastY][s.lastX]; joins(last.s, r) {
			last.s += string(r)
			return
		}
	}
	if zeroWidth(r) {
		return // nothing before to join
	}
	w := 1
	if wide(r) {
		w = 2
	}
	if s.wrapNext || s.x+w > s.cols {
		s.x = 0
		s.lineFeed()
	}
	s.wrapNext = false
	s.erase(s.y, s.x, s.x+w)
	row := s.cells[s.y]
	row[s.x] = cell{string(r), w}
	if w == 2 {
		row[s.x+1] = cell{"", 0}
	}
	s.lastX, s.lastY = s.x, s.y
	s.advance(w)
}

// advance moves the cursor n cells right after drawing.
func (s *Screen) advance(n int) {
	s.x += n
	if s.x >= s.cols {
		s.x, s.wrapNext = s.cols-1, true
	}
}

// joins: r is drawn in the cell that holds prev.
func joins(prev string, r rune) bool {
	last, _ := utf8.DecodeLastRuneInString(prev)
	first, _ := utf8.DecodeRuneInString(prev)
	switch {
	case zeroWidth(r):
		return true
	case last == '\u200d':
		return true
	case isRegional(r) && isRegional(first) && utf8.RuneCountInString(prev) == 1:
		return true
	}
	return false
}

func isRegional(r rune) bool { return r >= 0x1f1e6 && r <= 0x1f1ff }

// zeroWidth: combining marks, the zero-width joiner, variation selectors,
// tag characters.
func zeroWidth(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me) || r == '\u200d' ||
		r >= 0xfe00 && r <= 0xfe0f || r >= 0xe0020 && r <= 0xe007f
}

// wide: the East Asian wide and full-width ranges, the emoji blocks and
// the regional indicators (of which two make a flag).
func wide(r rune) bool {
	for _, rg := range [][2]rune{
		{0x1100, 0x115f}, {0x2e80, 0x303e}, {0x3041, 0x33ff}, {0x3400, 0x4dbf}, {0x4e00, 0x9fff},
		{0xa000, 0xa4cf}, {0xac00, 0xd7a3}, {0xf900, 0xfaff}, {0xfe30, 0xfe4f}, {0xff00, 0xff60},
		{0xffe0, 0xffe6}, {0x1f300, 0x1f64f}, {0x1f680, 0x1f6ff}, {0x1f900, 0x1f9ff},
		{0x1f1e6, 0x1f1ff}, {0x20000, 0x3fffd},
	} {
		if r >= rg[0] && r <= rg[1] {
			return true
		}
	}
	return false
}

// Row returns what row y shows, without the blanks at its end.
func (s *Screen) Row(y int) string {
	var b strings.Builder
	for _, c := range s.cells[y] {
		b.WriteString(c.s)
	}
	return strings.TrimRight(b.String(), " ")
}

// Rows returns what every row shows, without the blank rows at the end.
func (s *Screen) Rows() []string {
	var rows []string
	for y := range s.cells {
		rows = append(rows, s.Row(y))
	}
	for len(rows) > 0 && rows[len(rows)-1] == "" {
		rows = rows[:len(rows)-1]
	}
	return rows
}

// Cursor returns the cursor's column and row, from 0.
func (s *Screen) Cursor() (x, y int) { return s.x, s.y }

// String is the screen for a test's failure: its rows, the cursor marked.
func (s *Screen) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cursor at column %d, row %d\n", s.x, s.y)
	for y, r := range s.Rows() {
		fmt.Fprintf(&b, "%2d|%s\n", y, r)
	}
	return b.String()
}
