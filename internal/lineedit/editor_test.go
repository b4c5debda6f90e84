package lineedit

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mi/internal/vtscreen"
)

const (
	bs    = "\x7f"
	del   = "\x1b[3~"
	left  = "\x1b[D"
	right = "\x1b[C"
	home  = "\x1b[H"
	end   = "\x1b[F"
	up    = "\x1b[A"
	down  = "\x1b[B"
	enter = "\r"

	family = "👨\u200d👩\u200d👧"
	flag   = "🇫🇷"
	eAcute = "e\u0301"
)

func rep(s string, n int) string { return strings.Repeat(s, n) }

// TestGraphemes: what is one character, and its cells.
func TestGraphemes(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"ab🙂cd", []string{"a 1", "b 1", "🙂 2", "c 1", "d 1"}},
		{"漢字", []string{"漢 2", "字 2"}},
		{eAcute + "t" + eAcute, []string{eAcute + " 1", "t 1", eAcute + " 1"}},
		{flag, []string{flag + " 2"}},
		{family + "!", []string{family + " 2", "! 1"}},
		{"☺\ufe0f", []string{"☺\ufe0f 2"}}, // the emoji presentation selector makes it wide
	}
	for _, c := range cases {
		var got []string
		for _, g := range graphemes(c.in) {
			got = append(got, fmt.Sprintf("%s %d", g.s, g.w))
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("graphemes(%q) (-want +got):\n%s", c.in, diff)
		}
	}
}

// TestLayout: where each grapheme of the prompt and the line is drawn, in
// rows of 10 cells.
func TestLayout(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []point
		end  point
	}{
		{"narrow", "abc", []point{{0, 0}, {0, 1}, {0, 2}}, point{0, 3}},
		{"wide", "a🙂b", []point{{0, 0}, {0, 1}, {0, 3}}, point{0, 4}},
		{"combining", "a" + eAcute, []point{{0, 0}, {0, 1}}, point{0, 2}},
		{"a row filled: the place after is on the next", rep("a", 10), nil, point{1, 0}},
		{"a wide character that does not fit begins the next row", rep("a", 9) + "🙂b", nil, point{1, 3}},
		{"one that fits ends the row", rep("a", 8) + "漢b", nil, point{1, 1}},
	}
	for _, c := range cases {
		at, end := layout(graphemes(c.in), 10)
		if c.want != nil {
			if diff := cmp.Diff(c.want, at, cmp.AllowUnexported(point{})); diff != "" {
				t.Errorf("%s: (-want +got):\n%s", c.name, diff)
			}
		}
		if end != c.end {
			t.Errorf("%s: ends at %v, want %v", c.name, end, c.end)
		}
	}
}

// step is what the test does at one read of the editor's: keys typed, or
// text written above the line, or the terminal resized.
type step struct {
	keys  string
	write string
	width int
}

func keys(ks ...string) []step {
	var steps []step
	for _, k := range ks {
		steps = append(steps, step{keys: k})
	}
	return steps
}

// fakeTerm is the terminal an editor reads and writes: each read is a
// step, what is written goes to a model of the screen.
type fakeTerm struct {
	e      *Editor
	steps  []step
	screen *vtscreen.Screen
	out    strings.Builder
}

func (f *fakeTerm) Read(b []byte) (int, error) {
	if len(f.steps) == 0 {
		return 0, io.EOF
	}
	s := f.steps[0]
	f.steps = f.steps[1:]
	switch {
	case s.write != "":
		f.e.Write([]byte(s.write))
	case s.width != 0:
		f.e.SetWidth(s.width)
	}
	n := copy(b, s.keys)
	if n < len(s.keys) { // the rest at the next read
		f.steps = append([]step{{keys: s.keys[n:]}}, f.steps...)
	}
	return n, nil
}

func (f *fakeTerm) Write(b []byte) (int, error) {
	f.out.Write(b)
	return f.screen.Write(b)
}

