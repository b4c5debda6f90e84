package conform

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"

	"mi/wire"
)

// player plays one scenario.
type player struct {
	r     *runner
	sc    *Scenario
	ctx   context.Context
	tr    *transcript
	vars  map[string]string // the tool's and the captures so far
	roles map[string]*role
	order []string // roles in the order they were played
	conns map[string]*tcpConn

	// Agent scenarios.
	agentFrom netip.AddrPort // the agent's latest source: where the node role sends
	proc      *agentProc     // the run of the agent the scenario plays against, if the tool started it
}

// role is a UDP socket the tool plays.
type role struct {
	name string
	sock *udpSock
	own  bool // opened for this scenario: closed at its end

	// Node scenarios: what the role registered, for the cleanup.
	sentPR, sentPD []wire.Address // requests waiting for their reply, in order
	registered     []wire.Address
}

// stepFail is why a step failed.
type stepFail struct {
	msg      string
	expected string
	arrived  bool
	got      string
}

func failf(format string, a ...any) *stepFail { return &stepFail{msg: fmt.Sprintf(format, a...)} }

func (p *player) lookup(name string) (string, bool) {
	v, ok := p.vars[name]
	return v, ok
}

// play plays sc and cleans up after it. Its error is a setup error: the
// agent of the scenarios without Exec never registered.
func (r *runner) play(parent context.Context, sc *Scenario) (Result, error) {
	tr := &transcript{start: time.Now()}
	ctx, cancel := context.WithTimeout(parent, r.budget(sc))
	defer cancel()
	p := &player{r: r, sc: sc, ctx: ctx, tr: tr, vars: map[string]string{}, roles: map[string]*role{}, conns: map[string]*tcpConn{}}
	for k, v := range r.vars {
		p.vars[k] = v
	}
	switch sc.Target {
	case "node":
		if r.remote != nil {
			r.remote.drain()
		}
	case "agent":
		r.node.drain()
		p.roles["node"] = &role{name: "node", sock: r.node}
		p.order = append(p.order, "node")
		if !sc.Exec {
			if !r.sharedUp {
				if err := r.registerShared(parent, tr); err != nil {
					return Result{}, err
				}
			}
			p.agentFrom, p.proc = r.sharedFrom, r.shared
		}
	}
	var fail *stepFail
	failed := -1
	for i := 0; fail == nil && i < len(sc.Steps); i++ {
		if fail = p.step(&sc.Steps[i]); fail != nil {
			failed = i
		} else if ctx.Err() != nil {
			fail, failed = failf("the scenario's deadline (%v) passed", r.budget(sc)), -1
		}
	}
	p.finish(parent)
	res := Result{Status: Pass, Elapsed: time.Since(tr.start)}
	if fail != nil {
		res.Status, res.Reason = Fail, fail.msg
		f := &Failure{Step: failed, Line: sc.Line, Expected: fail.expected, Arrived: fail.arrived, Got: fail.got}
		if failed >= 0 {
			st := &sc.Steps[failed]
			f.Op, f.Role, f.Line = st.Op.String(), st.Role, st.Line
		}
		res.Failure = f
		if p.proc != nil {
			res.Output = p.proc.out.last()
		}
	}
	res.Transcript = tr.list()
	return res, nil
}

// step plays one step.
func (p *player) step(st *Step) *stepFail {
	switch st.Op {
	case OpPlay:
		return p.playRole(st)
	case OpSend:
		return p.send(st)
	case OpExpect:
		return p.expect(st)
	case OpSilent:
		return p.silent(st)
	case OpWait:
		return p.sleep(st.Max)
	case OpStart:
		p.r.stopAgent(p.tr, p.r.agent)
		p.r.agent = nil
		for _, d := range p.r.node.drain() {
			p.tr.add(d.at, "node", DirRecv, d.from.String(), string(d.b))
		}
		p.agentFrom = netip.AddrPort{}
		a, err := p.r.startAgent(p.tr)
		if err != nil {
			return failf("start the agent: %v", err)
		}
		p.r.agent, p.proc = a, a
		return nil
	case OpConnect:
		return p.connect(st)
	case OpWrite:
		return p.write(st)
	case OpRead:
		return p.read(st)
	case OpClosed:
		return p.closed(st)
	case OpClose:
		p.closeConn(st.Role)
		return nil
	case OpStdin, OpEOF, OpExits:
		return p.process(st)
	}
	return failf("unknown op %d", st.Op)
}

