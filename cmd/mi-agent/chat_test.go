package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/internal/syncbuf"
	"mi/lumi/dnszone"
	"mi/wire"
)

// chatProc is mi-agent run as a person would, without -json: lines in on
// stdin, what it shows read from stdout.
type chatProc struct {
	t     *testing.T
	node  *testNode
	from  netip.AddrPort // the agent's LUMI socket
	chat  netip.AddrPort // its chat socket
	stdin io.WriteCloser
	out   *syncbuf.Buffer // stdout and stderr
	done  chan struct{}   // closed when it exits
	code  int
}

// startChat runs mi-agent as laura@bb.com with n as its node, with pipes
// for stdin and stdout, and registers it. configure, if not nil, may set
// up the command's files (a pty) before it starts.
func startChat(t *testing.T, n *testNode, configure func(*exec.Cmd, *chatProc), extra ...string) *chatProc {
	t.Helper()
	args := append([]string{"-addr", "laura@bb.com", "-node", n.conn.LocalAddr().String(), "-log", "-",
		"-listen", "127.0.0.1:0", "-hosts", "-", "-dns", "127.0.0.1:9"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asMain+"=1", "NO_COLOR=1", "TERM=xterm")
	p := &chatProc{t: t, node: n, out: &syncbuf.Buffer{}, done: make(chan struct{})}
	if configure != nil {
		configure(cmd, p)
	} else {
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		p.stdin = stdin
		cmd.Stdout, cmd.Stderr = p.out, p.out
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("mi-agent's output:\n%s", p.out.String())
		}
	})
	pr, from := n.recv()
	if pr.Tag != wire.TagRegister {
		t.Fatalf("first datagram %s, want PR", pr.Tag)
	}
	p.from = from
	n.send(from, &wire.RegisterReply{Code: wire.RegisterOK})
	asker, _ := wire.ParseAddress("pau@bb.com")
	n.send(from, &wire.Locate{From: asker, To: pr.Register.Addr})
	rl, _ := n.recv()
	if rl.Tag != wire.TagLocateReply || rl.LocateReply.Code != wire.LocateFound {
		t.Fatalf("locate answered %+v, want RL0", rl)
	}
	p.chat = netip.AddrPortFrom(rl.LocateReply.IP, rl.LocateReply.Port)
	p.waitFor("the chat address note", func(s string) bool { return strings.Contains(s, "/help for commands") })
	return p
}

// say types a line.
func (p *chatProc) say(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatal(err)
	}
}

// waitFor waits until the output satisfies ok, for at most 10 seconds.
func (p *chatProc) waitFor(what string, ok func(string) bool) {
	p.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(p.out.String()); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			p.t.Fatalf("no %s on screen", what)
		}
	}
}

// deregistered answers the agent's PD, the next datagram, and waits for
// it to exit 0.
func (p *chatProc) deregistered() {
	p.t.Helper()
	d, from := p.node.recv()
	for d.Tag == wire.TagLocate || d.Tag == wire.TagRegister { // retransmits of what was under way
		d, from = p.node.recv()
	}
	if d.Tag != wire.TagDeregister {
		p.t.Fatalf("datagram %s, want PD", d.Tag)
	}
	p.node.send(from, &wire.DeregisterReply{Code: wire.DeregisterOK})
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Fatal("mi-agent did not exit after its deregistration")
	}
	if p.code != 0 {
		p.t.Errorf("exit status %d, want 0", p.code)
	}
}

func TestSplitInput(t *testing.T) {
	words := strings.Repeat("hola ", 30) // 150 bytes
	noSpace := strings.Repeat("x", 150)
	accents := strings.Repeat("é", 60) // 120 bytes, 2 each
	cases := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", nil},
		{"spaces only", "   \t ", nil},
		{"short", "hola", []string{"hola"}},
		{"exactly the limit", strings.Repeat("a", wire.MaxLineLen), []string{strings.Repeat("a", wire.MaxLineLen)}},
		{"at the last space", words, []string{words[:95], words[95:]}},
		{"no space: bytes", noSpace, []string{noSpace[:wire.MaxLineLen], noSpace[wire.MaxLineLen:]}},
		{"no space: not inside a character", accents, []string{accents[:98], accents[98:]}},
		{"a space only early", "ab " + noSpace, []string{"ab ", noSpace[:wire.MaxLineLen], noSpace[wire.MaxLineLen:]}},
		{"not UTF-8", strings.Repeat("\xff", 100), []string{strings.Repeat("\xff", 99), "\xff"}},
	}
	for _, tc := range cases {
		got := splitInput(tc.in)
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
		if tc.want != nil && strings.Join(got, "") != tc.in {
			t.Errorf("%s: the parts do not make the line", tc.name)
		}
		for _, part := range got {
			if len(part) > wire.MaxLineLen {
				t.Errorf("%s: part of %d bytes", tc.name, len(part))
			}
		}
	}
}

