package spec

import (
	"strings"
	"testing"
)

// TestScenarioFeatures: needs feature NAME and waits that are a share of a
// duration var, and what the checker refuses of them.
func TestScenarioFeatures(t *testing.T) {
	base := okSpec + "var w \"abc\" \"a word\"\nvar lw \"6000ms\" \"a duration\"\n"
	for _, tc := range []struct{ name, body, want string }{
		{"feature without a name", "    needs feature\n", `needs takes the word exec, or feature and a feature name`},
		{"feature name", "    needs feature Big\n", `needs takes the word exec, or feature and a feature name`},
		{"feature twice", "    needs feature slow\n    needs feature slow\n", `needs feature slow given twice`},
		{"share of a word", "    wait 150%$w\n", `no var "w" with a duration sample`},
		{"share of nothing", "    wait 150%$nope\n", `no var "nope" with a duration sample`},
		{"zero share", "    wait 0%$lw\n", `is not a percentage (1 to 10000) of a duration var`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := errsOf(t, base+"scenario node S-1 core \"a scenario\" {\n"+tc.body+"}\n")
			if len(got) != 1 || !strings.Contains(got[0], tc.want) {
				t.Errorf("errors %q, want one containing %q", got, tc.want)
			}
		})
	}
	s, err := Parse("ok.spec", base+"scenario node S-1 core \"ok\" {\n    needs feature slow-one\n    needs feature b2\n    play a1 agent\n    wait 150%$lw\n    silent a1 50%$lw\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	sc := s.Scenarios[0]
	if strings.Join(sc.Features, ",") != "slow-one,b2" {
		t.Errorf("features %q", sc.Features)
	}
	if st := sc.Steps[1]; st.Op != "wait" || st.Of != "lw" || st.Percent != 150 || st.Max != 0 {
		t.Errorf("wait step %+v", st)
	}
	if st := sc.Steps[2]; st.Op != "silent" || st.Role != "a1" || st.Of != "lw" || st.Percent != 50 {
		t.Errorf("silent step %+v", st)
	}
}
