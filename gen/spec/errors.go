package spec

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a place in a spec file: line and column, both from 1.
type Pos struct{ Line, Col int }

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Before orders positions in reading order.
func (p Pos) Before(q Pos) bool { return p.Line < q.Line || p.Line == q.Line && p.Col < q.Col }

// Error is one problem of a spec, at the place that causes it.
type Error struct {
	File string
	Pos  Pos
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%s: %s", e.File, e.Pos, e.Msg) }

// MaxErrors caps the errors reported for one spec: past it a person fixes
// the first ones and runs again, and a pathological input stays cheap.
const MaxErrors = 25

// ErrorList is every error of a spec, in reading order. Parse returns one
// when a spec does not check.
type ErrorList []*Error

func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// sorted orders l by position, drops exact repeats and caps it.
func (l ErrorList) sorted() ErrorList {
	sort.SliceStable(l, func(i, j int) bool { return l[i].Pos.Before(l[j].Pos) })
	var out ErrorList
	for i, e := range l {
		if i > 0 && *e == *l[i-1] {
			continue
		}
		if len(out) == MaxErrors {
			out = append(out, &Error{e.File, e.Pos, fmt.Sprintf("too many errors (%d reported; fix these and run again)", MaxErrors)})
			break
		}
		out = append(out, e)
	}
	return out
}

// errs collects the errors of one spec.
type errs struct {
	file  string
	list  ErrorList
	lines map[Pos][]token // each statement's words by its position, for errors inside them
}

// in is the position of byte off of word i of the statement at pos: where
// a mistake inside a string was written. Without the statement's words (a
// model read from its IR) it is pos.
func (r *errs) in(pos Pos, i, off int) Pos {
	if toks := r.lines[pos]; i < len(toks) {
		return toks[i].at(off)
	}
	return pos
}

func (r *errs) errorf(pos Pos, format string, args ...any) {
	r.list = append(r.list, &Error{r.file, pos, fmt.Sprintf(format, args...)})
}

// at names a position of the same file, for "first declared at" notes.
func (r *errs) at(pos Pos) string { return r.file + ":" + pos.String() }

// suggest is the name among names that name is most likely a misspelling
// of, or "": the nearest by Damerau-Levenshtein distance (letters added,
// dropped, changed or swapped), within 1 for names of up to 3 letters and 2
// for longer ones, a case difference counting as none.
func suggest(name string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if n == name || n == "" {
			continue
		}
		d := editDistance(strings.ToLower(name), strings.ToLower(n))
		limit := 2
		if min(len(name), len(n)) <= 3 {
			limit = 1
		}
		if d <= limit && (d < bestD || d == bestD && n < best) {
			best, bestD = n, d
		}
	}
	return best
}

// didYouMean is the end of an error about an unknown name: "; did you mean
// X?" when one of names is near it, else "".
func didYouMean(name string, names []string) string {
	if s := suggest(name, names); s != "" {
		return "; did you mean " + s + "?"
	}
	return ""
}

// editDistance is the optimal string alignment distance of a and b: the
// fewest bytes inserted, deleted, replaced or swapped with their neighbour
// to turn a into b.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20 // no one misspells a name this long
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
