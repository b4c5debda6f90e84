package conform

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// tapPoint is a test point as a TAP consumer reads it.
type tapPoint struct {
	OK        bool
	N         int
	Desc      string
	Directive string         // "SKIP reason", or ""
	YAML      map[string]any // the diagnostic block, nil if none
}

var (
	tapPlan   = regexp.MustCompile(`^1\.\.(\d+)$`)
	tapPoint_ = regexp.MustCompile(`^(not )?ok (\d+)(?: - (.*?))?(?: # (.*))?$`)
	yamlKey   = regexp.MustCompile(`^  ([a-z_]+):(?: (.*))?$`)
)

// parseTAP checks that out is TAP version 14 as this package writes it and
// returns its test points: the version line, the plan first and matching
// the count, points numbered in order, and every YAML block well formed:
// "  ---", lines "  key: JSON" or "  key:" followed by "    - JSON"
// items, "  ...". Values are JSON, which is valid YAML flow.
func parseTAP(t *testing.T, out string) []tapPoint {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) < 2 || lines[0] != "TAP version 14" {
		t.Fatalf("TAP does not start with the version line:\n%s", out)
	}
	m := tapPlan.FindStringSubmatch(lines[1])
	if m == nil {
		t.Fatalf("line 2 is not a plan: %q", lines[1])
	}
	plan, _ := strconv.Atoi(m[1])
	var points []tapPoint
	for i := 2; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "Bail out!") {
			continue
		}
		if l == "  ---" {
			if len(points) == 0 || points[len(points)-1].YAML != nil {
				t.Fatalf("line %d: a YAML block that follows no test point", i+1)
			}
			block := map[string]any{}
			var list string // the key whose items follow
			for i++; ; i++ {
				if i == len(lines) {
					t.Fatalf("YAML block not closed by \"  ...\"")
				}
				l := lines[i]
				if l == "  ..." {
					break
				}
				if item, ok := strings.CutPrefix(l, "    - "); ok && list != "" {
					var v any
					if err := json.Unmarshal([]byte(item), &v); err != nil {
						t.Fatalf("line %d: item of %s is not a JSON value: %v: %q", i+1, list, err, item)
					}
					block[list] = append(block[list].([]any), v)
					continue
				}
				km := yamlKey.FindStringSubmatch(l)
				if km == nil {
					t.Fatalf("line %d: not a YAML line of the block: %q", i+1, l)
				}
				if _, dup := block[km[1]]; dup {
					t.Fatalf("line %d: key %s twice", i+1, km[1])
				}
				if km[2] == "" {
					list = km[1]
					block[list] = []any{}
					continue
				}
				list = ""
				var v any
				if err := json.Unmarshal([]byte(km[2]), &v); err != nil {
					t.Fatalf("line %d: value of %s is not a JSON value: %v: %q", i+1, km[1], err, km[2])
				}
				block[km[1]] = v
			}
			points[len(points)-1].YAML = block
			continue
		}
		pm := tapPoint_.FindStringSubmatch(l)
		if pm == nil {
			t.Fatalf("line %d is not a test point: %q", i+1, l)
		}
		n, _ := strconv.Atoi(pm[2])
		if n != len(points)+1 {
			t.Fatalf("line %d: test point %d, want %d", i+1, n, len(points)+1)
		}
		points = append(points, tapPoint{OK: pm[1] == "", N: n, Desc: pm[3], Directive: pm[4]})
	}
	if len(points) != plan {
		t.Fatalf("plan 1..%d, %d test points", plan, len(points))
	}
	for _, p := range points {
		if !p.OK && p.YAML == nil {
			t.Errorf("test point %d fails without a diagnostic block", p.N)
		}
	}
	return points
}

