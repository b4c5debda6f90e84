package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"mi/gen/spec"
)

// exampleSecret is the user's secret every mac of mi.spec's examples and
// sequences is made with, as the spec's notes on authenticated
// registration say.
const exampleSecret = "hunter2"

// TestAuthProofExamples: the mac of every example and sequence step of a
// signed message of mi.spec is the first 128 bits of HMAC-SHA256, keyed
// with the example secret, of the bytes the model says it signs, so that
// implementers can test their code against the spec's datagrams.
func TestAuthProofExamples(t *testing.T) {
	s, err := spec.Load("../spec/mi.spec")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	check := func(m *spec.Message, in string) {
		d, err := s.Decode(m.Proto, []byte(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		mac := hmac.New(sha256.New, []byte(exampleSecret))
		mac.Write(d.Signed())
		want := hex.EncodeToString(mac.Sum(nil)[:16])
		for _, v := range d.Fields {
			if v.Field == m.Signature && v.V != want {
				t.Errorf("%q: %s is %s; HMAC-SHA256(%q, %q) starts %s", in, v.Field.Name, v.V, exampleSecret, d.Signed(), want)
			}
		}
		n++
	}
	for _, m := range s.Messages {
		if m.Signature == nil {
			continue
		}
		for _, e := range m.Examples {
			check(m, e.Input)
		}
	}
	for _, sq := range s.Sequences {
		for _, st := range sq.Steps {
			if st.Msg.Signature != nil {
				check(st.Msg, st.Example)
			}
		}
	}
	if n == 0 {
		t.Error("mi.spec has no signed example")
	}
}
