package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"mi/lumi"
	"mi/lumi/dnszone"
	"mi/wire"
)

// startZone serves records on a loopback port and returns its address.
func startZone(t *testing.T, records ...string) string {
	t.Helper()
	rrs := make([]dns.RR, len(records))
	for i, s := range records {
		rrs[i] = dnszone.MustRR(s)
	}
	z, err := dnszone.Start("127.0.0.1:0", rrs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { z.Close() })
	return z.Addr()
}

// silentServer is a DNS server that reads every query and never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return // closed
			}
		}
	}()
	return pc.LocalAddr().String()
}

// resolveAt runs lumictl resolve against the DNS server at server,
// without the system's hosts file, and with a long timeout: a reply on a
// loaded machine may be slow, and a timeout would fail a test that wants
// an answer.
func resolveAt(server string, args ...string) (code int, stdout, stderr string) {
	return runLumictl(append([]string{"resolve", "-dns", server, "-hosts", "-", "-timeout", "5s"}, args...)...)
}

// tableRows returns the rows of resolve's table, each split in its
// columns, after checking the header.
func tableRows(t *testing.T, stdout string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if got := strings.Fields(lines[0]); !cmp.Equal(got, []string{"PRIORITY", "WEIGHT", "TTL", "TARGET", "ADDRESS", "SOURCE", "DOWN"}) {
		t.Fatalf("header %q\n%s", lines[0], stdout)
	}
	var rows [][]string
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "note: ") {
			continue
		}
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

var bbZone = []string{
	"_lumi._udp.bb.com. 3600 IN SRV 10 60 3344 node1.bb.com.",
	"_lumi._udp.bb.com. 3600 IN SRV 10 40 3345 node2.bb.com.",
	"_lumi._udp.bb.com. 3600 IN SRV 20 0 3344 backup.bb.com.",
	"node1.bb.com. 300 IN A 192.0.2.1",
	"node1.bb.com. 300 IN AAAA 2001:db8::1",
	"node2.bb.com. 3600 IN A 192.0.2.2",
	"backup.bb.com. 3600 IN A 192.0.2.3",
}

// TestResolveSRVOrder runs resolve again and again on a zone with two
// nodes of one priority and a backup: every run lists the two before the
// backup, each node's addresses together, and the runs put each of the
// two first some of the time, since each run draws the weighted order
// afresh (node2 comes first with odds about 40 in 101, so 50 runs all
// alike would be a bug, not bad luck).
func TestResolveSRVOrder(t *testing.T) {
	server := startZone(t, bbZone...)
	node1 := [][]string{
		{"10", "60", "300s", "node1.bb.com", "192.0.2.1:3344", "SRV", "no"},
		{"10", "60", "300s", "node1.bb.com", "[2001:db8::1]:3344", "SRV", "no"},
	}
	node2 := [][]string{{"10", "40", "3600s", "node2.bb.com", "192.0.2.2:3345", "SRV", "no"}}
	backup := [][]string{{"20", "0", "3600s", "backup.bb.com", "192.0.2.3:3344", "SRV", "no"}}
	want := map[string][][]string{
		"node1.bb.com": concat(node1, node2, backup),
		"node2.bb.com": concat(node2, node1, backup),
	}
	firsts := map[string]int{}
	for range 50 {
		code, stdout, stderr := resolveAt(server, "bb.com")
		if code != exitOK || stderr != "" {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr)
		}
		if !strings.HasSuffix(stdout, "\n"+weightedNote+"\n") {
			t.Fatalf("no note on the weighted order:\n%s", stdout)
		}
		rows := tableRows(t, stdout)
		first := rows[0][3]
		if diff := cmp.Diff(want[first], rows); diff != "" {
			t.Fatalf("rows (-want +got):\n%s\n%s", diff, stdout)
		}
		firsts[first]++
	}
	if len(firsts) != 2 {
		t.Errorf("first targets over 50 runs: %v, want both node1 and node2", firsts)
	}
}

