package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"mi/gen/spec"
)

// TestFixtureTagsAreFree: the scratch spec's messages take tags that no
// real message will: spec/mi.spec's tags are capitals and digits, the
// fixtures' hold a lower-case letter (spec/README.md), so a message added
// to mi.spec never collides with a fixture appended to it.
func TestFixtureTagsAreFree(t *testing.T) {
	s, err := spec.Load("../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range s.Messages {
		if strings.ToUpper(m.Tag) != m.Tag {
			t.Errorf("spec/mi.spec: message %s %s: a tag with a lower-case letter is left to test fixtures", m.Proto.Name, m.Tag)
		}
	}
	extra, err := os.ReadFile("testdata/extra.spec")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range regexp.MustCompile(`(?m)^message +\S+ +(\S+)`).FindAllStringSubmatch(string(extra), -1) {
		n++
		if strings.ToUpper(m[1]) == m[1] {
			t.Errorf("testdata/extra.spec: message tag %s could be a real message's: give fixtures a tag with a lower-case letter", m[1])
		}
	}
	if n == 0 {
		t.Error("testdata/extra.spec declares no message")
	}
}
