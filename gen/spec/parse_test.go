package spec

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const okSpec = `
kind word text "a word" {
    min 1
    max 10
    deny ": "
    example "abc"
}
kind port uint16 "a port" {
    min 1
    max 65535
}
codes Result "a result" {
    0 Yes "yes"
    1 No "no"
}
protocol P "a protocol" {
    transport udp
    port 9 "where"
    tag 2
    max 40
}
message P AB Ab "a message" {
    field r Result
    field w word
    if r Yes {
        literal ":"
        field port port
    }
    example "AB0x:1"
    example "AB1x"
    invalid "AB" truncated "r"
}
`

func TestParseOK(t *testing.T) {
	s, err := Parse("ok.spec", okSpec)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Messages[0]
	if got := len(m.Fields()); got != 3 {
		t.Errorf("fields: %d", got)
	}
	if got := m.MaxLen(); got != 2+1+10+1+5 {
		t.Errorf("MaxLen %d", got)
	}
}

// errsOf parses src and returns its errors as "line:col: message".
func errsOf(t *testing.T, src string) []string {
	t.Helper()
	errs := specErrors(t, "bad.spec", src)
	for i, e := range errs {
		var ok bool
		if errs[i], ok = strings.CutPrefix(e, "bad.spec:"); !ok {
			t.Errorf("error names another file: %s", e)
		}
	}
	return errs
}

