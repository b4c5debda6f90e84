// Package lineedit is a line editor for a terminal in raw mode: a prompt,
// a line edited in place with a history, and text written above the line
// while it is being typed.
//
// It measures what it draws in terminal cells, by grapheme cluster: a
// letter with its combining marks, a flag, an emoji sequence joined with
// ZWJ is one character to delete or step over, and an emoji or a CJK
// character takes two cells. The cursor it keeps is then the terminal's,
// so that what it erases and redraws is what is on the screen. A wide
// character that does not fit in the last cell of a row goes to the
// next, as terminals draw it.
package lineedit

import (
	"io"
	"strconv"
	"sync"
)

// MaxLine is the most bytes a line holds; what is typed past it is
// dropped.
const MaxLine = 4096

// historySize is how many lines the history keeps.
const historySize = 100

// Editor reads lines from a terminal with editing and history, and
// writes text above the line being typed.
//
// Keys: ← → (^B ^F) move by a character, Alt-← Alt-→ (Ctrl-← Ctrl-→,
// Alt-b Alt-f) by a word, Home End (^A ^E) to either end; Backspace (^H)
// and Delete delete a character, ^W a word, ^U and ^K to either end;
// ^T swaps the characters around the cursor; ↑ ↓ (^P ^N) go through the
// history; ^L clears the screen; ^D on an empty line and ^C are the end
// of input.
type Editor struct {
	// TakeOff, if not nil, says whether a line entered is taken off the
	// screen (whoever reads it shows it in its own way) instead of staying
	// as typed. The line is taken off before ReadLine returns, so that
	// nothing written in between shows under it.
	TakeOff func(line string) bool

	mu      sync.Mutex
	rw      io.ReadWriter
	prompt  []grapheme
	width   int
	line    []grapheme
	pos     int      // the cursor, in graphemes of line
	shown   []placed // the prompt and line as on the screen; nil if not there
	end     point    // the place after shown
	cursor  point    // the terminal's cursor, from the prompt's first cell
	openRow bool     // what was written above does not end a row

	history  []string // oldest first
	recalled int      // lines back in the history being shown; 0 for the line being typed
	pending  string   // the line being typed, while one of the history is shown

	in      []byte // read, not yet a key
	readErr error  // to return once in is used
	out     []byte // to write
}

// point is a cell: row and column from the prompt's first cell.
type point struct{ row, col int }

// placed is a grapheme and where it is drawn.
type placed struct {
	grapheme
	at point
}

// New returns an editor reading and writing rw, which must be a terminal
// in raw mode, 80 columns wide until SetWidth says otherwise. prompt is
// plain text (control characters in it are dropped).
func New(rw io.ReadWriter, prompt string) *Editor {
	p, _ := insert(nil, 0, prompt, MaxLine)
	return &Editor{rw: rw, prompt: p, width: 80}
}

// SetWidth tells the terminal's width in columns, and redraws the line
// for it.
func (e *Editor) SetWidth(width int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	width = max(width, 1)
	if width == e.width {
		return
	}
	drawn := e.shown != nil
	if drawn {
		e.takeOff()
	}
	e.width = width
	if drawn {
		e.refresh()
		e.flush()
	}
}

// Write writes b above the prompt and the line being typed (a line end
// becomes CR LF), and redraws them under it.
func (e *Editor) Write(b []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	drawn := e.shown != nil
	if drawn {
		e.takeOff()
	}
	for _, c := range b {
		if c == '\n' {
			e.out = append(e.out, '\r')
		}
		e.out = append(e.out, c)
	}
	if len(b) > 0 {
		e.openRow = b[len(b)-1] != '\n'
	}
	if drawn {
		e.refresh()
	}
	return len(b), e.flush()
}

// Clear takes the prompt and the line off the screen.
func (e *Editor) Clear() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shown != nil {
		e.takeOff()
	}
	return e.flush()
}

