package spec

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// compatSpec is a small spec for what mi.spec cannot show without
// rewriting it: other framing, a base change, a second codes field.
const compatSpec = `
kind word text "a word" {
    min 1
    max 10
    deny ": "
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
    field s Result
    field w word
    if r Yes {
        literal ":"
        field port port
    }
}
`

// edit turns a spec source into another.
type edit func(t *testing.T, src string) string

// replace replaces the first old by new; old must occur.
func replace(old, new string) edit {
	return func(t *testing.T, src string) string {
		t.Helper()
		if !strings.Contains(src, old) {
			t.Fatalf("edit: %q not in the spec", old)
		}
		return strings.Replace(src, old, new, 1)
	}
}

// block returns the bounds of the top-level block whose first line starts
// with header.
func block(t *testing.T, src, header string) (int, int) {
	t.Helper()
	i := strings.Index(src, "\n"+header)
	if i < 0 {
		t.Fatalf("edit: no block %q in the spec", header)
	}
	n := strings.Index(src[i:], "\n}\n")
	if n < 0 {
		t.Fatalf("edit: block %q is not closed", header)
	}
	return i + 1, i + n + 3
}

// in replaces the first old by new inside the block that starts with header.
func in(header, old, new string) edit {
	return func(t *testing.T, src string) string {
		t.Helper()
		lo, hi := block(t, src, header)
		return src[:lo] + replace(old, new)(t, src[lo:hi]) + src[hi:]
	}
}

// cut removes the block that starts with header.
func cut(header string) edit {
	return func(t *testing.T, src string) string {
		t.Helper()
		lo, hi := block(t, src, header)
		return src[:lo] + src[hi:]
	}
}

func edits(es ...edit) edit {
	return func(t *testing.T, src string) string {
		t.Helper()
		for _, e := range es {
			src = e(t, src)
		}
		return src
	}
}

// addStatus gives compatSpec's message an enum field.
var addStatus = edits(
	replace("kind port uint16", "kind status enum \"a status\" {\n    word \"on\"\n    word \"off\"\n}\nkind port uint16"),
	replace("    field s Result\n", "    field s Result\n    field st status\n    literal \"/\"\n"))

// removePD and renamePD remove and rename mi.spec's PD, and the replies'
// answers of it.
var (
	removePD = edits(cut("message PLUMI PD "), replace("answers PD PA", "answers PA"), replace("answers PR PD PA", "answers PR PA"))
	renamePD = edits(replace("message PLUMI PD Deregister", "message PLUMI PU Deregister"), replace("answers PD PA", "answers PU PA"), replace("answers PR PD PA", "answers PR PU PA"))
)

// blankExamples empties the example, invalid, step, summary and breaking
// lines, keeping the line numbers. Compare ignores them, and without them
// an edit that narrows a kind needs no edit of the examples it would
// break, nor one that renames a kind an edit of mi.spec's acknowledgements.
var exampleLine = regexp.MustCompile(`(?m)^[ \t]*(example|invalid|step|summary|breaking) .*$`)

// scenarioSteps are the steps of scenarios, which send the examples and
// invalid inputs the edits may break; the scenario lines stay, empty.
var scenarioSteps = regexp.MustCompile(`(?m)^([ \t]*scenario .*\{)\n(?:[ \t]+.*\n|[ \t]*\n)*?(\})`)

func blankExamples(src string) string {
	src = scenarioSteps.ReplaceAllString(src, "$1\n$2")
	return exampleLine.ReplaceAllString(src, "")
}

// domainAs turns mi.spec's kind domain, a hostname, into a kind of base,
// a text or a dnsname of the same bytes: without label and edge.
func domainAs(base string) edit {
	return edits(replace("kind domain hostname", "kind domain "+base), in("kind domain", "    label 63\n", ""), in("kind domain", "    edge \"-\"\n", ""))
}

// found is a change as the cases state it: Msg is a prefix of the change's
// message, OldAt and NewAt are text of the spec lines it names ("" is not
// checked).
type found struct {
	Breaking     bool
	Msg          string
	OldAt, NewAt string
}

const (
	breaking   = true
	compatible = false
)

// hexBase is a text of hex digits: another base than text, whose kinds
// hold what a text kind with allow "0-9 a-f" holds. A change between the
// two is judged by content.
type hexBase struct{ textBase }

func (hexBase) Name() string { return "hex" }

func (hexBase) Attrs() []attr { return []attr{minAttr, maxAttr} }

func (b hexBase) Check(k *Kind, r *errs) {
	k.AllowSrc = "0-9 a-f"
	b.textBase.Check(k, r)
}