// someResults has a pass, a skip and failures with every kind of byte.
func someResults() []Result {
	return []Result{
		{ID: "REG-OK", Title: "a user registers", Target: "node", Class: "core", Line: 10, Status: Pass, Elapsed: 1500 * time.Microsecond,
			Transcript: []Entry{{At: 100 * time.Microsecond, Role: "a1", Dir: DirSend, Peer: "127.0.0.1:3344", Bytes: "PRu1@bb.com"}}},
		{ID: "X-OUT", Title: "another # domain", Target: "node", Class: "core", Line: 20, Status: Skip, Reason: "needs -remote-domain # really"},
		{ID: "ROB-BIN", Title: `bytes "quoted" \ and é`, Target: "node", Class: "robust", Line: 30, Status: Fail,
			Reason:  `a1: got "RR\x00\xff", want "RR0"`,
			Failure: &Failure{Step: 2, Op: "expect", Role: "a1", Line: 33, Expected: "RR0", Arrived: true, Got: "RR\x00\xff\n\"\\é"},
			Elapsed: 2 * time.Millisecond,
			Transcript: []Entry{
				{At: 0, Role: "a1", Dir: DirSend, Peer: "127.0.0.1:3344", Bytes: "\x00\x01\x7f\x80\xff\t\r\n"},
				{At: -time.Millisecond, Role: "node", Dir: DirRecv, Peer: "127.0.0.1:9", Bytes: "</script>&"},
				{At: time.Millisecond, Role: "c", Dir: DirEvent, Peer: "127.0.0.1:4000", Bytes: "closed by the peer"},
			},
			Output: []string{"line \x1b[31mred\x1b[0m", "\xff"}},
		{ID: "AG-SILENT", Title: "nothing came", Target: "agent", Class: "core", Line: 40, Status: Fail, Reason: "node: nothing arrived within 1s",
			Failure: &Failure{Step: 0, Op: "expect", Role: "node", Line: 41, Expected: "PR{x}"}},
		{ID: "AG-DEADLINE", Title: "no step", Target: "agent", Class: "core", Line: 50, Status: Fail, Reason: "the scenario's deadline passed",
			Failure: &Failure{Step: -1, Line: 50}},
	}
}

func writeTAP(results []Result) string {
	var b bytes.Buffer
	tap := NewTAP(&b)
	tap.Begin(len(results))
	for i := range results {
		tap.Result(i+1, &results[i])
	}
	return b.String()
}

