package conform

import (
	"sync"

	genspec "mi/gen/spec"
	mispec "mi/spec"
)

// SpecFile is the file whose lines Scenario.Line and Step.Line count.
const SpecFile = mispec.File

// specLines are the lines of the scenarios of spec/mi.spec, by ID: the
// generated table holds none, so that a line inserted in the spec changes
// no generated Go. They are found at run time in the spec, which is
// embedded in the binary; a spec that does not check gives none.
var specLines = sync.OnceValue(func() map[string]*genspec.Scenario {
	s, err := genspec.Parse(SpecFile, mispec.Source)
	if err != nil {
		return nil
	}
	out := map[string]*genspec.Scenario{}
	for _, sc := range s.Scenarios {
		out[sc.ID] = sc
	}
	return out
})

// Positions returns scenarios with the lines of those that have none
// (Scenario.Line zero) filled in from spec/mi.spec: the scenario of the
// same ID, target and steps there. The slice and the steps given are not
// changed; a scenario the spec does not hold keeps line 0.
func Positions(scenarios []Scenario) []Scenario {
	out := make([]Scenario, len(scenarios))
	copy(out, scenarios)
	for i := range out {
		sc := &out[i]
		if sc.Line != 0 {
			continue
		}
		src := specLines()[sc.ID]
		if src == nil || src.Target != sc.Target || len(src.Steps) != len(sc.Steps) {
			continue
		}
		same := true
		for j, st := range src.Steps {
			same = same && st.Op == sc.Steps[j].Op.String()
		}
		if !same {
			continue
		}
		sc.Line = src.Pos.Line
		sc.Steps = append([]Step(nil), sc.Steps...)
		for j, st := range src.Steps {
			sc.Steps[j].Line = st.Pos.Line
		}
	}
	return out
}
