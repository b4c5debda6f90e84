package spec

import (
	"sort"
	"strconv"
	"strings"
)

// Var is a variable of the conformance scenarios: bound by the tool that
// plays them (the domain under test, its users...) or by a {capture} in a
// pattern. Sample is what the checker substitutes to decode every datagram
// of a scenario with the model.
type Var struct {
	Name, Sample, Doc string
	Pos               Pos
}

// Scenario is a conformance check of an implementation: a node or an agent.
// Its steps are flat: repeat blocks and invalid sends are expanded when the
// spec is read, each step keeping the position of the line it comes from.
type Scenario struct {
	Target, ID, Class, Title string
	Exec                     bool     // needs the tool to start the agent
	Features                 []string // optional features it needs (needs feature NAME), played only when chosen
	Steps                    []ScenarioStep
	Pos                      Pos
}

// ScenarioStep is one move of a scenario; Op is the statement's word.
type ScenarioStep struct {
	Op       string
	Role     string // the role or connection
	Text     string // bytes or pattern, with $vars and {captures}
	Raw      bool   // send/write: the bytes go as they are, valid or not
	Bytewise bool   // write: one byte per TCP segment
	Min, Max int    // milliseconds: a receive window, or how long to wait
	// Of, when set, names a duration var bound at run time (the node's
	// locate_wait): a wait or silent step lasts Percent of it, and Max is 0.
	Of      string
	Percent int
	Pos     Pos
}

// Targets and Classes are the words a scenario statement takes.
var (
	Targets = []string{"node", "agent"}
	Classes = []string{"core", "robust", "strict"}
)

// stepShape says what words a scenario step takes after its keyword:
// r a role or connection, t a quoted text, d a duration; which targets may
// use it; and its default receive window in milliseconds.
var stepShape = map[string]struct {
	args    string
	targets string
	window  int
}{
	"play":    {"rk", "node", 0},
	"send":    {"rt", "node agent", 0},
	"expect":  {"rt", "node agent", 1000},
	"silent":  {"rd", "node agent", 0},
	"wait":    {"d", "node agent", 0},
	"start":   {"", "agent", 0},
	"connect": {"rt", "agent", 0},
	"write":   {"rt", "agent", 0},
	"read":    {"rt", "agent", 1000},
	"closed":  {"r", "agent", 2000},
	"close":   {"r", "agent", 0},
	"stdin":   {"t", "agent", 0},
	"eof":     {"", "agent", 0},
	"exits":   {"", "agent", 5000},
}

// var: var NAME "sample" "doc"
func (p *parser) variable(st stmt) {
	if !p.name(st, 1, "var name", false) {
		return
	}
	for _, v := range p.s.Vars {
		if v.Name == st.word(1) {
			p.errorf(st.at(1), "var %s declared twice (first at %s)", v.Name, p.at(v.Pos))
			return
		}
	}
	p.s.Vars = append(p.s.Vars, &Var{Name: st.word(1), Sample: st.word(2), Doc: st.word(3), Pos: st.pos})
}

// scenario: scenario TARGET ID CLASS "title" { steps }
func (p *parser) scenario(st stmt) {
	sc := &Scenario{Target: st.word(1), ID: st.word(2), Class: st.word(3), Title: st.word(4), Pos: st.pos}
	ok := true
	if !contains(Targets, sc.Target) {
		p.errorf(st.at(1), "scenario: target %q is not one of %s", sc.Target, strings.Join(Targets, ", "))
		ok = false
	}
	if !validID(sc.ID) {
		p.errorf(st.at(2), "scenario: id %q is not capital letters, digits and -, starting with a letter", sc.ID)
		ok = false
	}
	if !contains(Classes, sc.Class) {
		p.errorf(st.at(3), "scenario %s: class %q is not one of %s", sc.ID, sc.Class, strings.Join(Classes, ", "))
		ok = false
	}
	for _, o := range p.s.Scenarios {
		if o.ID == sc.ID {
			p.errorf(st.at(2), "scenario %s declared twice (first at %s)", sc.ID, p.at(o.Pos))
			ok = false
		}
	}
	if !ok {
		p.skipBlock(st)
		return
	}
	p.s.Scenarios = append(p.s.Scenarios, sc)
	p.body(st, func(a stmt) { p.scenarioStep(sc, &sc.Steps, a, 0) })
}

