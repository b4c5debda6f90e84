package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/term"

	"mi/agent"
	"mi/internal/auth"
	"mi/internal/datalog"
	"mi/internal/fileerr"
	"mi/lumi"
	"mi/plumi"
	"mi/wire"
)

const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// options are mi-agent's flags.
type options struct {
	addr, nick, node, dns, hosts, listen, advertise, logPath string
	secretFile, statePath                                    string
	json, verbose                                            bool
	attempts, lineBurst                                      int
	lineRate                                                 float64
	retry, handshake, message, refresh, silentGrace          time.Duration
	logMax                                                   datalog.Size
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("mi-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		io.WriteString(stderr, usageText)
		fs.PrintDefaults()
		io.WriteString(stderr, usageTail)
	}
	fs.StringVar(&o.addr, "addr", "", "your MI address, user@domain (required)")
	fs.StringVar(&o.nick, "nick", "", "nickname shown to peers (default: the user part of -addr)")
	fs.StringVar(&o.node, "node", "", "your LUMI node's host:port (default: resolve the domain of -addr)")
	fs.StringVar(&o.dns, "dns", "", "DNS server host:port for finding nodes (default: /etc/resolv.conf)")
	fs.StringVar(&o.hosts, "hosts", "", `hosts file for finding nodes (default /etc/hosts; "-" for none)`)
	fs.StringVar(&o.listen, "listen", ":0", "TCP address for chats")
	fs.StringVar(&o.advertise, "advertise", "", "ip to give peers (default: the local ip that reaches the node)")
	fs.StringVar(&o.logPath, "log", "", `datagram log (default p2p-<nick>.log; "-" for none)`)
	o.logMax = agent.DefaultLogMax
	fs.Var(&o.logMax, "log-max", "cap the datagram log at `size` (e.g. 10M): when full it moves to FILE.1 and a new file starts; 0 for no cap")
	fs.StringVar(&o.statePath, "state", "", "`file` keeping the UDP port you registered from, to register from it again after a restart (default p2p-<nick>.state beside the -log file; none with -log - unless given; \"-\" for none)")
	fs.BoolVar(&o.json, "json", false, "one JSON object per event on stdout")
	fs.BoolVar(&o.verbose, "v", false, "diagnostics on stderr")
	fs.IntVar(&o.attempts, "attempts", wire.Attempts, "sends per LUMI request")
	fs.DurationVar(&o.retry, "retry", wire.RetryInterval, "wait for a LUMI reply before sending again")
	fs.DurationVar(&o.handshake, "handshake-timeout", agent.DefaultTimeout, "time a peer has to send its nickname")
	fs.DurationVar(&o.message, "message-timeout", agent.DefaultMessageTimeout, "time a peer has to finish a message once its first byte is in")
	fs.DurationVar(&o.silentGrace, "silent-grace", agent.DefaultSilentGrace, "a caller who has said nothing since the nicknames, while you have typed nothing, gives way to the next caller after this")
	fs.Float64Var(&o.lineRate, "line-rate", agent.DefaultLineRate, `a peer's lines a second; more are dropped ("inf": no limit)`)
	fs.IntVar(&o.lineBurst, "line-burst", agent.DefaultLineBurst, "lines a peer may send at once beyond -line-rate")
	fs.DurationVar(&o.refresh, "refresh", agent.DefaultRefresh, "how often to register again, so that a node that restarted learns where you are (negative: never)")
	fs.StringVar(&o.secretFile, "secret-file", "", "`file` holding your secret, for a node that requires proof of it (authenticated registration)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.addr == "" {
		if len(args) == 0 {
			fs.Usage()
			return o, errUsageShown
		}
		return o, fmt.Errorf("-addr is required: your MI address, user@domain (mi-agent -h lists every flag)")
	}
	return o, nil
}

// errUsageShown: parseFlags printed the usage, as mi-agent run without
// arguments asks for it; nothing is to be added.
var errUsageShown = errors.New("usage shown")