func TestCompare(t *testing.T) {
	withBase(t, hexBase{})
	mi, err := os.ReadFile("../../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		small   bool // edit compatSpec, not mi.spec
		prep    edit // if set, turns the spec into the old one first
		edit    edit
		reverse bool // compare the edited spec to the original
		want    []found
	}{
		// Framing.
		{name: "port changed", edit: replace("port 3344", "port 3345"), want: []found{
			{breaking, "protocol PLUMI: port 3344 -> 3345", "port 3344", "port 3345"}}},
		{name: "port doc changed", edit: replace(`"every node listens on 3344`, `"nodes listen on 3344`)},
		{name: "transport changed", edit: in("protocol PLUMI", "transport udp", "transport tcp"), want: []found{
			{breaking, "protocol PLUMI: transport udp -> tcp", "transport udp", "transport tcp"}}},
		{name: "protocol doc changed", edit: replace(`"LUMI location, agent`, `"location, agent`)},
		{name: "tag length changed", small: true, edit: edits(replace("tag 2", "tag 3"), replace("message P AB Ab", "message P ABC Ab")), want: []found{
			{breaking, "protocol P: tag length 2 -> 3 bytes", "tag 2", "tag 3"},
			{breaking, "message AB renamed ABC (Go type Ab)", "message P AB", "message P ABC"}}},
		{name: "comments and blank lines moved everything", small: true, edit: replace("\nkind word", "\n# a comment\n\n\nkind word")},
		{name: "length prefix added", small: true, edit: replace("tag 2\n", "tag 2\n    length 2 \"the info length\"\n"), want: []found{
			{breaking, "protocol P: length prefix none -> 2 digits", `protocol P "a protocol" {`, "length 2"}}},
		{name: "length doc changed", edit: replace(`"the info length: 2 ASCII`, `"2 ASCII`)},
		{name: "protocol max narrowed", small: true, edit: replace("max 40", "max 30"), want: []found{
			{breaking, "protocol P: max 40 -> 30 narrows it: a new receiver refuses the 31- to 40-byte messages", "max 40", "max 30"}}},
		{name: "protocol max widened", small: true, edit: replace("max 40", "max 50"), want: []found{
			{compatible, "protocol P: max 40 -> 50 widens it: an old receiver refuses the 41- to 50-byte messages", "max 40", "max 50"}}},
		{name: "protocol added", small: true, edit: replace("message P AB", "protocol Q \"another\" {\n    transport tcp\n    tag 1\n    max 9\n}\nmessage P AB"), want: []found{
			{compatible, "protocol Q added", "", "protocol Q"}}},

		// Messages.
		{name: "message removed", edit: removePD, want: []found{
			{breaking, "message PD (Deregister) removed", "message PLUMI PD", "protocol PLUMI"}}},
		{name: "message added", edit: replace("\nsequence PLUMI", "\nmessage PLUMI PX Ping \"ping\" {\n    field addr addr\n}\n\nsequence PLUMI"), want: []found{
			{compatible, "message PX (Ping) added: an old receiver refuses it", "protocol PLUMI", "message PLUMI PX"}}},
		{name: "tag renamed", edit: renamePD, want: []found{
			{breaking, "message PD renamed PU (Go type Deregister)", "message PLUMI PD", "message PLUMI PU"}}},
		{name: "Go type renamed", edit: replace("message PLUMI PD Deregister", "message PLUMI PD Leave"), want: []found{
			{compatible, "message PD: Go type Deregister -> Leave (wire-invisible)", "message PLUMI PD", "message PLUMI PD"}}},
		{name: "answers removed", edit: replace("    answers PD PA\n", "")},
		{name: "answers narrowed", edit: replace("    answers PD PA\n", "    answers PD\n")},

		// Codes.
		{name: "Busy and Unknown swap values", edit: edits(replace("1 Busy", "2 Busy"), replace("2 Unknown", "1 Unknown")), want: []found{
			{breaking, "codes LocateCode: Busy 1 -> 2: the digit 1 now means Unknown", "1 Busy", "2 Busy"},
			{breaking, "codes LocateCode: Unknown 2 -> 1: the digit 2 now means Busy", "2 Unknown", "1 Unknown"}}},
		{name: "code renamed", edit: replace("1 Busy", "1 Engaged"), want: []found{
			{compatible, "codes LocateCode: 1 Busy renamed Engaged (wire-invisible)", "1 Busy", "1 Engaged"}}},
		{name: "code value changed", edit: replace("3 Offline", "4 Offline"), want: []found{
			{breaking, "codes LocateCode: Offline 3 -> 4: the digit 3 is now refused", "3 Offline", "4 Offline"}}},
		{name: "code added", edit: replace("    3 Offline", "    4 Moved \"moved\"\n    3 Offline"), want: []found{
			{compatible, "codes LocateCode: new value 4 Moved: an old receiver refuses it", "codes LocateCode", "4 Moved"}}},
		{name: "code removed", edit: in("codes LocateCode", "    3 Offline \"the target is offline\"\n", ""), want: []found{
			{breaking, "codes LocateCode: 3 Offline removed", "3 Offline", "codes LocateCode"}}},
		{name: "codes listed in another order", edit: in("codes LocateCode", "    2 Unknown \"the target user, or its domain, does not exist\"\n    3 Offline \"the target is offline\"\n", "    3 Offline \"the target is offline\"\n    2 Unknown \"the target user, or its domain, does not exist\"\n")},

		// Enums.
		{name: "enum word removed", small: true, prep: addStatus, edit: in("kind status", "    word \"off\"\n", ""), want: []found{
			{breaking, `kind status: word "off" removed: an old peer may send it, a new receiver refuses it`, `word "off"`, "kind status"}}},
		{name: "enum word added", small: true, prep: addStatus, edit: in("kind status", "    word \"off\"\n", "    word \"off\"\n    word \"standby\"\n"), want: []found{
			{compatible, `kind status: new word "standby": an old receiver refuses it`, "kind status", `word "standby"`}}},
		{name: "enum words reordered", small: true, prep: addStatus, edit: in("kind status", "    word \"on\"\n    word \"off\"\n", "    word \"off\"\n    word \"on\"\n")},
		{name: "enum word renamed", small: true, prep: addStatus, edit: in("kind status", "word \"off\"", "word \"away\""), want: []found{
			{breaking, `kind status: word "off" removed`, `word "off"`, "kind status"},
			{compatible, `kind status: new word "away"`, "kind status", `word "away"`}}},

		// Limits, reported once at the kind however many messages use it.
		{name: "user max narrowed", edit: in("kind user", "max 35", "max 20"), want: []found{
			{breaking, "kind user: max 35 -> 20 narrows it: a new receiver refuses the 21- to 35-byte values, which an old peer may send", "max 35", "max 20"}}},
		{name: "user max widened", edit: in("kind user", "max 35", "max 40"), want: []found{
			{compatible, "kind user: max 35 -> 40 widens it: an old receiver refuses the 36- to 40-byte values, which a new peer may send", "max 35", "max 40"}}},
		{name: "user min raised", edit: in("kind user", "min 1", "min 2"), want: []found{
			{breaking, "kind user: min 1 -> 2 narrows it: a new receiver refuses the 1-byte values", "min 1", "min 2"}}},
		{name: "user min lowered", edit: in("kind user", "min 1", "min 0"), want: []found{
			{compatible, "kind user: min 1 -> 0 widens it: an old receiver refuses the empty values", "min 1", "min 0"}}},
		{name: "domain max narrowed", edit: in("kind domain", "max 35", "max 30"), want: []found{
			{breaking, "kind domain: max 35 -> 30 narrows it", "max 35", "max 30"}}},
		{name: "domain max widened", edit: in("kind domain", "max 35", "max 36"), want: []found{
			{compatible, "kind domain: max 35 -> 36 widens it", "max 35", "max 36"}}},
		{name: "port range narrowed", edit: in("kind port", "max 65535", "max 65000"), want: []found{
			{breaking, "kind port: max 65535 -> 65000 narrows it: a new receiver refuses 65001..65535", "max 65535", "max 65000"}}},
		{name: "port range widened", edit: in("kind port", "min 1", "min 0"), want: []found{
			{compatible, "kind port: min 1 -> 0 widens it: an old receiver refuses 0, which a new peer may send", "min 1", "min 0"}}},
		{name: "struct max lowered", edit: in("kind addr", "max 37", "max 30"), want: []found{
			{breaking, "kind addr: max 37 -> 30 narrows it: a new receiver refuses the 31- to 37-byte values", "max 37", "max 30"}}},
		{name: "struct max raised", edit: in("kind addr", "max 37", "max 30"), reverse: true, want: []found{
			{compatible, "kind addr: max 30 -> 37 widens it: an old receiver refuses the 31- to 37-byte values", "max 30", "max 37"}}},

		// Byte sets.
		{name: "deny grows", edit: replace(`deny "@: "`, `deny "@: ."`), want: []found{
			{breaking, `kind user: allowed bytes narrowed: "." no longer allowed; a new receiver refuses`, `deny "@: "`, `deny "@: ."`}}},
		{name: "deny shrinks", edit: replace(`deny "@: "`, `deny "@:"`), want: []found{
			{compatible, `kind user: allowed bytes widened: " " now allowed; an old receiver refuses`, `deny "@: "`, `deny "@:"`}}},
		{name: "allow shrinks", edit: replace(`allow "A-Z a-z 0-9 - . _"`, `allow "A-Z a-z 0-9 - ."`), want: []found{
			{breaking, `kind domain: allowed bytes narrowed: "_" no longer allowed`, "allow", "allow"}}},
		{name: "allow grows", edit: replace(`allow "A-Z a-z 0-9 - . _"`, `allow "A-Z a-z 0-9 - . _ +"`), want: []found{
			{compatible, `kind domain: allowed bytes widened: "+" now allowed`, "allow", "allow"}}},
		{name: "nocontrol added", edit: in("kind line", `deny "\r\n"`, `deny "\r\n"`+"\n    nocontrol"), want: []found{
			{breaking, `kind line: allowed bytes narrowed: "\x00"-"\t" "\v" "\f" "\x0e"-"\x1f" "\x7f" no longer allowed`, "kind line", "nocontrol"}}},
		{name: "deny of a byte nocontrol refuses", edit: in("kind nick", "nocontrol", "nocontrol\n    deny \"\\x7f\"")},

		// Code points.
		{name: "denyrunes added", small: true, prep: replace(`deny ": "`, `deny ": "`+"\n    utf8"), edit: replace("    utf8\n", "    utf8\n    denyrunes \"U+202E U+0080-U+009F\"\n"), want: []found{
			{breaking, "kind word: denyrunes U+0080-U+009F U+202E added: a new receiver refuses the values with them, which an old peer may send", "kind word", "denyrunes"}}},
		{name: "denyrunes removed", small: true, prep: replace(`deny ": "`, `deny ": "`+"\n    utf8"), edit: replace("    utf8\n", "    utf8\n    denyrunes \"U+202E U+0080-U+009F\"\n"), reverse: true, want: []found{
			{compatible, "kind word: denyrunes U+0080-U+009F U+202E removed: an old receiver refuses the values with them, which a new peer may send", "denyrunes", "kind word"}}},
		{name: "denyrunes widened", small: true, prep: replace(`deny ": "`, `deny ": "`+"\n    utf8\n    denyrunes \"U+0080-U+009F\""), edit: replace(`"U+0080-U+009F"`, `"U+0080-U+009F U+2066-U+2069 U+00A0"`), want: []found{
			{breaking, "kind word: denyrunes U+00A0 U+2066-U+2069 added", "denyrunes", "denyrunes"}}},
		{name: "denyrunes listed otherwise", small: true, prep: replace(`deny ": "`, `deny ": "`+"\n    utf8\n    denyrunes \"U+0080-U+009F\""), edit: replace(`"U+0080-U+009F"`, `"U+0090-U+009F U+0080-U+008F"`)},
		{name: "denyrunes of bytes refused anyway", small: true, prep: replace(`deny ": "`, `deny ": \xc2"`+"\n    utf8"), edit: replace("    utf8\n", "    utf8\n    denyrunes \"U+0080-U+009F\"\n")},

		// Signatures.
		{name: "signature of a message added", small: true, prep: replace("message P AB Ab \"a message\" {", "message P SG Sg \"signed\" {\n    field x word\n    literal \":\"\n    field mac word\n}\nmessage P AB Ab \"a message\" {"), edit: replace("    field mac word\n", "    field mac word\n    signature mac\n"), want: []found{
			{breaking, "message SG: signature mac added: a new receiver refuses what an old peer sends there", "message P SG", "field mac word"}}},
		{name: "signature of a message removed", small: true, prep: replace("message P AB Ab \"a message\" {", "message P SG Sg \"signed\" {\n    field x word\n    literal \":\"\n    field mac word\n}\nmessage P AB Ab \"a message\" {"), edit: replace("    field mac word\n", "    field mac word\n    signature mac\n"), reverse: true, want: []found{
			{breaking, "message SG: signature mac removed", "field mac word", "message P SG"}}},

		// utf8, bases.
		{name: "utf8 added", edit: in("kind line", `deny "\r\n"`, `deny "\r\n"`+"\n    utf8"), want: []found{
			{breaking, "kind line: utf8 added: a new receiver refuses the invalid UTF-8", "kind line", "utf8"}}},
		{name: "utf8 added to an ASCII kind", edit: in("kind domain", "min 1", "min 1\n    utf8")},
		{name: "utf8 removed", small: true, prep: replace(`deny ": "`, `deny ": "`+"\n    utf8"), edit: replace("    utf8\n", ""), want: []found{
			{compatible, "kind word: utf8 removed: an old receiver refuses the invalid UTF-8", "utf8", "kind word"}}},
		{name: "text becomes dnsname", edit: replace("kind nick text", "kind nick dnsname"), want: []found{
			{breaking, "kind nick: base text -> dnsname: a new receiver refuses the values that are not DNS names", "kind nick text", "kind nick dnsname"}}},
		{name: "hostname becomes text", edit: domainAs("text"), want: []found{
			{compatible, "kind domain: base hostname -> text widens it: an old receiver refuses the values that are not host names", "kind domain hostname", "kind domain text"}}},
		{name: "dnsname becomes hostname", edit: domainAs("dnsname"), reverse: true, want: []found{
			{compatible, "kind domain: base dnsname -> hostname widens it: an old receiver refuses the values that are not DNS names", "kind domain dnsname", "kind domain hostname"},
			{breaking, "kind domain: base dnsname -> hostname: a new receiver refuses the values that are not host names", "kind domain dnsname", "kind domain hostname"}}},
		{name: "hostname label shortened", edit: in("kind domain", "label 63", "label 20"), want: []found{
			{breaking, "kind domain: label 63 -> 20", "label 63", "label 20"}}},
		{name: "hostname label lengthened", edit: in("kind domain", "label 63", "label 20"), reverse: true, want: []found{
			{compatible, "kind domain: label 20 -> 63", "label 20", "label 63"}}},
		{name: "hostname edge gains a byte", edit: in("kind domain", `edge "-"`, `edge "-_"`), want: []found{
			{breaking, `kind domain: edge gains "_": a new receiver refuses the labels that start or end with it`, `edge "-"`, `edge "-_"`}}},
		{name: "hostname edge loses a byte", edit: in("kind domain", `edge "-"`, `edge "-_"`), reverse: true, want: []found{
			{compatible, `kind domain: edge loses "_": an old receiver refuses the labels`, `edge "-_"`, `edge "-"`}}},
		{name: "text becomes an equivalent base", small: true, prep: replace(`deny ": "`, `allow "0-9 a-f"`), edit: replace("kind word text \"a word\" {\n    min 1\n    max 10\n    allow \"0-9 a-f\"\n", "kind word hex \"a word\" {\n    min 1\n    max 10\n"), want: []found{
			{compatible, "kind word: base text -> hex: no check added or removed (wire-invisible)", "kind word text", "kind word hex"}}},
		{name: "an equivalent base becomes text", small: true, prep: replace(`deny ": "`, `allow "0-9 a-f"`), edit: replace("kind word text \"a word\" {\n    min 1\n    max 10\n    allow \"0-9 a-f\"\n", "kind word hex \"a word\" {\n    min 1\n    max 10\n"), reverse: true, want: []found{
			{compatible, "kind word: base hex -> text: no check added or removed (wire-invisible)", "kind word hex", "kind word text"}}},
		{name: "text becomes a narrower base", small: true, edit: replace("kind word text \"a word\" {\n    min 1\n    max 10\n    deny \": \"\n", "kind word hex \"a word\" {\n    min 1\n    max 10\n"), want: []found{
			{breaking, `kind word: allowed bytes narrowed: "\x00"-"\x1f"`, "kind word text", "kind word hex"},
			{compatible, "kind word: base text -> hex: no check added or removed (wire-invisible)", "kind word text", "kind word hex"}}},
		{name: "uint16 becomes uint8", small: true, edit: replace("kind port uint16 \"a port\" {\n    min 1\n    max 65535\n", "kind port uint8 \"a port\" {\n    min 1\n    max 255\n"), want: []found{
			{compatible, "kind port: base uint16 -> uint8: the same canonical decimal on the wire", "kind port uint16", "kind port uint8"},
			{breaking, "kind port: max 65535 -> 255 narrows it: a new receiver refuses 256..65535", "max 65535", "max 255"}}},
		{name: "base changed", small: true, edit: replace("kind port uint16 \"a port\" {\n    min 1\n    max 65535\n", "kind port text \"a port\" {\n    min 1\n    max 5\n    allow \"0-9\"\n"), want: []found{
			{breaking, "kind port: base uint16 -> text", "kind port uint16", "kind port text"}}},
		{name: "kind renamed", edit: edits(replace("kind nick text", "kind handle text"), replace("field nick nick", "field nick handle")), want: []found{
			{compatible, "kind nick -> handle: other name, same content (wire-invisible)", "kind nick", "kind handle"}}},
		{name: "field uses another kind of the same content", edit: edits(replace("\nkind port", "\nkind ip4 ipv4 \"another\"\n\nkind port"), replace("field ip ip", "field ip ip4")), want: []found{
			{compatible, "kind ip -> ip4: other name, same content", "kind ip", "kind ip4"}}},
		{name: "field kind narrowed", edit: replace("field text line", "field text nick"), want: []found{
			{breaking, `kind line -> nick: allowed bytes narrowed: "\x00"-"\t"`, "", ""},
			{breaking, "kind line -> nick: min 0 -> 1 narrows it", "min 0", "min 1"},
			{breaking, "kind line -> nick: utf8 added", "", "utf8"},
			{breaking, "kind line -> nick: denyrunes U+0080-U+009F U+061C U+200E-U+200F U+2028-U+202E U+2066-U+2069 added", "kind line", "denyrunes"}}},
		{name: "field kind widened", edit: replace("field nick nick", "field nick line"), want: []found{
			{compatible, "kind nick -> line: utf8 removed", "utf8", ""},
			{compatible, "kind nick -> line: denyrunes U+0080-U+009F U+061C U+200E-U+200F U+2028-U+202E U+2066-U+2069 removed", "denyrunes", "kind line"},
			{compatible, "kind nick -> line: min 1 -> 0 widens it", "min 1", "min 0"},
			{compatible, `kind nick -> line: allowed bytes widened: "\x00"-"\t"`, "", ""}}},

		// Fields of messages.
		{name: "field added", edit: in("message PLUMI PL ", "    field to addr\n", "    field to addr\n    literal \":\"\n    field hops port\n"), want: []found{
			{breaking, `message PL: literal ":" added`, "field to addr", `literal ":"`},
			{breaking, "message PL: field hops added", "field to addr", "field hops port"}}},
		{name: "field renamed", edit: in("message PLUMI PL ", "field to addr", "field target addr"), want: []found{
			{compatible, "message PL: field to renamed target (wire-invisible)", "field to addr", "field target addr"}}},
		{name: "field removed", edit: in("message PLUMI PL ", "    literal \":\"\n    field to addr\n", ""), want: []found{
			{breaking, `message PL: literal ":" removed`, `literal ":"`, "field from addr"},
			{breaking, "message PL: field to removed", "field to addr", "field from addr"}}},
		{name: "fields reordered", edit: in("message PLUMI PL ", "field from addr\n    literal \":\"\n    field to addr", "field to addr\n    literal \":\"\n    field from addr"), want: []found{
			{breaking, "message PL: fields reordered (from, to -> to, from)", "field from addr", "field to addr"}}},
		{name: "fields both renamed in place", edit: in("message PLUMI PL ", "field from addr\n    literal \":\"\n    field to addr", "field origin addr\n    literal \":\"\n    field target addr"), want: []found{
			{compatible, "message PL: field from renamed origin", "field from", "field origin"},
			{compatible, "message PL: field to renamed target", "field to", "field target"}}},

		// Fields of a struct kind: reported once, not per message.
		{name: "struct field added", edit: in("kind addr", "    field domain domain\n", "    field domain domain\n    literal \"/\"\n    field sub domain\n"), want: []found{
			{breaking, `kind addr: literal "/" added`, "field domain", `literal "/"`},
			{breaking, "kind addr: field sub added", "field domain", "field sub domain"}}},
		{name: "struct field renamed", edit: in("kind addr", "field user user", "field name user"), want: []found{
			{compatible, "kind addr: field user renamed name (wire-invisible)", "field user", "field name"}}},
		{name: "struct Go type renamed", edit: replace("kind addr struct Address", "kind addr struct Addr"), want: []found{
			{compatible, "kind addr: Go type Address -> Addr (wire-invisible)", "kind addr", "kind addr"}}},

		// Literals.
		{name: "separator changed", edit: in("message PLUMI RL ", "        literal \":\"\n        field port", "        literal \";\"\n        field port"), want: []found{
			{breaking, `message RL (if group): literal ":" -> ";"`, `literal ":"`, `literal ";"`}}},
		{name: "separator line restyled", edit: in("message PLUMI RL ", "        literal \":\"\n        field port", "        literal   \":\"   # ip:port\n        field port")},

		// Conditions.
		{name: "if code changed", edit: replace("if code Found", "if code Busy"), want: []found{
			{breaking, "message RL: if condition code Found -> code Busy", "if code Found", "if code Busy"}}},
		{name: "if code renamed with its code", edit: edits(replace("0 Found", "0 Located"), replace("if code Found", "if code Located")), want: []found{
			{compatible, "codes LocateCode: 0 Found renamed Located", "0 Found", "0 Located"}}},
		{name: "if group removed", edit: in("message PLUMI RL ", "    if code Found {\n        literal \":\"\n        field ip ip\n        literal \":\"\n        field port port\n    }\n", ""), want: []found{
			{breaking, "message RL: if group (if code Found) removed", "if code Found", "field to addr"}}},
		{name: "field renamed in the if group", edit: replace("field port port", "field tcpport port"), want: []found{
			{compatible, "message RL (if group): field port renamed tcpport", "field port", "field tcpport"}}},
		{name: "if field changed", small: true, edit: replace("if r Yes", "if s Yes"), want: []found{
			{breaking, "message AB: if condition r Yes -> s Yes: the group is sent on another field", "if r Yes", "if s Yes"}}},
		{name: "if group added to a message", small: true, edit: replace("    if r Yes {\n        literal \":\"\n        field port port\n    }\n", ""), reverse: true, want: []found{
			{breaking, "message AB: if group (if r Yes) added", "field w word", "if r Yes"}}},
		{name: "codes renamed", small: true, edit: edits(replace("codes Result", "codes Outcome"), replace("field r Result", "field r Outcome"), replace("field s Result", "field s Outcome")), want: []found{
			{compatible, "codes Result -> Outcome: other name, same content", "codes Result", "codes Outcome"}}},

		// Consts: behaviour, not wire.
		{name: "const changed", edit: edits(replace("const Attempts 5", "const Attempts 3"), replace("RetryInterval 1000ms", "RetryInterval 2000ms")), want: []found{
			{compatible, "const Attempts 5 -> 3: a behaviour change, not a wire one", "Attempts 5", "Attempts 3"},
			{compatible, "const RetryInterval 1000ms -> 2000ms", "1000ms", "2000ms"}}},
		{name: "const doc changed", edit: replace(`"an agent sends a request at most`, `"a request is sent at most`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := string(mi)
			if tc.small {
				src = compatSpec
			}
			if tc.prep != nil {
				src = tc.prep(t, src)
			}
			edited := tc.edit(t, src)
			oldSrc, newSrc := blankExamples(src), blankExamples(edited)
			if tc.reverse {
				oldSrc, newSrc = newSrc, oldSrc
			}
			old, err := Parse("old.spec", oldSrc)
			if err != nil {
				t.Fatalf("old spec: %v", err)
			}
			cur, err := Parse("new.spec", newSrc)
			if err != nil {
				t.Fatalf("new spec: %v", err)
			}
			got := Compare(old, cur)
			if d := cmp.Diff(tc.want, stated(got, tc.want, oldSrc, newSrc)); d != "" {
				t.Errorf("changes (-want +got):\n%s\nall:\n%s", d, lines(got))
			}
			for _, c := range got {
				// Every breaking change can be acknowledged: its subject
				// and aspect are what a breaking statement takes.
				if b := (&Breaking{Subject: c.Subject, Aspect: c.Aspect, Reason: "why"}); c.Breaking && b.shape() != "" {
					t.Errorf("%s: filed as %q %s, which no breaking statement can name: %s", c, c.Subject, c.Aspect, b.shape())
				}
				// Every finding names both lines, unless a side has no
				// element at all.
				if (c.Old == Pos{} || c.New == Pos{}) && !strings.HasPrefix(c.Msg, "protocol ") && !strings.HasPrefix(c.Msg, "const ") {
					t.Errorf("%s: a side has no position", c)
				}
			}
			if again := Compare(cur, cur); len(again) > 0 {
				t.Errorf("the edited spec against itself:\n%s", lines(again))
			}
		})
	}
}

