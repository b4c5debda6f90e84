package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"mi/cluster"
)

// exitDegraded is cluster's status for a domain that needs an operator:
// a node dead, nodes that disagree on the users, entries that do not
// decode, or no node at all. Not one of clientExit's or resolveExit's.
const exitDegraded = 14

// defaultClusterTimeout bounds the whole of lumictl cluster's reading.
const defaultClusterTimeout = 10 * time.Second

var clusterCommand = &command{
	name:     "cluster",
	synopsis: "-store URL [-timeout " + defaultClusterTimeout.String() + "] [-json] DOMAIN",
	summary:  "list the nodes that serve DOMAIN together, from their shared store",
	help: `
Reads the registry of DOMAIN's nodes from the store they share (lumi-node
-store) and prints one line per node: its id, the address it serves
PLUMI on, whether its heartbeat is current (alive or dead) and how long
ago it last beat by the store's clock, the digest of its user list, how
many users' bindings it owns and how many of those are online. Bindings
owned by an id that is not registered get a line of their own (state
"unknown"). A summary line follows.

The NOTE column flags what needs an operator: a dead node (the others
answer locates of its users as offline until their agents register
elsewhere); a node whose users digest differs from the one most alive
nodes have (its config lists other users); "users: no majority" when no
digest is held by more than half of the alive nodes. A node's entry stays after it
is gone, so that it resumes its bindings if it comes back with the same
id; remove one for good with
  redis-cli -u URL HDEL '{lumi:DOMAIN}:nodes' ID

URL is redis://[user:pass@]host:port[/db], rediss://... (TLS),
unix:///path, or a Sentinel (?master_set=NAME&addr=host:port...) or
Cluster (?addr=host:port...) address. The store is only read.

-json prints one object instead, for scripts:
  {"domain":"bb.com","nodes":[{"id":"a","addr":"192.0.2.1:3344",
   "state":"alive","heartbeat_age":0.4,"users":"0f3c9a1e5b7d2c48",
   "bindings":120,"online":97,"note":""}],"majority_users":"0f3c9a1e5b7d2c48",
   "bindings":120,"online":97,"malformed":0,"degraded":false}
state is "alive", "dead" or "unknown"; heartbeat_age is in seconds, null
when the store does not say; note is empty or the NOTE column's text;
majority_users is empty when there is none. On a failure stdout stays
empty.

Exit status: 0 every node alive and agreeing on the users; 14 the nodes
are printed but something is flagged: a NOTE (a node dead, a users
digest that differs or no majority, bindings owned by an id that is not
registered), store entries that do not decode (said on stderr), or no
node registered; 1 the store could not be read (the
reason on stderr); 2 bad usage, a bad URL or domain.

Examples:
  lumictl cluster -store redis://127.0.0.1:6379 bb.com
  lumictl cluster -store 'redis://:secret@redis.bb.com:6379/2' -json bb.com | jq -r '.nodes[] | select(.state=="dead") | .id'
  lumictl cluster -store 'redis://10.0.0.5:26379?master_set=lumi&addr=10.0.0.6:26379' bb.com
  lumictl cluster -store redis://127.0.0.1:6379 bb.com || echo "bb.com needs attention"`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var o clusterOptions
		fs.StringVar(&o.store, "store", "", "the domain's store, as lumi-node -store: redis://host:port[/db] and the other forms above")
		fs.DurationVar(&o.timeout, "timeout", defaultClusterTimeout, "give up on the store after this long")
		fs.BoolVar(&o.json, "json", false, "print one JSON object")
		return func(e *env, args []string) error {
			if len(args) != 1 {
				return usagef("want DOMAIN, got %d arguments", len(args))
			}
			if o.store == "" {
				return usagef("-store URL is required")
			}
			if o.timeout <= 0 {
				return usagef("-timeout %v: want a positive duration", o.timeout)
			}
			return clusterMain(e, o, args[0])
		}
	},
}

type clusterOptions struct {
	store   string
	timeout time.Duration
	json    bool
}

// clusterRow is one line of the table.
type clusterRow struct {
	id, addr, state string
	since           time.Duration // < 0: unknown
	users           string
	owned           cluster.Owned
	note            string
}

// clusterReport is what lumictl cluster found.
type clusterReport struct {
	domain    string
	rows      []clusterRow
	majority  string // the users digest most alive nodes have; "" if none
	total     cluster.Owned
	malformed int
	degraded  bool
}

func clusterMain(e *env, o clusterOptions, domain string) error {
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	s, err := cluster.Open(ctx, cluster.Config{URL: o.store, Domain: domain, Logger: slog.New(slog.NewTextHandler(e.stderr, nil))})
	if errors.Is(err, cluster.ErrInvalid) {
		return usagef("%s", printable(err.Error()))
	}
	if err != nil {
		return err
	}
	defer s.Close()
	nodes, nerr := s.Nodes(ctx)
	if nodes == nil { // nerr is not one of malformed entries
		return nerr
	}
	owned, berr := s.Bindings(ctx)
	if owned == nil {
		return berr
	}
	rep := clusterReport{domain: s.Domain(), malformed: countMalformed(e, nerr) + countMalformed(e, berr)}
	rep.build(nodes, owned)
	if o.json {
		err = writeClusterJSON(e.stdout, &rep)
	} else {
		err = writeCluster(e.stdout, &rep)
	}
	if err != nil {
		return err
	}
	if rep.degraded {
		return &exitError{exitDegraded}
	}
	return nil
}

