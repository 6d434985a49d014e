// Package jsonobj reads and writes the JSON objects of files rolehop
// shares with the AWS CLI (the IAM Identity Center and `aws login` token
// caches), keeping every member it does not know: a file is decoded into
// its raw members, the known ones are read and replaced, and the rest is
// written back as it was (numbers and strings unchanged, spacing compact).
package jsonobj

import (
	"bytes"
	"encoding/json"
)

// Object is a JSON object's members, undecoded.
type Object map[string]json.RawMessage

// String decodes member k as a JSON string; ok is false when it is absent
// or another kind of value.
func (o Object) String(k string) (s string, ok bool) {
	v, present := o[k]
	if !present || json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// SetString sets member k to the JSON string v (not HTML-escaped).
func (o Object) SetString(k, v string) { o[k] = encode(v) }

// Clone is a copy of o that can be changed without changing o.
func (o Object) Clone() Object {
	c := make(Object, len(o))
	for k, v := range o {
		c[k] = v
	}
	return c
}

// Marshal encodes o with its members sorted by name and without HTML
// escaping, so a PEM key or a URL stays readable to every JSON reader.
func (o Object) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]json.RawMessage(o)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// encode is v as JSON without HTML escaping (a string always encodes).
func encode(v string) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
