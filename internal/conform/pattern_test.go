package conform

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testVars = map[string]string{
	"user1": "u1", "domain": "bb.com", "caller": "pau@cc.org", "addr": "laura@bb.com",
	"empty": "", "brace": "{x}", "dollar": "$user1",
}

func testLookup(name string) (string, bool) {
	v, ok := testVars[name]
	return v, ok
}

func TestExpand(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"PR$user1@$domain", "PRu1@bb.com", ""},
		{"no variables", "no variables", ""},
		{"$$user1", "$user1", ""},
		{"a$$$user1", "a$u1", ""},
		{"cost $ 5", "cost $ 5", ""},
		{"end $", "end $", ""},
		{"$user1:", "u1:", ""},
		{"$dollar", "$user1", ""},  // a value is not expanded again
		{"{user1}", "{user1}", ""}, // captures mean nothing outside patterns
		{"$empty.", ".", ""},
		{"PR$user12", "", "variable $user12 is not bound"},
		{"PR$nobody@$domain", "", "variable $nobody is not bound"},
	}
	for _, tt := range tests {
		got, err := expand(tt.in, testLookup)
		if errText(err) != tt.err || got != tt.want {
			t.Errorf("expand(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestRefs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"PR$user1@$domain", []string{"user1", "domain"}},
		{"$$user1 $ $a_b9", []string{"a_b9"}},
		{"{capture}", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, refs(tt.in)); diff != "" {
			t.Errorf("refs(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name, pattern, in string
		ok                bool
		caps              map[string]string
	}{
		{"literal", "RR0", "RR0", true, nil},
		{"literal differs", "RR0", "RR1", false, nil},
		{"whole datagram", "RR0", "RR00", false, nil},
		{"prefix only", "RR0", "RR", false, nil},
		{"variables", "PR$user1@$domain", "PRu1@bb.com", true, nil},
		{"chat socket", "RL0$caller:$addr:{chat_ip}:{chat_port}", "RL0pau@cc.org:laura@bb.com:127.0.0.1:4000", true,
			map[string]string{"chat_ip": "127.0.0.1", "chat_port": "4000"}},
		{"capture at the end takes the rest", "N{peer}", "N05laura", true, map[string]string{"peer": "05laura"}},
		{"capture is not empty", "N{peer}", "N", false, nil},
		{"capture before literal is not empty", "{a}:x", ":x", false, nil},
		{"shortest run up to the next literal run", "{a}:{b}", "x:y:z", true, map[string]string{"a": "x", "b": "y:z"}},
		{"the whole literal run is searched", "{a}:x", "p:q:x", true, map[string]string{"a": "p:q"}},
		{"no backtracking", "{a}:{b}:end", "x:y:q:end", true, map[string]string{"a": "x", "b": "y:q"}},
		{"a multi-byte literal run", "{a}::{b}z", "x::y::z", true, map[string]string{"a": "x", "b": "y::"}},
		{"no backtracking: the first occurrence is taken", "{a}:{b}!", "x:y!z:w!", false, nil},
		{"literal run missing", "{a}@x", "abc", false, nil},
		{"width", "N{n:2}{nick}", "N04peer", true, map[string]string{"n": "04", "nick": "peer"}},
		{"width too long for the input", "N{n:2}", "N0", false, nil},
		{"width then literal", "L{n:2}hi $caller", "L13hi pau@cc.org", true, map[string]string{"n": "13"}},
		{"a substituted value is literal", "x$brace", "x{x}", true, nil},
		{"a substituted value is literal, not a capture", "x$brace", "xyz", false, nil},
		{"$$ is a dollar", "a$$b", "a$b", true, nil},
		{"a brace that is no capture", "{1}{ x}{", "{1}{ x}{", true, nil},
		{"bad width is literal", "{n:0}", "{n:0}", true, nil},
		{"control bytes", "X\x00{rest}", "X\x00\xff\r\n", true, map[string]string{"rest": "\xff\r\n"}},
		{"empty pattern matches the empty datagram", "", "", true, nil},
		{"empty pattern", "", "x", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := compile(tt.pattern, testLookup)
			if err != nil {
				t.Fatalf("compile(%q): %v", tt.pattern, err)
			}
			caps, ok := p.match(tt.in)
			if ok != tt.ok {
				t.Fatalf("%q matching %q: %v, want %v", tt.pattern, tt.in, ok, tt.ok)
			}
			if diff := cmp.Diff(tt.caps, caps); diff != "" {
				t.Errorf("captures (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCompile(t *testing.T) {
	tests := []struct {
		pattern, shown, err string
		captures            []string
	}{
		{"RL0$caller:{ip}:{port}", "RL0pau@cc.org:{ip}:{port}", "", []string{"ip", "port"}},
		{"N{n:2}{nick}", "N{n:2}{nick}", "", []string{"n", "nick"}},
		{"N{a}{b}", "", "{a} is followed by {b} with no literal bytes between them: give the first a width, {a:N}", nil},
		{"{a}$empty{b}", "", "{a} is followed by {b} with no literal bytes between them: give the first a width, {a:N}", nil},
		{"{a}:{a}", "", "{a} is captured twice in one pattern", nil},
		{"RR$nobody", "", "variable $nobody is not bound", nil},
	}
	for _, tt := range tests {
		p, err := compile(tt.pattern, testLookup)
		if errText(err) != tt.err {
			t.Errorf("compile(%q): error %v, want %q", tt.pattern, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if got := p.String(); got != tt.shown {
			t.Errorf("compile(%q).String() = %q, want %q", tt.pattern, got, tt.shown)
		}
		if diff := cmp.Diff(tt.captures, p.captures()); diff != "" {
			t.Errorf("compile(%q) captures (-want +got):\n%s", tt.pattern, diff)
		}
	}
}