// run is mi-agent; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, sig <-chan os.Signal, getenv func(string) string) int {
	o, err := parseFlags(args, stderr)
	switch {
	case err == flag.ErrHelp:
		return exitOK
	case err == errUsageShown:
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "mi-agent: %v\n", err)
		return exitUsage
	}
	out := newPrinter(stdout, stderr, o.json, useColour(stdout, getenv))
	var scr *screen
	if !o.json {
		out.nick = o.nick
		if out.nick == "" {
			out.nick, _, _ = strings.Cut(o.addr, "@")
		}
		scr = openScreen(stdin, stdout, &out.mu, out.nick+"> ")
	}
	logw := stderr
	if scr != nil {
		defer scr.close()
		out.w, out.stamp = scr, true
		if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			logw = lockedWriter{&out.mu, scr}
		}
	}
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: level}))
	out.log = logger

	cfg, err := agentConfig(o, logger)
	if err != nil {
		out.fail(err)
		return exitUsage
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := agent.New(ctx, cfg)
	if err != nil {
		out.fail(logFileError(err, cfg.LogPath))
		return exitFail
	}
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		for e := range a.Events() {
			out.event(e)
			out.counted()
		}
	}()
	finish := func(code int) int {
		a.Close()
		<-printed
		return code
	}
	if err := a.Register(ctx); err != nil {
		return finish(exitFail) // the error event says why
	}
	out.note(fmt.Sprintf("chat address %s; /help for commands", a.ChatAddr()))

	lines := make(chan string)
	if scr != nil {
		go scr.readLines(lines)
	} else {
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdin)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
	}
	// Commands run one at a time, in the order given, each once the
	// events before it are shown: a command's events and output all come
	// before the next command's, a call's end (connected, or why not)
	// included. Lines typed meanwhile wait (up to maxPending, then
	// reading waits). The end of input (Ctrl-D, Ctrl-C) cancels what is
	// under way and runs what waits, quickly, as calls are cancelled; a
	// signal leaves at once; /quit leaves in its turn.
	callCtx, cancelCalls := context.WithCancel(ctx)
	var pending []string
	var running chan bool // the command under way, which says whether to go on; nil when none
	eof := false
loop:
	for {
		if running == nil {
			if len(pending) == 0 && eof {
				break loop
			}
			if len(pending) > 0 {
				line := pending[0]
				pending = pending[1:]
				running = make(chan bool, 1)
				go func(done chan<- bool) {
					out.waitShown(a.Emitted())
					done <- command(a, out, line, callCtx)
				}(running)
			}
		}
		in := lines
		if eof || len(pending) >= maxPending {
			in = nil
		}
		select {
		case s := <-sig:
			out.note("got " + s.String() + "; leaving")
			break loop
		case line, ok := <-in:
			if !ok {
				eof = true
				out.leaving.Store(true)
				cancelCalls()
				continue
			}
			pending = append(pending, line)
		case more := <-running:
			running = nil
			if !more {
				break loop
			}
		}
	}
	out.leaving.Store(true)
	cancelCalls()
	out.stopWaiting() // a command cut short by a signal shows nothing more
	if running != nil {
		<-running
	}
	if _, ok := a.Peer(); ok {
		a.Hangup()
	}
	dctx, dcancel := context.WithTimeout(ctx, time.Duration(o.attempts+1)*o.retry)
	defer dcancel()
	if err := a.Deregister(dctx); err != nil {
		return finish(exitFail)
	}
	return finish(exitOK)
}

// maxPending is how many lines wait for the command under way; beyond
// them, input is not read until it ends.
const maxPending = 256

// command runs one line of input, to its end (a call until it is
// connected or has failed); false means quit.
func command(a *agent.Agent, out *printer, line string, ctx context.Context) bool {
	if !strings.HasPrefix(line, "/") {
		for _, part := range splitInput(line) {
			if a.Send(part) != nil { // not in a conversation: an error event says so
				break
			}
			out.own(part)
		}
		return true
	}
	fields := strings.Fields(line)
	switch fields[0] {
	case "/quit", "/exit":
		return false
	case "/call":
		if len(fields) != 2 {
			out.fail(agent.ErrBadCommand.With(plumi.Cause{Kind: causeUsage, Input: fields[0]}, "usage: "+usages[fields[0]], nil))
			return true
		}
		if to, err := wire.ParseAddress(fields[1]); err == nil && sameAddr(to, a.Addr()) {
			out.fail(plumi.ErrBadAddress.With(plumi.Cause{Kind: causeOwnAddress, Addr: a.Addr().String()},
				a.Addr().String()+" is your own address; /call someone else", nil))
			return true
		}
		a.Call(ctx, fields[1]) // its events say how it went
	case "/hangup":
		a.Hangup()
	case "/register":
		a.Register(ctx)
	case "/who":
		if p, ok := a.Peer(); ok {
			out.note("talking to " + peerName(inert(p.Nick), inert(p.Addr), p.Claimed) + " at " + inert(p.Remote))
		} else {
			out.note("not in a conversation; you are " + a.Addr().String() + ", chat address " + a.ChatAddr().String())
		}
	case "/help":
		out.note(help)
	default:
		out.fail(agent.ErrBadCommand.With(plumi.Cause{Kind: causeUnknownCommand, Input: fields[0]}, "unknown command "+fields[0]+"; /help lists them", nil))
	}
	return true
}