// ReadLine shows the prompt and returns the line typed, without its end.
// Its error is io.EOF at ^C, ^D on an empty line, or the end of input;
// the terminal's error if reading it failed.
func (e *Editor) ReadLine() (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.refresh()
	for {
		for len(e.in) > 0 {
			k, r, n := nextKey(e.in)
			if n == 0 {
				break
			}
			e.in = e.in[n:]
			if k == keyRune { // with those typed after it: one insert for a paste
				typed := []rune{r}
				for {
					k, r, n := nextKey(e.in)
					if n == 0 || k != keyRune {
						break
					}
					typed = append(typed, r)
					e.in = e.in[n:]
				}
				e.line, e.pos = insert(e.line, e.pos, string(typed), MaxLine)
				continue
			}
			switch {
			case k == keyEnter:
				return e.enter(), e.flush()
			case k == keyInterrupt, k == keyEOF && len(e.line) == 0:
				e.refresh()
				e.flush()
				return "", io.EOF
			case k == keyEOF:
				k = keyDelete
			}
			e.edit(k)
		}
		e.refresh()
		if err := e.flush(); err != nil {
			return "", err
		}
		if err := e.readErr; err != nil {
			e.readErr = nil
			return "", err
		}
		var buf [256]byte
		e.mu.Unlock()
		n, err := e.rw.Read(buf[:])
		e.mu.Lock()
		e.in = append(e.in, buf[:n]...)
		e.readErr = err
	}
}

// enter ends the line: leaves it on the screen, or takes it off, and
// returns it.
func (e *Editor) enter() string {
	e.refresh()
	line := join(e.line)
	if e.TakeOff != nil && e.TakeOff(line) {
		e.takeOff()
	} else {
		e.moveTo(e.end)
		if e.end.col > 0 || e.end.row == 0 { // else the line filled its last row, and the cursor is below it
			e.out = append(e.out, '\r', '\n')
		}
		e.shown, e.cursor = nil, point{}
	}
	if line != "" && (len(e.history) == 0 || e.history[len(e.history)-1] != line) {
		e.history = append(e.history, line)
		if len(e.history) > historySize {
			e.history = e.history[1:]
		}
	}
	e.line, e.pos, e.recalled, e.pending = nil, 0, 0, ""
	return line
}

// edit does what a key other than a character does to the line.
func (e *Editor) edit(k key) {
	switch k {
	case keyBackspace:
		if e.pos > 0 {
			e.line, e.pos = remove(e.line, e.pos-1, e.pos)
		}
	case keyDelete:
		if e.pos < len(e.line) {
			e.line, e.pos = remove(e.line, e.pos, e.pos+1)
		}
	case keyLeft:
		e.pos = max(e.pos-1, 0)
	case keyRight:
		e.pos = min(e.pos+1, len(e.line))
	case keyWordLeft:
		e.pos = e.wordLeft()
	case keyWordRight:
		e.pos = e.wordRight()
	case keyHome:
		e.pos = 0
	case keyEnd:
		e.pos = len(e.line)
	case keyUp:
		e.recall(e.recalled + 1)
	case keyDown:
		e.recall(e.recalled - 1)
	case keyKillEnd:
		e.line, e.pos = remove(e.line, e.pos, len(e.line))
	case keyKillStart:
		e.line, e.pos = remove(e.line, 0, e.pos)
	case keyKillWord:
		e.line, e.pos = remove(e.line, e.wordLeft(), e.pos)
	case keyTranspose:
		if len(e.line) < 2 || e.pos == 0 {
			return
		}
		i := min(e.pos, len(e.line)-1) // at the end, the two before the cursor
		e.line[i-1], e.line[i] = e.line[i], e.line[i-1]
		cursor := len(join(e.line[:min(i+1, len(e.line))]))
		e.line, e.pos = segment(join(e.line), cursor)
	case keyClear:
		e.out = append(e.out, "\x1b[2J\x1b[H"...)
		e.shown, e.cursor, e.openRow = nil, point{}, false
	}
}

// wordLeft is the start of the word before the cursor.
func (e *Editor) wordLeft() int {
	p := e.pos
	for p > 0 && e.line[p-1].s == " " {
		p--
	}
	for p > 0 && e.line[p-1].s != " " {
		p--
	}
	return p
}

// wordRight is the start of the word after the cursor.
func (e *Editor) wordRight() int {
	p := e.pos
	for p < len(e.line) && e.line[p].s != " " {
		p++
	}
	for p < len(e.line) && e.line[p].s == " " {
		p++
	}
	return p
}

