package conform

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// outputLines is how many lines of the agent's output a failure shows.
const outputLines = 20

// agentProc is a run of the -exec command: the agent under test.
type agentProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *tail
	done  chan struct{} // closed when the process has exited
	code  int           // its exit status, once done
}

// startProc runs command with sh -c, in a process group of its own so that
// stopping it stops whatever it started.
func startProc(command string) (*agentProc, error) {
	cmd := exec.Command("sh", "-c", command)
	setProcessGroup(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	a := &agentProc{cmd: cmd, stdin: stdin, out: &tail{max: outputLines}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = a.out, a.out
	cmd.WaitDelay = time.Second // a child that keeps the output pipe open does not hold up Wait
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		cmd.Wait()
		a.code = cmd.ProcessState.ExitCode()
		close(a.done)
	}()
	return a, nil
}

// kill ends the process group and waits for the process.
func (a *agentProc) kill() {
	killProcessGroup(a.cmd)
	<-a.done
}

// tail keeps the last lines written to it.
type tail struct {
	mu      sync.Mutex
	max     int
	lines   []string
	partial []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.partial = append(t.partial, p...)
			if len(t.partial) > 4096 { // a line without end: keep it readable
				t.partial = t.partial[len(t.partial)-4096:]
			}
			break
		}
		t.partial = append(t.partial, p[:i]...)
		t.lines = append(t.lines, strings.TrimSuffix(string(t.partial), "\r"))
		t.partial = t.partial[:0]
		if len(t.lines) > t.max {
			t.lines = append(t.lines[:0], t.lines[len(t.lines)-t.max:]...)
		}
		p = p[i+1:]
	}
	return n, nil
}

// last returns the last lines, the unfinished one included.
func (t *tail) last() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.lines...)
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
	}
	if len(out) > t.max {
		out = out[len(out)-t.max:]
	}
	return out
}

// shellQuote quotes s for sh unless it is made of bytes sh reads as they are.
func shellQuote(s string) string {
	safe := s != ""
	for i := 0; i < len(s) && safe; i++ {
		c := s[i]
		safe = isNameByte(c) || strings.IndexByte("@%+=:,./-", c) >= 0
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