func TestTAP(t *testing.T) {
	out := writeTAP(someResults())
	points := parseTAP(t, out)
	var got []tapPoint
	for _, p := range points {
		p.YAML = nil
		got = append(got, p)
	}
	want := []tapPoint{
		{OK: true, N: 1, Desc: "REG-OK a user registers"},
		{OK: true, N: 2, Desc: `X-OUT another \# domain`, Directive: `SKIP needs -remote-domain \# really`},
		{OK: false, N: 3, Desc: `ROB-BIN bytes "quoted" \\ and é`},
		{OK: false, N: 4, Desc: "AG-SILENT nothing came"},
		{OK: false, N: 5, Desc: "AG-DEADLINE no step"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("test points (-want +got):\n%s\n%s", diff, out)
	}
	if !strings.Contains(out, "not ok 3 - ROB-BIN") || strings.ContainsAny(out, "\x00\x1b\x7f\r") {
		t.Errorf("control bytes written raw:\n%q", out)
	}
	diag := points[2].YAML
	wantDiag := map[string]any{
		"message":    `a1: got "RR\x00\xff", want "RR0"`,
		"at":         "spec/mi.spec:33",
		"line":       33.0,
		"step":       3.0,
		"op":         "expect",
		"role":       "a1",
		"expected":   "RR0",
		"got":        latin1("RR\x00\xff\n\"\\é"),
		"elapsed_ms": 2.0,
		"transcript": []any{
			map[string]any{"t_ms": 0.0, "role": "a1", "dir": "send", "peer": "127.0.0.1:3344", "bytes": latin1("\x00\x01\x7f\x80\xff\t\r\n")},
			map[string]any{"t_ms": -1.0, "role": "node", "dir": "recv", "peer": "127.0.0.1:9", "bytes": "</script>&"},
			map[string]any{"t_ms": 1.0, "role": "c", "dir": "event", "peer": "127.0.0.1:4000", "bytes": "closed by the peer"},
		},
		"output": []any{latin1("line \x1b[31mred\x1b[0m"), latin1("\xff")},
	}
	if diff := cmp.Diff(wantDiag, diag); diff != "" {
		t.Errorf("diagnostic of the failure (-want +got):\n%s", diff)
	}
	// Nothing arrived: got is null; no step: no step, op or role.
	if v, ok := points[3].YAML["got"]; !ok || v != nil {
		t.Errorf("nothing arrived: got %v, %v; want null", v, ok)
	}
	for _, k := range []string{"step", "op", "role", "expected", "got"} {
		if _, ok := points[4].YAML[k]; ok {
			t.Errorf("failure with no step has %s", k)
		}
	}
}

// latin1 is the string JSON decodes a Bytes value of b to: one character
// per byte.
func latin1(b string) string {
	r := make([]rune, len(b))
	for i := 0; i < len(b); i++ {
		r[i] = rune(b[i])
	}
	return string(r)
}

func TestBytes(t *testing.T) {
	var all []byte
	for c := 0; c < 256; c++ {
		all = append(all, byte(c))
	}
	for _, s := range []string{"", "PRu1@bb.com", "é\xff\x00\"\\", string(all)} {
		j, err := json.Marshal(Bytes(s))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range j {
			if c < 0x20 || c >= 0x7f {
				t.Errorf("%q: JSON %q holds byte %#x", s, j, c)
			}
		}
		var back Bytes
		if err := json.Unmarshal(j, &back); err != nil || string(back) != s {
			t.Errorf("%q: round trip through %s gave %q, %v", s, j, back, err)
		}
	}
	var b Bytes
	if err := json.Unmarshal([]byte(`"\u0100"`), &b); err == nil {
		t.Error("a character above U+00FF decoded as a byte")
	}
}

func TestJSON(t *testing.T) {
	results := someResults()
	var b bytes.Buffer
	j := NewJSON(&b)
	j.Begin(len(results))
	for i := range results {
		j.Result(i+1, &results[i])
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != len(results) {
		t.Fatalf("%d lines for %d results:\n%s", len(lines), len(results), b.String())
	}
	for i, l := range lines {
		var got Report
		dec := json.NewDecoder(strings.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, l)
		}
		if diff := cmp.Diff(ReportOf(&results[i]), got); diff != "" {
			t.Errorf("line %d (-want +got):\n%s", i+1, diff)
		}
	}
	// The exact shape of a failure, field by field.
	want := `{"id":"AG-SILENT","title":"nothing came","target":"agent","class":"core","line":40,"status":"fail",` +
		`"reason":"node: nothing arrived within 1s","elapsed_ms":0,` +
		`"failure":{"step":1,"op":"expect","role":"node","line":41,"expected":"PR{x}","got":null},"transcript":[]}`
	if lines[3] != want {
		t.Errorf("line 4:\n got %s\nwant %s", lines[3], want)
	}
	if want := `"transcript":[{"t_ms":0.1,"role":"a1","dir":"send","peer":"127.0.0.1:3344","bytes":"PRu1@bb.com"}]`; !strings.Contains(lines[0], want) {
		t.Errorf("line 1 lacks %s:\n%s", want, lines[0])
	}
}

func TestTAPBail(t *testing.T) {
	var b bytes.Buffer
	tap := NewTAP(&b)
	tap.Begin(1)
	tap.Result(1, &Result{ID: "A", Title: "t", Status: Pass})
	tap.Bail(errors.New("setup error: the agent never sent # a datagram"))
	parseTAP(t, b.String())
	if !strings.HasSuffix(b.String(), "Bail out! setup error: the agent never sent \\# a datagram\n") {
		t.Errorf("no bail out line:\n%s", b.String())
	}
}