func validID(id string) bool {
	if id == "" || id[0] < 'A' || id[0] > 'Z' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || isDigit(c) || c == '-') {
			return false
		}
	}
	return true
}

// maxSteps bounds a scenario once its repeats are expanded.
const maxSteps = 1000

// scenarioStep reads one statement of a scenario into dst; depth counts
// the repeat blocks around it.
func (p *parser) scenarioStep(sc *Scenario, dst *[]ScenarioStep, a stmt, depth int) {
	owner := "scenario " + sc.ID
	kw := a.word(0)
	switch kw {
	case "needs":
		switch {
		case !a.block && len(a.words) == 2 && !a.words[1].quoted && a.word(1) == "exec":
			sc.Exec = true
		case !a.block && len(a.words) == 3 && !a.words[1].quoted && a.word(1) == "feature" && !a.words[2].quoted && validFeature(a.word(2)):
			if contains(sc.Features, a.word(2)) {
				p.errorf(a.pos, "%s: needs feature %s given twice", owner, a.word(2))
				return
			}
			sc.Features = append(sc.Features, a.word(2))
		default:
			p.errorf(a.pos, "%s: needs takes the word exec, or feature and a feature name (lower-case letters, digits and -)", owner)
			p.skipBlock(a)
		}
		return
	case "repeat":
		n, ok := 0, a.block && len(a.words) == 2
		if ok {
			n, ok = p.int(a, 1)
		}
		if !ok || n < 1 || n > 100 {
			p.errorf(a.pos, "%s: repeat takes a count of 1 to 100 and a block", owner)
			p.skipBlock(a)
			return
		}
		var body []ScenarioStep
		p.body(a, func(b stmt) { p.scenarioStep(sc, &body, b, depth+1) })
		for i := 0; i < n && len(*dst)+len(body) <= maxSteps; i++ {
			*dst = append(*dst, body...)
		}
		if len(*dst)+len(body) > maxSteps {
			p.errorf(a.pos, "%s: over %d steps once repeated", owner, maxSteps)
		}
		return
	}
	shape, ok := stepShape[kw]
	if !ok || a.words[0].quoted {
		var want []string
		for w := range stepShape {
			want = append(want, w)
		}
		want = append(want, "needs", "repeat")
		sort.Strings(want)
		p.errorf(a.pos, "%s: unknown step %q (want %s)", owner, kw, strings.Join(want, ", "))
		p.skipBlock(a)
		return
	}
	if a.block {
		p.errorf(a.pos, "%s: %q takes no block", owner, kw)
		p.skipBlock(a)
		return
	}
	if !strings.Contains(shape.targets, sc.Target) {
		p.errorf(a.pos, "%s: %q is a step of %s scenarios, not %s ones", owner, kw, shape.targets, sc.Target)
		return
	}
	step := ScenarioStep{Op: kw, Max: shape.window, Pos: a.pos}
	words := a.words[1:]
	for _, want := range shape.args {
		if len(words) == 0 {
			p.errorf(a.pos, "%s: %q takes %s", owner, kw, describeArgs(shape.args))
			return
		}
		w := words[0]
		switch want {
		case 'r':
			if w.quoted || !validRole(w.text) {
				p.errorf(w.pos, "%s: %q: %q is not a role name", owner, kw, w.text)
				return
			}
			step.Role = w.text
		case 'k':
			if w.quoted || w.text != "agent" && w.text != "node" {
				p.errorf(w.pos, "%s: play ROLE takes agent or node, not %q", owner, w.text)
				return
			}
			step.Text = w.text
		case 'd':
			if pct, name, found := strings.Cut(w.text, "%$"); found && !w.quoted {
				n, err := strconv.Atoi(pct)
				if err != nil || n < 1 || n > 10000 || !validRole(name) {
					p.errorf(w.pos, "%s: %q is not a percentage (1 to 10000) of a duration var, like 150%%$locate_wait", owner, w.text)
					return
				}
				step.Of, step.Percent = name, n
				break
			}
			ms, ok := p.duration(w, owner)
			if !ok {
				return
			}
			step.Max = ms
		case 't':
			if !w.quoted && (kw == "send" || kw == "write") && w.text == "raw" && len(words) > 1 && words[1].quoted {
				step.Raw, words = true, words[1:]
				w = words[0]
			}
			if !w.quoted {
				if kw == "send" && w.text == "invalid" {
					p.invalidSends(sc, dst, step, words[1:], owner)
					return
				}
				p.errorf(w.pos, "%s: %q: want a quoted string, not %q", owner, kw, w.text)
				return
			}
			step.Text = w.text
		}
		words = words[1:]
	}
	for len(words) > 0 {
		w := words[0]
		switch {
		case !w.quoted && w.text == "bytewise" && kw == "write":
			step.Bytewise, words = true, words[1:]
		case !w.quoted && w.text == "within" && shape.window > 0 && len(words) > 1:
			if !p.window(&step, words[1], owner) {
				return
			}
			words = words[2:]
		default:
			p.errorf(w.pos, "%s: %q: unexpected %q", owner, kw, w.text)
			return
		}
	}
	if kw == "play" && step.Role == "node" {
		p.errorf(a.pos, "%s: the role name node is the tool's node of agent scenarios; name a played node otherwise", owner)
		return
	}
	*dst = append(*dst, step)
}

