package readme

// README.md marks each block of commands with an HTML comment on the line
// before its fence, which GitHub does not show:
//
//	<!-- readme-test: run -->
//	<!-- readme-test: not run: REASON -->
//
// A block of commands is one whose info string is sh or console (or bash,
// shell, none): every such block must say whether it runs, so a command
// added to the README is either checked or says why not. Output, code and
// synopses go in text, go or json blocks, which are not commands.
//
// In a sh block every line is a command; in a console block the lines
// that begin "$ " are, and the others are their output: what the command
// prints, stdout and stderr together, must be those lines exactly (a
// command shown with no output is not compared). A line that ends with a
// backslash goes on on the next. A command must exit 0, unless the
// comment that ends it ends "exit N"; a command that ends with & is a
// server, which must signal READY=1 on $NOTIFY_SOCKET (as lumi-node does
// for systemd) before the next command runs, as a reader would wait
// before typing it. A block must stop what it started (kill %1; wait).
//
// TestReadmeCommands runs the blocks marked run, in order, in one
// interactive bash on a pseudo-terminal, as a reader types them into one
// terminal: so a server started in the background that reads the terminal
// is stopped (SIGTTIN), as it would be for the reader, and fails the test.
// It runs in a copy of the checkout (its tracked and untracked files, not
// the ignored ones: what a clone has, with the work in progress), and, where
// the system lets it (unshare, ip), in a network namespace of its own with
// only a loopback, so that the fixed ports the README uses (3344, ...)
// meet no other process; elsewhere it runs on the host, if those ports are
// free. Everything it started is killed at the end.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/internal/ptytest"
	"mi/internal/testenv"
)

// readmePath is README.md, from this package's directory.
const readmePath = "../../README.md"

// The marker's forms.
const (
	markerPrefix = "<!-- readme-test: "
	markerSuffix = " -->"
	markRun      = "run"
	markNotRun   = "not run: "
)

// block is a fenced code block of the README.
type block struct {
	line   int      // the line of its opening fence, counted from 1
	lang   string   // the first word of its info string, lower case
	marker string   // what the marker on the line before says; "" for none
	body   []string // the lines between the fences
}

// commandLangs are the info strings of blocks of commands.
var commandLangs = map[string]bool{"": true, "sh": true, "bash": true, "shell": true, "console": true, "shell-session": true}

// command is one command of a block, as printed.
type command struct {
	line       int      // its first line in the README
	text       string   // without the prompt; continuation lines included
	want       int      // the exit status it must have
	background bool     // ends with &: a server, waited for until ready
	shown      []string // the output printed under it, in a console block
}

// parseBlocks returns the fenced code blocks of md.
func parseBlocks(md string) ([]block, error) {
	lines := strings.Split(md, "\n")
	var bs []block
	for i := 0; i < len(lines); i++ {
		fence, info, ok := openFence(lines[i])
		if !ok {
			continue
		}
		b := block{line: i + 1}
		if f := strings.Fields(info); len(f) > 0 {
			b.lang = strings.ToLower(f[0])
		}
		if i > 0 {
			prev := strings.TrimSpace(lines[i-1])
			if rest, ok := strings.CutPrefix(prev, markerPrefix); ok {
				m, ok := strings.CutSuffix(rest, markerSuffix)
				if !ok {
					return nil, fmt.Errorf("README.md:%d: a marker is %s...%s on one line", i, markerPrefix, markerSuffix)
				}
				b.marker = strings.TrimSpace(m)
			}
		}
		j := i + 1
		for ; j < len(lines) && !closesFence(lines[j], fence); j++ {
			b.body = append(b.body, lines[j])
		}
		if j == len(lines) {
			return nil, fmt.Errorf("README.md:%d: the block is never closed", i+1)
		}
		bs = append(bs, b)
		i = j
	}
	return bs, nil
}

// openFence says whether line opens a fenced block (``` or ~~~, not
// indented), and returns its fence and info string.
func openFence(line string) (fence, info string, ok bool) {
	for _, c := range []string{"`", "~"} {
		n := len(line) - len(strings.TrimLeft(line, c))
		if n >= 3 {
			return line[:n], strings.TrimSpace(line[n:]), true
		}
	}
	return "", "", false
}

