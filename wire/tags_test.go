package wire_test

import (
	"testing"

	"mi/wire"
)

// TestTagIndex: every tag of the lists has its own place, and what is not a
// tag has none, so that a table indexed by it is neither short nor shared.
func TestTagIndex(t *testing.T) {
	for i, tag := range wire.PLUMITags {
		if got := wire.PLUMITagIndex(tag); got != i {
			t.Errorf("PLUMITagIndex(%q) = %d, want %d", tag, got, i)
		}
		if !wire.IsPLUMITag([]byte(tag)) {
			t.Errorf("IsPLUMITag(%q) = false", tag)
		}
	}
	for i, tag := range wire.PMITags {
		if got := wire.PMITagIndex(tag); got != i {
			t.Errorf("PMITagIndex(%q) = %d, want %d", tag, got, i)
		}
	}
	for _, s := range []string{"", "P", "XX", "pr", "N"} {
		if got := wire.PLUMITagIndex(s); got != -1 {
			t.Errorf("PLUMITagIndex(%q) = %d, want -1", s, got)
		}
	}
}

// TestIsPMIHeader: what can begin a PMI message, cut anywhere in its
// header or not, and what cannot.
func TestIsPMIHeader(t *testing.T) {
	for in, want := range map[string]bool{
		"": false, "N": true, "N0": true, "N05": true, "N05ab": true, "L99": true,
		"X": false, "NX": false, "N0X": false, "LLEN k": false, "GET /": false,
	} {
		if got := wire.IsPMIHeader([]byte(in)); got != want {
			t.Errorf("IsPMIHeader(%q) = %v, want %v", in, got, want)
		}
	}
}