// TestCallYourself: /call of one's own address, in any case, is refused
// with a message and sends nothing: the next datagram is the PD of /quit.
func TestCallYourself(t *testing.T) {
	n := newTestNode(t)
	p := startChat(t, n, nil)
	p.say("/call LAURA@bb.COM")
	p.waitFor("refusal", func(s string) bool {
		return strings.Contains(s, "! laura@bb.com is your own address; /call someone else\n")
	})
	p.say("/quit")
	p.deregistered()
}

// TestUnknownDomainShown: /call of a user of a domain that does not exist
// shows one line that says so, from the error's cause, whatever the Go
// errors under it say (they ended in "NXDOMAIN)").
func TestUnknownDomainShown(t *testing.T) {
	zone, err := dnszone.Start("127.0.0.1:0", dnszone.MustRR("cc.org. 60 IN SOA ns.cc.org. admin.cc.org. 1 60 60 60 5"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { zone.Close() })
	n := newTestNode(t)
	p := startChat(t, n, nil, "-dns", zone.Addr())
	p.say("/call pau@cc.orgg")
	pl, from := n.recv()
	if pl.Tag != wire.TagLocate {
		t.Fatalf("datagram %s, want PL", pl.Tag)
	}
	n.send(from, &wire.LocateReply{Code: wire.LocateUnknown, From: pl.Locate.From, To: pl.Locate.To})
	const line = "! no LUMI node for domain cc.orgg: the domain does not exist (NXDOMAIN)\n"
	p.waitFor("the failure", func(s string) bool { return strings.Contains(s, "\n! ") })
	p.say("/quit")
	p.deregistered()
	if _, shown, _ := strings.Cut(p.out.String(), "* locating pau@cc.orgg...\n"); !strings.HasPrefix(shown, line) {
		t.Errorf("after locating, the screen shows %q; want %q", shown, line)
	}
}

// TestSendsLinesAndLeavesAtEOF: in a conversation, an empty line is not
// sent and a long one goes as lines cut at spaces; then the end of stdin
// hangs up, deregisters and exits 0, with no error shown.
func TestSendsLinesAndLeavesAtEOF(t *testing.T) {
	n := newTestNode(t)
	p := startChat(t, n, nil)
	conn := callAgent(t, p.chat)
	p.waitFor("the call", func(s string) bool { return strings.Contains(s, "called you") })
	long := strings.Repeat("bon dia ", 20) // 160 bytes
	p.say("")
	p.say("   ")
	p.say(long)
	p.say("fi")
	want := append(splitInput(long), "fi")
	r := wire.NewReader(conn)
	var got []string
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for range want {
		m, err := r.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.(*wire.Line).Text)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("the peer got (-want +got):\n%s", d)
	}
	p.stdin.Close()
	if m, err := r.ReadMessage(); !errors.Is(err, io.EOF) {
		t.Errorf("after stdin closed the peer read %v, %v; want the end of the connection", m, err)
	}
	p.deregistered()
	out := p.out.String()
	for _, s := range []string{"conversation ended by you", "deregistered laura@bb.com"} {
		if !strings.Contains(out, s) {
			t.Errorf("no %q on screen", s)
		}
	}
	if strings.Contains(out, "!") {
		t.Errorf("an error on screen")
	}
}

// TestEOFWhileLocating: the end of stdin while a /call waits for its node
// cancels it quietly, deregisters and exits 0.
func TestEOFWhileLocating(t *testing.T) {
	n := newTestNode(t)
	p := startChat(t, n, nil, "-retry", "1h")
	p.say("/call pau@bb.com")
	if d, _ := n.recv(); d.Tag != wire.TagLocate {
		t.Fatalf("datagram %s, want PL", d.Tag)
	}
	p.stdin.Close()
	p.deregistered()
	if out := p.out.String(); strings.Contains(out, "!") || strings.Contains(out, "cancel") {
		t.Errorf("an error on screen")
	}
}

// TestHelp: -h tells what mi-agent does, its commands, examples and flags,
// -refresh among them.
func TestHelp(t *testing.T) {
	var out strings.Builder
	if code := run([]string{"-h"}, strings.NewReader(""), &out, &out, nil, os.Getenv); code != exitOK {
		t.Errorf("exit %d", code)
	}
	for _, s := range []string{"usage: mi-agent", "/call user@domain", "/hangup", "/who", "/register", "/help", "/quit", "Examples:", "-refresh", "-addr"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("no %q in:\n%s", s, out.String())
		}
	}
}