func closesFence(line, fence string) bool {
	t := strings.TrimSpace(line)
	return strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == ""
}

// isCommands says whether b is a block of commands, which must be marked.
func (b block) isCommands() bool { return commandLangs[b.lang] }

// runs says whether b is marked to run; a bad marker is an error.
func (b block) runs() (bool, error) {
	switch {
	case !b.isCommands() && b.marker != "":
		return false, fmt.Errorf("README.md:%d: a %q block is not one of commands, and needs no marker", b.line, b.lang)
	case !b.isCommands():
		return false, nil
	case b.marker == markRun:
		if b.lang != "sh" && b.lang != "console" {
			return false, fmt.Errorf("README.md:%d: a block that runs is sh (every line a command) or console (\"$ \" before each command), not %q", b.line, b.lang)
		}
		return true, nil
	case strings.HasPrefix(b.marker, markNotRun) && strings.TrimSpace(b.marker[len(markNotRun):]) != "":
		return false, nil
	case b.marker == "":
		return false, fmt.Errorf("README.md:%d: a block of commands (%q) says neither %s%s%s nor %s%sREASON%s on the line before it; output, code and synopses go in text, go or json blocks", b.line, b.lang, markerPrefix, markRun, markerSuffix, markerPrefix, markNotRun, markerSuffix)
	}
	return false, fmt.Errorf("README.md:%d: marker %q: want %q or %q", b.line, b.marker, markRun, markNotRun+"REASON")
}

// exitRE is the end of a comment that gives a command's exit status.
var exitRE = regexp.MustCompile(`\bexit (\d+)\s*$`)

