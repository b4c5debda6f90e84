package vtscreen

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScreen(t *testing.T) {
	type want struct {
		Rows []string
		X, Y int
	}
	cases := []struct {
		name string
		in   string
		want want
	}{
		{"text and CRLF", "ab\r\ncd", want{[]string{"ab", "cd"}, 2, 1}},
		{"an emoji is two cells", "a🙂b", want{[]string{"a🙂b"}, 4, 0}},
		{"CJK is two cells", "漢字", want{[]string{"漢字"}, 4, 0}},
		{"a combining mark joins the cell before", "e\u0301x", want{[]string{"e\u0301x"}, 2, 0}},
		{"a flag is two cells", "🇫🇷x", want{[]string{"🇫🇷x"}, 3, 0}},
		{"a ZWJ sequence is one wide cell", "👨\u200d👩\u200d👧x", want{[]string{"👨\u200d👩\u200d👧x"}, 3, 0}},
		{"the last column holds the cursor until the next character", "abcdefghij", want{[]string{"abcdefghij"}, 9, 0}},
		{"the next character wraps", "abcdefghijk", want{[]string{"abcdefghij", "k"}, 1, 1}},
		{"a wide character does not fit in the last column", "abcdefghi🙂", want{[]string{"abcdefghi", "🙂"}, 2, 1}},
		{"cursor moves", "abcdef\x1b[3D\x1b[Kx\x1b[1C", want{[]string{"abcx"}, 5, 0}},
		{"up and erase below", "ab\r\ncd\r\nef\x1b[2A\r\x1b[Jz", want{[]string{"z"}, 1, 0}},
		{"writing over the right half of a wide character blanks it", "🙂\x1b[1Dx", want{[]string{" x"}, 2, 0}},
		{"writing over the left half blanks the right half", "🙂\rx", want{[]string{"x"}, 1, 0}},
		{"erasing from the right half erases the whole", "a🙂b\x1b[2D\x1b[K", want{[]string{"a"}, 2, 0}},
		{"colours are not drawn", "\x1b[1ma\x1b[0m", want{[]string{"a"}, 1, 0}},
		{"clear screen and home", "ab\r\ncd\x1b[2J\x1b[Hx", want{[]string{"x"}, 1, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := New(10, 4)
			// byte by byte: sequences cut between writes
			for i := range len(c.in) {
				s.Write([]byte{c.in[i]})
			}
			x, y := s.Cursor()
			if diff := cmp.Diff(c.want, want{s.Rows(), x, y}); diff != "" {
				t.Errorf("%q (-want +got):\n%s", c.in, diff)
			}
		})
	}
}

// TestScroll: a line feed on the last row scrolls.
func TestScroll(t *testing.T) {
	s := New(10, 2)
	s.Write([]byte("a\r\nb\r\nc"))
	if diff := cmp.Diff([]string{"b", "c"}, s.Rows()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