// TestCommandsInOrder: with -json, the events of one command all come
// before the next command's, however long the first takes: piped at once,
// a /call whose locate is answered late, then a /call of one's own address
// (refused here, at once), show the first call's locating and failure,
// then the refusal, even when stdout is slow to take the events (a
// command's own output waits for the events before it). Lines still
// waiting at the end of input are run.
func TestCommandsInOrder(t *testing.T) {
	n := newTestNode(t)
	stdin, typed := io.Pipe()
	out := &syncbuf.Buffer{}
	code := make(chan int, 1)
	args := []string{"-addr", "laura@bb.com", "-node", n.conn.LocalAddr().String(), "-json", "-log", "-",
		"-listen", "127.0.0.1:0", "-hosts", "-", "-retry", "1h"}
	go func() {
		code <- run(args, stdin, slowWriter{out, 30 * time.Millisecond, ""}, io.Discard, nil, os.Getenv)
	}()
	pr, from := n.recv()
	if pr.Tag != wire.TagRegister {
		t.Fatalf("datagram %s, want PR", pr.Tag)
	}
	n.send(from, &wire.RegisterReply{Code: wire.RegisterOK})
	io.WriteString(typed, "/call pau@cc.org\n/call laura@bb.com\n")
	pl, _ := n.recv()
	if pl.Tag != wire.TagLocate {
		t.Fatalf("datagram %s, want PL", pl.Tag)
	}
	// The locate is answered late: the second command's refusal, if it
	// ran meanwhile, would be out by then.
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end) && !strings.Contains(out.String(), `"bad_address"`); {
		time.Sleep(5 * time.Millisecond)
	}
	n.send(from, &wire.LocateReply{Code: wire.LocateOffline, From: pl.Locate.From, To: pl.Locate.To})
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), `"bad_address"`); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no refusal of the second /call:\n%s", out.String())
		}
	}
	io.WriteString(typed, "/frobnicate\nhola\n")
	typed.Close()
	d, _ := n.recv()
	if d.Tag != wire.TagDeregister {
		t.Fatalf("datagram %s, want PD", d.Tag)
	}
	n.send(from, &wire.DeregisterReply{Code: wire.DeregisterOK})
	if c := <-code; c != exitOK {
		t.Errorf("exit status %d", c)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var e struct{ Event, Reason, Target string }
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		got = append(got, strings.Join(slices.DeleteFunc([]string{e.Event, e.Reason, e.Target}, func(s string) bool { return s == "" }), " "))
	}
	want := []string{"registered", "locating pau@cc.org", "error offline", "error bad_address", "error bad_command",
		"error not_connected", "deregistered"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}

// slowWriter takes its time over each write (of the text match, if not
// ""), as a terminal or a pipe that is read slowly does.
type slowWriter struct {
	w     io.Writer
	d     time.Duration
	match string
}

func (s slowWriter) Write(b []byte) (int, error) {
	if strings.Contains(string(b), s.match) {
		time.Sleep(s.d)
	}
	return s.w.Write(b)
}

// TestOutputAfterEvents: what a command shows itself (/who's answer) comes
// after the events of the command before it, even when the printer is
// slow with one of them (here the -v log line of an error, written before
// the error is shown).
func TestOutputAfterEvents(t *testing.T) {
	n := newTestNode(t)
	stdin, typed := io.Pipe()
	out := &syncbuf.Buffer{}
	code := make(chan int, 1)
	args := []string{"-addr", "laura@bb.com", "-node", n.conn.LocalAddr().String(), "-v", "-log", "-",
		"-listen", "127.0.0.1:0", "-hosts", "-", "-retry", "1h"}
	slowLog := slowWriter{io.Discard, 200 * time.Millisecond, `msg=error `}
	go func() { code <- run(args, stdin, out, slowLog, nil, os.Getenv) }()
	_, from := n.recv()
	n.send(from, &wire.RegisterReply{Code: wire.RegisterOK})
	io.WriteString(typed, "/call pau@cc.org\n/who\n")
	pl, _ := n.recv()
	n.send(from, &wire.LocateReply{Code: wire.LocateOffline, From: pl.Locate.From, To: pl.Locate.To})
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "not in a conversation"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no answer to /who:\n%s", out.String())
		}
	}
	typed.Close()
	n.recv() // PD
	n.send(from, &wire.DeregisterReply{Code: wire.DeregisterOK})
	<-code
	if s := out.String(); !regexp.MustCompile(`(?s)! pau@cc.org is offline\n.*not in a conversation`).MatchString(s) {
		t.Errorf("the failure of the call is not shown before /who's answer:\n%s", s)
	}
}