// commands returns the commands of b.
func (b block) commands() ([]command, error) {
	var cs []command
	for k := 0; k < len(b.body); k++ {
		l := b.body[k]
		line := b.line + 1 + k
		if b.lang == "console" {
			var ok bool
			if l, ok = strings.CutPrefix(l, "$ "); !ok {
				continue // output
			}
		} else if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		text := l
		for strings.HasSuffix(l, `\`) && k+1 < len(b.body) {
			k++
			l = b.body[k]
			text += "\n" + l
		}
		code, comment, err := split(text)
		if err != nil {
			return nil, fmt.Errorf("README.md:%d: %v", line, err)
		}
		c := command{line: line, text: text}
		for b.lang == "console" && k+1 < len(b.body) && !strings.HasPrefix(b.body[k+1], "$ ") {
			k++
			c.shown = append(c.shown, b.body[k])
		}
		for len(c.shown) > 0 && strings.TrimSpace(c.shown[len(c.shown)-1]) == "" {
			c.shown = c.shown[:len(c.shown)-1]
		}
		if m := exitRE.FindStringSubmatch(comment); m != nil {
			c.want, _ = strconv.Atoi(m[1])
		}
		code = strings.TrimSpace(code)
		if strings.HasSuffix(code, "&") && !strings.HasSuffix(code, "&&") {
			c.background = true
			if len(c.shown) > 0 {
				return nil, fmt.Errorf("README.md:%d: a command in the background shows output: its lines would come at any time", line)
			}
			if strings.ContainsAny(strings.TrimSuffix(code, "&"), ";|&(){}") {
				return nil, fmt.Errorf("README.md:%d: a command in the background is one simple command (the test waits for it to be ready)", line)
			}
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// split returns the code of a command line, with what is quoted replaced
// by x, and its comment: from an unquoted # that begins a word to the end.
func split(s string) (code, comment string, err error) {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
				b.WriteByte(c)
			} else {
				b.WriteByte('x')
			}
		case quote == '"':
			switch c {
			case '"':
				quote = 0
				b.WriteByte(c)
			case '\\':
				b.WriteString("xx")
				i++
			default:
				b.WriteByte('x')
			}
		case c == '\\':
			b.WriteByte(c)
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case c == '\'' || c == '"':
			quote = c
			b.WriteByte(c)
		case c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t' || s[i-1] == '\n'):
			return b.String(), s[i:], nil
		default:
			b.WriteByte(c)
		}
	}
	if quote != 0 {
		return "", "", fmt.Errorf("unclosed %c", quote)
	}
	return b.String(), "", nil
}

// hostPortRE is an IPv4 address with a port, in a command's code.
var hostPortRE = regexp.MustCompile(`\b(\d{1,3}(?:\.\d{1,3}){3}):(\d+)\b`)

// portFlagRE is a -port flag, a local port a command binds.
var portFlagRE = regexp.MustCompile(`(?:^|\s)--?port[ =](\d+)\b`)

// firstEphemeral is the lowest port a system may draw for a socket bound
// to port 0 (Linux draws from 32768 by default; BSD, macOS and Windows
// from 49152). A fixed port the README uses must lie below it: a node
// binds hundreds of source ports that way, and one of them could hold
// the port a later command binds, in the reader's terminal as in the test.
const firstEphemeral = 32768

// loopback checks that c names no address but loopback ones, quoted text
// (a message to decode) aside, and no port a system may hand out for
// port 0, and returns the ports it names.
func (c command) loopback() (ports []int, err error) {
	code, _, err := split(c.text)
	if err != nil {
		return nil, err
	}
	for _, m := range hostPortRE.FindAllStringSubmatch(code, -1) {
		if !strings.HasPrefix(m[1], "127.") {
			return nil, fmt.Errorf("README.md:%d: %s is not a loopback address: a block that runs stays on loopback", c.line, m[0])
		}
		p, _ := strconv.Atoi(m[2])
		ports = append(ports, p)
	}
	for _, m := range portFlagRE.FindAllStringSubmatch(code, -1) {
		p, _ := strconv.Atoi(m[1])
		ports = append(ports, p)
	}
	for _, p := range ports {
		if p >= firstEphemeral {
			return nil, fmt.Errorf("README.md:%d: port %d is where systems draw ports for sockets bound to port 0 (%d and up): a node's source ports may hold it; use one below", c.line, p, firstEphemeral)
		}
	}
	return ports, nil
}

// runBlock is a block that runs, with its commands.
type runBlock struct {
	block
	cmds []command
}

// readme parses README.md and checks its markers: every block of
// commands is marked, and those that run parse and stay on loopback. It
// returns the blocks that run and the ports they name.
func readme(t *testing.T) ([]runBlock, []int) {
	t.Helper()
	md, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := parseBlocks(string(md))
	if err != nil {
		t.Fatal(err)
	}
	var run []runBlock
	var ports []int
	for _, b := range bs {
		ok, err := b.runs()
		if err != nil {
			t.Error(err)
			continue
		}
		if !ok {
			continue
		}
		cmds, err := b.commands()
		if err != nil {
			t.Error(err)
			continue
		}
		if len(cmds) == 0 {
			t.Errorf("README.md:%d: a block that runs has no command", b.line)
		}
		for _, c := range cmds {
			ps, err := c.loopback()
			if err != nil {
				t.Error(err)
			}
			ports = append(ports, ps...)
		}
		run = append(run, runBlock{b, cmds})
	}
	if len(run) == 0 && !t.Failed() {
		t.Error("README.md marks no block to run")
	}
	return run, ports
}

// TestReadmeMarked: every block of commands in README.md says whether it
// runs, and those that run parse and stay on loopback.
func TestReadmeMarked(t *testing.T) {
	readme(t)
}

// TestBlocks reads blocks and their commands as the README writes them.
func TestBlocks(t *testing.T) {
	md := strings.Join([]string{
		"<!-- readme-test: run -->", // 1
		"```sh",                     // 2
		"make demo     # the demo",
		"# a comment",
		"",
		"export PATH=\"$PWD/bin:$PATH\"",
		"```",                       // 7
		"<!-- readme-test: run -->", // 8
		"```console",                // 9
		"$ lumictl decode -hex '50 52 # 75'      # errors name the field, exit 1",
		"field \"addr\" at offset 2", // output
		"$ lumi-node -config bb.cfg \\",
		"      -listen 127.0.0.1:3344 </dev/null &   # a node",
		"$ kill %1; wait",
		"```",
		"```text", // 16
		"$ not a command",
		"```",
		"<!-- readme-test: not run: needs a capture -->",
		"```",
		"tshark -r capture.pcap",
		"```",
	}, "\n")
	bs, err := parseBlocks(md)
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		Line   int
		Lang   string
		Runs   bool
		Err    string
		Cmds   []command
		CmdErr string
	}
	var gots []got
	for _, b := range bs {
		g := got{Line: b.line, Lang: b.lang}
		var err error
		if g.Runs, err = b.runs(); err != nil {
			g.Err = err.Error()
		}
		if g.Runs {
			if g.Cmds, err = b.commands(); err != nil {
				g.CmdErr = err.Error()
			}
		}
		gots = append(gots, g)
	}
	want := []got{
		{Line: 2, Lang: "sh", Runs: true, Cmds: []command{
			{line: 3, text: "make demo     # the demo"},
			{line: 6, text: `export PATH="$PWD/bin:$PATH"`},
		}},
		{Line: 9, Lang: "console", Runs: true, Cmds: []command{
			{line: 10, text: "lumictl decode -hex '50 52 # 75'      # errors name the field, exit 1", want: 1, shown: []string{`field "addr" at offset 2`}},
			{line: 12, text: "lumi-node -config bb.cfg \\\n      -listen 127.0.0.1:3344 </dev/null &   # a node", background: true},
			{line: 14, text: "kill %1; wait"},
		}},
		{Line: 16, Lang: "text"},
		{Line: 20, Lang: ""},
	}
	if diff := cmp.Diff(want, gots, cmp.AllowUnexported(command{})); diff != "" {
		t.Errorf("blocks (-want +got):\n%s", diff)
	}
}