// countMalformed is the number of entries err (from Nodes or Bindings)
// says do not decode, and prints them.
func countMalformed(e *env, err error) int {
	var me *cluster.MalformedError
	if !errors.As(err, &me) {
		return 0
	}
	for _, de := range me.Errs {
		fmt.Fprintf(e.stderr, "malformed: %s\n", printable(de.Error()))
	}
	if more := me.Count - len(me.Errs); more > 0 {
		fmt.Fprintf(e.stderr, "malformed: and %d more\n", more)
	}
	return me.Count
}

// build fills in the rows, the majority and the flags.
func (r *clusterReport) build(nodes []cluster.Node, owned map[string]cluster.Owned) {
	// The majority digest: held by more than half of the alive nodes (of
	// all nodes if none is alive).
	counts := map[string]int{}
	voters := 0
	anyAlive := slices.ContainsFunc(nodes, func(n cluster.Node) bool { return n.Alive })
	for _, n := range nodes {
		if n.Alive || !anyAlive {
			counts[n.Users]++
			voters++
		}
	}
	for d, c := range counts {
		if 2*c > voters {
			r.majority = d
		}
	}
	registered := map[string]bool{}
	for _, n := range nodes {
		registered[n.ID] = true
		row := clusterRow{id: n.ID, addr: n.Addr.String(), state: "alive", since: n.Since, users: n.Users, owned: owned[n.ID]}
		var notes []string
		if !n.Alive {
			row.state = "dead"
			notes = append(notes, "dead")
		}
		switch {
		case len(counts) <= 1:
		case r.majority == "":
			notes = append(notes, "users: no majority")
		case n.Users != r.majority:
			notes = append(notes, "users differ from the majority")
		}
		row.note = strings.Join(notes, "; ")
		r.rows = append(r.rows, row)
	}
	for _, id := range slices.Sorted(maps.Keys(owned)) {
		if !registered[id] {
			r.rows = append(r.rows, clusterRow{id: id, addr: "-", state: "unknown", since: -1, users: "-", owned: owned[id], note: "not registered"})
		}
	}
	for _, o := range owned {
		r.total.Bindings += o.Bindings
		r.total.Online += o.Online
	}
	r.degraded = len(nodes) == 0 || r.malformed > 0
	for _, row := range r.rows {
		if row.note != "" {
			r.degraded = true
		}
	}
}

// ageText is how long ago a heartbeat was, for the table.
func ageText(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d < 10*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s ago"
	default:
		return d.Round(time.Second).String() + " ago"
	}
}

func writeCluster(w io.Writer, r *clusterReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tADDRESS\tSTATE\tHEARTBEAT\tUSERS\tBINDINGS\tONLINE\tNOTE")
	alive := 0
	for _, row := range r.rows {
		if row.state == "alive" {
			alive++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", nameText(row.id), row.addr, row.state,
			ageText(row.since), nameText(row.users), row.owned.Bindings, row.owned.Online, row.note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	registered := 0
	for _, row := range r.rows {
		if row.state != "unknown" {
			registered++
		}
	}
	summary := fmt.Sprintf("%s: %d nodes registered, %d alive; %d bindings, %d online", r.domain, registered, alive, r.total.Bindings, r.total.Online)
	if r.malformed > 0 {
		summary += fmt.Sprintf("; %d entries that do not decode", r.malformed)
	}
	if registered == 0 {
		summary += "; no node registered"
	}
	_, err := fmt.Fprintln(w, summary)
	return err
}

// jsonCluster is the -json output; its field names are an interface.
type jsonCluster struct {
	Domain        string            `json:"domain"`
	Nodes         []jsonClusterNode `json:"nodes"`
	MajorityUsers string            `json:"majority_users"`
	Bindings      int               `json:"bindings"`
	Online        int               `json:"online"`
	Malformed     int               `json:"malformed"`
	Degraded      bool              `json:"degraded"`
}

type jsonClusterNode struct {
	ID           string   `json:"id"`
	Addr         string   `json:"addr"` // "-" for an unregistered owner
	State        string   `json:"state"`
	HeartbeatAge *float64 `json:"heartbeat_age"` // seconds
	Users        string   `json:"users"`
	Bindings     int      `json:"bindings"`
	Online       int      `json:"online"`
	Note         string   `json:"note"`
}

func writeClusterJSON(w io.Writer, r *clusterReport) error {
	out := jsonCluster{Domain: r.domain, Nodes: make([]jsonClusterNode, 0, len(r.rows)), MajorityUsers: r.majority,
		Bindings: r.total.Bindings, Online: r.total.Online, Malformed: r.malformed, Degraded: r.degraded}
	for _, row := range r.rows {
		n := jsonClusterNode{ID: row.id, Addr: row.addr, State: row.state, Users: row.users,
			Bindings: row.owned.Bindings, Online: row.owned.Online, Note: row.note}
		if row.since >= 0 {
			age := row.since.Seconds()
			n.HeartbeatAge = &age
		}
		out.Nodes = append(out.Nodes, n)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", asciiJSON(b))
	return err
}
