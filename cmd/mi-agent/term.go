package main

import (
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/term"

	"mi/internal/lineedit"
)

// screen is the chat on a terminal: an input line with editing and
// history (lineedit), above which what happens is written, the line
// being typed redrawn after each.
type screen struct {
	ed    *lineedit.Editor
	rw    *termRW
	fd    int // stdin's
	state *term.State
	winch chan os.Signal
}

// openScreen puts the terminal in raw mode for a screen, if stdin and
// stdout are both terminals; nil otherwise. mu is the printer's lock:
// from the moment a line is entered until it has been taken off the
// screen, nothing else is written.
func openScreen(stdin io.Reader, stdout io.Writer, mu *sync.Mutex, prompt string) *screen {
	in, ok1 := stdin.(*os.File)
	out, ok2 := stdout.(*os.File)
	if !ok1 || !ok2 || !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		return nil
	}
	state, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		return nil
	}
	rw := &termRW{in: in, out: out, mu: mu}
	ed := lineedit.New(rw, prompt)
	// a line for the peer is taken off the screen: the printer shows it
	// with the time and the nick; a command stays as typed
	ed.TakeOff = func(line string) bool { return !strings.HasPrefix(line, "/") }
	s := &screen{ed: ed, rw: rw, fd: int(in.Fd()), state: state, winch: make(chan os.Signal, 1)}
	resize := func() {
		if w, _, err := term.GetSize(int(out.Fd())); err == nil && w > 0 {
			ed.SetWidth(w)
		}
	}
	resize()
	signal.Notify(s.winch, syscall.SIGWINCH)
	go func() {
		for range s.winch {
			resize()
		}
	}()
	return s
}

// Write writes what happened above the input line.
func (s *screen) Write(b []byte) (int, error) { return s.ed.Write(b) }

// readLines sends the lines typed to lines, and closes it at Ctrl-D on an
// empty line, Ctrl-C or the end of input. A line for the peer has been
// taken off the screen when ReadLine returns it, while the printer's
// lock is still held.
func (s *screen) readLines(lines chan<- string) {
	defer close(lines)
	for {
		line, err := s.ed.ReadLine()
		s.rw.release()
		if err != nil {
			return
		}
		lines <- line
	}
}

// close takes the prompt off and gives the terminal back as it was.
func (s *screen) close() {
	signal.Stop(s.winch)
	close(s.winch)
	s.rw.mu.Lock()
	s.ed.Clear()
	s.rw.mu.Unlock()
	term.Restore(s.fd, s.state)
}

// termRW is the terminal as the line editor reads and writes it. A read
// hands over at most one line end, and takes the printer's lock with it
// (held until the editor has taken the line off the screen and returned
// it), so that no event is written between the line's end and its
// erasing.
type termRW struct {
	in      io.Reader
	out     io.Writer
	mu      *sync.Mutex
	held    bool // mu is held for a line end read; reader goroutine only
	pending []byte
	buf     [256]byte
}

func (rw *termRW) release() {
	if rw.held {
		rw.held = false
		rw.mu.Unlock()
	}
}

func (rw *termRW) Read(b []byte) (int, error) {
	rw.release() // a line end read before made no line
	if len(rw.pending) == 0 {
		n, err := rw.in.Read(rw.buf[:])
		if n == 0 {
			return 0, err
		}
		rw.pending = rw.buf[:n]
	}
	chunk := rw.pending
	if i := strings.IndexAny(string(chunk), "\r\n"); i >= 0 {
		end := i + 1
		if chunk[i] == '\r' && end < len(chunk) && chunk[end] == '\n' {
			end++
		}
		chunk = chunk[:end]
	}
	n := copy(b, chunk)
	rw.pending = rw.pending[n:]
	if strings.ContainsAny(string(b[:n]), "\r\n") {
		rw.mu.Lock()
		rw.held = true
	}
	return n, nil
}

func (rw *termRW) Write(b []byte) (int, error) { return rw.out.Write(b) }

// lockedWriter writes under the printer's lock: the log's lines on the
// screen.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
