// Package supervise runs a server in a process of its own and knows when
// it serves: the server is started with $NOTIFY_SOCKET naming a socket of
// the supervisor's (sdnotify.Listen) and says READY=1 there, as it would to
// systemd; Start returns once it has, with the assignments of that
// notification (lumi-node's X_LUMI_ADDR: the address it serves on).
// Nothing reads the server's output to learn that.
//
// A process is always ended and waited for: Stop sends SIGTERM and, after
// a grace period, SIGKILL; Start does the same to a process that did not
// become ready in time. On Linux a process also gets SIGKILL when the
// thread that started it ends (the supervisor was killed).
package supervise

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"mi/internal/sdnotify"
)

// The defaults of Config.ReadyTimeout and Config.Grace.
const (
	DefaultReadyTimeout = 10 * time.Second
	DefaultGrace        = 5 * time.Second
)

// tailLines is how many lines of output an error shows.
const tailLines = 5

// Config says what to run and how.
type Config struct {
	Path string   // the binary
	Args []string // its arguments, without the name
	Env  []string // added to this process's environment
	// OutputFile, if not "", is created (truncated) and receives the
	// process's stdout and stderr; the process writes it directly, with no
	// copying by the supervisor. Otherwise Stdout receives stdout and
	// Stderr stderr; a nil Stderr means Stdout gets both, and a nil
	// Stdout discards what goes there. Either way an error shows the last
	// lines of the output.
	OutputFile     string
	Stdout, Stderr io.Writer
	// Stdin gives the process a pipe on stdin (Process.Stdin), kept open
	// until it exits; without it stdin is the null device, which a program
	// reading a console sees end at once.
	Stdin bool
	// ReadyTimeout bounds the wait for READY=1 (default
	// DefaultReadyTimeout); Grace is how long Stop waits after SIGTERM
	// before SIGKILL (default DefaultGrace).
	ReadyTimeout, Grace time.Duration
}

// Errors of Start and Stop, for errors.Is.
var (
	// ErrExited: the process ended before it said READY=1.
	ErrExited = errors.New("exited before it was ready")
	// ErrNotReady: it did not say READY=1 within the timeout, and was
	// stopped.
	ErrNotReady = errors.New("not ready")
	// ErrKilled: it was still running a grace period after SIGTERM and
	// was killed.
	ErrKilled = errors.New("still running after SIGTERM; killed")
)

// Error is a failure of a process, with the end of its output.
type Error struct {
	Reason error    // ErrExited, ErrNotReady (wrapped with the timeout), ErrKilled
	Exit   error    // with ErrExited, how the process ended (*exec.ExitError); else nil
	Output []string // its last lines
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Reason.Error())
	if e.Exit != nil {
		fmt.Fprintf(&b, " (%v)", e.Exit)
	}
	if len(e.Output) > 0 {
		b.WriteString("; its last output:\n\t")
		b.WriteString(strings.Join(e.Output, "\n\t"))
	}
	return b.String()
}

func (e *Error) Unwrap() []error {
	if e.Exit != nil {
		return []error{e.Reason, e.Exit}
	}
	return []error{e.Reason}
}

// Notification is the assignments of a notification, KEY to VALUE.
type Notification map[string]string

// Addr is the address the server said it serves on (sdnotify.AddrKey).
func (n Notification) Addr() (netip.AddrPort, error) {
	v, ok := n[sdnotify.AddrKey]
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("the ready notification has no %s", sdnotify.AddrKey)
	}
	ap, err := netip.ParseAddrPort(v)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("the ready notification's %s: %w", sdnotify.AddrKey, err)
	}
	return ap, nil
}

// Process is a started server.
type Process struct {
	cmd        *exec.Cmd
	stdin      io.WriteCloser
	outputFile string
	tail       *tail // when the output is not a file
	grace      time.Duration
	listener   *sdnotify.Listener

	ready      chan struct{} // closed at the first READY=1
	note       Notification  // its assignments, once ready is closed
	readyAfter time.Duration

	done chan struct{} // closed once the process is waited for
	err  error         // how it ended, once done is closed

	stopOnce sync.Once
	stopErr  error
}

// Start starts the server and waits until it says READY=1, the process
// ends, ReadyTimeout passes or ctx ends. Only a ready process is returned;
// in every other case the process is stopped and waited for, and the
// error is an *Error (ErrExited, ErrNotReady) or ctx's.
func Start(ctx context.Context, c Config) (*Process, error) {
	p, err := launch(c)
	if err != nil {
		return nil, err
	}
	timeout := c.ReadyTimeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.ready:
		return p, nil
	case <-p.done:
		// READY=1 may have come just before the end: a ready process
		// that exited is reported as one that exited.
		return nil, p.failure(ErrExited, p.err)
	case <-timer.C:
		p.Stop()
		return nil, p.failure(fmt.Errorf("%w after %v", ErrNotReady, timeout), nil)
	case <-ctx.Done():
		p.Stop()
		return nil, ctx.Err()
	}
}