const help = `commands:
  /call user@domain   locate someone and start a conversation
  /hangup             end the conversation (you stay registered)
  /who                who you are talking to
  /register           register again (say, after the node restarted)
  /help               this list
  /quit               deregister and leave, once the command under way is done
                      (the end of input and Ctrl-C cut it short)
any other line is sent to the peer; commands run one at a time, in order`

// sameAddr: the same user, compared as the node does, without case.
func sameAddr(a, b wire.Address) bool {
	return strings.EqualFold(a.User, b.User) && strings.EqualFold(a.Domain, b.Domain)
}

const usageText = `usage: mi-agent -addr user@domain [flags]

mi-agent is an MI agent for people and for scripts: it registers your MI
address with your domain's LUMI node (found through DNS, or -node), answers
the locates of those who call you, and chats with one other agent at a
time, peer to peer over TCP.

Type a line to send it to your peer; a line longer than the protocol's
limit goes as several lines, cut at spaces. Commands:

  /call user@domain   locate someone and start a conversation
  /hangup             end the conversation (you stay registered)
  /who                who you are talking to
  /register           register again (say, after the node restarted)
  /help               the list of commands
  /quit               deregister and leave, once the command under way is done
                      (Ctrl-D, Ctrl-C and the end of input cut it short)

Commands run one at a time, in the order typed: what a command shows (a
call's, until it is connected or has failed) comes before what the next
one does, and lines typed meanwhile wait their turn.

On a terminal it shows a prompt with line editing and history (arrow
keys), and every line with its time and who said it. Elsewhere it reads
and writes plain lines; with -json it writes one JSON object per event
(see the README).

Examples:

  mi-agent -addr laura@bb.com
  mi-agent -addr laura@bb.com -nick Laura -dns 127.0.0.1:40123
  mi-agent -addr laura@bb.com -node 127.0.0.1:3344 -json

Flags:
`

const usageTail = `
Exit status: 0 after a clean deregistration; 1 if it cannot start, register
or deregister; 2 bad usage.
`

// agentConfig turns the flags into the agent's config.
func agentConfig(o options, logger *slog.Logger) (agent.Config, error) {
	addr, err := wire.ParseAddress(o.addr)
	if err != nil {
		c := plumi.AddressCause(o.addr, err)
		c.Kind = causeAddrFlag
		return agent.Config{}, plumi.ErrBadAddress.With(c, fmt.Sprintf("-addr %q", o.addr), err)
	}
	nick := o.nick
	if nick == "" {
		nick = addr.User
	}
	logPath := o.logPath
	switch logPath {
	case "":
		logPath = "p2p-" + nick + ".log"
	case "-":
		logPath = ""
	}
	statePath := o.statePath
	switch {
	case statePath == "-":
		statePath = ""
	case statePath == "" && logPath != "":
		statePath = filepath.Join(filepath.Dir(logPath), "p2p-"+nick+".state")
	}
	cfg := agent.Config{
		Addr: addr, Nick: nick, Listen: o.listen, Attempts: o.attempts, RetryInterval: o.retry,
		HandshakeTimeout: o.handshake, MessageTimeout: o.message, SilentGrace: o.silentGrace, LineRate: o.lineRate, LineBurst: o.lineBurst,
		Refresh: o.refresh, LogPath: logPath, LogMax: int64(o.logMax), Logger: logger, StatePath: statePath,
	}
	if cfg.LogMax == 0 {
		cfg.LogMax = -1 // no cap
	}
	if o.secretFile != "" {
		secret, err := auth.ReadSecret(o.secretFile)
		if err != nil {
			return cfg, agent.ErrBadCommand.With(plumi.Cause{Kind: causeSecretFile, Input: o.secretFile, Sys: plumi.SysText(err)},
				"bad command", fileerr.Flag("-secret-file", o.secretFile, err))
		}
		cfg.Secret = secret
	}
	if o.advertise != "" {
		ip, err := netip.ParseAddr(o.advertise)
		if err != nil {
			return cfg, plumi.ErrBadAddress.With(plumi.Cause{Kind: causeAdvertiseFlag, Input: o.advertise, Sys: plumi.SysText(err)}, "-advertise", err)
		}
		cfg.Advertise = ip
	}
	if o.node != "" {
		ap, err := plumi.ParseNode(o.node)
		if err != nil {
			return cfg, err
		}
		cfg.Node = ap
	}
	if err := lumi.CheckHostsFile(o.hosts); err != nil {
		return cfg, agent.ErrBadCommand.With(plumi.Cause{Kind: causeHostsFile, Input: o.hosts, Sys: plumi.SysText(err)},
			"bad command", fileerr.Flag("-hosts", o.hosts, err))
	}
	res, err := lumi.NewResolver(lumi.Config{DNSServer: o.dns, HostsFile: o.hosts, Logger: logger})
	if err != nil {
		return cfg, plumi.ErrDomainUnknown.With(plumi.Cause{Kind: agent.CauseNoResolver, Sys: plumi.SysText(err)}, "resolver", err)
	}
	cfg.Resolver = res
	return cfg, nil
}

