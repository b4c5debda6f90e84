package main

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mi/gen/spec"
)

// TestDiagrams: a message's layout and a sequence drawn as the protocol
// reference shows them, from a small spec.
func TestDiagrams(t *testing.T) {
	b, err := os.ReadFile("testdata/seeds/scenario.spec")
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse("scenario.spec", string(b))
	if err != nil {
		t.Fatal(err)
	}
	var pr *spec.Message
	for _, m := range s.Messages {
		if m.Tag == "PR" {
			pr = m
		}
	}
	wantBox := "+------+------+\n" +
		"| \"PR\" | u    |\n" +
		"| 2    | 1..8 |\n" +
		"+------+------+"
	if diff := cmp.Diff(wantBox, fieldDiagram(pr)); diff != "" {
		t.Errorf("field diagram (-want +got):\n%s", diff)
	}
	wantSeq := "sequenceDiagram\n" +
		"    participant agent\n" +
		"    participant node\n" +
		"    agent->>node: PRab\n" +
		"    node->>agent: RR0\n"
	if diff := cmp.Diff(wantSeq, sequenceDiagram(s.Sequences[0])); diff != "" {
		t.Errorf("sequence diagram (-want +got):\n%s", diff)
	}
}

// TestScenarioTableMarksFeatures: the reference says which scenarios are
// played only when their optional feature is chosen.
func TestScenarioTableMarksFeatures(t *testing.T) {
	b, err := os.ReadFile("testdata/seeds/scenario.spec")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(b), "    play a1 agent\n", "    needs feature offline\n    play a1 agent\n", 1)
	s, err := spec.Parse("scenario.spec", src)
	if err != nil {
		t.Fatal(err)
	}
	files, err := generate(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f.path, "protocol.md") {
			if !strings.Contains(string(f.data), "a user registers (optional: played with `-features offline`)") {
				t.Errorf("%s does not mark the scenario's feature:\n%s", f.path, f.data)
			}
			return
		}
	}
	t.Fatal("no protocol.md generated")
}
