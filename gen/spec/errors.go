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
	file string
	list ErrorList
}

func (r *errs) errorf(pos Pos, format string, args ...any) {
	r.list = append(r.list, &Error{r.file, pos, fmt.Sprintf(format, args...)})
}

// at names a position of the same file, for "first declared at" notes.
func (r *errs) at(pos Pos) string { return r.file + ":" + pos.String() }
