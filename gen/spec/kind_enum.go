package spec

import (
	"strconv"
	"strings"
)

// enumBase is one word of a closed list, compared byte for byte: a status
// (online, away), a mode. Unlike a code, a word is any bytes, of any
// length, and its value is the word itself.
type enumBase struct{}

func (enumBase) Name() string { return Enum }

func (enumBase) Attrs() []attr {
	return []attr{wordsAttr("word", func(k *Kind) *[]Word { return &k.Words })}
}

// Check wants one word or more, none empty (an empty field would be one),
// none twice.
func (enumBase) Check(k *Kind, r *errs) {
	if len(k.Words) == 0 {
		r.errorf(k.Pos, "kind %s: an enum needs its words: word \"...\" lines", k.Name)
	}
	for i, w := range k.Words {
		if w.Text == "" {
			r.errorf(w.Pos, "kind %s: an empty word; a word is one byte or more", k.Name)
		}
		for _, o := range k.Words[:i] {
			if o.Text == w.Text {
				r.errorf(w.Pos, "kind %s: word %s given twice (first at %s)", k.Name, strconv.Quote(w.Text), r.at(o.Pos))
				break
			}
		}
	}
}

func (enumBase) Bounds(k *Kind) (int, int) {
	lo, hi := 0, 0
	for i, w := range k.Words {
		if i == 0 || len(w.Text) < lo {
			lo = len(w.Text)
		}
		hi = max(hi, len(w.Text))
	}
	return lo, hi
}

func (enumBase) CanHold(k *Kind, c byte) bool {
	for _, w := range k.Words {
		if strings.IndexByte(w.Text, c) >= 0 {
			return true
		}
	}
	return false
}

// Width is 0 even when every word has the same length: an enum is
// delimited as a text is, so adding a word of another length changes no
// framing.
func (enumBase) Width(*Kind) int { return 0 }

func (enumBase) Decode(k *Kind, s string, off, limit int) (any, *WireError) {
	v := s[off:limit]
	if !k.isWord(v) {
		return nil, wireErr("bad_field", "", off, "not one of its words")
	}
	return v, nil
}

// isWord reports whether v is one of k's words.
func (k *Kind) isWord(v string) bool {
	for _, w := range k.Words {
		if w.Text == v {
			return true
		}
	}
	return false
}

func (enumBase) Encode(_ *Kind, b []byte, v any) []byte { return append(b, v.(string)...) }

func (enumBase) DocRules(k *Kind) []string {
	var words []string
	for _, w := range k.Words {
		words = append(words, DocCode(w.Text))
	}
	return []string{"one of the words " + strings.Join(words, ", ") + ", byte for byte"}
}

// Rules are the check of the decoder as the IR states it (rules.go).
func (enumBase) Rules(k *Kind) []Rule {
	return []Rule{{Check: "word", Class: "bad_field", At: "start"}}
}

// Enums compare by their words: any other base holds other values.
func (enumBase) Domain() string { return Enum }

func (enumBase) Aspects() []string { return []string{"words"} }

// Compat reports the words removed, which a new receiver refuses, and
// those added, which an old receiver refuses. Their order is invisible.
func (enumBase) Compat(d *diff, o, n *Kind) {
	for _, w := range o.Words {
		if !n.isWord(w.Text) {
			d.add(true, "words", w.Pos, n.Pos, "word %s removed: an old peer may send it, a new receiver refuses it", strconv.Quote(w.Text))
		}
	}
	for _, w := range n.Words {
		if !o.isWord(w.Text) {
			d.add(false, "words", o.Pos, w.Pos, "new word %s: an old receiver refuses it", strconv.Quote(w.Text))
		}
	}
}
