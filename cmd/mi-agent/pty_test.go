package main

import (
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"mi/internal/ptytest"
	"mi/internal/vtscreen"
	"mi/wire"
)

// startOnPTY runs mi-agent (startChat) with a pseudo-terminal as its
// stdin, stdout and stderr; what it writes is read into p.out, and
// p.stdin types.
func startOnPTY(t *testing.T, n *testNode, env ...string) (*chatProc, *os.File) {
	master, slave := ptytest.Open(t, 24, 80)
	p := startChat(t, n, func(cmd *exec.Cmd, p *chatProc) {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
		cmd.Env = append(cmd.Env, env...)
		p.stdin = master
		go io.Copy(p.out, master)
	})
	return p, slave
}

// TestTerminal: on a terminal, a peer's line arriving while a line is
// half typed is shown, with the time and the peer's nick, control
// characters escaped, and the half line is redrawn under it; the line
// finished arrives whole at the peer and is shown with one's own nick;
// Ctrl-D leaves and gives the terminal back as it was.
func TestTerminal(t *testing.T) {
	n := newTestNode(t)
	p, slave := startOnPTY(t, n)
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if before.Lflag&unix.ECHO != 0 {
		t.Errorf("terminal not in raw mode")
	}
	conn := callAgent(t, p.chat)
	p.waitFor("the call", func(s string) bool { return strings.Contains(s, "called you") })
	io.WriteString(p.stdin, "hello wo")
	p.waitFor("the half line", func(s string) bool { return strings.HasSuffix(s, "laura> hello wo") })
	mark := len(p.out.String())
	if err := wire.NewWriter(conn).WriteMessage(&wire.Line{Text: "\x1b[2Jhi there"}); err != nil {
		t.Fatal(err)
	}
	peerLine := regexp.MustCompile(`\d\d:\d\d <pau> \\x1b\[2Jhi there\r\n(\x1b\[K)?laura> hello wo`)
	p.waitFor("the peer's line, then the half line", func(s string) bool { return peerLine.MatchString(s[mark:]) })
	io.WriteString(p.stdin, "rld\r")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, err := wire.NewReader(conn).ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := m.(*wire.Line); !ok || l.Text != "hello world" {
		t.Errorf("the peer got %v, want the line hello world", m)
	}
	own := regexp.MustCompile(`\d\d:\d\d <laura> hello world\r\n`)
	p.waitFor("one's own line", func(s string) bool { return own.MatchString(s) })
	if strings.Contains(p.out.String(), "\x1b[2J") {
		t.Errorf("the peer's escape sequence reached the terminal")
	}
	if regexp.MustCompile(`\x1b\[[0-9;]*m`).MatchString(p.out.String()) {
		t.Errorf("colour with NO_COLOR")
	}
	io.WriteString(p.stdin, "\x04") // Ctrl-D
	p.deregistered()
	after, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if after.Lflag&unix.ECHO == 0 || after.Lflag&unix.ICANON == 0 {
		t.Errorf("terminal left in raw mode")
	}
}

// TestTerminalColour: on a terminal without NO_COLOR, notices are dim.
func TestTerminalColour(t *testing.T) {
	n := newTestNode(t)
	p, _ := startOnPTY(t, n, "NO_COLOR=")
	if !strings.Contains(p.out.String(), cDim) {
		t.Errorf("no colour on a terminal")
	}
	io.WriteString(p.stdin, "\x03") // Ctrl-C
	p.deregistered()
}

// inputRow is the input row of a terminal: the row the cursor is on, and
// the cursor's column.
type inputRow struct {
	Row    string
	Column int
}

// waitScreen waits until the pty, 80 columns by 24 rows as vtscreen
// draws what mi-agent wrote to it, has the cursor on a row that shows
// want.Row, at want.Column; for at most 10 seconds.
func (p *chatProc) waitScreen(what string, want inputRow) {
	p.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		sc := vtscreen.New(80, 24)
		sc.Write([]byte(p.out.String()))
		x, y := sc.Cursor()
		got := inputRow{sc.Row(y), x}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: the input row (-want +got):\n%s\nthe screen: %s", what, cmp.Diff(want, got), sc)
		}
	}
}

// TestTerminalWideCharacters: the line editor counts in cells what the
// terminal draws, and deletes and moves by what a person sees as one
// character: ab🙂cd typed and five Backspaces leave the prompt alone
// and the cursor after it, where the next character typed goes; a line
// with emoji recalled from the history, then left for the empty line
// being typed, leaves nothing behind; a character typed inside the
// recalled line goes where the cursor shows.
func TestTerminalWideCharacters(t *testing.T) {
	n := newTestNode(t)
	p, _ := startOnPTY(t, n)
	conn := callAgent(t, p.chat)
	p.waitFor("the call", func(s string) bool { return strings.Contains(s, "called you") })
	p.waitScreen("the prompt", inputRow{"laura>", 7})
	io.WriteString(p.stdin, "ab🙂cd")
	p.waitScreen("ab🙂cd typed", inputRow{"laura> ab🙂cd", 13})
	for range 5 {
		io.WriteString(p.stdin, "\x7f") // Backspace
	}
	p.waitScreen("five Backspaces", inputRow{"laura>", 7})
	io.WriteString(p.stdin, "x")
	p.waitScreen("x typed after them", inputRow{"laura> x", 8})

	io.WriteString(p.stdin, "\x7f🙂🙂🙂🙂 ok\r")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, err := wire.NewReader(conn).ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if l, ok := m.(*wire.Line); !ok || l.Text != "🙂🙂🙂🙂 ok" {
		t.Errorf("the peer got %v, want the line 🙂🙂🙂🙂 ok", m)
	}
	p.waitFor("one's own line", func(s string) bool { return strings.Contains(s, "<laura> 🙂🙂🙂🙂 ok\r\n") })
	p.waitScreen("the prompt after the line", inputRow{"laura>", 7})
	io.WriteString(p.stdin, "\x1b[A") // ↑
	p.waitScreen("the line recalled", inputRow{"laura> 🙂🙂🙂🙂 ok", 18})
	io.WriteString(p.stdin, "\x1b[B") // ↓
	p.waitScreen("back to the empty line", inputRow{"laura>", 7})
	io.WriteString(p.stdin, "z")
	p.waitScreen("z typed there", inputRow{"laura> z", 8})
	io.WriteString(p.stdin, "\x7f\x1b[A\x1b[H\x1b[Cx") // Backspace, ↑, Home, →, x
	p.waitScreen("x typed after the first emoji", inputRow{"laura> 🙂x🙂🙂🙂 ok", 10})
	io.WriteString(p.stdin, "\x03") // Ctrl-C
	p.deregistered()
}
