package wire_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mi/wire"
)

// TestErrorClass: every sentinel of a refusal has its class as the spec's
// invalid inputs name it, wrapped or not, and any other error has none.
func TestErrorClass(t *testing.T) {
	_, err := wire.DecodePLUMI([]byte("ZZ"))
	got := map[string]string{}
	for name, e := range map[string]error{
		"truncated": wire.ErrTruncated, "too_long": wire.ErrTooLong, "unknown_type": err,
		"bad_field": fmt.Errorf("wrapped: %w", wire.ErrBadField), "bad_separator": wire.ErrBadSeparator,
		"trailing": wire.ErrTrailing, "absent": wire.ErrAbsent, "other": errors.New("other"), "nil": nil,
	} {
		got[name] = wire.ErrorClass(e)
	}
	want := map[string]string{
		"truncated": "truncated", "too_long": "too_long", "unknown_type": "unknown_type",
		"bad_field": "bad_field", "bad_separator": "bad_separator", "trailing": "trailing",
		"absent": "", "other": "", "nil": "",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ErrorClass (-want +got):\n%s", d)
	}
}