// logFileError is err, agent.New's, named after -log and its path when
// the datagram log at path could not be opened: the agent knows the file,
// not the flag that named it.
func logFileError(err error, path string) error {
	var pe *fs.PathError
	if path == "" || !errors.As(err, &pe) || pe.Path != path {
		return err
	}
	if r := (*plumi.Reason)(nil); errors.As(err, &r) {
		return r.With(plumi.CauseOf(err), "-log "+path, pe.Err) // as fileerr.Flag words it, with err's reason and facts
	}
	return fileerr.Flag("-log", path, pe)
}

// printer writes events for people or, with -json, for programs.
type printer struct {
	mu     sync.Mutex
	w      io.Writer
	notes  io.Writer // where notes go with -json
	json   bool
	colour bool
	peer   string // the nick of the current or last peer
	stamp  bool   // on a terminal: the time on every line, own lines shown
	nick   string // own nick, for own lines
	log    *slog.Logger

	// leaving: the user has left, and the calls under way are cancelled;
	// their errors say only that.
	leaving atomic.Bool

	shownMu sync.Mutex
	nShown  int64      // the agent's events read and shown (or left out)
	stopped bool       // waitShown waits no more
	more    *sync.Cond // on shownMu: nShown grew, or stopped was set
}

func newPrinter(w, notes io.Writer, asJSON, colour bool) *printer {
	p := &printer{w: w, notes: notes, json: asJSON, colour: colour && !asJSON}
	p.more = sync.NewCond(&p.shownMu)
	return p
}

// counted counts an event of the agent as shown, once event has returned.
func (p *printer) counted() {
	p.shownMu.Lock()
	p.nShown++
	p.shownMu.Unlock()
	p.more.Broadcast()
}

// waitShown waits until n of the agent's events have been shown (see
// agent.Agent.Emitted), or stopWaiting.
func (p *printer) waitShown(n int64) {
	p.shownMu.Lock()
	defer p.shownMu.Unlock()
	for p.nShown < n && !p.stopped {
		p.more.Wait()
	}
}

// stopWaiting ends waitShown's waits, now and after: the program stops
// (a signal), and what a command cut short would show no longer counts,
// nor stdout being read.
func (p *printer) stopWaiting() {
	p.shownMu.Lock()
	p.stopped = true
	p.shownMu.Unlock()
	p.more.Broadcast()
}