// run types steps at an editor with the prompt "laura> " on a terminal
// width columns wide, reading lines until the steps run out; it returns
// the lines read, the one being typed last.
func run(t *testing.T, width int, takeOff func(string) bool, steps []step) ([]string, *fakeTerm) {
	t.Helper()
	f := &fakeTerm{steps: steps, screen: vtscreen.New(width, 8)}
	f.e = New(f, "laura> ")
	f.e.TakeOff = takeOff
	f.e.SetWidth(width)
	var lines []string
	for {
		line, err := f.e.ReadLine()
		if err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		lines = append(lines, line)
	}
	return append(lines, join(f.e.line)), f
}

// screen is what a terminal shows: its rows, and the cursor.
type screen struct {
	Rows []string
	X, Y int
}

func shows(s *vtscreen.Screen) screen {
	x, y := s.Cursor()
	return screen{s.Rows(), x, y}
}

// TestEditing: keys typed and what the terminal shows then, wide
// characters, combining marks and grapheme clusters among them. The
// rows of the screen are as a terminal draws them (vtscreen): the
// editor's idea of the cells must agree.
func TestEditing(t *testing.T) {
	cases := []struct {
		name  string
		width int
		steps []step
		line  string // the line being typed at the end
		want  screen
	}{
		{"emoji: three backspaces delete d, c and the emoji", 80,
			keys("ab🙂cd", bs, bs, bs), "ab", screen{[]string{"laura> ab"}, 9, 0}},
		{"emoji: five backspaces empty the line", 80,
			keys("ab🙂cd", bs, bs, bs, bs, bs), "", screen{[]string{"laura>"}, 7, 0}},
		{"emoji: in one read", 80,
			keys("ab🙂cd" + rep(bs, 5) + "x"), "x", screen{[]string{"laura> x"}, 8, 0}},
		{"emoji: cut between reads", 80,
			keys("ab\xf0\x9f", "\x99\x82cd"), "ab🙂cd", screen{[]string{"laura> ab🙂cd"}, 13, 0}},
		{"emoji: left steps over it whole", 80,
			keys("ab🙂cd", left, left, left, "x"), "abx🙂cd", screen{[]string{"laura> abx🙂cd"}, 10, 0}},
		{"emoji: delete under the cursor", 80,
			keys("ab🙂cd", home, right, right, del), "abcd", screen{[]string{"laura> abcd"}, 9, 0}},
		{"emoji: ^D deletes under the cursor", 80,
			keys("ab🙂cd", left, left, left, "\x04"), "abcd", screen{[]string{"laura> abcd"}, 9, 0}},
		{"CJK: two cells each", 80,
			keys("漢字", left, "x"), "漢x字", screen{[]string{"laura> 漢x字"}, 10, 0}},
		{"CJK: home", 80,
			keys("漢字", home), "漢字", screen{[]string{"laura> 漢字"}, 7, 0}},
		{"CJK: home then end", 80,
			keys("漢字", home, end), "漢字", screen{[]string{"laura> 漢字"}, 11, 0}},
		{"CJK: a backspace in the middle", 80,
			keys("漢字字", left, bs), "漢字", screen{[]string{"laura> 漢字"}, 9, 0}},
		{"combining acute: one backspace deletes it with its letter", 80,
			keys("caf"+eAcute, bs), "caf", screen{[]string{"laura> caf"}, 10, 0}},
		{"combining acute typed after its letter joins it", 80,
			keys("cafe", "\u0301", left, "x"), "cafx" + eAcute, screen{[]string{"laura> cafx" + eAcute}, 11, 0}},
		{"combining acute at the start of the line shows nothing: dropped", 80,
			keys("\u0301a"), "a", screen{[]string{"laura> a"}, 8, 0}},
		{"flag: one character of two cells", 80,
			keys(flag+"x", left, left), flag + "x", screen{[]string{"laura> " + flag + "x"}, 7, 0}},
		{"flag: one backspace", 80,
			keys("a"+flag, bs), "a", screen{[]string{"laura> a"}, 8, 0}},
		{"flag: typed one half at a time", 80,
			keys("🇫", "🇷", "x", left, left, right), flag + "x", screen{[]string{"laura> " + flag + "x"}, 9, 0}},
		{"ZWJ family: one character", 80,
			keys(family+"!", home, right), family + "!", screen{[]string{"laura> " + family + "!"}, 9, 0}},
		{"ZWJ family: one backspace", 80,
			keys(family+"!", left, bs), "!", screen{[]string{"laura> !"}, 7, 0}},
		{"ZWJ family: typed one emoji at a time", 80,
			keys("👨", "\u200d", "👩", "\u200d", "👧", bs), "", screen{[]string{"laura>"}, 7, 0}},
		{"word left over emoji", 80,
			keys("hi 🙂🙂 there", "\x1b[1;3D", "\x1b[1;3D", "x"), "hi x🙂🙂 there", screen{[]string{"laura> hi x🙂🙂 there"}, 11, 0}},
		{"^W deletes an emoji word", 80,
			keys("hi 🙂🙂", "\x17"), "hi ", screen{[]string{"laura> hi"}, 10, 0}},
		{"^U deletes to the start", 80,
			keys("漢字ab", left, "\x15"), "b", screen{[]string{"laura> b"}, 7, 0}},
		{"^K deletes to the end", 80,
			keys("a漢字b", home, right, "\x0b"), "a", screen{[]string{"laura> a"}, 8, 0}},
		{"^T swaps an emoji and a letter", 80,
			keys("a🙂", "\x14"), "🙂a", screen{[]string{"laura> 🙂a"}, 10, 0}},
		{"control characters are not typed", 80,
			keys("a\u009b2Jb\u202ec\x1b[99~d"), "a2Jbcd", screen{[]string{"laura> a2Jbcd"}, 13, 0}},

		{"wrap: a wide character that does not fit goes to the next row", 10,
			keys("ab🙂"), "ab🙂", screen{[]string{"laura> ab", "🙂"}, 2, 1}},
		{"wrap: and its backspace comes back up", 10,
			keys("ab🙂", bs), "ab", screen{[]string{"laura> ab"}, 9, 0}},
		{"wrap: a character inserted before it moves it down", 10,
			keys("a漢", left, "x"), "ax漢", screen{[]string{"laura> ax", "漢"}, 0, 1}},
		{"wrap: and deleted, brings it back", 10,
			keys("ax漢", left, bs), "a漢", screen{[]string{"laura> a漢"}, 8, 0}},
		{"wrap: the cells a wide character leaves at the end of a row are cleared", 10,
			keys("abcd", home, right, right, "🙂"), "ab🙂cd", screen{[]string{"laura> ab", "🙂cd"}, 2, 1}},
		{"wrap: a row filled to its last cell", 10,
			keys("a漢"), "a漢", screen{[]string{"laura> a漢"}, 0, 1}},
		{"wrap: a line entered that filled its last row leaves no empty row", 10,
			keys("a漢"+enter, "x"), "x", screen{[]string{"laura> a漢", "laura> x"}, 8, 1}},
		{"wrap: over three rows, to the start", 10,
			keys(rep("🙂", 8), home), rep("🙂", 8), screen{[]string{"laura> 🙂", "🙂🙂🙂🙂🙂", "🙂🙂"}, 7, 0}},
		{"wrap: home and end", 10,
			keys(rep("🙂", 8), home, end), rep("🙂", 8), screen{[]string{"laura> 🙂", "🙂🙂🙂🙂🙂", "🙂🙂"}, 4, 2}},
		{"wrap: emptied", 10,
			keys(rep("🙂", 8), rep(bs, 8)), "", screen{[]string{"laura>"}, 7, 0}},
		{"resized", 80,
			append(keys(rep("🙂", 8)), step{width: 10}), rep("🙂", 8), screen{[]string{"laura> 🙂", "🙂🙂🙂🙂🙂", "🙂🙂"}, 4, 2}},

		{"history: an emoji line recalled", 80,
			keys("🙂🙂🙂 ok"+enter, up), "🙂🙂🙂 ok", screen{[]string{"laura> 🙂🙂🙂 ok", "laura> 🙂🙂🙂 ok"}, 16, 1}},
		{"history: and left for the line being typed, no stray characters", 80,
			keys("🙂🙂🙂 ok"+enter, up, down), "", screen{[]string{"laura> 🙂🙂🙂 ok", "laura>"}, 7, 1}},
		{"history: a narrower line recalled over it", 80,
			keys("漢字漢字"+enter, "ab"+enter, up, up, up, down), "ab", screen{[]string{"laura> 漢字漢字", "laura> ab", "laura> ab"}, 9, 2}},
		{"history: an emoji line recalled and edited", 80,
			keys("🙂🙂🙂 ok"+enter, up, home, right, "x"), "🙂x🙂🙂 ok", screen{[]string{"laura> 🙂🙂🙂 ok", "laura> 🙂x🙂🙂 ok"}, 10, 1}},
		{"history: a line entered twice in a row is there once", 80,
			keys("x"+enter, "a"+enter, "a"+enter, up, up), "x", screen{[]string{"laura> x", "laura> a", "laura> a", "laura> x"}, 8, 3}},
		{"history: an empty line is not there", 80,
			keys("a"+enter, enter, up), "a", screen{[]string{"laura> a", "laura>", "laura> a"}, 8, 2}},
		{"history: the line being typed kept", 80,
			keys("a"+enter, "漢", up, down), "漢", screen{[]string{"laura> a", "laura> 漢"}, 9, 1}},

		{"written above the line", 80,
			[]step{{keys: "ab🙂cd"}, {write: "pau> hi 漢字\n"}, {keys: "e"}}, "ab🙂cde",
			screen{[]string{"pau> hi 漢字", "laura> ab🙂cde"}, 14, 1}},
		{"written above without a line end", 80,
			[]step{{keys: "ab"}, {write: "hi"}}, "ab", screen{[]string{"hi", "laura> ab"}, 9, 1}},
		{"^L clears the screen", 80,
			keys("a"+enter, "b", "\x0c"), "b", screen{[]string{"laura> b"}, 8, 0}},
		{"written above a line over two rows", 10,
			[]step{{keys: "ab🙂cd"}, {write: "hi\n"}, {keys: bs}}, "ab🙂c",
			screen{[]string{"hi", "laura> ab", "🙂c"}, 3, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines, f := run(t, c.width, nil, c.steps)
			if got := lines[len(lines)-1]; got != c.line {
				t.Errorf("line %q, want %q", got, c.line)
			}
			if diff := cmp.Diff(c.want, shows(f.screen)); diff != "" {
				t.Errorf("screen (-want +got):\n%s\nwritten: %q", diff, f.out.String())
			}
		})
	}
}