// TestParseErrors: each bad spec is refused with every error it holds, at
// the line and column that cause it. want lists "line:col: substring".
func TestParseErrors(t *testing.T) {
	edit := func(old, new string) string {
		if !strings.Contains(okSpec, old) {
			t.Fatalf("okSpec has no %q", old)
		}
		return strings.Replace(okSpec, old, new, 1)
	}
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"unknown statement", okSpec + "frobnicate x\n", []string{`33:1: unknown statement "frobnicate" in the top level`}},
		{"unknown kind", edit("field w word", "field w nope"), []string{`24:13: field w: unknown kind "nope"`}},
		{"separator inside field", edit(`deny ": "`, `deny " "`), []string{`24:5: message AB: field w (kind word) may contain ":", the separator after it`}},
		{"over the limit", edit("max 40", "max 10"), []string{`22:1: message AB: can be 19 bytes, over the P limit of 10 (at bad.spec:20:5)`}},
		{"two variable fields", edit("field w word\n", "field w word\n    field x word\n"), []string{`24:5: message AB: field w has variable width and is followed by another field`}},
		{"unclosed block at the end", "kind w text \"d\" {\n max 3\n", []string{`1:1: kind block is never closed`}},
		{"missing } before a message", edit("    max 40\n}\n", "    max 40\n"), []string{`16:1: protocol block is not closed before the message at line 21`}},
		{"bad string", okSpec + "const X 1 \"oops\n", []string{`33:11: unterminated string "oops`}},
		{"bad condition", edit("if r Yes", "if r Maybe"), []string{`25:10: if: Result has no code "Maybe"`}},
		{"tag length", edit("message P AB", "message P ABC"), []string{`22:1: message ABC: tag must be 2 bytes in P`}},
		{"unknown error class", edit(`truncated "r"`, `oops "r"`), []string{`31:18: invalid: unknown error "oops"`}},
		{"duplicate field", edit("field port port", "field w port"), []string{`27:15: message AB: field w appears twice (first at bad.spec:24:5)`}},
		{"duplicate kind", okSpec + "kind word text \"again\" {\n max 3\n}\n", []string{`33:6: kind word declared twice (first at bad.spec:2:1)`}},
		{"duplicate tag", okSpec + "message P AB Other \"again\" {\n}\n", []string{`33:11: message P AB declared twice (first at bad.spec:22:1)`}},
		{"duplicate code value", edit(`1 No "no"`, `0 No "no"`), []string{`14:5: codes Result: value 0 given twice (first at bad.spec:13:5)`}},
		{"duplicate attribute", edit("    max 10\n", "    max 10\n    max 12\n"), []string{`5:5: kind word: max set twice (first at bad.spec:4:5)`}},
		{"deny on uint16", edit("    max 65535\n", "    max 65535\n    deny \"x\"\n"), []string{`11:5: kind port: "deny" means nothing for base uint16`}},
		{"utf8 on uint16", edit("    max 65535\n", "    max 65535\n    utf8\n"), []string{`11:5: kind port: "utf8" means nothing for base uint16`}},
		{"allow on uint16", edit("    max 65535\n", "    max 65535\n    allow \"Z-A\"\n"), []string{`11:5: kind port: "allow" means nothing for base uint16`}},
		{"empty allow range", edit(`deny ": "`, `allow "Z-A"`), []string{`5:12: kind word: allow range "Z-A" is empty`}},
		{"allow item", edit(`deny ": "`, `allow "abc"`), []string{`5:12: kind word: allow item "abc" is neither a byte nor a range X-Y`}},
		{"uint16 range", edit("max 65535", "max 70000"), []string{`10:5: kind port: max 70000 does not fit uint16 (at most 65535)`}},
		{"min over max", edit("    min 1\n    max 10\n", "    min 11\n    max 10\n"), []string{`3:5: kind word: min 11 is over max 10`}},
		{"empty codes", edit("    0 Yes \"yes\"\n    1 No \"no\"\n", ""), []string{`12:1: codes Result: lists no value`}},
		{"code not a digit", edit(`1 No "no"`, `12 No "no"`), []string{`14:5: codes Result: value "12" is not one digit 0..9`}},
		{"huge number", edit("max 10\n", "max 99999999999999999999\n"), []string{`4:9: "max": "99999999999999999999" is not a number from 0 to 1048576`}},
		{"unknown base", okSpec + "kind z float \"d\"\n", []string{`33:8: kind z: unknown base "float"`}},
		{"block on a const", okSpec + "const X 1 \"d\" {\n}\n", []string{`33:1: "const" takes no block`}},
		{"example refused", edit(`example "AB1x"`, `example "AB1x:1"`), []string{`30:18: message AB: example "AB1x:1" is refused: bad_field in field "w"`}},
		{"example of another message", okSpec + "message P CD Cd \"d\" {\n    field w word\n    example \"AB1x\"\n}\n", []string{`35:5: message CD: example "AB1x" decodes as message AB`}},
		{"invalid accepted", edit(`invalid "AB" truncated "r"`, `invalid "AB1x" truncated "r"`), []string{`31:5: message AB: invalid input "AB1x" is accepted`}},
		{"invalid in another field", edit(`invalid "AB" truncated "r"`, `invalid "AB" truncated "w"`), []string{`31:16: message AB: invalid input "AB" is refused with truncated in field "r"`}},
		{"kind example refused", edit(`example "abc"`, `example "a:c"`), []string{`6:15: kind word: example "a:c" is refused: bad_field in field "word" at offset 1`}},
		{"doc with a newline", edit(`"a word"`, `"a\nword"`), []string{`2:18: "kind": text "a\nword" holds a control character`}},
		{"colliding Go names", okSpec + "message P CD Result \"d\" {\n}\n", []string{`33:1: message CD becomes the Go name Result, already taken (at bad.spec:12:1)`}},
		{"summary of no field", edit(`example "AB1x"`, `summary "$r then $nope"`), []string{`30:22: message AB: summary: "$nope" is not a field of the message`}},
		{"summary group never closed", edit(`example "AB1x"`, `summary "$w[:$port"`), []string{`30:16: message AB: summary: a [ is never closed`}},
		{"summary twice", edit(`example "AB1x"`, `summary "$w"`+"\n"+`    summary "$r"`), []string{`31:5: message AB: summary given twice (first at bad.spec:30:5)`}},
		{"denyrunes without utf8", edit(`deny ": "`, `deny ": "`+"\n    denyrunes \"U+0080\""), []string{`6:5: kind word: denyrunes needs utf8`}},
		{"denyrunes of ASCII text", edit(`deny ": "`, `allow "a-z"`+"\n    utf8\n    denyrunes \"U+0080\""), []string{`7:5: kind word: denyrunes means nothing: allow, deny and nocontrol leave no byte over 0x7f`}},
		{"denyrunes on uint16", edit("    max 65535\n", "    max 65535\n    denyrunes \"U+0080\"\n"), []string{`11:5: kind port: "denyrunes" means nothing for base uint16`}},
		{"denyrunes of nothing", edit(`deny ": "`, `deny ": "`+"\n    utf8\n    denyrunes \" \""), []string{`7:5: kind word: denyrunes lists no code point`}},
		{"denyrunes items", edit(`deny ": "`, `deny ": "`+"\n    utf8\n    denyrunes \"U+80 u+0080 U+0041 U+009F-U+0080 U+D800-U+E000 U+110000 U+0080-U+00FF U+00A0\""), []string{
			`7:5: kind word: denyrunes item "U+80" is neither a code point U+XXXX nor a range`,
			`7:5: kind word: denyrunes item "u+0080" is neither`,
			`7:5: kind word: denyrunes item "U+0041" holds ASCII: deny the bytes below 0x80 with deny`,
			`7:5: kind word: denyrunes item "U+009F-U+0080" is an empty range`,
			`7:5: kind word: denyrunes item "U+D800-U+E000" holds surrogates`,
			`7:5: kind word: denyrunes item "U+110000" goes past U+10FFFF`,
			`7:5: kind word: denyrunes item "U+00A0" overlaps U+0080-U+00FF, listed before it`}},
		{"enum without words", okSpec + "kind st enum \"s\"\n", []string{`33:1: kind st: an enum needs its words: word "..." lines`}},
		{"enum word twice", okSpec + "kind st enum \"s\" {\n    word \"on\"\n    word \"off\"\n    word \"on\"\n}\n", []string{`36:5: kind st: word "on" given twice (first at bad.spec:34:5)`}},
		{"enum word empty", okSpec + "kind st enum \"s\" {\n    word \"\"\n}\n", []string{`34:5: kind st: an empty word; a word is one byte or more`}},
		{"enum word on text", edit(`deny ": "`, `deny ": "`+"\n    word \"on\""), []string{`6:5: kind word: "word" means nothing for base text`}},
		{"enum example not a word", okSpec + "kind st enum \"s\" {\n    word \"on\"\n    example \"of\"\n}\n", []string{`35:14: kind st: example "of" is refused: bad_field in field "st" at offset 0: not one of its words`}},
		{"breaking subject", okSpec + "breaking \"kind\" max against 0 \"why\"\nversion 1\n", []string{`33:10: breaking "kind" max: the subject is "kind NAME", "codes NAME", "protocol NAME" or "message PROTOCOL TAG"`}},
		{"breaking message subject", okSpec + "breaking \"message AB\" items against 0 \"why\"\nversion 1\n", []string{`33:10: breaking "message AB" items: the subject is`}},
		{"breaking aspect", okSpec + "breaking \"kind word\" port against 0 \"why\"\nversion 1\n", []string{`33:10: breaking "kind word" port: a kind's aspects are base, min, max, bytes, runes, utf8, label, edge, items, words`}},
		{"breaking without a reason", okSpec + "breaking \"kind word\" max against 0 \" \"\nversion 1\n", []string{`33:10: breaking "kind word" max: say why the break is intended`}},
		{"breaking of nothing", okSpec + "breaking \"codes Word\" values against 0 \"why\"\nversion 1\n", []string{`33:1: breaking "codes Word" values: the spec has no codes Word`}},
		{"breaking of a kind that is codes", okSpec + "breaking \"kind Result\" max against 0 \"why\"\nversion 1\n", []string{`33:1: breaking "kind Result" max: the spec has no kind Result`}},
		{"breaking removed, still there", okSpec + "breaking \"message P AB\" removed against 0 \"why\"\nversion 1\n", []string{`33:1: breaking "message P AB" removed: the spec still has it`}},
		{"breaking twice", okSpec + "breaking \"kind word\" max against 0 \"why\"\nbreaking \"kind word\" max against 0 \"again\"\nversion 1\n", []string{`34:1: breaking "kind word" max given twice (first at bad.spec:33:1)`}},
		{"breaking without a version", okSpec + "breaking \"kind word\" max \"why\"\nversion 1\n", []string{`33:1: breaking "kind word" max: name the version it breaks: breaking "kind word" max against 0 "why"`}},
		{"breaking against a word", okSpec + "breaking \"kind word\" max since 0 \"why\"\nversion 1\n", []string{`33:26: breaking "kind word" max: want against VERSION after the aspect, got "since"`}},
		{"breaking against no number", okSpec + "breaking \"kind word\" max against v1 \"why\"\nversion 1\n", []string{`33:34: breaking: version "v1" is not a number from 0 to 1048576`}},
		{"breaking against the spec's own version", okSpec + "breaking \"kind word\" max against 1 \"why\"\nversion 1\n", []string{`33:1: breaking "kind word" max against 1: the spec is version 1; a break makes a new version: write version 2`}},
		{"breaking without a version statement", okSpec + "breaking \"kind word\" max against 0 \"why\"\n", []string{`33:1: breaking "kind word" max against 0: the spec is version 0; a break makes a new version: write version 1`}},
		{"version twice", okSpec + "version 1\nversion 2\n", []string{`34:1: version given twice (first at bad.spec:33:1)`}},
		{"version no number", okSpec + "version 01\n", []string{`33:9: version: version "01" is not a number from 0 to 1048576`}},
		{"answers", okSpec + "message P RB Rb \"r\" {\n    answers AB CD AB RB\n    field r Result\n}\n", []string{
			`34:16: answers: no P message "CD"`, `34:19: answers: AB named twice`, `34:22: answers: message RB cannot answer itself`}},
		{"answers twice", okSpec + "message P RB Rb \"r\" {\n    answers AB\n    answers AB\n}\n", []string{`35:5: message RB: answers given twice (first at bad.spec:34:5)`}},
		{"answers nothing", okSpec + "message P RB Rb \"r\" {\n    answers\n}\n", []string{`34:5: message RB: answers names no request`}},
		{"answers quoted", okSpec + "message P RB Rb \"r\" {\n    answers \"AB\"\n}\n", []string{`34:13: "answers": word 2 must not be quoted`}},
		{"signature of no field", okSpec + "message P SG Sg \"s\" {\n    field w word\n    literal \":\"\n    field x word\n    signature y\n}\n", []string{`37:15: message SG: signature y is not a field of the message`}},
		{"signature not last", okSpec + "message P SG Sg \"s\" {\n    field w word\n    literal \":\"\n    field x word\n    signature w\n}\n", []string{`37:15: message SG: signature w must be the message's last item`}},
		{"signature in an if group", edit("    example \"AB0x:1\"\n", "    signature port\n    example \"AB0x:1\"\n"), []string{`29:15: message AB: signature port must be the message's last item, outside any if group`}},
		{"signature after a field", okSpec + "codes One \"one\" {\n    0 Only \"only\"\n}\nmessage P SG Sg \"s\" {\n    field c One\n    field x word\n    signature x\n}\n", []string{`39:15: message SG: signature x must follow a literal`}},
		{"signature twice", okSpec + "message P SG Sg \"s\" {\n    field w word\n    literal \":\"\n    field x word\n    signature x\n    signature x\n}\n", []string{`38:5: message SG: signature given twice (first at bad.spec:37:5)`}},
		{"signature with a length prefix", strings.NewReplacer("    max 40\n", "    length 2 \"info\"\n    max 40\n", `    example "AB0x:1"`+"\n", "", `    example "AB1x"`+"\n", "", `    invalid "AB" truncated "r"`+"\n", "").Replace(okSpec) + "message P SG Sg \"s\" {\n    field w word\n    literal \":\"\n    field x word\n    signature x\n}\n", []string{`35:15: message SG: signature x cannot be in a protocol with a length prefix`}},
		{"a second if group", edit("    example \"AB0x:1\"\n", "    if r No {\n        literal \":\"\n    }\n    example \"AB0x:1\"\n"), []string{`29:5: message AB: a second if group (first at bad.spec:25:5)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := errsOf(t, tc.src)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(tc.want), strings.Join(got, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i][:strings.Index(tc.want[i], ": ")]) || !strings.Contains(got[i], tc.want[i][strings.Index(tc.want[i], ": ")+2:]) {
					t.Errorf("error %d:\n got %s\nwant %s", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// TestEveryErrorInOneRun: a spec with several independent mistakes gets
// them all, sorted by position, and a missing "}" does not hide the rest.
func TestEveryErrorInOneRun(t *testing.T) {
	src := strings.NewReplacer(
		"    max 10\n", "    max 10\n    bogus 1\n",
		"    max 65535\n}\n", "    max 65535\n",
		`invalid "AB" truncated "r"`, `invalid "AB" wrong "r"`,
	).Replace(okSpec) + "const x 1 \"lower-case name\"\n"
	got := errsOf(t, src)
	want := []string{
		`5:5: unknown statement "bogus" in kind word (want allow, deny, denyrunes, example, invalid, max, min, nocontrol, utf8)`,
		`9:1: kind block is not closed before the codes at line 12: add } after its last statement`,
		`31:18: invalid: unknown error "wrong" (want one of truncated, too_long, unknown_type, bad_field, bad_separator, trailing)`,
		`33:7: const name "x" must start with a capital letter (it names a Go type)`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// TestAnswersSeveral: a reply may answer several requests, declared before
// or after it; each request then has it among its replies.
func TestAnswersSeveral(t *testing.T) {
	s, err := Parse("ok.spec", okSpec+`
message P RB Rb "answers AB and CD" {
    answers AB CD
    field r Result
}
message P CD Cd "a request declared after its reply" {
}
`)
	if err != nil {
		t.Fatal(err)
	}
	rb, ab, cd := s.Messages[1], s.Messages[0], s.Messages[2]
	if d := cmp.Diff([]*Message{ab, cd}, rb.Answers); d != "" {
		t.Errorf("RB answers (-want +got):\n%s", d)
	}
	for _, m := range []*Message{ab, cd} {
		if s.Role(m) != RoleRequest || len(s.RepliesTo(m)) != 1 || s.RepliesTo(m)[0] != rb {
			t.Errorf("%s: role %v, replies %v", m.Tag, s.Role(m), s.RepliesTo(m))
		}
	}
	if s.Role(rb) != RoleReply {
		t.Errorf("RB: role %v", s.Role(rb))
	}
	got, data := roundTrip(t, s)
	sameModel(t, s, got)
	if !strings.Contains(string(data), "\"answers\": \"AB\",\n      \"answers_all\": [\n        \"AB\",\n        \"CD\"\n      ]") {
		t.Errorf("IR: no answers AB, answers_all [AB, CD]:\n%s", data)
	}
	// An IR that gives only answers, as the first readers of version 1
	// wrote it, answers that one request.
	ir := s.IR()
	ir.Messages[1].AnswersAll, ir.Messages[2].Role = nil, "other"
	old, err := FromIR(ir)
	if err != nil || len(old.Messages[1].Answers) != 1 || old.Messages[1].Answers[0].Tag != "AB" {
		t.Errorf("answers alone: %v, %v", err, old)
	}
}

// TestSignature: a signature field signs the message's bytes before the
// literal in front of it; the model gives them, and the IR keeps it.
func TestSignature(t *testing.T) {
	s, err := Parse("ok.spec", okSpec+`
message P SG Sg "a word signed by another" {
    field w word
    literal "::"
    field mac word
    signature mac
    example "SGab::xyz"
    example "SGa::q"
}
`)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Messages[1]
	if m.Signature == nil || m.Signature.Name != "mac" || len(m.SignedItems()) != 1 {
		t.Fatalf("signature %v, signed items %v", m.Signature, m.SignedItems())
	}
	for in, want := range map[string]string{"SGab::xyz": "SGab", "SGa::q": "SGa"} {
		d, err := s.Decode(m.Proto, []byte(in))
		if err != nil || string(d.Signed()) != want {
			t.Errorf("%q signs %q (%v), want %q", in, d.Signed(), err, want)
		}
	}
	got, data := roundTrip(t, s)
	sameModel(t, s, got)
	if !strings.Contains(string(data), `"signature": "mac"`) {
		t.Errorf("IR has no signature")
	}
	ir := s.IR()
	ir.Messages[1].Signature = "w"
	if _, err := FromIR(ir); err == nil || !strings.Contains(err.Error(), "signature w must be the message's last item") {
		t.Errorf("an IR signing the wrong field: %v", err)
	}
}

// TestErrorCap: a pathological spec reports at most MaxErrors errors and
// says there were more.
func TestErrorCap(t *testing.T) {
	got := errsOf(t, strings.Repeat("nonsense\n", 100))
	if len(got) != MaxErrors+1 || !strings.Contains(got[MaxErrors], "too many errors") {
		t.Errorf("got %d errors, last %q", len(got), got[len(got)-1])
	}
}

// TestShapesThatMustParse: a fieldless message, a one-value code list, an
// empty spec and a spec of comments are all legal.
func TestShapesThatMustParse(t *testing.T) {
	for _, src := range []string{
		"",
		"# only a comment\n\n   # and another\n",
		okSpec + "codes One \"one value\" {\n    0 Only \"the only one\"\n}\nmessage P PZ Ping \"a ping\" {\n    example \"PZ\"\n    invalid \"PZx\" trailing \"type\"\n}\nmessage P RZ Pong \"a pong\" {\n    answers PZ\n    field c One\n    example \"RZ0\"\n}\n",
	} {
		if _, err := Parse("ok.spec", src); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
}

// TestRealSpec: the project's spec parses.
func TestRealSpec(t *testing.T) {
	if _, err := os.Stat("../../spec/mi.spec"); err != nil {
		t.Skip("spec not found")
	}
	if _, err := Load("../../spec/mi.spec"); err != nil {
		t.Fatal(err)
	}
}

// TestScenarioErrors: a scenario is checked against the rest of the spec.
func TestScenarioErrors(t *testing.T) {
	base := okSpec + "var d \"x\" \"a var\"\nvar w \"abc\" \"a word\"\n"
	for _, tc := range []struct{ name, body, want string }{
		{"unknown step", "    frob a1\n", `unknown step "frob"`},
		{"role not played", "    send a1 \"AB1$w\"\n", `send: role a1 is not played`},
		{"undeclared var", "    play a1 agent\n    send a1 \"AB1$nope\"\n", `no var "nope" is declared`},
		{"capture used before", "    play a1 agent\n    send a1 \"AB1$w\"\n    expect a1 \"AB1{w}\"\n", `$w is used before the step that captures it`},
		{"does not decode", "    play a1 agent\n    send a1 \"AB1$w:1\"\n", `with the samples "AB1abc:1" does not decode`},
		{"agent step in a node scenario", "    start\n", `"start" is a step of agent scenarios, not node ones`},
		{"captures in a row", "    play a1 agent\n    expect a1 \"AB0{d}{w}\"\n", `two captures in a row cannot be told apart`},
		{"bad window", "    play a1 agent\n    expect a1 \"AB1$w\" within 900ms..100ms\n", `window 900ms..100ms opens after it closes`},
		{"repeat without count", "    repeat {\n    }\n", `repeat takes a count of 1 to 100 and a block`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := errsOf(t, base+"scenario node S-1 core \"a scenario\" {\n"+tc.body+"}\n")
			if len(got) != 1 || !strings.Contains(got[0], tc.want) {
				t.Errorf("errors %q, want one containing %q", got, tc.want)
			}
		})
	}
	ok := base + "scenario node S-1 core \"ok\" {\n    play a1 agent\n    repeat 3 {\n        send a1 \"AB1$w\"\n    }\n    send a1 raw \"\\xff\"\n    expect a1 \"AB0{d}:1\" within 10ms..20ms\n    send a1 \"AB0$d:1\"\n}\n"
	s, err := Parse("ok.spec", ok)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, st := range s.Scenarios[0].Steps {
		ops = append(ops, fmt.Sprintf("%s %s %q %v %d..%d", st.Op, st.Role, st.Text, st.Raw, st.Min, st.Max))
	}
	want := []string{`play a1 "agent" false 0..0`, `send a1 "AB1$w" false 0..0`, `send a1 "AB1$w" false 0..0`, `send a1 "AB1$w" false 0..0`,
		`send a1 "\xff" true 0..0`, `expect a1 "AB0{d}:1" false 10..20`, `send a1 "AB0$d:1" false 0..0`}
	if diff := cmp.Diff(want, ops); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}