// invalidSends expands "send ROLE invalid [CLASS]" into a raw send of every
// invalid input of the datagram protocol (of that error class).
func (p *parser) invalidSends(sc *Scenario, dst *[]ScenarioStep, step ScenarioStep, rest []token, owner string) {
	class := ""
	if len(rest) == 1 && !rest[0].quoted && contains(ErrNames, rest[0].text) {
		class = rest[0].text
	} else if len(rest) > 0 {
		p.errorf(rest[0].pos, "%s: send ROLE invalid takes at most an error class (%s)", owner, strings.Join(ErrNames, ", "))
		return
	}
	n := 0
	for _, m := range p.s.Messages {
		if m.Proto.Transport != "udp" {
			continue
		}
		for _, in := range m.Invalid {
			if class == "" || in.Err == class {
				s := step
				s.Text, s.Raw = in.Input, true
				*dst = append(*dst, s)
				n++
			}
		}
	}
	if n == 0 {
		p.errorf(step.Pos, "%s: no datagram message declared before has an invalid input of class %q", owner, class)
	}
}

// validFeature says whether s can name a feature: lower-case letters,
// digits and -, starting with a letter.
func validFeature(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || i > 0 && (isDigit(c) || c == '-')) {
			return false
		}
	}
	return s != ""
}

// DurationVar says whether v is a duration var: its sample is a duration
// (6000ms), and a wait or silent step may last a percentage of it.
func DurationVar(v *Var) bool {
	n, err := strconv.Atoi(strings.TrimSuffix(v.Sample, "ms"))
	return strings.HasSuffix(v.Sample, "ms") && err == nil && n > 0
}

func validRole(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || i > 0 && (isDigit(c) || c == '_')) {
			return false
		}
	}
	return s != ""
}

// duration reads "1000ms".
func (p *parser) duration(w token, owner string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSuffix(w.text, "ms"))
	if w.quoted || !strings.HasSuffix(w.text, "ms") || err != nil || n < 0 || n > 600000 {
		p.errorf(w.pos, "%s: %q is not a duration from 0ms to 600000ms", owner, w.text)
		return 0, false
	}
	return n, true
}

