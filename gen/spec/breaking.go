package spec

import (
	"slices"
	"strings"
)

// Breaking is a reviewed acknowledgement of an intended breaking change:
// the statement breaking "SUBJECT" ASPECT "reason". Compared with an older
// spec, every breaking change of that aspect of that element is accepted
// for that reason (Accept); one that acknowledges no change is stale.
type Breaking struct {
	Subject string // the element: "kind user", "codes LocateCode", "message PLUMI PR", "protocol PLUMI"
	Aspect  string // what of it: one of Aspects[the subject's first word]
	Reason  string
	Pos     Pos
}

// Aspects lists, for each sort of element, the aspects a breaking change
// of it is filed under, as Compare files them.
var Aspects = map[string][]string{
	"protocol": {"removed", "transport", "port", "tag", "length", "max"},
	"message":  {"removed", "tag", "items", "signature"},
	"kind":     {"base", "min", "max", "bytes", "runes", "utf8", "items"},
	"codes":    {"values"},
}

// breaking: breaking "SUBJECT" ASPECT "reason"
func (p *parser) breaking(st stmt) {
	p.addBreaking(p.s, &Breaking{Subject: st.word(1), Aspect: st.word(2), Reason: st.word(3), Pos: st.pos}, st.at(1))
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
// not have, or has though it says the element was removed.
func (s *Spec) checkBreaking(r *errs) {
	for _, b := range s.Breaking {
		has := s.has(b.Subject)
		switch {
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

// Accept marks each breaking change of cs that a breaking statement of s,
// the newer spec, acknowledges (Change.Accepted) and returns the
// statements that acknowledge none: stale, they would accept a future
// break unseen, so a caller refuses them.
func (s *Spec) Accept(cs []Change) (stale []*Breaking) {
	for _, b := range s.Breaking {
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
