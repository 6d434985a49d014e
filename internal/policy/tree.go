package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// node is a JSON value with object keys in order, which the YAML and HCL
// writers walk. Policy documents become nodes through their own JSON, so
// every format writes exactly what the JSON format prints.
type node struct {
	kind   nodeKind
	text   string // nodeString: the value; nodeRaw: a JSON literal (true, 1, null)
	fields []field
	items  []node
}

type nodeKind int

const (
	nodeString nodeKind = iota
	nodeRaw
	nodeObject
	nodeArray
)

type field struct {
	key string
	val node
}

func str(s string) node           { return node{kind: nodeString, text: s} }
func obj(fields ...field) node    { return node{kind: nodeObject, fields: fields} }
func arr(items ...node) node      { return node{kind: nodeArray, items: items} }
func kv(key string, v node) field { return field{key, v} }

// treeOf is v's JSON as a node.
func treeOf(v any) node {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("policy: marshal %T: %v", v, err)) // only documents: cannot fail
	}
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	n, err := decodeNode(dec)
	if err != nil {
		panic(fmt.Sprintf("policy: re-read %T: %v", v, err))
	}
	return n
}

func decodeNode(dec *json.Decoder) (node, error) {
	tok, err := dec.Token()
	if err != nil {
		return node{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			n := node{kind: nodeArray}
			for dec.More() {
				item, err := decodeNode(dec)
				if err != nil {
					return node{}, err
				}
				n.items = append(n.items, item)
			}
			_, err := dec.Token()
			return n, err
		}
		n := node{kind: nodeObject}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return node{}, err
			}
			v, err := decodeNode(dec)
			if err != nil {
				return node{}, err
			}
			n.fields = append(n.fields, field{k.(string), v})
		}
		_, err := dec.Token()
		return n, err
	case string:
		return str(t), nil
	case nil:
		return node{kind: nodeRaw, text: "null"}, nil
	default:
		return node{kind: nodeRaw, text: fmt.Sprint(t)}, nil
	}
}

// simpleKey reports whether a key can be written bare in YAML and HCL.
func simpleKey(k string) bool {
	if k == "" || k == "true" || k == "false" || k == "null" {
		return false
	}
	for i, c := range k {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}