// window reads "1500ms" or "700ms..1500ms" into a receive window.
func (p *parser) window(step *ScenarioStep, w token, owner string) bool {
	lo, hi, found := strings.Cut(w.text, "..")
	if !found {
		lo, hi = "0ms", w.text
	}
	min, ok1 := p.duration(token{text: lo, pos: w.pos}, owner)
	max, ok2 := p.duration(token{text: hi, pos: w.pos}, owner)
	if !ok1 || !ok2 {
		return false
	}
	if min > max {
		p.errorf(w.pos, "%s: window %s opens after it closes", owner, w.text)
		return false
	}
	step.Min, step.Max = min, max
	return true
}

func describeArgs(args string) string {
	var out []string
	for _, c := range args {
		out = append(out, map[rune]string{'r': "a role", 'k': "agent or node", 't': "a quoted string", 'd': "a duration (e.g. 1000ms)"}[c])
	}
	return strings.Join(out, " and ")
}

// checkScenarios checks what a scenario says against the rest of the spec:
// roles and connections are opened before use, every variable is declared
// (and a captured one captured before it is used), steps that drive the
// agent's process say so, and every datagram and chat message a scenario
// sends or expects decodes, with the variables' samples, as a message of
// its protocol.
func (s *Spec) checkScenarios(r *errs) {
	var udp, tcp *Protocol
	for _, p := range s.Protocols {
		if p.Transport == "udp" && udp == nil {
			udp = p
		}
		if p.Transport == "tcp" && tcp == nil {
			tcp = p
		}
	}
	vars := map[string]*Var{}
	for _, v := range s.Vars {
		vars[v.Name] = v
	}
	for _, sc := range s.Scenarios {
		c := &scenarioCheck{s: s, r: r, sc: sc, vars: vars, udp: udp, tcp: tcp,
			roles: map[string]bool{}, conns: map[string]bool{}, captured: map[string]bool{}, captures: capturesOf(sc)}
		if sc.Target == "agent" {
			c.roles["node"] = true
		}
		for i := range sc.Steps {
			c.step(&sc.Steps[i])
		}
	}
}

type scenarioCheck struct {
	s            *Spec
	r            *errs
	sc           *Scenario
	vars         map[string]*Var
	udp, tcp     *Protocol
	roles, conns map[string]bool
	captured     map[string]bool // captured by a step before this one
	captures     map[string]bool // captured anywhere in the scenario
}

func (c *scenarioCheck) errorf(st *ScenarioStep, format string, args ...any) {
	c.r.errorf(st.Pos, "scenario %s: "+format, append([]any{c.sc.ID}, args...)...)
}

func (c *scenarioCheck) step(st *ScenarioStep) {
	if st.Of != "" {
		if v := c.vars[st.Of]; v == nil || !DurationVar(v) {
			c.errorf(st, "%s: %d%%$%s: no var %q with a duration sample (like \"6000ms\") is declared", st.Op, st.Percent, st.Of, st.Of)
		}
	}
	switch st.Op {
	case "play":
		if c.roles[st.Role] {
			c.errorf(st, "role %s played twice", st.Role)
		}
		c.roles[st.Role] = true
		return
	case "silent":
		if !c.roles[st.Role] && !c.conns[st.Role] {
			c.errorf(st, "silent: %s is neither a played role nor an open connection", st.Role)
		}
	case "send", "expect":
		if !c.roles[st.Role] {
			c.errorf(st, "%s: role %s is not played (add: play %s agent)", st.Op, st.Role, st.Role)
		}
	case "connect":
		c.conns[st.Role] = true
	case "write", "read", "closed", "close":
		if !c.conns[st.Role] {
			c.errorf(st, "%s: connection %s is not open (add: connect %s \"$ip:$port\")", st.Op, st.Role, st.Role)
		}
		if st.Op == "close" || st.Op == "closed" {
			delete(c.conns, st.Role)
		}
	case "start", "stdin", "eof", "exits":
		if !c.sc.Exec {
			c.errorf(st, "%s drives the agent's process: the scenario needs exec", st.Op)
		}
	}
	if st.Text == "" || st.Raw || st.Op == "play" {
		return
	}
	sample, ok := c.substitute(st)
	if !ok {
		return
	}
	switch st.Op {
	case "send", "expect":
		if c.udp == nil {
			c.errorf(st, "no udp protocol declared for its datagrams")
		} else if _, err := c.s.Decode(c.udp, []byte(sample)); err != nil {
			c.errorf(st, "%s %q: with the samples %q does not decode: %v", st.Op, st.Text, sample, err)
		}
	case "write", "read":
		if c.tcp == nil {
			c.errorf(st, "no tcp protocol declared for its messages")
		} else if n, err := c.s.decodeStream(c.tcp, sample); err != nil || st.Op == "read" && n != 1 {
			c.errorf(st, "%s %q: with the samples %q is not one or more whole %s messages (read: exactly one): %v", st.Op, st.Text, sample, c.tcp.Name, err)
		}
	}
}

