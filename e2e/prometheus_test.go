package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"mi/internal/sdnotify"
	"mi/internal/supervise"
	"mi/internal/syncbuf"
	"mi/internal/testenv"
)

// needTool returns the path of a program .ci/run installs, or skips the
// test without it; under CI=true its absence fails the test.
func needTool(t *testing.T, name string) string {
	t.Helper()
	return testenv.Program(t, name, "Prometheus does not scrape a node here", "apt-get install prometheus")
}

// TestPrometheusScrape runs Debian's prometheus against a lumi-node that
// serves a known exchange, and reads the node's counters back through
// Prometheus' HTTP API; promtool check metrics passes on the exposition.
func TestPrometheusScrape(t *testing.T) {
	prom := needTool(t, "prometheus")
	promtool := needTool(t, "promtool")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "nodelumi.cfg")
	if err := os.WriteFile(cfg, []byte("bb.test\nlaura\npau\nabe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nodeOut := &syncbuf.Buffer{}
	n, err := supervise.Start(ctx, supervise.Config{
		Path:   filepath.Join(bin, "lumi-node"),
		Args:   []string{"-config", cfg, "-listen", "127.0.0.1:0", "-metrics", "127.0.0.1:0", "-log", "-", "-hosts", "-"},
		Stdout: nodeOut,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	addr, err := n.Ready().Addr()
	if err != nil {
		t.Fatal(err)
	}
	metrics := n.Ready()[sdnotify.MetricsKey]
	if metrics == "" {
		t.Fatalf("no %s in the ready notification %v", sdnotify.MetricsKey, n.Ready())
	}

	// The exchange: two registrations, a locate answered, an unknown user,
	// a bad datagram.
	laura, pau := udpPeer(t), udpPeer(t)
	laura.ask(t, addr, "PRlaura@bb.test", "RR0")
	pau.ask(t, addr, "PRpau@bb.test", "RR0")
	laura.send(t, addr, "PLlaura@bb.test:pau@bb.test")
	pau.expect(t, "PLlaura@bb.test:pau@bb.test")
	pau.send(t, addr, "RL0laura@bb.test:pau@bb.test:127.0.0.1:7000")
	laura.expect(t, "RL0laura@bb.test:pau@bb.test:127.0.0.1:7000")
	laura.ask(t, addr, "PRzed@bb.test", "RR1")
	laura.send(t, addr, "not plumi")
	laura.ask(t, addr, "PLlaura@bb.test:abe@bb.test", "RL3laura@bb.test:abe@bb.test") // after the bad one: it was read

	// The exposition as Prometheus reads it passes promtool's checks.
	exposition := httpBody(t, "http://"+metrics+"/metrics")
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = bytes.NewReader(exposition)
	if out, err := check.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}

	// Prometheus scrapes the node every 200 ms.
	webAddr := freeTCP(t)
	promCfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(promCfg, fmt.Appendf(nil, `global:
  scrape_interval: 200ms
  scrape_timeout: 200ms
scrape_configs:
  - job_name: lumi-node
    static_configs:
      - targets: [%q]
        labels:
          domain: bb.test
`, metrics), 0o644); err != nil {
		t.Fatal(err)
	}
	promOut := &syncbuf.Buffer{}
	p := exec.Command(prom, "--config.file="+promCfg, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+webAddr, "--log.level=warn")
	p.Stdout, p.Stderr = promOut, promOut
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { p.Wait(); close(exited) }()
	defer func() {
		p.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("prometheus output:\n%s\nlumi-node output:\n%s", promOut.String(), nodeOut.String())
		}
	}()

	want := map[string]float64{
		`up{job="lumi-node"}`:                                     1,
		`lumi_node_requests_total{type="PR",outcome="RR0"}`:       2,
		`lumi_node_requests_total{type="PR",outcome="RR1"}`:       1,
		`lumi_node_requests_total{type="PL",outcome="forwarded"}`: 1,
		`lumi_node_requests_total{type="PL",outcome="RL3"}`:       1,
		`lumi_node_requests_total{type="RL",outcome="forwarded"}`: 1,
		`lumi_node_dropped_total{reason="invalid"}`:               1,
		`lumi_node_locates_forwarded_total{to="agent"}`:           1,
		`lumi_node_locate_replies_routed_total`:                   1,
		`lumi_node_users_online{domain="bb.test"}`:                2,
		`lumi_node_datagrams_received_total`:                      7,
		`lumi_node_ready`:                                         1,
	}
	got := map[string]float64{}
	deadline := time.Now().Add(30 * time.Second)
	for {
		for q := range want {
			if v, ok := promQuery(t, webAddr, q); ok {
				got[q] = v
			}
		}
		if cmp.Equal(want, got) {
			break
		}
		select {
		case <-exited:
			t.Fatalf("prometheus exited")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus' view of the node (-want +got):\n%s", cmp.Diff(want, got))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// promQuery asks Prometheus' HTTP API for the instant value of q, and says
// whether it had exactly one series.
func promQuery(t *testing.T, web, q string) (float64, bool) {
	t.Helper()
	resp, err := http.Get("http://" + web + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, false // not up yet
	}
	defer resp.Body.Close()
	var r struct {
		Status string
		Data   struct {
			Result []struct {
				Value [2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" || len(r.Data.Result) != 1 {
		return 0, false
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

func httpBody(t *testing.T, u string) []byte {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	return b
}

// freeTCP returns a loopback address whose port was free a moment ago,
// for a program that takes its address as a flag.
func freeTCP(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// peer is a raw UDP socket playing an agent.
type peer struct{ conn *net.UDPConn }

func udpPeer(t *testing.T) *peer {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{c}
}

func (p *peer) send(t *testing.T, to netip.AddrPort, d string) {
	t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort([]byte(d), to); err != nil {
		t.Fatal(err)
	}
}

func (p *peer) expect(t *testing.T, want string) {
	t.Helper()
	buf := make([]byte, 2048)
	p.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := p.conn.Read(buf)
	if err != nil || string(buf[:n]) != want {
		t.Fatalf("got %q, %v; want %q", buf[:n], err, want)
	}
}

func (p *peer) ask(t *testing.T, to netip.AddrPort, d, want string) {
	t.Helper()
	p.send(t, to, d)
	p.expect(t, want)
}
