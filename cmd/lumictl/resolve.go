package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"mi/internal/fileerr"
	"mi/lumi"
)

// Exit statuses of resolve, one per outcome of a lookup. 4 and 9 are the
// client commands' domain_unknown and dns_failure, since they mean the same
// there; the others follow clientExit's codes without reusing one.
var resolveExit = map[string]int{
	"domain_unknown": clientExit["domain_unknown"], // NXDOMAIN
	"dns_failure":    clientExit["dns_failure"],
	"no_node":        10, // the domain exists and publishes no node
	"no_address":     11, // SRV records whose targets have no address
}

// resolveReason is the reason word of each lookup failure lumi reports.
// A kind missing here (lumi grew one) is printed as "internal", exit 1.
var resolveReason = []struct {
	kind   error
	reason string
}{
	{lumi.ErrNXDomain, "domain_unknown"},
	{lumi.ErrNoNode, "no_node"},
	{lumi.ErrNotOffered, "no_node"},
	{lumi.ErrNoAddress, "no_address"},
	{lumi.ErrDNSFailure, "dns_failure"},
}

// sourceNames are the names of target sources in the output, fixed here
// so that -json stays stable whatever lumi.Source.String says.
var sourceNames = map[lumi.Source]string{
	lumi.SourcePeer:    "peer",
	lumi.SourceSRV:     "SRV",
	lumi.SourceHosts:   "hosts",
	lumi.SourceAddress: "A/AAAA",
}

const weightedNote = "note: targets of equal priority are in RFC 2782's weighted random order, different each run"

var resolveCommand = &command{
	name:     "resolve",
	synopsis: "[-dns host:port] [-hosts FILE] [-peer domain=host:port] [-timeout " + lumi.DefaultTimeout.String() + "] [-json] DOMAIN",
	summary:  "list the LUMI node targets DNS gives for DOMAIN, in the order they are tried",
	help: `
Looks DOMAIN's node up as a node or an agent does (package lumi): a
static -peer entry (as lumi-node -peer); else the SRV records
_lumi._udp.DOMAIN and their targets' A and AAAA records; only when there
is no SRV record at all, DOMAIN's hosts file entry, else DOMAIN's own A
and AAAA records, on port 3344. Prints one line per target, in the order
they are tried (the first one not marked down first): priority, weight,
TTL (the lowest of the records the target rests on), the SRV target name
(else DOMAIN), the address, where it came from (SRV, hosts, A/AAAA,
peer) and whether it is marked down.

Targets of equal priority come in RFC 2782's weighted random order, drawn
again on every run: run it a few times to see the shares. DOWN is always
"no" here: marks are kept by a running node's resolver, and this command
starts a fresh one. See docs/dns.md for the zone to publish.

-json prints one object instead, for scripts:
  {"domain":"bb.com","targets":[{"priority":10,"weight":60,"ttl":3600,
   "name":"node1.bb.com","addr":"192.0.2.1:3344","source":"SRV","down":false}]}
ttl is in seconds (0 for a hosts file entry or a peer); priority and
weight are 0 for a target not from SRV (the table shows "-"); source is
one of "SRV", "hosts", "A/AAAA", "peer". On a failure stdout stays empty.

Exit status: 0 found; 2 bad usage, or a name that cannot be a domain;
  4 domain_unknown  NXDOMAIN: neither _lumi._udp.DOMAIN nor DOMAIN exists
  9 dns_failure     a query timed out, or the server answered an error
                    such as SERVFAIL: the domain may well exist
  10 no_node        the domain exists but publishes no node: neither SRV
                    nor A/AAAA records, or the SRV target "."
  11 no_address     SRV records whose targets have no A or AAAA record
                    (or whose ports are all 0)
  1 anything else. The reason is printed to stderr as "REASON: message".

Examples:
  lumictl resolve bb.com
  lumictl resolve -dns 127.0.0.1:5353 bb.com
  lumictl resolve -dns 192.0.2.53 -hosts - -json bb.com | jq -r '.targets[].addr'
  lumictl resolve -peer bb.com=192.0.2.7 bb.com                           # what lumi-node -peer does
  for i in 1 2 3; do lumictl resolve -hosts - bb.com | head -3; done   # the weighted order`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var o resolveOptions
		fs.StringVar(&o.dns, "dns", "", "DNS server `host:port` to ask (default: the first nameserver of /etc/resolv.conf)")
		fs.StringVar(&o.hosts, "hosts", "", "hosts `file` (default "+lumi.DefaultHostsFile+`; "-" for none)`)
		o.peers = peerFlag{}
		fs.Var(o.peers, "peer", "static node of a domain, `domain=host[:port]` (repeatable), as lumi-node -peer")
		fs.DurationVar(&o.timeout, "timeout", lumi.DefaultTimeout, "wait this long for each DNS reply; an unanswered query is sent once more")
		fs.BoolVar(&o.json, "json", false, "print one JSON object")
		return func(e *env, args []string) error {
			if len(args) != 1 {
				return usagef("want DOMAIN, got %d arguments", len(args))
			}
			return resolveMain(e, o, args[0])
		}
	},
}

type resolveOptions struct {
	dns, hosts string
	peers      peerFlag
	timeout    time.Duration
	json       bool
}