func launch(c Config) (*Process, error) {
	l, err := sdnotify.Listen("")
	if err != nil {
		return nil, err
	}
	p := &Process{
		cmd:        exec.Command(c.Path, c.Args...),
		outputFile: c.OutputFile,
		grace:      c.Grace,
		listener:   l,
		ready:      make(chan struct{}),
		done:       make(chan struct{}),
	}
	if p.grace <= 0 {
		p.grace = DefaultGrace
	}
	cmd := p.cmd
	cmd.Env = append(append(os.Environ(), c.Env...), l.Env())
	// A grandchild that keeps an output pipe open does not hold up Wait.
	cmd.WaitDelay = time.Second
	setDeathSignal(cmd)
	if c.OutputFile != "" {
		f, err := os.Create(c.OutputFile)
		if err != nil {
			l.Close()
			return nil, err
		}
		defer f.Close() // the child has its own descriptor
		cmd.Stdout, cmd.Stderr = f, f
	} else {
		p.tail = &tail{}
		cmd.Stdout = teeTail{c.Stdout, p.tail}
		cmd.Stderr = cmd.Stdout
		if c.Stderr != nil {
			cmd.Stderr = teeTail{c.Stderr, p.tail}
		}
	}
	if c.Stdin {
		if p.stdin, err = cmd.StdinPipe(); err != nil {
			l.Close()
			return nil, err
		}
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		l.Close()
		return nil, err
	}
	go p.listen(start)
	go func() {
		p.err = cmd.Wait()
		close(p.done)
		l.Close() // ends listen
	}()
	return p, nil
}

// listen reads the process's notifications until the listener closes:
// the first READY=1 is kept, the others are read so that the process
// never blocks on a full socket.
func (p *Process) listen(start time.Time) {
	for {
		kv, err := p.listener.Next(context.Background())
		if err != nil {
			return
		}
		if p.note != nil {
			continue
		}
		n := Notification{}
		for _, a := range kv {
			if k, v, ok := strings.Cut(a, "="); ok {
				n[k] = v
			}
		}
		if n["READY"] == "1" {
			p.note, p.readyAfter = n, time.Since(start)
			close(p.ready)
		}
	}
}

// failure is an *Error for reason, once the process has ended.
func (p *Process) failure(reason, exit error) error {
	<-p.done
	return &Error{Reason: reason, Exit: exit, Output: p.Output(tailLines)}
}

// Ready is the assignments of the ready notification.
func (p *Process) Ready() Notification { return p.note }

// ReadyAfter is how long the process took from its start to READY=1.
func (p *Process) ReadyAfter() time.Duration { return p.readyAfter }

// Pid is the process's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stdin is the pipe on the process's stdin, nil without Config.Stdin.
func (p *Process) Stdin() io.Writer {
	if p.stdin == nil {
		return nil
	}
	return p.stdin
}

// Done is closed once the process has ended and been waited for.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is how the process ended (nil for exit status 0), once Done is
// closed.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// Output returns the last n lines of the process's output so far.
func (p *Process) Output(n int) []string {
	var b []byte
	if p.tail != nil {
		b = p.tail.bytes()
	} else {
		b = readEnd(p.outputFile, tailSize)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// Stop ends the process, if it still runs: SIGTERM, then SIGKILL if it
// has not ended within the grace period; it returns once the process has
// been waited for. The error is an *Error with ErrKilled if it had to be
// killed, else how the process ended (nil for exit status 0; a process
// that let SIGTERM end it reports that signal). Stop may be called more
// than once and from several goroutines.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		p.signal(syscall.SIGTERM)
		p.stopErr = p.reap(after(p.grace))
	})
	return p.stopErr
}

// Kill ends the process with SIGKILL at once and waits for it.
func (p *Process) Kill() {
	p.cmd.Process.Kill()
	<-p.done
}

func (p *Process) signal(sig os.Signal) {
	if p.Exited() {
		return
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.cmd.Process.Kill()
	}
}

// after returns a channel closed after d.
func after(d time.Duration) <-chan struct{} {
	c := make(chan struct{})
	time.AfterFunc(d, func() { close(c) })
	return c
}

// reap waits for the process, killing it once deadline is closed.
func (p *Process) reap(deadline <-chan struct{}) error {
	select {
	case <-p.done:
		return p.err
	case <-deadline:
		p.Kill()
		return p.failure(ErrKilled, nil)
	}
}

// StopAll stops the processes together: SIGTERM to each, then SIGKILL to
// those still running after the longest of their grace periods. It
// returns once all have been waited for, with the errors of those that
// had to be killed.
func StopAll(ps ...*Process) error {
	grace := time.Duration(0)
	for _, p := range ps {
		p.signal(syscall.SIGTERM)
		grace = max(grace, p.grace)
	}
	deadline := after(grace)
	var errs []error
	for _, p := range ps {
		p.stopOnce.Do(func() { p.stopErr = p.reap(deadline) })
		if errors.Is(p.stopErr, ErrKilled) {
			errs = append(errs, fmt.Errorf("pid %d: %w", p.Pid(), p.stopErr))
		}
	}
	return errors.Join(errs...)
}

// tailSize bounds what is kept, or read, of the output for Output.
const tailSize = 4096

// tail keeps the last tailSize bytes written to it.
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 2*tailSize {
		t.b = append(t.b[:0], t.b[len(t.b)-tailSize:]...)
	}
	return len(p), nil
}

func (t *tail) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.b[max(0, len(t.b)-tailSize):])
}

// teeTail writes to the tail, then to w if there is one; w's error is the
// write's.
type teeTail struct {
	w    io.Writer
	tail *tail
}

func (t teeTail) Write(p []byte) (int, error) {
	t.tail.Write(p)
	if t.w == nil {
		return len(p), nil
	}
	return t.w.Write(p)
}

// readEnd returns the last n bytes of the file at path.
func readEnd(path string, n int64) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	off := max(0, fi.Size()-n)
	b := make([]byte, fi.Size()-off)
	k, _ := f.ReadAt(b, off)
	return b[:k]
}
