package plumi

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"mi/internal/datalog"
	"mi/internal/syncbuf"
	"mi/plumi/plumitest"
)

// TestDropsCounted: what the client drops from its node is logged in full
// up to the burst, then summed up (here at Close, which ends the window),
// and only datagrams that decode reach the datagram log.
func TestDropsCounted(t *testing.T) {
	n := plumitest.NewNode(t)
	var logs syncbuf.Buffer
	var dlog bytes.Buffer
	dl := datalog.NewDataLog(&dlog) // read after its Close
	c, err := NewClient(Config{Node: n.Addr(), RetryInterval: fastRetry, Log: dl,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	junk := []byte("\x1b[2J" + strings.Repeat("x", 300))
	for i := range 100 {
		n.SendRaw(c.LocalAddr(), junk)
		n.SendRaw(c.LocalAddr(), []byte("RR0"))
		if i%10 == 9 {
			time.Sleep(time.Millisecond) // within the socket's buffer
		}
	}
	n.SendRaw(c.LocalAddr(), []byte("PLpau@cc.org:laura@bb.com"))
	select {
	case <-c.Locates():
	case <-time.After(5 * time.Second):
		t.Fatal("the locate after the junk did not come")
	}
	c.Close()
	dl.Close()
	out := logs.String()
	for msg, want := range map[string]int{
		`msg="dropped a malformed datagram"`:                                      5,
		`msg="dropped a reply that answers no request in progress"`:               5,
		`msg="datagrams dropped" reason="bad datagram" count=100 logged=5`:        1,
		`msg="datagrams dropped" reason="reply to no request" count=100 logged=5`: 1,
	} {
		if got := strings.Count(out, msg); got != want {
			t.Errorf("%d lines %s, want %d", got, msg, want)
		}
	}
	if strings.Count(out, "\n") != 12 {
		t.Errorf("%d lines logged, want 12:\n%s", strings.Count(out, "\n"), out)
	}
	if d := dlog.String(); strings.Contains(d, "xxxx") || strings.Count(d, "R: ") != 101 {
		t.Errorf("the datagram log holds junk, or not the 100 RR0 and the PL:\n%.500s", d)
	}
}