func resolveMain(e *env, o resolveOptions, domain string) error {
	if o.timeout <= 0 {
		return usagef("-timeout %v: want a positive duration", o.timeout)
	}
	// The resolver's warnings (records over its caps) are for the
	// operator reading this run, on its stderr.
	log := slog.New(slog.NewTextHandler(e.stderr, nil))
	if err := lumi.CheckHostsFile(o.hosts); err != nil {
		return usagef("%v", fileerr.Flag("-hosts", o.hosts, err))
	}
	res, err := lumi.NewResolver(lumi.Config{Peers: o.peers, DNSServer: o.dns, HostsFile: o.hosts, Timeout: o.timeout, Logger: log})
	if err != nil {
		return usagef("%v", err)
	}
	ts, err := res.Targets(context.Background(), domain)
	if err != nil {
		return resolveFailure(e, err)
	}
	if o.json {
		return writeTargetsJSON(e.stdout, domain, ts)
	}
	return writeTargets(e.stdout, ts)
}

// resolveFailure prints why the lookup failed and returns its exit status.
func resolveFailure(e *env, err error) error {
	var le *lumi.LookupError
	if errors.Is(err, lumi.ErrNoSuchDomain) && !errors.As(err, &le) {
		return usagef("%s", printable(err.Error())) // not a name lumi looks up
	}
	reason := "internal"
	for _, r := range resolveReason {
		if errors.Is(err, r.kind) {
			reason = r.reason
			break
		}
	}
	// The message quotes what the DNS server sent, such as target names.
	fmt.Fprintf(e.stderr, "%s: %s\n", reason, printable(err.Error()))
	if code, ok := resolveExit[reason]; ok {
		return &exitError{code}
	}
	return errFailed
}

// writeTargets prints the table, and the note on the order when it
// matters: two SRV targets of the same priority.
func writeTargets(w io.Writer, ts []lumi.Target) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PRIORITY\tWEIGHT\tTTL\tTARGET\tADDRESS\tSOURCE\tDOWN")
	for _, t := range ts {
		prio, weight := "-", "-" // only SRV records have them
		if t.Source == lumi.SourceSRV {
			prio, weight = strconv.Itoa(int(t.Priority)), strconv.Itoa(int(t.Weight))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", prio, weight, ttlText(t.TTL),
			nameText(t.Name), t.Addr, sourceName(t.Source), yesNo(t.Down))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if sharedPriority(ts) {
		_, err := fmt.Fprintln(w, weightedNote)
		return err
	}
	return nil
}

// sharedPriority reports whether two SRV targets of different names have
// the same priority; addresses of one name always stay together.
func sharedPriority(ts []lumi.Target) bool {
	names := make(map[uint16]string)
	for _, t := range ts {
		if t.Source != lumi.SourceSRV {
			continue
		}
		if n, ok := names[t.Priority]; ok && n != t.Name {
			return true
		}
		names[t.Priority] = t.Name
	}
	return false
}

func ttlText(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func sourceName(s lumi.Source) string {
	if n, ok := sourceNames[s]; ok {
		return n
	}
	return "unknown"
}

// jsonTargets is the -json output; its field names are an interface.
type jsonTargets struct {
	Domain  string       `json:"domain"`
	Targets []jsonTarget `json:"targets"`
}

type jsonTarget struct {
	Priority uint16 `json:"priority"`
	Weight   uint16 `json:"weight"`
	TTL      int64  `json:"ttl"` // seconds
	Name     string `json:"name"`
	Addr     string `json:"addr"`
	Source   string `json:"source"`
	Down     bool   `json:"down"`
}

func writeTargetsJSON(w io.Writer, domain string, ts []lumi.Target) error {
	out := jsonTargets{Domain: domain, Targets: make([]jsonTarget, 0, len(ts))}
	for _, t := range ts {
		out.Targets = append(out.Targets, jsonTarget{
			Priority: t.Priority, Weight: t.Weight, TTL: int64(t.TTL / time.Second),
			Name: t.Name, Addr: t.Addr.String(), Source: sourceName(t.Source), Down: t.Down,
		})
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", asciiJSON(b))
	return err
}

// asciiJSON escapes every non-ASCII character of b, valid JSON, as \uXXXX:
// encoding/json leaves DEL and C1 controls (U+009B is CSI) raw, and a name
// from the network may reach a terminal through them.
func asciiJSON(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, r := range string(b) {
		switch {
		case r < utf8.RuneSelf && r != 0x7f:
			out = append(out, byte(r))
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r) // JSON spells these as UTF-16
			out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
	}
	return out
}

// nameText is a name for a table column: printable, and quoted if empty
// or holding a space, which would shift the columns after it.
func nameText(s string) string {
	if s == "" || strings.ContainsRune(s, ' ') {
		return strconv.Quote(s)
	}
	return printable(s)
}

// peerFlag collects -peer entries; a bad one is a usage error.
type peerFlag map[string]netip.AddrPort

func (p peerFlag) String() string { return fmt.Sprint(map[string]netip.AddrPort(p)) }

func (p peerFlag) Set(v string) error {
	d, ap, err := lumi.ParsePeer(v)
	if err != nil {
		return err
	}
	p[d] = ap
	return nil
}

// printable returns s as it is if every character shows as itself, else
// Go-quoted, so that nothing from the network acts on a terminal.
func printable(s string) string {
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
