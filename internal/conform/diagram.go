package conform

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"mi/internal/mermaid"
)

// DiagramMax is the most bytes of one datagram or message that a diagram
// shows; the rest is counted. Every message of the protocols fits: only
// what an implementation should not have sent is cut (the JSON report
// holds it all).
const DiagramMax = 256

// Diagram draws r as a Mermaid sequenceDiagram, as docs/protocol.md draws
// the sequences of the spec: the tool's roles and the target (node or
// agent) are the participants, in the order they appear; each entry of
// the transcript that the tool sent or received is an arrow with its
// bytes, each event a note over its role, and the failure a last note
// that says the step, its line in spec/mi.spec, what it expected and what
// arrived. Bytes are written by mermaid.Text: nothing in them can end a
// line of the diagram or start a statement.
func Diagram(r *Result) string {
	var d mermaid.Sequence
	target := r.Target
	for _, e := range r.Transcript {
		// The tool's end: a role, or for the process under test (its
		// stdin) the peer.
		tool := e.Role
		if e.Role == target {
			tool = e.Peer
			if tool == "" {
				tool = "tool"
			}
		}
		switch e.Dir {
		case DirSend:
			d.Message(tool, target, clip(e.Bytes))
		case DirRecv:
			d.Message(target, tool, clip(e.Bytes))
		default:
			d.Note([]string{e.Role}, clip(e.Bytes))
		}
	}
	if r.Status == Fail {
		over, lines := failureNote(r)
		d.Note(over, lines...)
	}
	return d.String()
}

// failureNote is the note that ends the diagram of a failed r: whom it is
// over and its lines.
func failureNote(r *Result) (over, lines []string) {
	over = []string{r.Target}
	f := r.Failure
	if f == nil {
		return over, []string{fmt.Sprintf("the scenario failed (spec/mi.spec:%d)", r.Line), r.Reason}
	}
	if f.Role != "" && f.Role != r.Target {
		over = []string{f.Role, r.Target}
	}
	if f.Step >= 0 {
		lines = append(lines, fmt.Sprintf("step %d failed: %s (spec/mi.spec:%d)", f.Step+1, strings.TrimSpace(f.Op+" "+f.Role), f.Line))
	} else {
		lines = append(lines, fmt.Sprintf("the scenario failed (spec/mi.spec:%d)", f.Line))
	}
	if r.Reason != "" {
		lines = append(lines, r.Reason)
	}
	if f.Expected != "" {
		lines = append(lines, "expected: "+quote(f.Expected))
	}
	switch {
	case f.Arrived:
		lines = append(lines, "arrived: "+quote(f.Got))
	case f.Expected != "":
		lines = append(lines, "arrived: nothing")
	}
	return over, lines
}

// clip is b, or when longer than DiagramMax its length and its first
// DiagramMax bytes quoted.
func clip(b string) string {
	if len(b) <= DiagramMax {
		return b
	}
	return fmt.Sprintf("%d bytes, the first %d: %s", len(b), DiagramMax, strconv.Quote(b[:DiagramMax]))
}

// quote is b quoted, clipped as clip does.
func quote(b string) string {
	if len(b) <= DiagramMax {
		return strconv.Quote(b)
	}
	return clip(b)
}

// DiagramMarkdown is the failed scenarios of results as Markdown: for
// each, a heading with its id and title, and its Diagram in a ```mermaid
// block, which GitHub and most Markdown viewers draw. Empty when none
// failed.
func DiagramMarkdown(results []Result) []byte {
	var b bytes.Buffer
	for i := range results {
		r := &results[i]
		if r.Status != Fail {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		// Ids and titles are the spec's; one line whatever they hold.
		fmt.Fprintf(&b, "## %s: %s\n\n", strings.Join(strings.Fields(r.ID), " "), strings.Join(strings.Fields(r.Title), " "))
		fmt.Fprintf(&b, "```mermaid\n%s```\n", Diagram(r))
	}
	return b.Bytes()
}
