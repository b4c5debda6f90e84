package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"mi/wire"
)

// Protocol names, as printed.
const (
	protoPMI   = "PMI"
	protoPLUMI = "PLUMI"
)

// decodeAny decodes b as PLUMI if it starts with a PLUMI tag, else as PMI.
func decodeAny(b []byte) (proto string, m wire.Message, err error) {
	if wire.IsPLUMITag(b) {
		m, err = wire.DecodePLUMI(b)
		return protoPLUMI, m, err
	}
	m, err = wire.DecodePMI(b)
	return protoPMI, m, err
}

// messageFields returns m's fields as a JSON object: the message struct
// marshalled, addresses as "user@domain" and codes by name.
func messageFields(m wire.Message) (json.RawMessage, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", m.Tag(), err)
	}
	return b, nil
}

// compactFields turns a JSON object into "key=value key=value": strings bare
// when that is unambiguous and quoted otherwise, other values as JSON.
func compactFields(obj json.RawMessage) string {
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return string(obj)
	}
	var sb strings.Builder
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return string(obj)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return string(obj)
		}
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(key)
		sb.WriteByte('=')
		var s string
		if json.Unmarshal(v, &s) == nil {
			sb.WriteString(quoteIfNeeded(s))
		} else {
			sb.Write(v)
		}
	}
	return sb.String()
}

// quoteIfNeeded returns s as is if it reads as one word, else Go-quoted.
func quoteIfNeeded(s string) string {
	if s == "" || !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r <= ' ' || r == '"' || r == '\\' || r == '=' || r == 0x7f || !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
