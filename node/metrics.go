package node

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"mi/lumi"
)

// metricPrefix begins the name of every series of the node.
const metricPrefix = "lumi_node_"

// dnsMetrics count the DNS lookups the node starts to find other domains'
// nodes. They are observed off the request path, in the lookup's own
// goroutine, so they can be client_golang's own vectors.
type dnsMetrics struct {
	lookups  *prometheus.CounterVec
	duration prometheus.Histogram
}

// dnsResultOK is the result label of a lookup that found a node; the
// others are lumi.Reason's words, "refused" when the node would not start
// the lookup (Limits.MaxLookups, SourceLookups), and "error".
const dnsResultOK = "ok"

func newDNSMetrics() dnsMetrics {
	return dnsMetrics{
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricPrefix + "dns_lookups_total",
			Help: "DNS lookups of other domains' nodes, by result: ok, a reason it found none (no_such_domain, no_node, no_address, not_offered, dns_failure), error, or refused when too many were in flight.",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    metricPrefix + "dns_lookup_duration_seconds",
			Help:    "Time a DNS lookup of another domain's node took, whatever its result (not counting those refused).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
}

func (m dnsMetrics) observe(err error, took time.Duration) {
	result := dnsResultOK
	if err != nil {
		if result = lumi.Reason(err); result == "" {
			result = "error"
		}
	}
	m.lookups.WithLabelValues(result).Inc()
	m.duration.Observe(took.Seconds())
}

func (m dnsMetrics) refused() { m.lookups.WithLabelValues("refused").Inc() }

// collector reads a node's counters at scrape time: it sums every
// goroutine's counters and reads the gauges from the table.
type collector struct {
	n *Node

	received, sent, requests, drops, forwarded, routed, unanswered,
	takeovers, challenges, proofs, rateLimited,
	users, online, pending, lookupsInFlight, workers, ready,
	logBytes, logRotations, logReopens *prometheus.Desc

	storeUp, nodes, settles *prometheus.Desc // with a store only
	freezes                 *prometheus.Desc
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(metricPrefix+name, help, labels, nil)
}

// Collector returns a prometheus.Collector of the node's metrics, the
// series docs/operations.md lists. Register it once, on a registry of
// one's own (lumi-node's -metrics does).
func (n *Node) Collector() prometheus.Collector {
	return &collector{
		n:               n,
		received:        desc("datagrams_received_total", "Datagrams read from the node's sockets, valid or not."),
		sent:            desc("datagrams_sent_total", "Datagrams the node sent: its replies, the locates and RLs it forwarded, its checks of agents and its challenges."),
		requests:        desc("requests_total", "Datagrams read, by message type (invalid: it did not decode) and outcome: the reply the node sent (RR0, RL3...), forwarded, resolving, check_started, check_pending, challenged, none, or the reason it was dropped.", "type", "outcome"),
		drops:           desc("dropped_total", "Datagrams dropped without an answer, by reason; also counted in requests_total's outcome, except locates dropped after their DNS lookup.", "reason"),
		forwarded:       desc("locates_forwarded_total", "PLs forwarded, by where: to one of the domain's agents, or to another domain's node.", "to"),
		routed:          desc("locate_replies_routed_total", "RLs routed back to the asker of a forwarded PL."),
		unanswered:      desc("locates_unanswered_total", "Forwarded PLs that ended with no RL within -locate-wait, by where they went.", "to"),
		takeovers:       desc("takeover_checks_total", "Takeover checks: started (a PR from a new address for a user online elsewhere), refused (the registered agent answered) and moved (it was silent; the new address won).", "result"),
		challenges:      desc("challenges_total", "PRs and PDs that needed proof of a secret (-auth), by what the node did: sent an RA, or not (rate_limited).", "result"),
		proofs:          desc("proofs_total", "PAs, by result: valid, invalid (wrong mac), repeated (the same PA again), stale (no challenge for it: a fresh RA).", "result"),
		rateLimited:     desc("rate_limited_total", "Datagrams refused by a per-source rate limit, by limit: agent (-agent-rate), peer (-peer-rate), challenge.", "limit"),
		users:           desc("users", "Users of the domain (the config)."),
		online:          desc("users_online", "Users registered and online."),
		pending:         desc("locates_pending", "Forwarded PLs waiting for their RL."),
		lookupsInFlight: desc("dns_lookups_in_flight", "DNS lookups of other domains' nodes in flight."),
		workers:         desc("workers", "Sockets serving the node's address, each read by its own goroutine."),
		ready:           desc("ready", "1 while every worker reads its socket, else 0 (as /readyz says)."),
		logBytes:        desc("datagram_log_bytes_total", "Bytes written to the datagram log's files."),
		logRotations:    desc("datagram_log_rotations_total", "Moves of the datagram log to FILE.1 at its size cap (-log-max)."),
		logReopens:      desc("datagram_log_reopens_total", "Reopens of the datagram log (SIGHUP)."),
		freezes:         desc("registrations_frozen_total", "Users whose registration froze: too many refused PDs, takeover PRs or stray RLs for them from other addresses within -guess-window; their PDs and takeovers are refused for -freeze-for."),
		storeUp:         desc("store_up", "With -store: 1 while the store answers, else 0 (the node serves from memory and takes registrations alone)."),
		nodes:           desc("cluster_nodes", "With -store: the domain's other nodes this node knows, by state (alive: their heartbeat is current).", "state"),
		settles:         desc("binding_changes_total", "With -store: binding changes this node wrote, by result: won (the store took it), lost (another node's binding stands), local (the store was unreachable: taken here, written back later).", "result"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.received, c.sent, c.requests, c.drops, c.forwarded, c.routed, c.unanswered,
		c.takeovers, c.challenges, c.proofs, c.rateLimited, c.users, c.online, c.pending, c.lookupsInFlight,
		c.workers, c.ready, c.logBytes, c.logRotations, c.logReopens, c.storeUp, c.nodes, c.settles, c.freezes} {
		ch <- d
	}
	c.n.dnsMetrics.lookups.Describe(ch)
	c.n.dnsMetrics.duration.Describe(ch)
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	var sum counters
	for _, st := range n.allCounters() {
		sum.add(st)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter(c.received, sum.received.Load())
	counter(c.sent, sum.sent.Load())
	// Only the pairs that happened: most types have few outcomes.
	for i := range sum.requests {
		for o := range outcomes {
			if v := sum.requests[i][o].Load(); v > 0 && outcomeNames[o] != "" {
				counter(c.requests, v, typeName(i), outcomeNames[o])
			}
		}
	}
	for r := range dropReasons {
		if dropLabels[r] == "" {
			continue
		}
		v := sum.lateDrops[r].Load()
		for i := range sum.requests {
			v += sum.requests[i][outDropped+outcome(r)].Load()
		}
		counter(c.drops, v, dropLabels[r])
	}
	for k := range forwardKinds {
		counter(c.forwarded, sum.forwarded[k].Load(), forwardNames[k])
		counter(c.unanswered, sum.unanswered[k].Load(), forwardNames[k])
	}
	counter(c.routed, sum.routed.Load())
	counter(c.freezes, sum.freezes.Load())
	for r := range takeoverResults {
		counter(c.takeovers, sum.takeovers[r].Load(), takeoverNames[r])
	}
	for r := range challengeResults {
		counter(c.challenges, sum.challenges[r].Load(), challengeNames[r])
	}
	for r := range proofResults {
		counter(c.proofs, sum.proofs[r].Load(), proofNames[r])
	}
	for k := range limitKinds {
		counter(c.rateLimited, sum.rateLimited[k].Load(), limitNames[k])
	}
	users, online := n.core.t.counts()
	gauge(c.users, float64(users))
	gauge(c.online, float64(online))
	gauge(c.pending, float64(n.core.t.pendingLen()))
	gauge(c.lookupsInFlight, float64(n.resolving.Load()))
	gauge(c.workers, float64(len(n.workers)))
	ready := 0.0
	if n.Serving() {
		ready = 1
	}
	gauge(c.ready, ready)
	ls := n.dlog.Stats()
	counter(c.logBytes, ls.Bytes)
	counter(c.logRotations, ls.Rotations)
	counter(c.logReopens, ls.Reopens)
	n.dnsMetrics.lookups.Collect(ch)
	n.dnsMetrics.duration.Collect(ch)
	if n.store != nil {
		c.collectStore(ch)
	}
}

// collectStore adds the series of a node with a store.
func (c *collector) collectStore(ch chan<- prometheus.Metric) {
	st := c.n.store
	up := 0.0
	if st.up.Load() {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(c.storeUp, prometheus.GaugeValue, up)
	alive, dead := 0.0, 0.0
	for i, s := range *c.n.core.cl.sibs.Load() {
		switch {
		case i == ownerSelf:
		case s.alive:
			alive++
		default:
			dead++
		}
	}
	ch <- prometheus.MustNewConstMetric(c.nodes, prometheus.GaugeValue, alive, "alive")
	ch <- prometheus.MustNewConstMetric(c.nodes, prometheus.GaugeValue, dead, "dead")
	for r := range settleResults {
		ch <- prometheus.MustNewConstMetric(c.settles, prometheus.CounterValue, float64(st.settled[r].Load()), settleNames[r])
	}
}

// allCounters are the counters of every goroutine of the node.
func (n *Node) allCounters() []*counters {
	all := []*counters{n.bg, n.srcSt}
	for _, w := range n.workers {
		all = append(all, w.st)
	}
	return all
}

// add adds o's counts to c's; c is a sum nobody else writes.
func (c *counters) add(o *counters) {
	c.received.Add(o.received.Load())
	c.sent.Add(o.sent.Load())
	c.routed.Add(o.routed.Load())
	c.freezes.Add(o.freezes.Load())
	addAll(c.requests[:], o.requests[:])
	addEach(c.lateDrops[:], o.lateDrops[:])
	addEach(c.forwarded[:], o.forwarded[:])
	addEach(c.unanswered[:], o.unanswered[:])
	addEach(c.takeovers[:], o.takeovers[:])
	addEach(c.challenges[:], o.challenges[:])
	addEach(c.proofs[:], o.proofs[:])
	addEach(c.rateLimited[:], o.rateLimited[:])
}

func addAll(dst, src [][outcomes]atomic.Uint64) {
	for i := range dst {
		addEach(dst[i][:], src[i][:])
	}
}

func addEach(dst, src []atomic.Uint64) {
	for i := range dst {
		dst[i].Add(src[i].Load())
	}
}