// TestTakeOff: a line that TakeOff says is taken off the screen is, a
// wide one over two rows as well; the others stay.
func TestTakeOff(t *testing.T) {
	takeOff := func(line string) bool { return !strings.HasPrefix(line, "/") }
	lines, f := run(t, 10, takeOff, keys("/who 🙂"+enter, "ab🙂cd🙂"+enter, "x"))
	if diff := cmp.Diff([]string{"/who 🙂", "ab🙂cd🙂", "x"}, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	want := screen{[]string{"laura> /wh", "o 🙂", "laura> x"}, 8, 2}
	if diff := cmp.Diff(want, shows(f.screen)); diff != "" {
		t.Errorf("screen (-want +got):\n%s\nwritten: %q", diff, f.out.String())
	}
}

// TestEOF: ^D on an empty line, ^C and the end of input end ReadLine
// with io.EOF; ^D on a line that is not empty deletes.
func TestEOF(t *testing.T) {
	for _, k := range []string{"\x04", "ab\x03"} {
		f := &fakeTerm{steps: keys(k, "more"), screen: vtscreen.New(80, 4)}
		f.e = New(f, "> ")
		if line, err := f.e.ReadLine(); line != "" || err != io.EOF {
			t.Errorf("%q: ReadLine gave %q, %v; want io.EOF", k, line, err)
		}
		if len(f.steps) != 1 {
			t.Errorf("%q: read past the end", k)
		}
	}
}

// TestMaxLine: a line holds at most MaxLine bytes, cut at a character.
func TestMaxLine(t *testing.T) {
	lines, _ := run(t, 80, nil, keys(rep("a", MaxLine-2), "🙂"+enter))
	if lines[0] != rep("a", MaxLine-2) {
		t.Errorf("line of %d bytes, want %d", len(lines[0]), MaxLine-2)
	}
}

// TestKeys: the keys read from what a terminal sends, and the bytes each
// takes; 0 for the beginning of one.
func TestKeys(t *testing.T) {
	type got struct {
		Key  key
		Rune rune
		N    int
	}
	cases := []struct {
		in   string
		want got
	}{
		{"a", got{keyRune, 'a', 1}},
		{"🙂x", got{keyRune, '🙂', 4}},
		{"\xf0\x9f", got{keyNone, 0, 0}},
		{"\xff", got{keyNone, 0, 1}},
		{"\u009b", got{keyNone, 0, 2}},
		{"\r\n", got{keyEnter, 0, 2}},
		{"\r", got{keyEnter, 0, 1}},
		{"\n", got{keyEnter, 0, 1}},
		{"\x7f", got{keyBackspace, 0, 1}},
		{"\x08", got{keyBackspace, 0, 1}},
		{"\x01", got{keyHome, 0, 1}},
		{"\x05", got{keyEnd, 0, 1}},
		{"\x02", got{keyLeft, 0, 1}},
		{"\x06", got{keyRight, 0, 1}},
		{"\x10", got{keyUp, 0, 1}},
		{"\x0e", got{keyDown, 0, 1}},
		{"\x0c", got{keyClear, 0, 1}},
		{"\x03", got{keyInterrupt, 0, 1}},
		{"\x04", got{keyEOF, 0, 1}},
		{"\x09", got{keyNone, 0, 1}},
		{"\x1b", got{keyNone, 0, 0}},
		{"\x1b[", got{keyNone, 0, 0}},
		{"\x1b[1;", got{keyNone, 0, 0}},
		{"\x1b[A", got{keyUp, 0, 3}},
		{"\x1bOB", got{keyDown, 0, 3}},
		{"\x1bOH", got{keyHome, 0, 3}},
		{"\x1b[1~", got{keyHome, 0, 4}},
		{"\x1b[4~", got{keyEnd, 0, 4}},
		{"\x1b[3~", got{keyDelete, 0, 4}},
		{"\x1b[1;5C", got{keyWordRight, 0, 6}},
		{"\x1b[1;3D", got{keyWordLeft, 0, 6}},
		{"\x1bb", got{keyWordLeft, 0, 2}},
		{"\x1bf", got{keyWordRight, 0, 2}},
		{"\x1bx", got{keyNone, 0, 2}},
		{"\x1b[200~", got{keyNone, 0, 6}},
		{"\x1b[12\x07", got{keyNone, 0, 4}},
		{"\x1b[" + rep("1", 40) + "A", got{keyNone, 0, maxSeq}},
	}
	for _, c := range cases {
		k, r, n := nextKey([]byte(c.in))
		if diff := cmp.Diff(c.want, got{k, r, n}); diff != "" {
			t.Errorf("%q (-want +got):\n%s", c.in, diff)
		}
	}
}
