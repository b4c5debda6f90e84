package wire

import "testing"

func TestIndexAnyByte(t *testing.T) {
	for _, tc := range []struct {
		s, set string
		want   int
	}{
		{"", "\r\n", -1},
		{"hola", "\r\n", -1},
		{"a\nb\rc", "\r\n", 1},
		{"a\rb\nc", "\r\n", 1},
		{"abc\n", "\n\r", 3},
		{"\r\n", "\n\r", 0},
	} {
		if got := indexAnyByte(tc.s, tc.set); got != tc.want {
			t.Errorf("indexAnyByte(%q, %q) = %d, want %d", tc.s, tc.set, got, tc.want)
		}
	}
}
