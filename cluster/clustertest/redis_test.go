package clustertest

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestRedisLifecycle(t *testing.T) {
	r := StartRedis(t)
	mustDo := func(want string, args ...string) {
		t.Helper()
		got, err := r.Do(args...)
		if err != nil || got != want {
			t.Fatalf("%q: %q, %v; want %q", args, got, err, want)
		}
	}
	mustDo("+OK", "SET", "k", "v")
	mustDo("$1\r\nv", "GET", "k")
	mustDo("$-1", "GET", "absent")

	r.Kill()
	if c, err := net.DialTimeout("tcp", r.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("a killed server still accepts connections")
	}
	r.Start()
	mustDo("$-1", "GET", "k") // started empty

	mustDo("+OK", "SET", "k", "v")
	r.Restart()
	mustDo("$-1", "GET", "k")

	r.Stop()
	if _, err := r.Do("PING"); err == nil {
		t.Fatal("a stopped server answers")
	}
	r.Start()
	mustDo("+PONG", "PING")

	r.Pause()
	c, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err) // the kernel still accepts for a frozen server
	}
	defer c.Close()
	c.Write([]byte("PING\r\n"))
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := c.Read(make([]byte, 16)); err == nil {
		t.Fatalf("a paused server answered %d bytes", n)
	}
	r.Resume()
	c.SetReadDeadline(time.Now().Add(StartTimeout))
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "+PONG\r\n" {
		t.Fatalf("after Resume: %q, %v", buf[:n], err)
	}
	if !strings.Contains(r.Output(), "Ready to accept connections") {
		t.Errorf("output lacks the ready line:\n%s", r.Output())
	}
}

// TestKillPaused: a frozen server can be killed and stopped (cleanup must
// not hang on it).
func TestKillPaused(t *testing.T) {
	r := StartRedis(t)
	r.Pause()
	r.Stop()
	r.Start()
	r.Pause()
}