// stated puts got in the terms of want, for a readable diff: a message
// that starts with the wanted prefix becomes the prefix, a line that holds
// the wanted text becomes the text.
func stated(got []Change, want []found, oldSrc, newSrc string) []found {
	line := func(src string, p Pos) string {
		ls := strings.Split(src, "\n")
		if p.Line < 1 || p.Line > len(ls) {
			return ""
		}
		return strings.TrimSpace(ls[p.Line-1])
	}
	var out []found
	for i, c := range got {
		f := found{c.Breaking, c.Msg, line(oldSrc, c.Old), line(newSrc, c.New)}
		if i < len(want) {
			w := want[i]
			if strings.HasPrefix(f.Msg, w.Msg) {
				f.Msg = w.Msg
			}
			if w.OldAt == "" || strings.Contains(f.OldAt, w.OldAt) {
				f.OldAt = w.OldAt
			}
			if w.NewAt == "" || strings.Contains(f.NewAt, w.NewAt) {
				f.NewAt = w.NewAt
			}
		}
		out = append(out, f)
	}
	return out
}

func lines(cs []Change) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// TestCompareSelf: mi.spec against itself has no change.
func TestCompareSelf(t *testing.T) {
	a, err := Load("../../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load("../../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	if got := Compare(a, b); len(got) > 0 {
		t.Errorf("mi.spec against itself:\n%s", lines(got))
	}
}

// TestChangeString: NEWFILE:L:C (was OLDFILE:L:C): message, and a side
// with no element shows its file alone.
func TestChangeString(t *testing.T) {
	for _, tc := range []struct {
		c    Change
		want string
	}{
		{Change{Breaking: true, Old: Pos{18, 5}, New: Pos{17, 5}, OldFile: "old.spec", NewFile: "new.spec", Msg: "kind user: max 35 -> 20"},
			"new.spec:17:5 (was old.spec:18:5): kind user: max 35 -> 20"},
		{Change{New: Pos{3, 1}, OldFile: "old.spec", NewFile: "new.spec", Msg: "protocol Q added"},
			"new.spec:3:1 (was old.spec): protocol Q added"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

// TestCompareOrder: changes come sorted by new position, then old.
func TestCompareOrder(t *testing.T) {
	mi, err := os.ReadFile("../../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	src := blankExamples(string(mi))
	edited := strings.NewReplacer("port 3344", "port 3345", "max 35", "max 34", "1 Busy", "1 Engaged", "const Attempts 5", "const Attempts 4").Replace(src)
	old, err := Parse("old.spec", src)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := Parse("new.spec", edited)
	if err != nil {
		t.Fatal(err)
	}
	got := Compare(old, cur)
	if len(got) != 5 { // user and domain max, port, Busy, Attempts
		t.Errorf("%d changes, want 5:\n%s", len(got), lines(got))
	}
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		if b.New.Before(a.New) || b.New == a.New && b.Old.Before(a.Old) {
			t.Errorf("out of order:\n%s\n%s", a, b)
		}
	}
}

// TestAccept: a breaking statement of the new spec (version 2) accepts the
// breaking changes of its subject and aspect, and only those, when it names
// the old spec's version or a later one; any other breaking change stays
// unaccepted. A statement that accepts nothing (no change, another aspect, a
// compatible change) is stale: an error when it names the old spec's
// version, else a record of a break of another version, kept.
func TestAccept(t *testing.T) {
	mi, err := os.ReadFile("../../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	// mi.spec without its own statements; each case adds its own.
	src := regexp.MustCompile(`(?m)^breaking .*$`).ReplaceAllString(blankExamples(string(mi)), "")
	// The cases are written against a release numbered 1.
	src = regexp.MustCompile(`\nversion \d+\n`).ReplaceAllString(src, "\nversion 1\n")
	if !strings.Contains(src, "\nversion 1\n") {
		t.Fatal("mi.spec has no version statement")
	}
	for _, tc := range []struct {
		name      string
		base      int // the old spec's version
		edit      edit
		acks      string   // breaking statements appended to the new spec
		accepted  []string // "SUBJECT ASPECT" of the accepted changes
		breaking  []string // "SUBJECT ASPECT" of the others that break
		staleAcks []string // "SUBJECT ASPECT" of the stale statements that name the base
		kept      []string // "SUBJECT ASPECT" of the stale statements that name another version
	}{
		{name: "accepted", base: 1, edit: in("kind user", "max 35", "max 20"), acks: `breaking "kind user" max against 1 "shorter names"`,
			accepted: []string{"kind user max"}},
		{name: "unacknowledged", base: 1, edit: in("kind user", "max 35", "max 20"),
			breaking: []string{"kind user max"}},
		{name: "another break beside", base: 1, edit: edits(in("kind user", "max 35", "max 20"), replace("port 3344", "port 3345")), acks: `breaking "kind user" max against 1 "shorter names"`,
			accepted: []string{"kind user max"}, breaking: []string{"protocol PLUMI port"}},
		{name: "every change of the aspect", base: 1, edit: edits(in("kind user", "max 35", "max 20"), in("kind user", "min 1", "min 2")),
			acks:     `breaking "kind user" max against 1 "shorter names"` + "\n" + `breaking "kind user" min against 1 "longer names"`,
			accepted: []string{"kind user min", "kind user max"}},
		{name: "another aspect", base: 1, edit: in("kind user", "max 35", "max 20"), acks: `breaking "kind user" min against 1 "longer names"`,
			breaking: []string{"kind user max"}, staleAcks: []string{"kind user min"}},
		{name: "another element", base: 1, edit: in("kind user", "max 35", "max 20"), acks: `breaking "kind nick" max against 1 "shorter nicknames"`,
			breaking: []string{"kind user max"}, staleAcks: []string{"kind nick max"}},
		{name: "no change", base: 1, edit: replace("", ""), acks: `breaking "kind user" max against 1 "shorter names"`,
			staleAcks: []string{"kind user max"}},
		{name: "a compatible change", base: 1, edit: in("kind user", "max 35", "max 40"), acks: `breaking "kind user" max against 1 "longer names"`,
			staleAcks: []string{"kind user max"}},
		{name: "a message removed", base: 1, edit: removePD, acks: `breaking "message PLUMI PD" removed against 1 "no one leaves"`,
			accepted: []string{"message PLUMI PD removed"}},
		// The release (version 1) has the break already: the statement
		// stays as its record and accepts nothing.
		{name: "a released break, no change", base: 1, edit: replace("", ""), acks: `breaking "kind user" max against 0 "shorter names"`,
			kept: []string{"kind user max"}},
		{name: "a released break does not accept a new one", base: 1, edit: in("kind user", "max 35", "max 20"), acks: `breaking "kind user" max against 0 "shorter names"`,
			breaking: []string{"kind user max"}, kept: []string{"kind user max"}},
		// Against an older base than it names, a statement accepts its
		// break (the base does not have it either) and, finding none, is
		// only a warning.
		{name: "an older base", base: 0, edit: in("kind user", "max 35", "max 20"), acks: `breaking "kind user" max against 1 "shorter names"`,
			accepted: []string{"kind user max"}},
		{name: "an older base, no change", base: 0, edit: replace("", ""), acks: `breaking "kind user" max against 1 "shorter names"`,
			kept: []string{"kind user max"}},
		{name: "the base and a later version", base: 0, edit: edits(in("kind user", "max 35", "max 20"), in("kind user", "min 1", "min 2")),
			acks:     `breaking "kind user" max against 0 "shorter names"` + "\n" + `breaking "kind user" min against 1 "longer names"`,
			accepted: []string{"kind user min", "kind user max"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, err := Parse("old.spec", strings.Replace(src, "\nversion 1\n", fmt.Sprintf("\nversion %d\n", tc.base), 1))
			if err != nil {
				t.Fatal(err)
			}
			cur, err := Parse("new.spec", strings.Replace(tc.edit(t, src), "\nversion 1\n", "\nversion 2\n", 1)+"\n"+tc.acks+"\n")
			if err != nil {
				t.Fatal(err)
			}
			cs := Compare(old, cur)
			var stale, kept []string
			for _, b := range cur.Accept(cs, old.Version) {
				if b.Names(old.Version) {
					stale = append(stale, b.Subject+" "+b.Aspect)
				} else {
					kept = append(kept, b.Subject+" "+b.Aspect)
				}
			}
			var accepted, broken []string
			for _, c := range cs {
				switch {
				case c.Accepted != nil:
					accepted = append(accepted, c.Subject+" "+c.Aspect)
					if c.Accepted.Subject != c.Subject || c.Accepted.Aspect != c.Aspect || !c.Breaking {
						t.Errorf("%s accepted by %+v", c, c.Accepted)
					}
				case c.Breaking:
					broken = append(broken, c.Subject+" "+c.Aspect)
				}
			}
			for _, d := range []struct {
				what      string
				want, got []string
			}{{"accepted", tc.accepted, accepted}, {"breaking", tc.breaking, broken}, {"stale", tc.staleAcks, stale}, {"kept", tc.kept, kept}} {
				if diff := cmp.Diff(d.want, d.got); diff != "" {
					t.Errorf("%s (-want +got):\n%s\nall:\n%s", d.what, diff, lines(cs))
				}
			}
		})
	}
}

// TestAcceptSelf: mi.spec against itself accepts nothing and has no
// stale statement that names its version: its statements are the record
// of the breaks since version 0.
func TestAcceptSelf(t *testing.T) {
	s, err := Load("../../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range s.Accept(Compare(s, s), s.Version) {
		if b.Names(s.Version) {
			t.Errorf("mi.spec against itself: %s:%s: breaking %q %s against %d is stale", s.File, b.Pos, b.Subject, b.Aspect, b.Against)
		}
	}
}

// TestChangeSubjects: a change is filed under the element a breaking
// statement names, the new one when a field changes kind or a tag its
// name, and the message itself for its if group.
func TestChangeSubjects(t *testing.T) {
	mi, err := os.ReadFile("../../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit edit
		want string // SUBJECT ASPECT of the first change
	}{
		{replace("field text line", "field text nick"), "kind nick bytes"},
		{renamePD, "message PLUMI PU tag"},
		{in("message PLUMI RL ", "        literal \":\"\n        field port", "        literal \";\"\n        field port"), "message PLUMI RL items"},
		{in("kind addr", "    field domain domain\n", "    field domain domain\n    literal \"/\"\n    field sub domain\n"), "kind addr items"},
		{replace("3 Offline", "4 Offline"), "codes LocateCode values"},
		{in("protocol PLUMI", "transport udp", "transport tcp"), "protocol PLUMI transport"},
	} {
		src := blankExamples(string(mi))
		old, err := Parse("old.spec", src)
		if err != nil {
			t.Fatal(err)
		}
		cur, err := Parse("new.spec", blankExamples(tc.edit(t, src)))
		if err != nil {
			t.Fatal(err)
		}
		cs := Compare(old, cur)
		if len(cs) == 0 || cs[0].Subject+" "+cs[0].Aspect != tc.want {
			t.Errorf("want %s first:\n%s", tc.want, lines(cs))
		}
	}
}