// TestMarkersRefused: the mistakes the markers catch.
func TestMarkersRefused(t *testing.T) {
	for _, tt := range []struct {
		name, md, want string
	}{
		{"unmarked", "```sh\nls\n```", "says neither"},
		{"unmarked, no info string", "```\nls\n```", "says neither"},
		{"no reason", "<!-- readme-test: not run: -->\n```sh\nls\n```", "marker"},
		{"unknown marker", "<!-- readme-test: maybe -->\n```sh\nls\n```", "marker"},
		{"marker on text", "<!-- readme-test: run -->\n```text\nls\n```", "needs no marker"},
		{"bash runs", "<!-- readme-test: run -->\n```bash\nls\n```", "is sh"},
		{"background pipeline", "<!-- readme-test: run -->\n```sh\nyes | head &\n```", "one simple command"},
		{"unclosed quote", "<!-- readme-test: run -->\n```sh\necho 'a\n```", "unclosed"},
		{"unclosed block", "```sh\nls\n", "never closed"},
		{"output of a server", "<!-- readme-test: run -->\n```console\n$ lumi-node </dev/null &\nnode ready\n```", "shows output"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bs, err := parseBlocks(tt.md)
			if err == nil {
				_, err = bs[0].runs()
			}
			if err == nil {
				_, err = bs[0].commands()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one that says %q", err, tt.want)
			}
		})
	}
	c := command{line: 1, text: "lumictl register -node 192.0.2.1:3344 laura@bb.com"}
	if _, err := c.loopback(); err == nil {
		t.Errorf("%q: no error for an address off loopback", c.text)
	}
	c = command{line: 1, text: "lumictl register -node 127.0.0.1:3344 -port 40001 laura@bb.com"}
	if _, err := c.loopback(); err == nil || !strings.Contains(err.Error(), "port 40001") {
		t.Errorf("%q: error %v, want one for a port in the ephemeral range", c.text, err)
	}
	c = command{line: 1, text: "lumictl decode 'RL0u1@PC-c:u2@PC-d:10.100.100.102:43038' # 10.0.0.1:1"}
	if ps, err := c.loopback(); err != nil || len(ps) != 0 {
		t.Errorf("%q: %v, ports %v; want no error and no port (quoted, commented)", c.text, err, ps)
	}
}

