package ir

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"mi/gen/spec"
	"mi/internal/testenv"
	"mi/wire"
	"mi/wire/wiregen"
)

// python finds python3 and writes the spec's IR into a temporary file. A
// machine without python3 skips the tests, except under CI, which installs
// it.
func python(t *testing.T) (py, irPath string) {
	t.Helper()
	py = testenv.Program(t, "python3", "the IR's Python decoder is not tested", "apt-get install python3")
	s, err := spec.Load("../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s.IR())
	if err != nil {
		t.Fatal(err)
	}
	irPath = filepath.Join(t.TempDir(), "mi.ir.json")
	if err := os.WriteFile(irPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return py, irPath
}

// TestPythonExamples runs the Python decoder over every example and invalid
// input of the IR: each example decodes, each invalid input is refused with
// its class, in its field, at its offset.
func TestPythonExamples(t *testing.T) {
	py, irPath := python(t)
	out, err := exec.Command(py, "python/midecode.py", irPath, "check").CombinedOutput()
	if err != nil {
		t.Fatalf("midecode.py check: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// TestPythonAgreesWithGo sends mutated messages to the Python decoder and
// compares each answer with the generated Go decoder's. MI_IR_DIFF sets
// how many (default 100000, about 4 s).
func TestPythonAgreesWithGo(t *testing.T) {
	py, irPath := python(t)
	n := 100000
	if v := os.Getenv("MI_IR_DIFF"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatalf("MI_IR_DIFF=%q: %v", v, err)
		}
	}
	inputs := mutated(n)
	cmd := exec.Command(py, "python/midecode.py", irPath, "serve")
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		w := bufio.NewWriter(stdin)
		for _, in := range inputs {
			fmt.Fprintf(w, "m %s %x\n", in.proto, in.b)
		}
		w.Flush()
		stdin.Close()
	}()
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 1<<20)
	bad, seen := 0, 0
	verdicts := map[string]int{} // "ok" or the error class: what the inputs reached
	for ; sc.Scan(); seen++ {
		want := goAnswer(inputs[seen].proto, inputs[seen].b)
		if sc.Text() != want && bad < 10 {
			bad++
			t.Errorf("%s %q:\n python: %s\n     go: %s", inputs[seen].proto, inputs[seen].b, sc.Text(), want)
		}
		f := strings.Fields(want) // "ok TAG ..." or "err CLASS ..."
		verdicts[f[0]+" "+f[1]]++
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("midecode.py serve: %v", err)
	}
	if seen != len(inputs) {
		t.Fatalf("%d answers to %d inputs", seen, len(inputs))
	}
	t.Logf("%d inputs compared: %v", seen, verdicts)
}

type input struct {
	proto string
	b     []byte
}

// mutated draws n inputs: valid and broken messages of every type from the
// generated rapid generators, each mutated or not, deterministically.
func mutated(n int) []input {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]input, 0, n)
	for i := 0; len(out) < n; i++ {
		c := wiregen.Cases[i%len(wiregen.Cases)]
		g := c.Valid
		if c.Bad != nil && r.IntN(3) == 0 {
			g = c.Bad
		}
		b, err := g.Example(i).Append(nil)
		if err != nil {
			b = []byte(c.Tag)
		}
		out = append(out, input{c.Proto, mutate(r, b)})
	}
	return out
}

// mutate changes b in one of a few ways that reach the decoders' corners.
func mutate(r *rand.Rand, b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	i := r.IntN(len(b))
	switch r.IntN(6) {
	case 0:
		return b
	case 1:
		return b[:i]
	case 2:
		return append(append(b[:i:i], byte(r.IntN(256))), b[i+1:]...)
	case 3:
		return append(append(b[:i:i], special[r.IntN(len(special))]), b[i:]...)
	case 4:
		return append(b[:i:i], b[i+1:]...)
	}
	return append(b, b[i:]...)
}

// special are bytes that separate, end or break fields.
const special = "@:.0-9 \x00\xff\xc3\x80"

// goAnswer is the answer of the generated Go decoder to "m PROTO HEX", as
// midecode.py writes it: ok TAG NAME=HEX ... or err CLASS FIELD OFFSET.
func goAnswer(proto string, b []byte) string {
	decode := wire.DecodePLUMI
	if proto == "PMI" {
		decode = wire.DecodePMI
	}
	if _, err := decode(b); err != nil {
		var e *wire.Error
		errors.As(err, &e)
		return fmt.Sprintf("err %s %s %d", wire.ErrorClass(err), e.Field, e.Offset)
	}
	// The wire package's messages are Go values; the fields' bytes come
	// from the model, which the fuzz tests hold to the wire package.
	d, merr := model.Decode(protocol(proto), b)
	if merr != nil {
		return "go accepts it, the model refuses it: " + merr.Error()
	}
	parts := []string{d.Msg.Tag}
	for _, v := range d.Fields {
		parts = append(parts, v.Field.Name+"="+hex.EncodeToString(v.Field.Kind.Impl().Encode(v.Field.Kind, nil, v.V)))
	}
	return "ok " + strings.Join(parts, " ")
}

var model = func() *spec.Spec {
	s, err := spec.Load("../spec/mi.spec")
	if err != nil {
		panic(err)
	}
	return s
}()

func protocol(name string) *spec.Protocol {
	for _, p := range model.Protocols {
		if p.Name == name {
			return p
		}
	}
	panic("no protocol " + name)
}
