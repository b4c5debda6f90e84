package main

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"

	"mi/gen/spec"
)

// conformFiles is the conformance back end: the scenarios and their
// variables as a Go table of package conform, which lumictl conform plays.
// The table holds no spec lines (conform.Positions finds them at run time
// in the embedded spec), so a line inserted in the spec changes nothing.
func conformFiles(s *spec.Spec) ([]file, error) {
	var b bytes.Buffer
	header(&b, s, "conform", "time")
	g := newW(&b)
	g.p("var _ time.Duration // not every spec needs every import\n")
	g.p("// Classes are the scenario classes of the spec language.")
	g.p("var Classes = []string{%s}\n", quoteAll(spec.Classes))
	var features []string
	for _, sc := range s.Scenarios {
		for _, f := range sc.Features {
			if !slices.Contains(features, f) {
				features = append(features, f)
			}
		}
	}
	sort.Strings(features)
	g.p("// Features are the optional features scenarios need (needs feature NAME):")
	g.p("// a run plays their scenarios only when it chooses them.")
	g.p("var Features = []string{%s}\n", quoteAll(features))
	g.p("// Vars are the variables the scenarios use, bound by the tool or captured.")
	g.p("var Vars = []Var{")
	for _, v := range s.Vars {
		g.p("{Name: %q, Sample: %q, Doc: %q},", v.Name, v.Sample, v.Doc)
	}
	g.p("}\n")
	g.p("// Scenarios are every conformance scenario of the spec, in the order a run plays them.")
	g.p("var Scenarios = []Scenario{")
	for _, sc := range s.Scenarios {
		feat := ""
		if len(sc.Features) > 0 {
			feat = fmt.Sprintf("Features: []string{%s}, ", quoteAll(sc.Features))
		}
		g.p("{ID: %q, Target: %q, Class: %q, Title: %q, Exec: %v, %sSteps: []Step{", sc.ID, sc.Target, sc.Class, sc.Title, sc.Exec, feat)
		for _, st := range sc.Steps {
			fields := []string{"Op: Op" + strings.ToUpper(st.Op[:1]) + st.Op[1:]}
			if st.Op == "eof" {
				fields[0] = "Op: OpEOF"
			}
			if st.Role != "" {
				fields = append(fields, fmt.Sprintf("Role: %q", st.Role))
			}
			if st.Text != "" {
				fields = append(fields, fmt.Sprintf("Text: %q", st.Text))
			}
			if st.Raw {
				fields = append(fields, "Raw: true")
			}
			if st.Bytewise {
				fields = append(fields, "Bytewise: true")
			}
			if st.Min > 0 {
				fields = append(fields, fmt.Sprintf("Min: %d * time.Millisecond", st.Min))
			}
			if st.Max > 0 {
				fields = append(fields, fmt.Sprintf("Max: %d * time.Millisecond", st.Max))
			}
			if st.Of != "" {
				fields = append(fields, fmt.Sprintf("Of: %q, Percent: %d", st.Of, st.Percent))
			}
			g.p("{%s},", strings.Join(fields, ", "))
		}
		g.p("}},")
	}
	g.p("}")
	f, err := gofile("internal/conform/zscenarios.go", &b)
	return []file{f}, err
}

func quoteAll(xs []string) string {
	var out []string
	for _, x := range xs {
		out = append(out, q(x))
	}
	return strings.Join(out, ", ")
}