// recall shows the line i back in the history, 0 for the line being
// typed.
func (e *Editor) recall(i int) {
	if i < 0 || i > len(e.history) {
		return
	}
	if e.recalled == 0 {
		e.pending = join(e.line)
	}
	e.recalled = i
	s := e.pending
	if i > 0 {
		s = e.history[len(e.history)-i]
	}
	e.line, e.pos = segment(s, len(s))
}

// layout places graphemes in rows of width cells, as the terminal draws
// them: each where it begins, and the place after the last. A grapheme
// that does not fit in what is left of a row begins the next, and a row
// filled to its last cell moves the place after it to the next row (the
// editor writes a line end there, so that the terminal's cursor is there
// too: it would otherwise wait in the last cell).
func layout(gs []grapheme, width int) ([]point, point) {
	at := make([]point, len(gs))
	p := point{}
	for i, g := range gs {
		if p.col > 0 && p.col+g.w > width {
			p = point{p.row + 1, 0}
		}
		at[i] = p
		p = after(p, g.w, width)
	}
	return at, p
}

// after is the place after a grapheme w cells wide at p.
func after(p point, w, width int) point {
	p.col += w
	if p.col >= width {
		p = point{p.row + 1, 0}
	}
	return p
}

// refresh makes the screen show the prompt and the line, the cursor at
// e.pos: it writes from the first grapheme that is not on the screen as
// it should be, and erases what was past the end.
func (e *Editor) refresh() {
	all := append(append([]grapheme(nil), e.prompt...), e.line...)
	at, end := layout(all, e.width)
	k := 0
	for k < len(e.shown) && k < len(all) && e.shown[k].grapheme == all[k] && e.shown[k].at == at[k] {
		k++
	}
	if e.shown == nil && e.openRow {
		e.out = append(e.out, '\r', '\n')
		e.openRow = false
	}
	shrunk := e.shown != nil && (e.end.row > end.row || e.end.row == end.row && e.end.col > end.col)
	if k < len(all) || shrunk {
		from := point{}
		if k > 0 {
			from = after(at[k-1], all[k-1].w, e.width)
		}
		e.moveTo(from)
	}
	for i := k; i < len(all); i++ {
		if at[i].row > e.cursor.row { // did not fit in the row: end it
			e.out = append(e.out, "\x1b[K\r\n"...)
		}
		e.out = append(e.out, all[i].s...)
		e.cursor = after(at[i], all[i].w, e.width)
		if e.cursor.col == 0 {
			e.out = append(e.out, '\r', '\n')
		}
	}
	if shrunk {
		e.out = append(e.out, "\x1b[J"...)
	}
	e.shown = e.shown[:0]
	for i, g := range all {
		e.shown = append(e.shown, placed{g, at[i]})
	}
	e.end = end
	if e.pos < len(e.line) {
		e.moveTo(at[len(e.prompt)+e.pos])
	} else {
		e.moveTo(end)
	}
}

// takeOff erases the prompt and the line, and leaves the cursor where
// the prompt began.
func (e *Editor) takeOff() {
	e.moveTo(point{})
	e.out = append(e.out, "\x1b[J"...)
	e.shown = nil
}

// moveTo moves the terminal's cursor to p.
func (e *Editor) moveTo(p point) {
	seq := func(n int, final byte) {
		e.out = append(e.out, "\x1b["...)
		e.out = strconv.AppendInt(e.out, int64(n), 10)
		e.out = append(e.out, final)
	}
	switch {
	case p.row < e.cursor.row:
		seq(e.cursor.row-p.row, 'A')
	case p.row > e.cursor.row:
		seq(p.row-e.cursor.row, 'B')
	}
	switch {
	case p.col == 0 && e.cursor.col != 0:
		e.out = append(e.out, '\r')
	case p.col > e.cursor.col:
		seq(p.col-e.cursor.col, 'C')
	case p.col < e.cursor.col:
		seq(e.cursor.col-p.col, 'D')
	}
	e.cursor = p
}

// flush writes what is to be written.
func (e *Editor) flush() error {
	if len(e.out) == 0 {
		return nil
	}
	_, err := e.rw.Write(e.out)
	e.out = e.out[:0]
	return err
}
