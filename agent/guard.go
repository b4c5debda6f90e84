package agent

import (
	"math"
	"net"
	"time"

	"mi/wire"
)

// msgReader reads a peer's PMI messages and bounds each one in time: once
// the first byte of a message is in, the whole message must be within the
// timeout, so that a peer cannot hold the conversation with half a message.
// Between messages there is no deadline, as people pause. It counts the
// bytes it reads and the bytes of the messages it returns to tell whether
// a message has begun; the framing itself stays wire.Reader's. Not safe
// for concurrent use.
type msgReader struct {
	conn    net.Conn
	r       *wire.Reader
	timeout time.Duration // 0 until guard: the handshake has its own deadline
	got     int64         // bytes read from conn
	used    int64         // bytes of the messages returned
}

func newMsgReader(conn net.Conn) *msgReader {
	g := &msgReader{conn: conn}
	g.r = wire.NewReader(g)
	return g
}

// guard starts bounding each message by timeout.
func (g *msgReader) guard(timeout time.Duration) { g.timeout = timeout }

// inMessage reports whether bytes of a message not yet returned are in.
func (g *msgReader) inMessage() bool { return g.got > g.used }

// Read is how the wire.Reader reads conn: an idle connection has no
// deadline, and the first byte of a message starts its clock.
func (g *msgReader) Read(p []byte) (int, error) {
	idle := g.timeout > 0 && !g.inMessage()
	if idle {
		g.conn.SetReadDeadline(time.Time{})
	}
	n, err := g.conn.Read(p)
	g.got += int64(n)
	if idle && n > 0 {
		g.conn.SetReadDeadline(time.Now().Add(g.timeout))
	}
	return n, err
}

// next returns the next message. A message already begun in what is
// buffered gets its time from now: the agent may have waited, with the
// bytes unread, for its user to catch up.
func (g *msgReader) next() (wire.Message, error) {
	if g.timeout > 0 && g.inMessage() {
		g.conn.SetReadDeadline(time.Now().Add(g.timeout))
	}
	m, err := g.r.ReadMessage()
	if err == nil {
		g.used += int64(m.Len())
	}
	return m, err
}

// tokenBucket limits a rate of events: rate tokens a second come in, up to
// burst; each event takes one. Not safe for concurrent use.
type tokenBucket struct {
	rate   float64 // per second; +Inf: no limit
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate float64, burst int, now time.Time) *tokenBucket {
	return &tokenBucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: now}
}

// allow takes a token at time now, if there is one.
func (b *tokenBucket) allow(now time.Time) bool {
	if math.IsInf(b.rate, 1) {
		return true
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(b.burst, b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
