package spec

import (
	"slices"
	"strconv"
	"strings"
)

// Breaking is a reviewed acknowledgement of an intended breaking change:
// the statement breaking "SUBJECT" ASPECT against VERSION "reason".
// Compared with a spec of version VERSION or earlier, every breaking change
// of that aspect of that element is accepted for that reason (Accept).
// Against a later version (a release that already has the break) it
// accepts nothing and stays as the record of the break, in the docs.
type Breaking struct {
	Subject string // the element: "kind user", "codes LocateCode", "message PLUMI PR", "protocol PLUMI"
	Aspect  string // what of it: one of Aspects[the subject's first word]
	Against int    // the version of the spec it breaks: lower than the spec's own
	Reason  string
	Pos     Pos
}

// Aspects lists, for each sort of element, the aspects a breaking change
// of it is filed under, as Compare files them: a kind's are its base
// (changed across domains) and those of the bases (Base.Aspects).
var Aspects = map[string][]string{
	"protocol": {"removed", "transport", "port", "tag", "length", "max"},
	"message":  {"removed", "tag", "items", "signature"},
	"kind":     kindAspects(false),
	"codes":    kindAspects(true),
}

// kindAspects lists the aspects of the bases in order, each once: of the
// codes base alone (codes), or of the others (a kind).
func kindAspects(codes bool) []string {
	var out []string
	if !codes {
		out = append(out, "base")
	}
	for _, b := range bases {
		if (b.Name() == Codes) != codes {
			continue
		}
		for _, a := range b.Aspects() {
			if !contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// breaking: breaking "SUBJECT" ASPECT against VERSION "reason"
func (p *parser) breaking(st stmt) {
	if len(st.words) == 4 && st.words[3].quoted {
		p.errorf(st.pos, "breaking %q %s: name the version it breaks: breaking %q %s against %d %s",
			st.word(1), st.word(2), st.word(1), st.word(2), max(p.s.Version-1, 0), strconv.Quote(st.word(3)))
		return
	}
	if !p.shape(st, 6, 1, 5) {
		return
	}
	p.doc(st, 5)
	if st.word(3) != "against" {
		p.errorf(st.at(3), "breaking %q %s: want against VERSION after the aspect, got %q", st.word(1), st.word(2), st.word(3))
		return
	}
	v, ok := p.version(st, 4)
	if !ok {
		return
	}
	p.addBreaking(p.s, &Breaking{Subject: st.word(1), Aspect: st.word(2), Against: v, Reason: st.word(5), Pos: st.pos}, st.at(1))
}

// specVersion: version N, the version of the protocols the spec describes.
func (p *parser) specVersion(st stmt) {
	v, ok := p.version(st, 1)
	if !ok {
		return
	}
	p.setVersion(p.s, v, st.pos)
}

// version reads word i of st as a version: a number from 0 to maxNumber.
func (p *parser) version(st stmt, i int) (int, bool) {
	n, err := strconv.Atoi(st.word(i))
	if err != nil || n < 0 || n > maxNumber || strconv.Itoa(n) != st.word(i) {
		p.errorf(st.at(i), "%s: version %q is not a number from 0 to %d", st.word(0), st.word(i), maxNumber)
		return 0, false
	}
	return n, true
}

// setVersion gives s its version, once.
func (r *errs) setVersion(s *Spec, v int, pos Pos) {
	if s.VersionPos != (Pos{}) {
		r.errorf(pos, "version given twice (first at %s)", r.at(s.VersionPos))
		return
	}
	s.Version, s.VersionPos = v, pos
}

// addBreaking adds b to s unless its words are wrong (reported at words)
// or s acknowledges the same change already.
func (r *errs) addBreaking(s *Spec, b *Breaking, words Pos) {
	if msg := b.shape(); msg != "" {
		r.errorf(words, "breaking %q %s: %s", b.Subject, b.Aspect, msg)
		return
	}
	for _, o := range s.Breaking {
		if o.Subject == b.Subject && o.Aspect == b.Aspect {
			r.errorf(b.Pos, "breaking %q %s given twice (first at %s)", b.Subject, b.Aspect, r.at(o.Pos))
			return
		}
	}
	s.Breaking = append(s.Breaking, b)
}

// shape says what is wrong with b's subject and aspect as words, if
// anything: a sort of element, its name (a protocol and a tag for a
// message), an aspect that sort has, a reason.
func (b *Breaking) shape() string {
	w := strings.Fields(b.Subject)
	n := 2
	if len(w) > 0 && w[0] == "message" {
		n = 3
	}
	aspects, ok := Aspects[firstWord(w)]
	switch {
	case !ok || len(w) != n || strings.Join(w, " ") != b.Subject:
		return `the subject is "kind NAME", "codes NAME", "protocol NAME" or "message PROTOCOL TAG"`
	case !slices.Contains(aspects, b.Aspect):
		return "a " + w[0] + "'s aspects are " + strings.Join(aspects, ", ")
	case strings.TrimSpace(b.Reason) == "":
		return "say why the break is intended"
	}
	return ""
}

func firstWord(w []string) string {
	if len(w) == 0 {
		return ""
	}
	return w[0]
}

// checkBreaking refuses a breaking statement whose subject the spec does
// not have, or has though it says the element was removed, or that names
// a version not before the spec's own: a break makes a new version, so
// that once it is released (tagged) the statement names an older one and
// accepts nothing more.
func (s *Spec) checkBreaking(r *errs) {
	for _, b := range s.Breaking {
		has := s.has(b.Subject)
		switch {
		case b.Against >= s.Version:
			r.errorf(b.Pos, "breaking %q %s against %d: the spec is version %d; a break makes a new version: write version %d", b.Subject, b.Aspect, b.Against, s.Version, b.Against+1)
		case b.Aspect == "removed" && has:
			r.errorf(b.Pos, "breaking %q removed: the spec still has it", b.Subject)
		case b.Aspect != "removed" && !has:
			r.errorf(b.Pos, "breaking %q %s: the spec has no %s", b.Subject, b.Aspect, b.Subject)
		}
	}
}

// has reports whether the spec has the element a subject names.
func (s *Spec) has(subject string) bool {
	w := strings.Fields(subject)
	switch w[0] {
	case "kind":
		k := s.Kind(w[1])
		return k != nil && k.Base != Codes
	case "codes":
		k := s.Kind(w[1])
		return k != nil && k.Base == Codes
	case "protocol":
		return compatProto(s, w[1]) != nil
	}
	for _, m := range s.Messages {
		if m.Proto.Name == w[1] && m.Tag == w[2] {
			return true
		}
	}
	return false
}

// Accept marks each breaking change of cs, the changes from a spec of
// version base, that a breaking statement of s, the newer spec,
// acknowledges (Change.Accepted) and returns the statements that
// acknowledge none. A statement acknowledges the changes of its subject
// and aspect when it names base or a later version (the break came after
// base); one that names an earlier version accepts nothing (the base has
// the break already, and a second break of that aspect needs a statement
// of its own). A stale statement that names base would accept a future
// break unseen, so a caller refuses it (Names); the others are records of
// breaks of other versions.
func (s *Spec) Accept(cs []Change, base int) (stale []*Breaking) {
	for _, b := range s.Breaking {
		if b.Against < base {
			stale = append(stale, b)
			continue
		}
		used := false
		for i := range cs {
			if c := &cs[i]; c.Breaking && c.Subject == b.Subject && c.Aspect == b.Aspect {
				c.Accepted, used = b, true
			}
		}
		if !used {
			stale = append(stale, b)
		}
	}
	return stale
}

// Names reports whether b names the version base: stale against it, b is
// an error; against another version, a record.
func (b *Breaking) Names(base int) bool { return b.Against == base }