func (p *player) sleep(d time.Duration) *stepFail {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-p.ctx.Done():
		return failf("the scenario's deadline passed")
	}
}

func (p *player) playRole(st *Step) *stepFail {
	ro := &role{name: st.Role}
	if st.Text == "node" {
		ro.sock = p.r.remote
	} else {
		s, err := listenUDP(netip.AddrPortFrom(p.r.localIP, 0).String())
		if err != nil {
			return failf("open a socket for %s: %v", st.Role, err)
		}
		ro.sock, ro.own = s, true
	}
	p.roles[st.Role] = ro
	p.order = append(p.order, st.Role)
	return nil
}

// dest is where a role sends: the node under test, or the agent's latest
// source address.
func (p *player) dest() (netip.AddrPort, *stepFail) {
	if p.sc.Target == "node" {
		return p.r.nodeAP, nil
	}
	if !p.agentFrom.IsValid() {
		return p.agentFrom, failf("the agent has sent no datagram yet: nowhere to send to")
	}
	return p.agentFrom, nil
}

func (p *player) send(st *Step) *stepFail {
	text := st.Text
	if !st.Raw {
		var err error
		if text, err = expand(st.Text, p.lookup); err != nil {
			return failf("%v", err)
		}
	}
	to, f := p.dest()
	if f != nil {
		return f
	}
	return p.sendTo(p.roles[st.Role], to, []byte(text))
}

func (p *player) sendTo(ro *role, to netip.AddrPort, b []byte) *stepFail {
	at := time.Now() // before: the reply may come back before the write returns
	_, err := ro.sock.conn.WriteToUDPAddrPort(b, to)
	p.tr.add(at, ro.name, DirSend, to.String(), string(b))
	if err != nil {
		return failf("send to %s: %v", to, err)
	}
	if p.sc.Target == "node" {
		var d wire.PLUMIDatagram
		if d.Decode(b) == nil {
			switch d.Tag {
			case wire.TagRegister:
				ro.sentPR = append(ro.sentPR, d.Register.Addr)
			case wire.TagDeregister:
				ro.sentPD = append(ro.sentPD, d.Deregister.Addr)
			}
		}
	}
	return nil
}

// received records a datagram a role took and, in a node scenario, what
// it says of the role's registrations.
func (p *player) received(ro *role, d datagram) {
	p.tr.add(d.at, ro.name, DirRecv, d.from.String(), string(d.b))
	if p.sc.Target != "node" {
		p.agentFrom = d.from
		return
	}
	var m wire.PLUMIDatagram
	if m.Decode(d.b) != nil {
		return
	}
	switch {
	case m.Tag == wire.TagRegisterReply && len(ro.sentPR) > 0:
		a := ro.sentPR[0]
		ro.sentPR = ro.sentPR[1:]
		if m.RegisterReply.Code == wire.RegisterOK && !containsAddr(ro.registered, a) {
			ro.registered = append(ro.registered, a)
		}
	case m.Tag == wire.TagDeregisterReply && len(ro.sentPD) > 0:
		a := ro.sentPD[0]
		ro.sentPD = ro.sentPD[1:]
		if m.DeregisterReply.Code == wire.DeregisterOK {
			ro.registered = removeAddr(ro.registered, a)
		}
	}
}

func containsAddr(list []wire.Address, a wire.Address) bool {
	for _, b := range list {
		if b == a {
			return true
		}
	}
	return false
}