// useColour: only on a terminal, never with NO_COLOR.
func useColour(w io.Writer, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" || getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

const (
	cBold   = "\x1b[1m"
	cDim    = "\x1b[2m"
	cRed    = "\x1b[31m"
	cGreen  = "\x1b[32m"
	cYellow = "\x1b[33m"
	cCyan   = "\x1b[36m"
	cReset  = "\x1b[0m"
)

func (p *printer) paint(code, s string) string {
	if !p.colour {
		return s
	}
	return code + s + cReset
}

// event prints one event.
func (p *printer) event(e agent.Event) {
	if e.Kind == agent.EventError && !p.json && p.log != nil {
		// the whole message, Go's error chain with it (not under p.mu: the
		// log may go to the screen)
		p.log.Debug("error", "reason", e.Reason, "message", e.Message)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Kind == agent.EventError && p.leaving.Load() && e.Cause.Kind == plumi.CauseCancelled {
		return
	}
	if p.json {
		b, _ := json.Marshal(e)
		p.w.Write(append(b, '\n'))
		return
	}
	e = shown(e)
	var s string
	switch e.Kind {
	case agent.EventRegistered:
		s = p.paint(cDim, fmt.Sprintf("* registered %s with node %s", e.Addr, e.Node))
	case agent.EventLocating:
		s = p.paint(cDim, fmt.Sprintf("* locating %s...", e.Target))
	case agent.EventLocated:
		s = p.paint(cDim, fmt.Sprintf("* %s is at %s:%d", e.Target, e.IP, e.Port))
	case agent.EventConnected:
		p.peer = e.PeerNick
		who := peerName(e.PeerNick, e.PeerAddr, e.Claimed)
		how := "called you"
		if e.Initiator {
			how = "answered"
		}
		s = p.paint(cGreen, fmt.Sprintf("* %s %s, from %s; type to chat, /hangup to end", who, how, e.Remote))
	case agent.EventLine:
		if p.stamp {
			s = p.paint(cBold+cCyan, "<"+e.From+">") + " " + e.Text
		} else {
			s = p.paint(cBold+cCyan, e.From+">") + " " + e.Text
		}
	case agent.EventHangup:
		by := "you"
		if e.By == agent.ByPeer {
			by = p.peer
		}
		s = p.paint(cGreen, "* conversation ended by "+by)
	case agent.EventError:
		s = p.paint(cRed, "! "+inert(sayError(e)))
	case agent.EventDeregistered:
		s = p.paint(cDim, "* deregistered "+e.Addr)
	case agent.EventNotice:
		s = p.paint(cYellow, "* "+e.Message)
	default:
		s = fmt.Sprintf("* %s", e.Kind)
	}
	if p.stamp {
		s = p.paint(cDim, e.Time.Local().Format("15:04")) + " " + s
	}
	fmt.Fprintln(p.w, s)
}

// peerName is how people see a peer: its nick, and its address when
// known; an address a caller gave is said to be its claim, as nothing
// checked it.
func peerName(nick, addr string, claimed bool) string {
	switch {
	case addr == "":
		return nick
	case claimed:
		return nick + " (claims to be " + addr + ")"
	}
	return nick + " (" + addr + ")"
}

// shown is e with what peers choose made inert for a terminal: every
// text, as any may come from the network or quote what did.
func shown(e agent.Event) agent.Event {
	for _, f := range []*string{&e.Addr, &e.Node, &e.Target, &e.IP, &e.PeerNick, &e.PeerAddr, &e.Local, &e.Remote,
		&e.From, &e.Text, &e.By, &e.Reason, &e.Message} {
		*f = inert(*f)
	}
	return e
}

// inert escapes what would act on a terminal instead of showing: control
// characters (C0, DEL, C1), format characters such as the bidi overrides,
// the line and paragraph separators, and bytes that are not UTF-8. The
// spec keeps only CR and LF out of a line, so a peer's line may hold any
// of these. A format character that is part of how an emoji is drawn
// (the zero width joiner of 👨‍👩‍👧, the tags of a subdivision flag) stays
// (joins).
func inert(s string) string {
	var b strings.Builder
	state := -1
	for s != "" {
		var cluster string
		cluster, s, _, state = uniseg.FirstGraphemeClusterInString(s, state)
		for i := 0; i < len(cluster); {
			r, n := utf8.DecodeRuneInString(cluster[i:])
			switch {
			case r == utf8.RuneError && n <= 1, r < utf8.RuneSelf && unicode.IsControl(r):
				fmt.Fprintf(&b, "\\x%02x", cluster[i])
			case i > 0 && joins(cluster, r):
				b.WriteString(cluster[i : i+n])
			case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp):
				fmt.Fprintf(&b, "\\u%04x", r)
			default:
				b.WriteString(cluster[i : i+n])
			}
			i += n
		}
	}
	return b.String()
}

// joins reports whether r, a code point inside cluster after its first,
// is part of how an emoji is drawn: a zero width joiner in a cluster that
// starts with a symbol (👨‍👩‍👧), or a tag character in a subdivision flag
// (🏴 then tags). Anywhere else such a character is invisible, and may
// carry hidden text, so it is escaped.
func joins(cluster string, r rune) bool {
	first, _ := utf8.DecodeRuneInString(cluster)
	switch {
	case r == 0x200d:
		return unicode.Is(unicode.So, first)
	case r >= 0xe0020 && r <= 0xe007f:
		return first == 0x1f3f4
	}
	return false
}

// fail reports an error that no agent reported: as an error event.
func (p *printer) fail(err error) {
	e := agent.ErrorEvent(err)
	e.Time = time.Now()
	p.event(e)
}

// note prints information for people; with -json it goes to stderr, as
// stdout carries only events.
func (p *printer) note(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		fmt.Fprintln(p.notes, s)
		return
	}
	if p.stamp {
		s = time.Now().Format("15:04") + " * " + strings.ReplaceAll(s, "\n", "\n        ")
	}
	fmt.Fprintln(p.w, p.paint(cDim, s))
}

// own shows a line sent to the peer, on a terminal (elsewhere it is the
// input's own).
func (p *printer) own(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stamp {
		fmt.Fprintln(p.w, p.paint(cDim, time.Now().Format("15:04"))+" "+p.paint(cBold+cGreen, "<"+inert(p.nick)+">")+" "+inert(text))
	}
}