// TestReadmeCommands runs README.md's blocks marked run.
func TestReadmeCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs README.md's commands: make build, make demo, nodes, conformance runs")
	}
	blocks, ports := readme(t)
	if t.Failed() {
		return
	}
	for _, tool := range []string{"bash", "make"} {
		testenv.Program(t, tool, "README.md's commands are not run", "apt-get install "+tool)
	}
	goDir, err := goBinDir()
	if err != nil {
		testenv.Missing(t, "README.md's commands need go: %v", err)
	}
	master, slave := ptytest.Open(t, 50, 160)

	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	clone := filepath.Join(t.TempDir(), "mi")
	if err := copyCheckout(root, clone); err != nil {
		t.Fatal(err)
	}
	h := t.TempDir() // the harness's files: the script, its status, readiness

	ns := netnsCommand()
	if ns != nil {
		// The namespace has no network: fetch the modules first (nothing
		// to do when they are in the module cache already).
		dl := exec.Command(filepath.Join(goDir, "go"), "mod", "download")
		dl.Dir = clone
		if out, err := dl.CombinedOutput(); err != nil {
			t.Fatalf("go mod download: %v\n%s", err, out)
		}
	} else {
		for _, p := range ports {
			if err := portFree(p); err != nil {
				t.Skipf("no network namespace to run README.md's commands in (unshare -rn, ip), and on this host %v", err)
			}
		}
		t.Log("no network namespace (unshare -rn, ip): README.md's commands run on the host's loopback")
	}

	script, servers := writeScript(blocks, h)
	for _, b := range blocks {
		for _, c := range b.cmds {
			if len(c.shown) > 0 {
				shown := filepath.Join(h, fmt.Sprintf("shown.%d", c.line))
				if err := os.WriteFile(shown, []byte(strings.Join(c.shown, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	scriptPath := filepath.Join(h, "readme.sh")
	if err := os.WriteFile(scriptPath, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	for k := 1; k <= servers; k++ {
		listenReady(t, h, k)
	}

	args := []string{"bash", "--norc", "--noprofile", "-i", scriptPath}
	if ns != nil {
		args = append(ns, scriptPath)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = clone
	cmd.Env = sessionEnv(goDir, h)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	var out tail
	copied := make(chan struct{})
	go func() {
		io.Copy(&out, master) // until the last process on the terminal closes it
		close(copied)
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	sid := cmd.Process.Pid
	defer killSession(t, sid)

	limit := 6 * time.Minute
	if d, ok := t.Deadline(); ok && time.Until(d)-30*time.Second < limit {
		limit = time.Until(d) - 30*time.Second
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var waitErr error
	timedOut := false
	select {
	case waitErr = <-exited:
	case <-time.After(limit):
		timedOut = true
		killSession(t, sid)
		waitErr = <-exited
	}
	killSession(t, sid)
	master.SetReadDeadline(time.Now().Add(2 * time.Second))
	<-copied

	status, err := os.ReadFile(filepath.Join(h, "status"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	text := map[int]string{}
	for _, b := range blocks {
		for _, c := range b.cmds {
			text[c.line] = c.text
		}
	}
	// The status file has a line "begin LINE TIME" as each command
	// begins, "fail LINE TIME WHY" if one fails, "done" at the end.
	last, failed, done := 0, "", false
	var began, ended float64
	for _, l := range strings.Split(string(status), "\n") {
		f := strings.SplitN(l, " ", 4)
		switch {
		case f[0] == "begin" && len(f) == 3:
			last, _ = strconv.Atoi(f[1])
			began, _ = strconv.ParseFloat(f[2], 64)
		case f[0] == "fail" && len(f) == 4:
			last, _ = strconv.Atoi(f[1])
			ended, _ = strconv.ParseFloat(f[2], 64)
			failed = f[3]
		case f[0] == "done":
			done = true
		}
	}
	where := fmt.Sprintf("README.md:%d", last)
	if c, ok := text[last]; ok {
		where += ": " + c
	}
	switch {
	case failed == printedOther:
		printed, _ := os.ReadFile(filepath.Join(h, fmt.Sprintf("out.%d", last)))
		shown, _ := os.ReadFile(filepath.Join(h, fmt.Sprintf("shown.%d", last)))
		t.Errorf("%s: %s (-shown +printed):\n%s", where, failed, cmp.Diff(strings.Split(string(shown), "\n"), strings.Split(string(printed), "\n")))
	case failed != "":
		t.Errorf("%s: %s (after %.1f s)", where, failed, ended-began)
	case timedOut:
		t.Errorf("%s: still running after %v (the limit of all the commands)", where, limit)
	case !done:
		t.Errorf("the commands stopped after %s (bash: %v)", where, waitErr)
	}
	if t.Failed() {
		t.Logf("the terminal's last lines:\n%s", out.String())
	} else {
		t.Logf("ran %d commands of %d blocks (in a network namespace: %v)", len(text), len(blocks), ns != nil)
	}
}

// netnsCommand returns the command that runs the script (its last
// argument, to be appended) in an interactive bash in a network namespace
// of its own, whose loopback it brings up first; or nil if the system
// does not let this user make one.
func netnsCommand() []string {
	ip, err := exec.LookPath("ip")
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if err == nil {
			break
		}
		ip, err = exec.LookPath(filepath.Join(dir, "ip"))
	}
	if err != nil {
		return nil
	}
	unshare := []string{"unshare", "--user", "--map-root-user", "--net"}
	if exec.Command(unshare[0], append(unshare[1:], ip, "link", "set", "lo", "up")...).Run() != nil {
		return nil
	}
	up := shellQuote(ip) + ` link set lo up || exit 97; exec bash --norc --noprofile -i "$1"`
	return append(unshare, "bash", "--norc", "--noprofile", "-c", up, "bash")
}

// writeScript writes the script that runs the blocks in order, checking
// each command, and returns it and the number of servers it starts.
func writeScript(blocks []runBlock, h string) (string, int) {
	var b strings.Builder
	fmt.Fprintf(&b, "__h=%s\n", shellQuote(h))
	b.WriteString(prelude)
	servers := 0
	for _, rb := range blocks {
		for _, c := range rb.cmds {
			fmt.Fprintf(&b, "__begin %d\n", c.line)
			if c.background {
				servers++
				fmt.Fprintf(&b, "NOTIFY_SOCKET=\"$__h/n%d.sock\" %s\n", servers, c.text)
				fmt.Fprintf(&b, "__ready %d %d \"$!\"\n", servers, c.line)
			} else if len(c.shown) > 0 {
				// What it prints goes to a file, compared with what
				// the README shows, and then to the terminal.
				fmt.Fprintf(&b, "{ %s\n} >\"$__h/out.%d\" 2>&1\n", c.text, c.line)
				fmt.Fprintf(&b, "__s=$?; command cat \"$__h/out.%d\"\n", c.line)
				fmt.Fprintf(&b, "__check \"$__s\" %d %d\n", c.want, c.line)
				fmt.Fprintf(&b, "__shown %d\n", c.line)
			} else {
				fmt.Fprintf(&b, "%s\n", c.text)
				fmt.Fprintf(&b, "__check \"$?\" %d %d\n", c.want, c.line)
			}
		}
		fmt.Fprintf(&b, "__endblock %d\n", rb.line)
	}
	b.WriteString("printf 'done\\n' >>\"$__h/status\"\nbuiltin exit 0\n")
	return b.String(), servers
}

// printedOther is why a command failed whose output is not what the
// README shows under it.
const printedOther = "printed other than the README shows"

// prelude defines the script's checks. A failure is written to the status
// file, and ends the script after killing its jobs.
const prelude = `__begin() {
	jobs >/dev/null # as before a prompt: jobs that ended leave the table, and %1 is the next one started
	printf 'begin %s %s\n' "$1" "$EPOCHREALTIME" >>"$__h/status"
	printf '\n[README.md:%s]\n' "$1"
}
__stop() {
	local p
	for p in $(jobs -p); do kill -KILL -- "-$p" 2>/dev/null; done
}
__fail() {
	printf 'fail %s %s %s\n' "$1" "$EPOCHREALTIME" "$2" >>"$__h/status"
	__stop
	builtin exit 1
	builtin exit 1
}
__check() {
	[ "$1" = "$2" ] || __fail "$3" "exit status $1, want $2"
}
__shown() {
	[[ "$(<"$__h/out.$1")" == "$(<"$__h/shown.$1")" ]] || __fail "$1" "` + printedOther + `"
}
__ready() {
	local i=0
	until [ -e "$__h/ready.$1" ]; do
		[ -z "$(jobs -sp)" ] || __fail "$2" "stopped in the background: it reads the terminal, as a job in the background may not (give it </dev/null)"
		kill -0 "$3" 2>/dev/null || __fail "$2" "exited before it was ready"
		i=$((i + 1))
		[ "$i" -le 1200 ] || __fail "$2" "not ready within 60 s (READY=1 on \$NOTIFY_SOCKET)"
		sleep 0.05
	done
}
__endblock() {
	[ -z "$(jobs -rp)$(jobs -sp)" ] || __fail "$1" "the block leaves processes running: it must stop what it starts (kill %1; wait)"
}
`

// listenReady listens on server k's $NOTIFY_SOCKET, and makes the file
// ready.k when it says READY=1.
func listenReady(t *testing.T, h string, k int) {
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(h, fmt.Sprintf("n%d.sock", k)), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			for _, l := range strings.Split(string(buf[:n]), "\n") {
				if l == "READY=1" {
					os.WriteFile(filepath.Join(h, fmt.Sprintf("ready.%d", k)), nil, 0o644)
				}
			}
		}
	}()
}

// sessionEnv is the terminal's environment: the test's, with go on PATH,
// without what would change how the commands run (a make that runs this
// test, a readiness socket, a shell's start-up files and prompts), and
// with the history kept apart.
func sessionEnv(goDir, h string) []string {
	drop := map[string]bool{"MAKEFLAGS": true, "MFLAGS": true, "MAKELEVEL": true, "NOTIFY_SOCKET": true,
		"BASH_ENV": true, "ENV": true, "CDPATH": true, "PROMPT_COMMAND": true, "PS1": true, "PS2": true,
		"HISTFILE": true, "TERM": true, "PATH": true}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !drop[k] {
			env = append(env, kv)
		}
	}
	return append(env, "PATH="+goDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"PS1=", "PS2=", "TERM=dumb", "HISTFILE="+filepath.Join(h, "history"))
}

// goBinDir is the directory of the go command.
func goBinDir() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return filepath.Dir(p), nil
	}
	//lint:ignore SA1019 the test runs under go test, whose Go root is the binary's
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return filepath.Dir(p), nil
}

// copyCheckout copies root's files to dst as a clone has them: the files
// git tracks or would (untracked, not ignored), or, outside git, every
// file but .git's and bin's.
func copyCheckout(root, dst string) error {
	var files []string
	ls := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	ls.Dir = root
	if out, err := ls.Output(); err == nil {
		for _, f := range strings.Split(string(out), "\x00") {
			if f != "" {
				files = append(files, f)
			}
		}
	} else {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() && (rel == ".git" || rel == "bin") {
				return filepath.SkipDir
			}
			if !d.IsDir() {
				files = append(files, rel)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, f := range files {
		src, to := filepath.Join(root, f), filepath.Join(dst, f)
		fi, err := os.Lstat(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted, not yet committed
		} else if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(src)
			if err != nil {
				return err
			}
			if err := os.Symlink(target, to); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(src)
			if err != nil {
				return err
			}
			if err := os.WriteFile(to, b, fi.Mode().Perm()); err != nil {
				return err
			}
		}
	}
	return nil
}

// portFree says whether port is free on 127.0.0.1 for UDP and TCP.
func portFree(port int) error {
	u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return fmt.Errorf("port %d is taken: %v", port, err)
	}
	u.Close()
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return fmt.Errorf("port %d is taken: %v", port, err)
	}
	l.Close()
	return nil
}

// killSession kills every process of session sid, the terminal's: the
// shell and what it started, each job in its process group, until none is
// left.
func killSession(t *testing.T, sid int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		pids := sessionPIDs(sid)
		if len(pids) == 0 {
			return
		}
		for _, p := range pids {
			syscall.Kill(p, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("processes of the session %d left after 10 s: %v", sid, sessionPIDs(sid))
}

// sessionPIDs lists the processes of session sid, from /proc, zombies
// aside.
func sessionPIDs(sid int) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp session ...; comm may hold spaces.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 4 || f[0] == "Z" {
			continue
		}
		if s, _ := strconv.Atoi(f[3]); s == sid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// tail keeps the last lines written to it, carriage returns removed.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 16 << 10

func (w *tail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, bytes.ReplaceAll(p, []byte("\r"), nil)...)
	if len(w.buf) > 2*tailMax {
		w.buf = append(w.buf[:0], w.buf[len(w.buf)-tailMax:]...)
	}
	return len(p), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.buf
	if len(b) > tailMax {
		b = b[len(b)-tailMax:]
	}
	return string(b)
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