func removeAddr(list []wire.Address, a wire.Address) []wire.Address {
	out := list[:0]
	for _, b := range list {
		if b != a {
			out = append(out, b)
		}
	}
	return out
}

// bind adds the captures of a match to the variables.
func (p *player) bind(caps map[string]string) {
	for k, v := range caps {
		p.vars[k] = v
	}
}

func (p *player) expect(st *Step) *stepFail {
	start := time.Now()
	pat, err := compile(st.Text, p.lookup)
	if err != nil {
		return failf("%v", err)
	}
	ro := p.roles[st.Role]
	window := p.r.window(st)
	d, ok := ro.sock.next(p.ctx, start.Add(window))
	if !ok {
		f := failf("%s: nothing arrived within %v", st.Role, window)
		if p.ctx.Err() != nil {
			f = failf("%s: nothing arrived before the scenario's deadline", st.Role)
		}
		f.expected = pat.String()
		return f
	}
	p.received(ro, d)
	f := &stepFail{expected: pat.String()}
	return p.accept(st, pat, string(d.b), max(d.at.Sub(start), 0), window, f)
}

// accept ends a step that received got, after arriving that long into the
// step: in its window and matching, its captures are bound; else f says why.
func (p *player) accept(st *Step, pat pattern, got string, after, window time.Duration, f *stepFail) *stepFail {
	f.arrived, f.got = true, got
	if after < st.Min {
		f.msg = fmt.Sprintf("%s: %s arrived after %v, before its window [%v, %v]", st.Role, strconv.Quote(got), ms(after), st.Min, window)
		return f
	}
	caps, ok := pat.match(got)
	if !ok {
		f.msg = fmt.Sprintf("%s: got %s, want %s", st.Role, strconv.Quote(got), strconv.Quote(pat.String()))
		return f
	}
	p.bind(caps)
	return nil
}

func (p *player) silent(st *Step) *stepFail {
	if c := p.conns[st.Role]; c != nil {
		return p.silentConn(st, c)
	}
	ro := p.roles[st.Role]
	d, ok := ro.sock.next(p.ctx, time.Now().Add(st.Max))
	if !ok {
		if p.ctx.Err() != nil {
			return failf("the scenario's deadline passed")
		}
		return nil
	}
	p.received(ro, d)
	return &stepFail{
		msg:      fmt.Sprintf("%s: got %s, want nothing for %v", st.Role, strconv.Quote(string(d.b)), st.Max),
		expected: "nothing for " + st.Max.String(),
		arrived:  true, got: string(d.b),
	}
}

// finish cleans up after a scenario: a node scenario deregisters what its
// roles registered; every connection and socket of the scenario closes,
// and what was left unread goes into the transcript.
func (p *player) finish(parent context.Context) {
	ctx, cancel := context.WithTimeout(parent, time.Duration(len(p.order)+1)*2*cleanupWait)
	defer cancel()
	if p.sc.Target == "node" {
		for _, name := range p.order {
			p.deregisterAll(ctx, p.roles[name])
		}
	}
	for name := range p.conns {
		p.closeConn(name)
	}
	if p.sc.Target == "agent" {
		if p.sc.Exec {
			p.r.stopAgent(p.tr, p.r.agent)
			p.r.agent = nil
		} else {
			p.r.sharedFrom = p.agentFrom
		}
	}
	for _, name := range p.order {
		ro := p.roles[name]
		for _, d := range ro.sock.drain() {
			p.received(ro, d)
		}
		if ro.own {
			ro.sock.close()
		}
	}
}

