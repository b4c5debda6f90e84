// Package opserver serves what operators' tools read from a server over
// HTTP, as CoreDNS's prometheus, health and ready plugins do:
//
//	/metrics  the Prometheus text format of a registry
//	/healthz  200 while the process serves HTTP at all
//	/readyz   200 when the server says it is ready, else 503 with its reason
//
// Nothing else is served; the server bounds every request's time and size,
// so a slow or hostile client holds one connection, not the process.
package opserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Limits of one request.
const (
	headerTimeout = 5 * time.Second
	writeTimeout  = 30 * time.Second // a scrape of a large registry takes a while on a loaded machine
	idleTimeout   = 60 * time.Second
	maxHeader     = 8 << 10
)

// Handler serves the three endpoints: reg's metrics (with promhttp's own
// counters of scrapes, registered on reg), and ready's verdict: nil for
// ready, else why not.
func Handler(reg *prometheus.Registry, ready func() error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.InstrumentMetricHandler(reg,
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, ErrorHandling: promhttp.ContinueOnError})))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		text(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := ready(); err != nil {
			text(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
		text(w, http.StatusOK, "ok")
	})
	return mux
}

func text(w http.ResponseWriter, code int, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, s)
}

// Server is an HTTP server on its own listener.
type Server struct {
	ln net.Listener
}

// Listen binds addr ("host:port"; port 0 for one the system picks) at once,
// so that a taken port fails the program's start, before it builds what
// the server will show.
func Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Server{ln: ln}, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close closes the listener of a server that will not Serve.
func (s *Server) Close() error { return s.ln.Close() }

// Serve serves h until ctx ends, then closes the listener and every
// connection. It returns nil after ctx ends, or the error that stopped it.
func (s *Server) Serve(ctx context.Context, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: headerTimeout,
		ReadTimeout:       headerTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeader,
	}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	err := srv.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) && ctx.Err() != nil {
		return nil
	}
	return err
}
