package agent

import (
	"errors"
	"fmt"
	"math"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"mi/plumi/plumitest"
	"mi/wire"
)

// streamLine is the text of line i of a stream: its number, padded to the
// longest line, so that order and loss show.
func streamLine(i int) string {
	s := fmt.Sprintf("%09d ", i)
	return s + strings.Repeat("x", wire.MaxLineLen-len(s))
}

// streamLines writes lines numbered from 0 to conn until size bytes are
// written or a write stalls for stall (the agent has stopped reading), and
// returns the bytes written.
func streamLines(t *testing.T, conn net.Conn, size int, stall time.Duration) int {
	t.Helper()
	var chunk []byte
	written, i := 0, 0
	for written < size {
		chunk = chunk[:0]
		for len(chunk) < 64<<10 {
			var err error
			if chunk, err = (&wire.Line{Text: streamLine(i)}).Append(chunk); err != nil {
				t.Fatal(err)
			}
			i++
		}
		conn.SetWriteDeadline(time.Now().Add(stall))
		k, err := conn.Write(chunk)
		written += k
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return written
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", written, err)
		}
	}
	return written
}

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// peakHeap samples the live heap for a while and returns the most seen, so
// that bytes still in the kernel's buffers when the writer returns are
// counted once the agent has read them.
func peakHeap(samples int, every time.Duration) uint64 {
	peak := heapInUse()
	for i := 1; i < samples; i++ {
		time.Sleep(every)
		peak = max(peak, heapInUse())
	}
	return peak
}

const mb = 1 << 20

// TestMemoryBoundedUnderLineStream: a peer streams 10 MB of lines while
// nobody reads the agent's events. The agent stops reading the peer once
// its event queue is full, so its heap stays small; once the events are
// read, every line comes, in order.
func TestMemoryBoundedUnderLineStream(t *testing.T) {
	n := plumitest.NewNode(t)
	a := newTestAgent(t, n, "laura@bb.com", func(c *Config) { c.LineRate = math.Inf(1) })
	conn, _ := dialPeer(t, a, "pau")
	base := heapInUse()
	written := streamLines(t, conn, 10*mb, 2*time.Second)
	peak := peakHeap(5, 200*time.Millisecond)
	growth := int64(peak) - int64(base)
	t.Logf("the peer wrote %.1f MB of lines; the heap grew by %.1f MB (%.1f MB to %.1f MB)",
		float64(written)/mb, float64(growth)/mb, float64(base)/mb, float64(peak)/mb)
	if growth > 32*mb {
		t.Errorf("heap grew by %.1f MB under a stream nobody reads, want under 32 MB", float64(growth)/mb)
	}
	conn.Close()
	checkStream(t, a, written)
}

// checkStream reads a's events after a stream of written bytes: every
// whole line in order, at most one notice that the agent stopped reading,
// and the end of the conversation.
func checkStream(t *testing.T, a *Agent, written int) {
	t.Helper()
	want(t, a, EventConnected)
	lines := written / (&wire.Line{Text: streamLine(0)}).Len()
	got, paused := 0, 0
	for e := next(t, a); e.Kind != EventHangup; e = next(t, a) {
		switch {
		case e.Kind == EventLine:
			if e.Text != streamLine(got) {
				t.Fatalf("line %d is %.20q...", got, e.Text)
			}
			got++
		case e.Kind == EventNotice && e.Reason == NoticeReadingPaused:
			paused++
		case e.Kind == EventError && e.Reason == ErrPeer.Word(): // the last line, cut
		default:
			t.Errorf("unexpected %+v", e)
		}
	}
	if got != lines {
		t.Errorf("got %d lines, want the %d the peer wrote whole", got, lines)
	}
	if paused != 1 {
		t.Errorf("said %d times that it stopped reading the peer, want once", paused)
	}
}