// deregisterAll undoes what a role registered: it waits (a while) for the
// replies still due to its PRs and PDs, then sends a PD for every address
// registered and waits for its RD, whatever it says.
func (p *player) deregisterAll(ctx context.Context, ro *role) {
	for _, d := range ro.sock.drain() {
		p.received(ro, d)
	}
	awaitReplies := func() {
		deadline := time.Now().Add(cleanupWait)
		for len(ro.sentPR)+len(ro.sentPD) > 0 {
			d, ok := ro.sock.next(ctx, deadline)
			if !ok {
				return
			}
			p.received(ro, d)
		}
	}
	awaitReplies()
	for len(ro.registered) > 0 && ctx.Err() == nil {
		a := ro.registered[0]
		ro.sentPR, ro.sentPD = nil, nil // what never came will not
		b, err := (&wire.Deregister{Addr: a}).Append(nil)
		if err == nil && p.sendTo(ro, p.r.nodeAP, b) == nil {
			awaitReplies()
		}
		ro.registered = removeAddr(ro.registered, a) // tried once, RD0 or not
	}
}

// tcpConn is a connection the tool opened.
type tcpConn struct {
	conn net.Conn
	peer string
	tee  *teeReader
	br   *bufio.Reader
	rd   *wire.Reader

	peerClosed bool // the peer closed it (a closed step saw it)
}

// teeReader keeps the bytes read from the connection that no message has
// accounted for yet: what a failure shows when they do not frame.
type teeReader struct {
	r   io.Reader
	buf []byte
}

func (t *teeReader) Read(b []byte) (int, error) {
	n, err := t.r.Read(b)
	t.buf = append(t.buf, b[:n]...)
	return n, err
}

// consumed drops the first n bytes kept.
func (t *teeReader) consumed(n int) {
	t.buf = t.buf[min(n, len(t.buf)):]
}

// unframed returns and forgets the bytes kept.
func (t *teeReader) unframed() string {
	s := string(t.buf)
	t.buf = nil
	return s
}

func (p *player) connect(st *Step) *stepFail {
	addr, err := expand(st.Text, p.lookup)
	if err != nil {
		return failf("%v", err)
	}
	if old := p.conns[st.Role]; old != nil {
		old.conn.Close()
	}
	d := net.Dialer{Timeout: p.r.window(st)}
	conn, err := d.DialContext(p.ctx, "tcp", addr)
	if err != nil {
		f := failf("connect %s to %s: %v", st.Role, strconv.Quote(addr), err)
		f.expected = "a connection to " + addr
		return f
	}
	t := &teeReader{r: conn}
	br := bufio.NewReaderSize(t, 512) // wire.NewReader reads from it directly
	c := &tcpConn{conn: conn, peer: conn.RemoteAddr().String(), tee: t, br: br, rd: wire.NewReader(br)}
	p.conns[st.Role] = c
	p.tr.add(time.Now(), st.Role, DirEvent, c.peer, "connected from "+conn.LocalAddr().String())
	return nil
}

func (p *player) write(st *Step) *stepFail {
	c := p.conns[st.Role]
	text := st.Text
	if !st.Raw {
		var err error
		if text, err = expand(st.Text, p.lookup); err != nil {
			return failf("%v", err)
		}
	}
	var err error
	at := time.Now()
	c.conn.SetWriteDeadline(at.Add(p.r.window(st)))
	if st.Bytewise {
		for i := 0; i < len(text) && err == nil; i++ {
			if i > 0 {
				time.Sleep(byteGap)
			}
			_, err = c.conn.Write([]byte{text[i]})
		}
	} else {
		_, err = c.conn.Write([]byte(text))
	}
	p.tr.add(at, st.Role, DirSend, c.peer, text)
	if err != nil {
		return failf("write on %s: %v", st.Role, err)
	}
	return nil
}

// deadline is when a step that starts now must end.
func (p *player) deadline(st *Step, start time.Time) time.Time {
	d := start.Add(p.r.window(st))
	if cd, ok := p.ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	return d
}

