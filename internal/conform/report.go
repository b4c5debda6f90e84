package conform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Bytes is wire bytes in a JSON or YAML report: a string with one
// character per byte, U+0000 to U+00FF (printable ASCII as it is, every
// other byte escaped \u00XX, or \n, \r, \t), so that any bytes travel
// exactly and the report stays ASCII. In Python: s.encode("latin-1").
type Bytes string

// MarshalJSON implements json.Marshaler.
func (b Bytes) MarshalJSON() ([]byte, error) { return appendBytes(nil, string(b)), nil }

// UnmarshalJSON implements json.Unmarshaler.
func (b *Bytes) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return fmt.Errorf("conform: byte string holds %U, above U+00FF", r)
		}
		out = append(out, byte(r))
	}
	*b = Bytes(out)
	return nil
}

// appendBytes appends s as a JSON string literal (also a YAML
// double-quoted scalar) of the Bytes form.
func appendBytes(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20 || c >= 0x7f:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// jsonText is s, text for people, as a JSON string literal (valid YAML too).
func jsonText(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// Report is the JSON form of a Result: one object per line with -json.
type Report struct {
	ID         string       `json:"id"`
	Title      string       `json:"title"`
	Target     string       `json:"target"`
	Class      string       `json:"class"`
	Line       int          `json:"line"`
	Status     Status       `json:"status"`
	Reason     string       `json:"reason,omitempty"`
	ElapsedMS  float64      `json:"elapsed_ms"`
	Failure    *FailureJSON `json:"failure,omitempty"`
	Transcript []EntryJSON  `json:"transcript"`
	Output     []Bytes      `json:"output,omitempty"`
}

// FailureJSON is the JSON form of a Failure.
type FailureJSON struct {
	Step     int    `json:"step"` // counted from 1; 0: no step (the scenario's deadline)
	Op       string `json:"op,omitempty"`
	Role     string `json:"role,omitempty"`
	Line     int    `json:"line"`
	Expected Bytes  `json:"expected,omitempty"` // absent: the step expected nothing in particular (a send that failed)
	Got      *Bytes `json:"got"`                // null: nothing arrived
}

// EntryJSON is the JSON form of a transcript Entry.
type EntryJSON struct {
	TMS   float64 `json:"t_ms"`
	Role  string  `json:"role"`
	Dir   string  `json:"dir"`
	Peer  string  `json:"peer,omitempty"`
	Bytes Bytes   `json:"bytes"`
}

func msOf(d time.Duration) float64 {
	return float64(d.Round(10*time.Microsecond)) / float64(time.Millisecond)
}

// ReportOf turns a Result into its JSON form.
func ReportOf(r *Result) Report {
	rep := Report{ID: r.ID, Title: r.Title, Target: r.Target, Class: r.Class, Line: r.Line, Status: r.Status,
		Reason: r.Reason, ElapsedMS: msOf(r.Elapsed), Transcript: []EntryJSON{}}
	if f := r.Failure; f != nil {
		rep.Failure = &FailureJSON{Step: f.Step + 1, Op: f.Op, Role: f.Role, Line: f.Line, Expected: Bytes(f.Expected)}
		if f.Arrived {
			got := Bytes(f.Got)
			rep.Failure.Got = &got
		}
	}
	for _, e := range r.Transcript {
		rep.Transcript = append(rep.Transcript, EntryJSON{TMS: msOf(e.At), Role: e.Role, Dir: e.Dir, Peer: e.Peer, Bytes: Bytes(e.Bytes)})
	}
	for _, l := range r.Output {
		rep.Output = append(rep.Output, Bytes(l))
	}
	return rep
}

// JSON reports one JSON object per scenario per line (see Report).
type JSON struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSON returns a Reporter that writes JSON lines to w.
func NewJSON(w io.Writer) *JSON { return &JSON{w: w} }

func (j *JSON) Begin(int) {}

func (j *JSON) Bail(error) {}

func (j *JSON) Result(_ int, r *Result) {
	j.mu.Lock()
	defer j.mu.Unlock()
	b, err := json.Marshal(ReportOf(r))
	if err != nil {
		panic(err) // every field has a JSON form
	}
	j.w.Write(append(b, '\n'))
}

// TAP reports in TAP version 14: a failure carries a YAML diagnostic
// block (message, where in the spec, expected, got, the transcript, the
// agent's output) whose values are JSON literals, valid YAML flow scalars.
type TAP struct {
	mu sync.Mutex
	w  io.Writer
}

// NewTAP returns a Reporter that writes TAP to w.
func NewTAP(w io.Writer) *TAP { return &TAP{w: w} }

func (t *TAP) Begin(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "TAP version 14\n1..%d\n", n)
}

func (t *TAP) Bail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "Bail out! %s\n", tapEscape(err.Error()))
}

// tapEscape makes s one line of a test point's description: # would start
// a directive, and \ escapes it.
func tapEscape(s string) string {
	s = strings.NewReplacer(`\`, `\\`, "#", `\#`, "\n", " ", "\r", " ").Replace(s)
	return s
}

func (t *TAP) Result(n int, r *Result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b bytes.Buffer
	desc := tapEscape(r.ID + " " + r.Title)
	switch r.Status {
	case Pass:
		fmt.Fprintf(&b, "ok %d - %s\n", n, desc)
	case Skip:
		fmt.Fprintf(&b, "ok %d - %s # SKIP %s\n", n, desc, tapEscape(r.Reason))
	default:
		fmt.Fprintf(&b, "not ok %d - %s\n", n, desc)
		writeYAML(&b, r)
	}
	t.w.Write(b.Bytes())
}

// writeYAML writes the diagnostic block of a failure.
func writeYAML(b *bytes.Buffer, r *Result) {
	const in = "  "
	b.WriteString(in + "---\n")
	fmt.Fprintf(b, in+"message: %s\n", jsonText(r.Reason))
	line := r.Line
	if f := r.Failure; f != nil {
		line = f.Line
	}
	fmt.Fprintf(b, in+"at: %s\n", jsonText(fmt.Sprintf("spec/mi.spec:%d", line)))
	fmt.Fprintf(b, in+"line: %d\n", line)
	if f := r.Failure; f != nil {
		if f.Step >= 0 {
			fmt.Fprintf(b, in+"step: %d\n", f.Step+1)
			fmt.Fprintf(b, in+"op: %s\n", jsonText(f.Op))
			fmt.Fprintf(b, in+"role: %s\n", jsonText(f.Role))
		}
		if f.Expected != "" {
			fmt.Fprintf(b, in+"expected: %s\n", appendBytes(nil, f.Expected))
		}
		switch {
		case f.Arrived:
			fmt.Fprintf(b, in+"got: %s\n", appendBytes(nil, f.Got))
		case f.Expected != "":
			b.WriteString(in + "got: null\n")
		}
	}
	fmt.Fprintf(b, in+"elapsed_ms: %v\n", msOf(r.Elapsed))
	if len(r.Transcript) == 0 {
		b.WriteString(in + "transcript: []\n")
	} else {
		b.WriteString(in + "transcript:\n")
		for _, e := range r.Transcript {
			j, _ := json.Marshal(EntryJSON{TMS: msOf(e.At), Role: e.Role, Dir: e.Dir, Peer: e.Peer, Bytes: Bytes(e.Bytes)})
			fmt.Fprintf(b, in+"  - %s\n", j)
		}
	}
	if len(r.Output) > 0 {
		b.WriteString(in + "output:\n")
		for _, l := range r.Output {
			fmt.Fprintf(b, in+"  - %s\n", appendBytes(nil, l))
		}
	}
	b.WriteString(in + "...\n")
}
