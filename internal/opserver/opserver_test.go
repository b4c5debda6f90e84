package opserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

func TestEndpoints(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "test_things_total", Help: "Things."})
	reg.MustRegister(c)
	c.Add(3)
	var notReady atomic.Pointer[error]
	srv, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := Handler(reg, func() error {
		if p := notReady.Load(); p != nil {
			return *p
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, h) }()
	base := "http://" + srv.Addr().String()
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	type result struct {
		Code int
		Body string
	}
	starting := errors.New("workers not reading yet")
	for _, tc := range []struct {
		path     string
		notReady error
		want     result
	}{
		{"/healthz", nil, result{200, "ok\n"}},
		{"/readyz", nil, result{200, "ok\n"}},
		{"/readyz", starting, result{503, "not ready: workers not reading yet\n"}},
		{"/healthz", starting, result{200, "ok\n"}},
		{"/nothing", nil, result{404, "404 page not found\n"}},
	} {
		if tc.notReady != nil {
			notReady.Store(&tc.notReady)
		} else {
			notReady.Store(nil)
		}
		code, body := get(tc.path)
		if diff := cmp.Diff(tc.want, result{code, body}); diff != "" {
			t.Errorf("GET %s, not ready %v (-want +got):\n%s", tc.path, tc.notReady, diff)
		}
	}
	code, body := get("/metrics")
	if code != 200 || !strings.Contains(body, "\ntest_things_total 3\n") || !strings.Contains(body, "promhttp_metric_handler_requests_total") {
		t.Errorf("GET /metrics: %d\n%s", code, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestListenTaken(t *testing.T) {
	a, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := Listen(a.Addr().String()); err == nil {
		t.Fatalf("a second Listen on %s succeeded", a.Addr())
	}
}