func (p *player) read(st *Step) *stepFail {
	start := time.Now()
	pat, err := compile(st.Text, p.lookup)
	if err != nil {
		return failf("%v", err)
	}
	c := p.conns[st.Role]
	c.conn.SetReadDeadline(p.deadline(st, start))
	m, err := c.rd.ReadMessage()
	now := time.Now()
	f := &stepFail{expected: pat.String()}
	if err != nil {
		raw := c.tee.unframed()
		if raw != "" {
			p.tr.add(now, st.Role, DirRecv, c.peer, raw)
			f.arrived, f.got = true, raw
		}
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded) && raw == "":
			f.msg = fmt.Sprintf("%s: no message within %v", st.Role, p.r.window(st))
		case errors.Is(err, os.ErrDeadlineExceeded):
			f.msg = fmt.Sprintf("%s: %s arrived, not a whole message, within %v", st.Role, strconv.Quote(raw), p.r.window(st))
		case errors.Is(err, io.EOF):
			f.msg = fmt.Sprintf("%s: the peer closed the connection", st.Role)
			p.tr.add(now, st.Role, DirEvent, c.peer, "closed by the peer")
		default:
			f.msg = fmt.Sprintf("%s: %v", st.Role, err)
		}
		return f
	}
	b, _ := m.Append(nil) // decoding is canonical: the bytes that came
	c.tee.consumed(len(b))
	got := string(b)
	p.tr.add(now, st.Role, DirRecv, c.peer, got)
	return p.accept(st, pat, got, now.Sub(start), p.r.window(st), f)
}

func (p *player) closed(st *Step) *stepFail {
	start := time.Now()
	c := p.conns[st.Role]
	c.conn.SetReadDeadline(p.deadline(st, start))
	want := fmt.Sprintf("the peer closes %s within [%v, %v]", st.Role, st.Min, p.r.window(st))
	var err error
	for {
		var m wire.Message
		if m, err = c.rd.ReadMessage(); err != nil {
			break
		}
		b, _ := m.Append(nil)
		c.tee.consumed(len(b))
		p.tr.add(time.Now(), st.Role, DirRecv, c.peer, string(b))
	}
	if !isClose(err) && !errors.Is(err, os.ErrDeadlineExceeded) {
		// Bytes that do not frame: read on, raw, to the close.
		var buf [512]byte
		for {
			if _, err = c.br.Read(buf[:]); err != nil && (isClose(err) || errors.Is(err, os.ErrDeadlineExceeded)) {
				break
			}
		}
	}
	now := time.Now()
	if raw := c.tee.unframed(); raw != "" {
		p.tr.add(now, st.Role, DirRecv, c.peer, raw)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &stepFail{msg: fmt.Sprintf("%s: still open after %v", st.Role, p.r.window(st)), expected: want}
	}
	p.tr.add(now, st.Role, DirEvent, c.peer, "closed by the peer")
	c.peerClosed = true
	if after := now.Sub(start); after < st.Min {
		return &stepFail{msg: fmt.Sprintf("%s: closed after %v, before its window [%v, %v]", st.Role, ms(after), st.Min, p.r.window(st)), expected: want}
	}
	return nil
}

// silentConn checks that nothing arrives on a connection for st.Max.
func (p *player) silentConn(st *Step, c *tcpConn) *stepFail {
	c.conn.SetReadDeadline(time.Now().Add(st.Max))
	m, err := c.rd.ReadMessage()
	now := time.Now()
	want := "nothing for " + st.Max.String()
	switch {
	case err == nil:
		b, _ := m.Append(nil)
		c.tee.consumed(len(b))
		p.tr.add(now, st.Role, DirRecv, c.peer, string(b))
		return &stepFail{msg: fmt.Sprintf("%s: got %s, want nothing for %v", st.Role, strconv.Quote(string(b)), st.Max),
			expected: want, arrived: true, got: string(b)}
	case errors.Is(err, os.ErrDeadlineExceeded):
		if raw := c.tee.unframed(); raw != "" { // part of a message: something did arrive
			p.tr.add(now, st.Role, DirRecv, c.peer, raw)
			return &stepFail{msg: fmt.Sprintf("%s: got %s, want nothing for %v", st.Role, strconv.Quote(raw), st.Max),
				expected: want, arrived: true, got: raw}
		}
		return nil
	case errors.Is(err, io.EOF):
		p.tr.add(now, st.Role, DirEvent, c.peer, "closed by the peer")
		return &stepFail{msg: fmt.Sprintf("%s: the peer closed the connection, want it open and quiet for %v", st.Role, st.Max), expected: want}
	default:
		raw := c.tee.unframed()
		p.tr.add(now, st.Role, DirRecv, c.peer, raw)
		return &stepFail{msg: fmt.Sprintf("%s: %v", st.Role, err), expected: want, arrived: true, got: raw}
	}
}