func concat[T any](parts ...[]T) []T {
	var out []T
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// TestResolveAddressFallback: a domain without SRV records is its own
// node, on the default port, IPv4 first; with one target per priority
// there is no note on the weighted order.
func TestResolveAddressFallback(t *testing.T) {
	server := startZone(t, "cc.org. 600 IN AAAA 2001:db8::9", "cc.org. 600 IN A 192.0.2.9")
	code, stdout, stderr := resolveAt(server, "cc.org")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	want := [][]string{
		{"-", "-", "600s", "cc.org", fmt.Sprintf("192.0.2.9:%d", wire.PLUMIPort), "A/AAAA", "no"},
		{"-", "-", "600s", "cc.org", fmt.Sprintf("[2001:db8::9]:%d", wire.PLUMIPort), "A/AAAA", "no"},
	}
	if diff := cmp.Diff(want, tableRows(t, stdout)); diff != "" {
		t.Errorf("rows (-want +got):\n%s\n%s", diff, stdout)
	}
	if strings.Contains(stdout, "note:") {
		t.Errorf("a note without targets of equal priority:\n%s", stdout)
	}
}

// TestResolveHostsAndPeer: the hosts file entry of a domain without SRV
// records, and a static peer, which needs no DNS at all.
func TestResolveHostsAndPeer(t *testing.T) {
	server := startZone(t, "dd.net. 600 IN A 192.0.2.50")
	hosts := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hosts, []byte("192.0.2.77 dd.net\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"hosts", []string{"-hosts", hosts, "dd.net"}, []string{"-", "-", "-", "dd.net", "192.0.2.77:3344", "hosts", "no"}},
		{"peer", []string{"-peer", "dd.net=192.0.2.88:4000", "dd.net"}, []string{"-", "-", "-", "dd.net", "192.0.2.88:4000", "peer", "no"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := resolveAt(server, tt.args...)
			if code != exitOK || stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			if diff := cmp.Diff([][]string{tt.want}, tableRows(t, stdout)); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveFailures(t *testing.T) {
	const soa = "bb.com. 3600 IN SOA ns.bb.com. admin.bb.com. 1 3600 600 86400 60"
	zone := startZone(t,
		soa,
		"_lumi._udp.none.bb.com. 60 IN SRV 0 0 0 .",
		"_lumi._udp.lost.bb.com. 60 IN SRV 10 10 3344 gone.bb.com.",
	)
	silent := silentServer(t)
	tests := []struct {
		name   string
		server string
		args   []string
		code   int
		stderr string // prefix
	}{
		{"NXDOMAIN", zone, []string{"nope.bb.com"}, 4, "domain_unknown: "},
		{"NXDOMAIN -json", zone, []string{"-json", "nope.bb.com"}, 4, "domain_unknown: "},
		{"only an SOA", zone, []string{"bb.com"}, 10, "no_node: "},
		{`target "."`, zone, []string{"none.bb.com"}, 10, "no_node: "},
		{"target without address", zone, []string{"lost.bb.com"}, 11, "no_address: "},
		// The default timeout: the lookup ends after it and one retry.
		{"silent server", silent, []string{"-timeout", "400ms", "bb.com"}, 9, "dns_failure: "},
		{"no domain", zone, nil, exitUsage, "lumictl resolve: want DOMAIN"},
		{"two domains", zone, []string{"bb.com", "cc.org"}, exitUsage, "lumictl resolve: want DOMAIN"},
		{"not a domain", zone, []string{"b b.com"}, exitUsage, `lumictl resolve: lumi: no such domain: invalid domain name "b b.com"`},
		{"bad -timeout", zone, []string{"-timeout", "0s", "bb.com"}, exitUsage, "lumictl resolve: -timeout 0s"},
		{"bad -peer", zone, []string{"-peer", "bb.com", "bb.com"}, exitUsage, `invalid value "bb.com" for flag -peer`},
		{"bad -dns", zone, []string{"-dns", "[::1", "bb.com"}, exitUsage, "lumictl resolve: lumi: bad resolver config"},
		{"missing -hosts", zone, []string{"-hosts", "/nonexistent/hosts", "bb.com"}, exitUsage, "lumictl resolve: -hosts /nonexistent/hosts: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := resolveAt(tt.server, tt.args...)
			if code != tt.code || stdout != "" || !strings.HasPrefix(stderr, tt.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, nothing, %q...", code, stdout, stderr, tt.code, tt.stderr)
			}
		})
	}
}

// TestResolveJSON decodes -json into the fields scripts rely on, unknown
// ones refused, so that a renamed field fails.
func TestResolveJSON(t *testing.T) {
	server := startZone(t,
		"_lumi._udp.bb.com. 3600 IN SRV 10 60 3344 node1.bb.com.",
		"_lumi._udp.bb.com. 3600 IN SRV 20 0 3345 backup.bb.com.",
		"node1.bb.com. 300 IN A 192.0.2.1",
		"node1.bb.com. 300 IN AAAA 2001:db8::1",
		"backup.bb.com. 3600 IN A 192.0.2.3",
	)
	type target struct {
		Priority int    `json:"priority"`
		Weight   int    `json:"weight"`
		TTL      int    `json:"ttl"`
		Name     string `json:"name"`
		Addr     string `json:"addr"`
		Source   string `json:"source"`
		Down     bool   `json:"down"`
	}
	type output struct {
		Domain  string   `json:"domain"`
		Targets []target `json:"targets"`
	}
	code, stdout, stderr := resolveAt(server, "-json", "bb.com")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if strings.Count(stdout, "\n") != 1 || !strings.HasSuffix(stdout, "\n") {
		t.Errorf("want one line, got:\n%s", stdout)
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	var got output
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("%v in:\n%s", err, stdout)
	}
	want := output{Domain: "bb.com", Targets: []target{
		{10, 60, 300, "node1.bb.com", "192.0.2.1:3344", "SRV", false},
		{10, 60, 300, "node1.bb.com", "[2001:db8::1]:3344", "SRV", false},
		{20, 0, 3600, "backup.bb.com", "192.0.2.3:3345", "SRV", false},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("-json (-want +got):\n%s", diff)
	}
}

// TestResolveCapLogged: the resolver's warning about the records it
// leaves out reaches the command's stderr, as a slog line.
func TestResolveCapLogged(t *testing.T) {
	var zone []string
	for i := range 33 {
		zone = append(zone, fmt.Sprintf("_lumi._udp.bb.com. 60 IN SRV 10 10 3344 n%d.bb.com.", i),
			fmt.Sprintf("n%d.bb.com. 60 IN A 192.0.2.%d", i, i+1))
	}
	code, stdout, stderr := resolveAt(startZone(t, zone...), "bb.com")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if rows := tableRows(t, stdout); len(rows) != 32 {
		t.Errorf("%d targets, want 32", len(rows))
	}
	if !strings.Contains(stderr, `level=WARN msg="lumi: SRV records over the cap are not used"`) {
		t.Errorf("stderr lacks the cap warning:\n%s", stderr)
	}
}

// hostile are names no DNS library should hand over, but which must not
// reach a terminal raw if one does.
var hostile = []string{"evil\x1b[2J.bb.com", "csi\u009b31m.bb.com", "bidi\u202e.bb.com", "bad\xff.bb.com", "del\x7f.bb.com"}

func TestResolveEscapesNames(t *testing.T) {
	for _, name := range hostile {
		ts := []lumi.Target{{Name: name, Source: lumi.SourceSRV}}
		var text, js bytes.Buffer
		if err := writeTargets(&text, ts); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text.String(), fmt.Sprintf("%q", name)) {
			t.Errorf("table: %q not quoted in %q", name, text.String())
		}
		if err := writeTargetsJSON(&js, "bb.com", ts); err != nil {
			t.Fatal(err)
		}
		for _, c := range js.Bytes() {
			if c >= 0x7f || (c < ' ' && c != '\n') {
				t.Errorf("-json: byte %#x in %q", c, js.String())
			}
		}
		var got jsonTargets
		if err := json.Unmarshal(js.Bytes(), &got); err != nil || len(got.Targets) != 1 {
			t.Fatalf("-json of %q: %v in %q", name, err, js.String())
		}
		if want := strings.ToValidUTF8(name, "\ufffd"); got.Targets[0].Name != want {
			t.Errorf("-json name %q, want %q", got.Targets[0].Name, want)
		}
	}
}

func TestResolveEscapesErrors(t *testing.T) {
	for _, name := range hostile {
		err := &lumi.LookupError{Domain: "bb.com", Kind: lumi.ErrNoAddress, Tried: []string{"SRV target " + name + ": no address"}}
		var stderr bytes.Buffer
		got := resolveFailure(&env{stderr: &stderr}, err)
		if xe, ok := got.(*exitError); !ok || xe.code != resolveExit["no_address"] {
			t.Errorf("%q: %v", name, got)
		}
		if want := fmt.Sprintf("no_address: %q\n", err.Error()); stderr.String() != want {
			t.Errorf("stderr %q, want %q", stderr.String(), want)
		}
	}
}

func TestResolveAstralJSON(t *testing.T) {
	if got, want := string(asciiJSON([]byte(`{"a":"x😀é"}`))), `{"a":"x\ud83d\ude00\u00e9"}`; got != want {
		t.Errorf("asciiJSON: %s, want %s", got, want)
	}
}

// TestResolveExitCodes: each of resolve's codes means one thing, the
// same as in the client commands where they share a reason, and -h says
// each of them.
func TestResolveExitCodes(t *testing.T) {
	_, _, help := runLumictl("resolve", "-h")
	seen := map[int]string{exitOK: "ok", exitFailed: "failed", exitUsage: "usage"}
	for reason, code := range resolveExit {
		if other, dup := seen[code]; dup {
			t.Errorf("exit %d: %s and %s", code, reason, other)
		}
		seen[code] = reason
		if c, ok := clientExit[reason]; ok && c != code {
			t.Errorf("%s: exit %d, %d in the client commands", reason, code, c)
		}
		if !strings.Contains(help, fmt.Sprintf("%d %s", code, reason)) {
			t.Errorf("-h does not say \"%d %s\":\n%s", code, reason, help)
		}
	}
	for reason, code := range clientExit {
		if other, ok := seen[code]; ok && other != reason && code != exitFailed {
			t.Errorf("exit %d: %s in resolve, %s in the client commands", code, other, reason)
		}
	}
	for _, r := range resolveReason {
		if _, ok := resolveExit[r.reason]; !ok {
			t.Errorf("reason %s has no exit status", r.reason)
		}
	}
}

func TestResolveHelp(t *testing.T) {
	code, _, help := runLumictl("resolve", "-h")
	for _, s := range []string{"Examples:\n  lumictl resolve", "weighted random order", "DOWN is always", "-json", "docs/dns.md",
		"[-timeout " + lumi.DefaultTimeout.String() + "]", "(default " + lumi.DefaultTimeout.String() + ")", "(default " + lumi.DefaultHostsFile + ";"} {
		if code != exitOK || !strings.Contains(help, s) {
			t.Errorf("exit %d, help lacks %q", code, s)
		}
	}
}
