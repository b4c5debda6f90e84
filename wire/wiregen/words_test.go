package wiregen

import (
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestNotWordIsNoWord: what notWord draws is none of the words, and it
// draws the near misses too (a word cut short or grown), which a decoder
// that compared a prefix would take.
func TestNotWordIsNoWord(t *testing.T) {
	words := []string{"online", "away", "a"}
	var near int
	rapid.Check(t, func(t *rapid.T) {
		v := notWord(words...).Draw(t, "v")
		if slices.Contains(words, v) {
			t.Fatalf("%q is a word", v)
		}
		for _, w := range words {
			if strings.HasPrefix(v, w) || strings.HasPrefix(w, v) && v != "" {
				near++
				break
			}
		}
	})
	if near == 0 {
		t.Error("no near miss of a word drawn")
	}
}