// substitute replaces $vars and {captures} of a step's text with the
// samples, checking that each is declared and, if captured, captured before.
func (c *scenarioCheck) substitute(st *ScenarioStep) (string, bool) {
	var b strings.Builder
	text, ok := st.Text, true
	pattern := st.Op == "expect" || st.Op == "read"
	for i := 0; i < len(text); i++ {
		ch := text[i]
		switch {
		case ch == '$' || pattern && ch == '{':
			j := i + 1
			for j < len(text) && (text[j] == '_' || text[j] >= 'a' && text[j] <= 'z' || isDigit(text[j])) {
				j++
			}
			name := text[i+1 : j]
			if ch == '{' {
				if j >= len(text) || text[j] != '}' {
					c.errorf(st, "%q: a capture is {name}", text)
					return "", false
				}
				j++
				if j < len(text) && text[j] == '{' {
					c.errorf(st, "%q: two captures in a row cannot be told apart; put a literal between them", text)
					return "", false
				}
			}
			v := c.vars[name]
			switch {
			case name == "" || v == nil:
				c.errorf(st, "%q: no var %q is declared", text, name)
				ok = false
			case ch == '{':
				c.captured[name] = true
			case c.captures[name] && !c.captured[name]:
				c.errorf(st, "%q: $%s is used before the step that captures it", text, name)
				ok = false
			}
			if v != nil {
				b.WriteString(v.Sample)
			}
			i = j - 1
		default:
			b.WriteByte(ch)
		}
	}
	return b.String(), ok
}

// capturesOf lists the variables a scenario's patterns capture.
func capturesOf(sc *Scenario) map[string]bool {
	out := map[string]bool{}
	for _, st := range sc.Steps {
		if st.Op != "expect" && st.Op != "read" {
			continue
		}
		for rest := st.Text; ; {
			i := strings.IndexByte(rest, '{')
			j := strings.IndexByte(rest[i+1:], '}')
			if i < 0 || j < 0 {
				break
			}
			out[rest[i+1:i+1+j]] = true
			rest = rest[i+1+j:]
		}
	}
	return out
}

// decodeStream decodes s as back-to-back messages of a length-prefixed
// protocol and counts them.
func (s *Spec) decodeStream(p *Protocol, in string) (int, error) {
	n := 0
	for in != "" {
		h := p.TagLen + p.LengthDigits
		if p.LengthDigits == 0 || len(in) < h {
			_, err := s.Decode(p, []byte(in))
			if err == nil {
				return n + 1, nil
			}
			return n, err
		}
		info, err := strconv.Atoi(in[p.TagLen:h])
		if err != nil || h+info > len(in) {
			return n, wireErr("truncated", "length", len(in), "a message longer than what is left")
		}
		if _, err := s.Decode(p, []byte(in[:h+info])); err != nil {
			return n, err
		}
		in, n = in[h+info:], n+1
	}
	return n, nil
}
