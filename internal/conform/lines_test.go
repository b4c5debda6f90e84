package conform

import (
	"os"
	"strings"
	"testing"
)

// TestPositions: the generated table holds no lines; Positions finds every
// scenario's and step's line in spec/mi.spec, where that line is the
// scenario's statement and each step's is its own (or the repeat or send
// invalid it was expanded from).
func TestPositions(t *testing.T) {
	src, err := os.ReadFile("../../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	at := func(n int) string {
		if n < 1 || n > len(lines) {
			return ""
		}
		return strings.TrimSpace(lines[n-1])
	}
	for _, sc := range Scenarios {
		if sc.Line != 0 {
			t.Errorf("%s: the generated table holds line %d", sc.ID, sc.Line)
		}
	}
	for _, sc := range Positions(Scenarios) {
		if want := "scenario " + sc.Target + " " + sc.ID + " "; !strings.HasPrefix(at(sc.Line), want) {
			t.Errorf("%s: line %d is %q, want it to start %q", sc.ID, sc.Line, at(sc.Line), want)
		}
		for i, st := range sc.Steps {
			l := at(st.Line)
			if !strings.HasPrefix(l, st.Op.String()) && !strings.HasPrefix(l, "repeat ") {
				t.Errorf("%s step %d (%s): line %d is %q", sc.ID, i+1, st.Op, st.Line, l)
			}
		}
	}
	// A table that is not the spec's keeps what it says.
	own := []Scenario{{ID: "REG-OK", Target: "node", Steps: []Step{{Op: OpWait}}}, {ID: "T-1", Line: 7}}
	got := Positions(own)
	if got[0].Line != 0 || got[1].Line != 7 {
		t.Errorf("Positions of other tables: lines %d, %d; want 0, 7", got[0].Line, got[1].Line)
	}
}
