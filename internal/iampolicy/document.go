// Package iampolicy is the IAM policy document model shared by the policy
// generator (`rolehop policy`) and the trust-policy diagnosis of
// `rolehop doctor`: statements, principals and conditions with the JSON
// grammar's shortcuts (a string where a list is allowed, one statement
// where a list is allowed, bare booleans and numbers in conditions).
//
// Grammar: IAM User Guide, "Grammar of the IAM JSON policy language"
// (reference_policies_grammar).
package iampolicy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Version is the current policy language version.
const Version = "2012-10-17"

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a document.
type Statement struct {
	Sid          string     `json:"Sid,omitempty"`
	Effect       string     `json:"Effect"`
	Principal    *Principal `json:"Principal,omitempty"`
	NotPrincipal *Principal `json:"NotPrincipal,omitempty"`
	Action       Strings    `json:"Action,omitempty"`
	NotAction    Strings    `json:"NotAction,omitempty"`
	Resource     Strings    `json:"Resource,omitempty"`
	NotResource  Strings    `json:"NotResource,omitempty"`
	Condition    Conditions `json:"Condition,omitempty"`
}

// Strings is a list that JSON may write as one string or as an array.
// It marshals one element as a bare string, as IAM and most people do.
type Strings []string

// MarshalJSON writes one element as a string, several as an array.
func (s Strings) MarshalJSON() ([]byte, error) {
	if len(s) == 1 {
		return marshal(s[0])
	}
	return marshal([]string(s))
}

// UnmarshalJSON accepts a string, a number, a boolean, or an array of them
// (condition values such as "Bool": {"aws:MultiFactorAuthPresent": true}).
func (s *Strings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var raw []json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		out := make(Strings, 0, len(raw))
		for _, r := range raw {
			v, err := scalar(r)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		*s = out
		return nil
	}
	v, err := scalar(b)
	if err != nil {
		return err
	}
	*s = Strings{v}
	return nil
}

func scalar(b json.RawMessage) (string, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case float64:
		return strings.TrimSpace(string(b)), nil
	}
	return "", fmt.Errorf("expected a string, number or boolean, got %s", b)
}

// Principal is "*" (Any) or a map from principal type ("AWS", "Federated",
// "Service", "CanonicalUser") to identifiers.
type Principal struct {
	Any bool
	IDs map[string]Strings
}

// AWSPrincipal is a principal of type "AWS" with the given identifiers.
func AWSPrincipal(ids ...string) *Principal {
	return &Principal{IDs: map[string]Strings{"AWS": ids}}
}

// MarshalJSON writes "*" or the map, keys sorted.
func (p Principal) MarshalJSON() ([]byte, error) {
	if p.Any {
		return []byte(`"*"`), nil
	}
	return marshal(p.IDs)
}

// UnmarshalJSON accepts "*" or a map of type to identifiers. {"AWS": "*"}
// is kept as a map: it matches every AWS principal but not services.
func (p *Principal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s != "*" {
			return fmt.Errorf(`a principal string must be "*", got %q`, s)
		}
		*p = Principal{Any: true}
		return nil
	}
	var m map[string]Strings
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*p = Principal{IDs: m}
	return nil
}

// Conditions maps an operator ("StringEquals", "ForAllValues:StringLike",
// "BoolIfExists", …) to condition keys and their values.
type Conditions map[string]map[string]Strings

// Add appends values for key under operator.
func (c Conditions) Add(operator, key string, values ...string) {
	if c[operator] == nil {
		c[operator] = map[string]Strings{}
	}
	c[operator][key] = append(c[operator][key], values...)
}

// Operators returns the operators in a stable order.
func (c Conditions) Operators() []string {
	ops := make([]string, 0, len(c))
	for op := range c {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// UnmarshalJSON accepts one statement where a list is allowed.
func (d *Document) UnmarshalJSON(b []byte) error {
	var raw struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	d.Version = raw.Version
	d.Statement = nil
	st := bytes.TrimSpace(raw.Statement)
	switch {
	case len(st) == 0 || string(st) == "null":
		return nil
	case st[0] == '{':
		var one Statement
		if err := json.Unmarshal(st, &one); err != nil {
			return err
		}
		d.Statement = []Statement{one}
		return nil
	}
	return json.Unmarshal(st, &d.Statement)
}

// Parse reads a policy document. IAM's GetRole returns the trust policy
// URL-encoded (IAM API Reference, Role.AssumeRolePolicyDocument: "The
// policy is URL-encoded according to RFC 3986"); Parse decodes that too.
func Parse(text string) (*Document, error) {
	s := strings.TrimSpace(text)
	if !strings.HasPrefix(s, "{") {
		dec, err := url.QueryUnescape(s)
		if err != nil {
			return nil, fmt.Errorf("policy document is neither JSON nor URL-encoded JSON: %v", err)
		}
		s = strings.TrimSpace(dec)
	}
	var d Document
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return nil, fmt.Errorf("policy document is not valid JSON: %v", err)
	}
	return &d, nil
}

// JSON is the document indented by two spaces, without HTML escaping, and
// with a final newline: what `rolehop policy --format json` prints.
func (d Document) JSON() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(d) // only strings, maps and slices: cannot fail
	return buf.Bytes()
}

// Compact is the document on one line, without HTML escaping.
func (d Document) Compact() string {
	b, _ := marshal(d) // only strings, maps and slices: cannot fail
	return string(b)
}

// marshal is json.Marshal without HTML escaping ("&", "<", ">" stay as
// they are, as in the documents IAM shows).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
