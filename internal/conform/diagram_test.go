package conform

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiagram(t *testing.T) {
	long := strings.Repeat("A", DiagramMax) + "BC"
	tests := []struct {
		name string
		r    Result
		want string
	}{
		{"a node: a reply that differs", Result{Target: "node", Status: Fail, Reason: `a1: got "RR1", want "RR0"`,
			Transcript: []Entry{
				{Role: "a1", Dir: DirSend, Peer: "127.0.0.1:3344", Bytes: "PRnobody@bb.com"},
				{Role: "a1", Dir: DirRecv, Peer: "127.0.0.1:3344", Bytes: "RR1"},
			},
			Failure: &Failure{Step: 1, Op: "expect", Role: "a1", Line: 57, Expected: "RR0", Arrived: true, Got: "RR1"}},
			"sequenceDiagram\n" +
				"    participant a1\n" +
				"    participant node\n" +
				"    a1->>node: PRnobody@bb.com\n" +
				"    node->>a1: RR1\n" +
				"    Note over a1,node: step 2 failed: expect a1 (spec/mi.spec:57)<br/>a1: got #34;RR1#34;, want #34;RR0#34;<br/>" +
				"expected: #34;RR0#34;<br/>arrived: #34;RR1#34;\n"},

		{"an agent: nothing arrived", Result{Target: "agent", Status: Fail, Reason: "c1: nothing arrived within 1s",
			Transcript: []Entry{
				{Role: "agent", Dir: DirEvent, Bytes: "start: sh -c 'mi-agent -addr laura@bb.com'"},
				{Role: "node", Dir: DirRecv, Peer: "127.0.0.1:40000", Bytes: "PRlaura@bb.com"},
				{Role: "node", Dir: DirSend, Peer: "127.0.0.1:40000", Bytes: "RR0"},
				{Role: "c1", Dir: DirEvent, Peer: "127.0.0.1:4000", Bytes: "connected from 127.0.0.1:5000"},
				{Role: "c1", Dir: DirSend, Peer: "127.0.0.1:4000", Bytes: "N05laura"},
				{Role: "agent", Dir: DirSend, Peer: "stdin", Bytes: "/quit\n"},
				{Role: "agent", Dir: DirEvent, Peer: "stdin", Bytes: "stdin closed"},
			},
			Failure: &Failure{Step: 4, Op: "read", Role: "c1", Line: 300, Expected: "L05hello"}},
			"sequenceDiagram\n" +
				"    participant agent\n" +
				"    participant node\n" +
				"    participant c1\n" +
				"    participant stdin\n" +
				"    Note over agent: start: sh -c 'mi-agent -addr laura@bb.com'\n" +
				"    agent->>node: PRlaura@bb.com\n" +
				"    node->>agent: RR0\n" +
				"    Note over c1: connected from 127.0.0.1:5000\n" +
				"    c1->>agent: N05laura\n" +
				"    stdin->>agent: #34;/quit\\n#34;\n" +
				"    Note over agent: stdin closed\n" +
				"    Note over c1,agent: step 5 failed: read c1 (spec/mi.spec:300)<br/>c1: nothing arrived within 1s<br/>" +
				"expected: #34;L05hello#34;<br/>arrived: nothing\n"},

		{"an agent's exit: a step without a role", Result{Target: "agent", Status: Fail, Reason: "the agent still runs after 1s",
			Failure: &Failure{Step: 2, Op: "exits", Line: 310, Expected: "exit"}},
			"sequenceDiagram\n" +
				"    participant agent\n" +
				"    Note over agent: step 3 failed: exits (spec/mi.spec:310)<br/>the agent still runs after 1s<br/>" +
				"expected: #34;exit#34;<br/>arrived: nothing\n"},

		{"the scenario's deadline", Result{Target: "node", Status: Fail, Reason: "the scenario's deadline (5s) passed",
			Transcript: []Entry{{Role: "a1", Dir: DirSend, Bytes: "PRu1@bb.com"}},
			Failure:    &Failure{Step: -1, Line: 40}},
			"sequenceDiagram\n" +
				"    participant a1\n" +
				"    participant node\n" +
				"    a1->>node: PRu1@bb.com\n" +
				"    Note over node: the scenario failed (spec/mi.spec:40)<br/>the scenario's deadline (5s) passed\n"},

		{"a pass: no note", Result{Target: "node", Status: Pass,
			Transcript: []Entry{{Role: "a1", Dir: DirSend, Bytes: "PDu1@bb.com"}, {Role: "a1", Dir: DirRecv, Bytes: "RD0"}}},
			"sequenceDiagram\n" +
				"    participant a1\n" +
				"    participant node\n" +
				"    a1->>node: PDu1@bb.com\n" +
				"    node->>a1: RD0\n"},

		{"hostile bytes", Result{Target: "node", Status: Fail, Reason: "a1: got \"RR0\\r\\n<script>\", want \"RR0\"",
			Transcript: []Entry{
				{Role: "a1", Dir: DirSend, Bytes: "PRu1@bb.com"},
				{Role: "a1", Dir: DirRecv, Bytes: "RR0\n    end\n    a1-->>node: forged"},
				{Role: "a1", Dir: DirRecv, Bytes: `%%{init: {"theme":"dark"}}%%`},
				{Role: "a1", Dir: DirRecv, Bytes: "x;y#z %% c"},
				{Role: "a1", Dir: DirRecv, Bytes: "\x1b[2J\x1b]0;title\x07"},
				{Role: "a1", Dir: DirRecv, Bytes: "style:x;"},
				{Role: "a1", Dir: DirRecv, Bytes: "wrap:<br/><img src=x onerror=alert(1)>"},
				{Role: "a1", Dir: DirRecv, Bytes: "\xff\xfe\u202e"},
				{Role: "a1", Dir: DirRecv, Bytes: ""},
				{Role: "a1", Dir: DirRecv, Bytes: long},
			},
			Failure: &Failure{Step: 1, Op: "expect", Role: "a1", Line: 57, Expected: "RR0", Arrived: true, Got: "RR0\r\n<script>"}},
			"sequenceDiagram\n" +
				"    participant a1\n" +
				"    participant node\n" +
				"    a1->>node: PRu1@bb.com\n" +
				"    node->>a1: #34;RR0\\n    end\\n    a1--#62;#62;node: forged#34;\n" +
				"    node->>a1: #37;#37;{init: {#34;theme#34;:#34;dark#34;}}#37;#37;\n" +
				"    node->>a1: x#59;y#35;z #37;#37; c\n" +
				"    node->>a1: #34;\\x1b[2J\\x1b]0#59;title\\a#34;\n" +
				"    node->>a1: #115;tyle:x#59;\n" +
				"    node->>a1: #119;rap:#60;br/#62;#60;img src=x onerror=alert(1)#62;\n" +
				"    node->>a1: #34;\\xff\\xfe\\u202e#34;\n" +
				"    node->>a1: #34;#34;\n" +
				"    node->>a1: " + fmt.Sprintf("%d bytes, the first %d: ", DiagramMax+2, DiagramMax) + "#34;" + strings.Repeat("A", DiagramMax) + "#34;\n" +
				"    Note over a1,node: step 2 failed: expect a1 (spec/mi.spec:57)<br/>a1: got #34;RR0\\r\\n#60;script#62;#34;, want #34;RR0#34;<br/>" +
				"expected: #34;RR0#34;<br/>arrived: #34;RR0\\r\\n#60;script#62;#34;\n"},
	}
	// Every line of a diagram: the header, a participant, an arrow or a
	// note, with text in which Mermaid finds no syntax.
	const text = `(?:[^;#<>"&%$\x00-\x1f\x7f]|#\d+;)*`
	line := regexp.MustCompile(`^(?:sequenceDiagram|    participant [A-Za-z]\w*|    [A-Za-z]\w*->>[A-Za-z]\w*: ` + text +
		`|    Note over [A-Za-z]\w*(?:,[A-Za-z]\w*)?: ` + text + `(?:<br/>` + text + `)*)$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diagram(&tt.r)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
			for _, l := range lines {
				if !line.MatchString(l) {
					t.Errorf("not a line of a diagram: %q", l)
				}
			}
			if n := 1 + strings.Count(got, "    participant ") + len(tt.r.Transcript); tt.r.Status == Fail && len(lines) != n+1 || tt.r.Status != Fail && len(lines) != n {
				t.Errorf("%d lines for %d entries:\n%s", len(lines), len(tt.r.Transcript), got)
			}
		})
	}
}

func TestDiagramMarkdown(t *testing.T) {
	results := []Result{
		{ID: "REG-OK", Title: "a user registers", Target: "node", Status: Pass},
		{ID: "REG-UNKNOWN", Title: "an unknown\nuser is refused", Target: "node", Status: Fail, Reason: "a1: nothing arrived within 1s",
			Transcript: []Entry{{Role: "a1", Dir: DirSend, Bytes: "PRnobody@bb.com"}},
			Failure:    &Failure{Step: 1, Op: "expect", Role: "a1", Line: 60, Expected: "RR1"}},
		{ID: "LOC-OK", Title: "a locate", Target: "node", Status: Skip},
		{ID: "DEREG-UNKNOWN", Title: "an unknown user cannot deregister", Target: "node", Status: Fail, Reason: "boom"},
	}
	want := "## REG-UNKNOWN: an unknown user is refused\n\n" +
		"```mermaid\n" +
		"sequenceDiagram\n" +
		"    participant a1\n" +
		"    participant node\n" +
		"    a1->>node: PRnobody@bb.com\n" +
		"    Note over a1,node: step 2 failed: expect a1 (spec/mi.spec:60)<br/>a1: nothing arrived within 1s<br/>expected: #34;RR1#34;<br/>arrived: nothing\n" +
		"```\n" +
		"\n" +
		"## DEREG-UNKNOWN: an unknown user cannot deregister\n\n" +
		"```mermaid\n" +
		"sequenceDiagram\n" +
		"    participant node\n" +
		"    Note over node: the scenario failed (spec/mi.spec:0)<br/>boom\n" +
		"```\n"
	if diff := cmp.Diff(want, string(DiagramMarkdown(results))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := DiagramMarkdown(results[:1]); len(got) != 0 {
		t.Errorf("nothing failed: %q", got)
	}
}
