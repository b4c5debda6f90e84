package node

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"mi/wire"
)

// series gathers c and returns every series' value by its name and labels
// as the text format writes them: name{k="v",...}. Histograms give their
// count as name_count.
func series(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			sort.Strings(ls)
			name := mf.GetName()
			if len(ls) > 0 {
				name += "{" + strings.Join(ls, ",") + "}"
			}
			switch {
			case m.Counter != nil:
				got[name] = m.Counter.GetValue()
			case m.Gauge != nil:
				got[name] = m.Gauge.GetValue()
			case m.Histogram != nil:
				got[strings.Replace(name, mf.GetName(), mf.GetName()+"_count", 1)] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return got
}

// TestMetrics: a known exchange through real sockets, served by two
// workers, shows in the node's series exactly, whichever worker read what.
func TestMetrics(t *testing.T) {
	z := startZone(t, "nowhere.test. 60 IN SOA ns.nowhere.test. h.nowhere.test. 1 60 60 60 60")
	nb := startNode(t, "127.0.0.1:0", "b.test", []string{"bob"}, nil)
	na := startNode(t, "127.0.0.1:0", "a.test", []string{"ann", "amy", "abe"}, func(o *Options) {
		shortWait(o)
		o.Workers = 2
		o.DNSServer = z.Addr()
		o.Peers = map[string]netip.AddrPort{"b.test": nb.Addr()}
		o.Limits.ProbeWait = wait // the check below is refused, never timed out
	})
	<-na.Ready()
	a := na.Addr()
	ann, amy, bob, stranger := newAgent(t), newAgent(t), newAgent(t), newAgent(t)
	ann.ask(a, "PRann@a.test", "RR0")
	amy.ask(a, "PRamy@a.test", "RR0")
	bob.ask(nb.Addr(), "PRbob@b.test", "RR0")
	stranger.ask(a, "PRzed@a.test", "RR1")
	stranger.ask(a, "PDann@a.test", "RD1")
	// A locate answered, one left unanswered, one to another domain.
	ann.send(a, "PLann@a.test:amy@a.test")
	amy.expect(a, "PLann@a.test:amy@a.test")
	amy.send(a, "RL0ann@a.test:amy@a.test:127.0.0.1:7000")
	ann.expect(a, "RL0ann@a.test:amy@a.test:127.0.0.1:7000")
	ann.send(a, "PLann@a.test:abe@a.test") // abe offline: RL3
	ann.expect(a, "RL3ann@a.test:abe@a.test")
	ann.send(a, "PLann@a.test:bob@b.test")
	bob.expect(nb.Addr(), "PLann@a.test:bob@b.test")
	bob.send(nb.Addr(), "RL1ann@a.test:bob@b.test")
	ann.expect(a, "RL1ann@a.test:bob@b.test")
	ann.ask(a, "PLann@a.test:x@nowhere.test", "RL2ann@a.test:x@nowhere.test")
	amy.send(a, "PLamy@a.test:ann@a.test")
	ann.expect(a, "PLamy@a.test:ann@a.test") // ann does not answer
	na.waitPendingEnd()
	// A takeover the registered agent refuses.
	stranger.send(a, "PRamy@a.test")
	amy.expect(a, "PLamy@a.test:amy@a.test")
	amy.send(a, "RL0amy@a.test:amy@a.test:127.0.0.1:7001")
	stranger.expect(a, "RR1")
	// Drops: bad, an RL for nothing, a PL between two other domains.
	stranger.send(a, "XX")
	stranger.send(a, "RL0ann@a.test:amy@a.test:127.0.0.1:7000")
	stranger.send(a, "PLq@c.test:r@d.test")
	ann.ask(a, "PDann@a.test", "RD0") // last: all the above were read before it
	stranger.quiet()

	got := series(t, na.Collector())
	want := map[string]float64{
		`lumi_node_datagrams_received_total`:                          17,
		`lumi_node_datagrams_sent_total`:                              14,
		`lumi_node_requests_total{outcome="RR0",type="PR"}`:           2,
		`lumi_node_requests_total{outcome="RR1",type="PR"}`:           1,
		`lumi_node_requests_total{outcome="check_started",type="PR"}`: 1,
		`lumi_node_requests_total{outcome="RD1",type="PD"}`:           1,
		`lumi_node_requests_total{outcome="RD0",type="PD"}`:           1,
		`lumi_node_requests_total{outcome="forwarded",type="PL"}`:     2,
		`lumi_node_requests_total{outcome="forwarded",type="RL"}`:     2,
		`lumi_node_requests_total{outcome="none",type="RL"}`:          1,
		`lumi_node_requests_total{outcome="resolving",type="PL"}`:     2, // a static peer's too
		`lumi_node_requests_total{outcome="RL3",type="PL"}`:           1,
		`lumi_node_requests_total{outcome="other_domains",type="PL"}`: 1,
		`lumi_node_requests_total{outcome="rl_without_pl",type="RL"}`: 1,
		`lumi_node_requests_total{outcome="invalid",type="invalid"}`:  1,
		`lumi_node_dropped_total{reason="invalid"}`:                   1,
		`lumi_node_dropped_total{reason="rl_without_pl"}`:             1,
		`lumi_node_dropped_total{reason="other_domains"}`:             1,
		`lumi_node_locates_forwarded_total{to="agent"}`:               2,
		`lumi_node_locates_forwarded_total{to="domain"}`:              1,
		`lumi_node_locate_replies_routed_total`:                       2,
		`lumi_node_locates_unanswered_total{to="agent"}`:              1,
		`lumi_node_locates_unanswered_total{to="domain"}`:             0,
		`lumi_node_takeover_checks_total{result="started"}`:           1,
		`lumi_node_takeover_checks_total{result="refused"}`:           1,
		`lumi_node_takeover_checks_total{result="moved"}`:             0,
		`lumi_node_dns_lookups_total{result="no_node"}`:               1, // the zone holds the domain, with no node
		`lumi_node_dns_lookup_duration_seconds_count`:                 1,
		`lumi_node_users`:           3,
		`lumi_node_users_online`:    1,
		`lumi_node_locates_pending`: 0,
		`lumi_node_workers`:         2,
		`lumi_node_ready`:           1,
	}
	// Only the series named above, and every requests_total pair.
	for k := range got {
		if _, ok := want[k]; !ok && !strings.HasPrefix(k, "lumi_node_requests_total") && !strings.HasPrefix(k, "lumi_node_dns_lookups_total") {
			delete(got, k)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
	if got := series(t, na.Collector())[`lumi_node_datagram_log_bytes_total`]; got == 0 {
		t.Error("datagram_log_bytes_total is 0 after a logged exchange")
	}
	problems, err := testutil.CollectAndLint(na.Collector())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	na.stop()
	if got := series(t, na.Collector())[`lumi_node_ready`]; got != 0 {
		t.Errorf("lumi_node_ready = %v after the node stopped, want 0", got)
	}
}

// TestOutcomeNames: the label of each reply the node sends is how that
// reply begins on the wire, and no two outcomes share a label.
func TestOutcomeNames(t *testing.T) {
	from := wire.Address{User: "u", Domain: "d.test"}
	for o, code := range map[outcome]wire.LocateCode{outRL2: wire.LocateUnknown, outRL3: wire.LocateOffline} {
		b, err := (&wire.LocateReply{Code: code, From: from, To: from}).Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), outcomeNames[o]) || len(outcomeNames[o]) != len(wire.TagLocateReply)+1 {
			t.Errorf("outcome %d is named %q; the RL it stands for is %q", o, outcomeNames[o], b)
		}
		if got := locateOutcome(code); got != o {
			t.Errorf("locateOutcome(%v) = %d, want %d", code, got, o)
		}
	}
	for _, r := range [][]byte{replyRR0, replyRR1, replyRR2, replyRD0, replyRD1, replyRD2} {
		if o := replyOutcome(r); o == outNone || outcomeNames[o] != string(r) {
			t.Errorf("reply %q has outcome %d named %q", r, o, outcomeNames[o])
		}
	}
	seen := map[string]outcome{}
	for o, name := range outcomeNames {
		if name == "" && (o < int(outDropped) || dropLabels[o-int(outDropped)] != "") {
			t.Errorf("outcome %d has no name", o)
		}
		if p, dup := seen[name]; dup && name != "" {
			t.Errorf("outcomes %d and %d are both %q", p, o, name)
		}
		seen[name] = outcome(o)
	}
}

// TestMetricsDocumented: docs/operations.md names every series the node
// exposes, every outcome and every drop reason.
func TestMetricsDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	n := startNode(t, "127.0.0.1:0", "a.test", []string{"ann"}, nil)
	ch := make(chan *prometheus.Desc, 100)
	n.Collector().Describe(ch)
	close(ch)
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	count := 0
	for d := range ch {
		m := fq.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("no name in %s", d)
		}
		count++
		if !strings.Contains(doc, "`"+m[1]+"`") {
			t.Errorf("docs/operations.md does not list %s", m[1])
		}
	}
	if count < 20 {
		t.Errorf("only %d series described", count)
	}
	for _, name := range outcomeNames {
		if name != "" && !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("docs/operations.md does not list the outcome %s", name)
		}
	}
	for _, name := range dropLabels {
		if name != "" && !strings.Contains(doc, "| `"+name+"` |") {
			t.Errorf("docs/operations.md does not list the drop reason %s", name)
		}
	}
}
