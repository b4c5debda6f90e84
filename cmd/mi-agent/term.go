package main

import (
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unicode/utf8"

	"golang.org/x/term"
)

// screen is the chat on a terminal: an input line with editing and
// history (term.Terminal), above which what happens is written, the line
// being typed redrawn after each.
type screen struct {
	t      *term.Terminal
	rw     *termRW
	fd     int // stdin's
	state  *term.State
	prompt string
	winch  chan os.Signal
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
	s := &screen{t: term.NewTerminal(rw, prompt), rw: rw, fd: int(in.Fd()), state: state, prompt: prompt,
		winch: make(chan os.Signal, 1)}
	resize := func() {
		if w, h, err := term.GetSize(int(out.Fd())); err == nil && w > 0 {
			rw.width.Store(int64(w))
			s.t.SetSize(w, h)
		}
	}
	rw.width.Store(80)
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
func (s *screen) Write(b []byte) (int, error) { return s.t.Write(b) }

// readLines sends the lines typed to lines, and closes it at Ctrl-D on an
// empty line, Ctrl-C or the end of input. A line for the peer is taken
// off the screen (the printer shows it with the time and the nick); a
// command stays as typed.
func (s *screen) readLines(lines chan<- string) {
	defer close(lines)
	for {
		line, err := s.t.ReadLine()
		if s.rw.held {
			if !strings.HasPrefix(line, "/") {
				rows := (utf8.RuneCountInString(s.prompt)+utf8.RuneCountInString(line))/int(s.rw.width.Load()) + 1
				s.t.Write([]byte("\x1b[" + strconv.Itoa(rows) + "A\r\x1b[J"))
			}
			s.rw.release()
		}
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
	s.rw.out.Write([]byte("\r\x1b[K"))
	s.rw.mu.Unlock()
	term.Restore(s.fd, s.state)
}

// termRW is the terminal as term.Terminal reads and writes it. A read
// hands over at most one line end, and takes the printer's lock with it
// (held until readLines has taken the line off the screen), so that no
// event is written between the line's end and its erasing.
type termRW struct {
	in      io.Reader
	out     io.Writer
	mu      *sync.Mutex
	held    bool // mu is held for a line end read; reader goroutine only
	pending []byte
	buf     [256]byte
	width   atomic.Int64
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