// closeConn closes a connection the tool opened: it sends its FIN, gives
// the peer closeLinger to close its side (so that the peer is done with
// the conversation when the next step or scenario begins), then closes.
func (p *player) closeConn(name string) {
	c := p.conns[name]
	if c == nil {
		return
	}
	delete(p.conns, name)
	at := time.Now()
	if tc, ok := c.conn.(*net.TCPConn); ok && !c.peerClosed && tc.CloseWrite() == nil {
		p.tr.add(at, name, DirEvent, c.peer, "closed by the tool")
		c.conn.SetReadDeadline(time.Now().Add(closeLinger))
		var err error
		for err == nil {
			var m wire.Message
			if m, err = c.rd.ReadMessage(); err == nil {
				b, _ := m.Append(nil)
				c.tee.consumed(len(b))
				p.tr.add(time.Now(), name, DirRecv, c.peer, string(b))
			}
		}
		if raw := c.tee.unframed(); raw != "" {
			p.tr.add(time.Now(), name, DirRecv, c.peer, raw)
		}
		if isClose(err) {
			p.tr.add(time.Now(), name, DirEvent, c.peer, "closed by the peer")
		}
		c.conn.Close()
		return
	}
	c.conn.Close()
	p.tr.add(at, name, DirEvent, c.peer, "closed by the tool")
}

// isClose reports whether a read error means the peer closed or reset
// the connection.
func isClose(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, wire.ErrTruncated) ||
		errors.As(err, &ne) && !ne.Timeout()
}

// process plays the steps on the agent's process: stdin, eof, exits.
func (p *player) process(st *Step) *stepFail {
	a := p.proc
	if a == nil {
		return failf("no agent process: the tool starts one with -exec")
	}
	switch st.Op {
	case OpStdin:
		text, err := expand(st.Text, p.lookup)
		if err != nil {
			return failf("%v", err)
		}
		at := time.Now()
		_, err = io.WriteString(a.stdin, text+"\n")
		p.tr.add(at, "agent", DirSend, "stdin", text+"\n")
		if err != nil {
			return failf("write the agent's stdin: %v", err)
		}
	case OpEOF:
		p.tr.add(time.Now(), "agent", DirEvent, "stdin", "stdin closed")
		a.stdin.Close()
	case OpExits:
		start := time.Now()
		window := p.r.window(st)
		t := time.NewTimer(window)
		defer t.Stop()
		want := fmt.Sprintf("the agent exits within [%v, %v]", st.Min, window)
		select {
		case <-a.done:
		case <-t.C:
			return &stepFail{msg: fmt.Sprintf("the agent still runs after %v", window), expected: want}
		case <-p.ctx.Done():
			return &stepFail{msg: "the agent still runs at the scenario's deadline", expected: want}
		}
		after := time.Since(start)
		p.tr.add(time.Now(), "agent", DirEvent, "", fmt.Sprintf("exited: status %d", a.code))
		if after < st.Min {
			return &stepFail{msg: fmt.Sprintf("the agent exited after %v, before its window [%v, %v]", ms(after), st.Min, window), expected: want}
		}
	}
	return nil
}

// ms rounds d for messages.
func ms(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
