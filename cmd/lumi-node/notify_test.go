package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/internal/sdnotify"
	"mi/internal/syncbuf"
)

// TestServiceManager plays systemd (Type=notify) and a monitoring system:
// a fake $NOTIFY_SOCKET hears READY=1 with the node's addresses once it
// serves, RELOADING=1 then READY=1 around a SIGHUP, and STOPPING=1 when
// it stops; /readyz and /metrics answer in between.
func TestServiceManager(t *testing.T) {
	l, err := sdnotify.Listen(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv(sdnotify.EnvVar, l.Path())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	next := func() map[string]string {
		t.Helper()
		kv, err := l.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, a := range kv {
			k, v, _ := strings.Cut(a, "=")
			m[k] = v
		}
		return m
	}
	n := start(t, "-log", "-", "-metrics", "127.0.0.1:0")
	ready := next()
	if diff := cmp.Diff(map[string]string{
		"READY":          "1",
		"STATUS":         "serving bb.com on " + n.addr.String(),
		"X_LUMI_ADDR":    n.addr.String(),
		"X_LUMI_METRICS": ready["X_LUMI_METRICS"],
	}, ready); diff != "" || ready["X_LUMI_METRICS"] == "" {
		t.Fatalf("ready notification (-want +got):\n%s", diff)
	}
	n.register(t, loopbackConn(t))
	base := "http://" + ready["X_LUMI_METRICS"]
	if code, body := httpGet(t, base+"/readyz"); code != 200 || body != "ok\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	_, metrics := httpGet(t, base+"/metrics")
	for _, want := range []string{
		"\nlumi_node_requests_total{outcome=\"RR0\",type=\"PR\"} 1\n",
		"\nlumi_node_users_online 1\n",
		"\nlumi_node_ready 1\n",
		"\ngo_goroutines ",
		"\nprocess_resident_memory_bytes ",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if got := next(); got["RELOADING"] != "1" || got["MONOTONIC_USEC"] == "" {
		t.Errorf("after SIGHUP: %v, want RELOADING=1 with MONOTONIC_USEC", got)
	}
	if got := next(); got["READY"] != "1" {
		t.Errorf("after the reopen: %v, want READY=1", got)
	}
	if code := n.stop(); code != exitOK {
		t.Errorf("exit %d:\n%s", code, n.stderr.String())
	}
	if got := next(); got["STOPPING"] != "1" {
		t.Errorf("on stop: %v, want STOPPING=1", got)
	}
}

// TestMetricsAddrTaken: a -metrics address that cannot be bound stops the
// start, rather than a node that nobody can scrape.
func TestMetricsAddrTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := filepath.Join(t.TempDir(), "nodelumi.cfg")
	if err := os.WriteFile(cfg, []byte("bb.com\nu1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr syncbuf.Buffer
	code := run(context.Background(), []string{"-config", cfg, "-listen", "127.0.0.1:0", "-log", "-", "-hosts", "-", "-metrics", taken.Addr().String()},
		strings.NewReader(""), io.Discard, &stderr, nil)
	if code != exitError || !strings.Contains(stderr.String(), "lumi-node: cannot start: -metrics: ") {
		t.Errorf("exit %d, want %d and the -metrics error:\n%s", code, exitError, stderr.String())
	}
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
