package wiregen

import "pgregory.net/rapid"

// notWord draws a string that is none of words, the values of an enum
// kind: a word cut short, grown by a byte or changed in one, which a
// decoder comparing only a prefix or a length would take, or any string.
func notWord(words ...string) *rapid.Generator[string] {
	is := map[string]bool{}
	for _, w := range words {
		is[w] = true
	}
	near := rapid.Custom(func(t *rapid.T) string {
		w := rapid.SampledFrom(words).Draw(t, "word")
		b := string([]byte{rapid.Byte().Draw(t, "byte")})
		i := rapid.IntRange(0, len(w)-1).Draw(t, "at")
		switch rapid.IntRange(0, 2).Draw(t, "how") {
		case 0:
			return w[:i]
		case 1:
			return w + b
		}
		return w[:i] + b + w[i+1:]
	})
	return rapid.OneOf(near, rapid.String()).Filter(func(v string) bool { return !is[v] })
}
