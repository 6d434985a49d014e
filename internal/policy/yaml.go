package policy

import "strings"

// yamlLines writes an object or array node as block YAML lines at indent.
// Every string is a JSON-quoted scalar, so no value can change the
// structure.
func yamlLines(n node, indent int) []string {
	pad := strings.Repeat(" ", indent)
	var out []string
	switch n.kind {
	case nodeObject:
		for _, f := range n.fields {
			head := pad + yamlKey(f.key) + ":"
			if s, ok := yamlInline(f.val); ok {
				out = append(out, head+" "+s)
				continue
			}
			out = append(out, head)
			out = append(out, yamlLines(f.val, indent+2)...)
		}
	case nodeArray:
		for _, item := range n.items {
			if s, ok := yamlInline(item); ok {
				out = append(out, pad+"- "+s)
				continue
			}
			// The item's lines at indent+2, the first one behind "- ".
			child := yamlLines(item, indent+2)
			child[0] = pad + "- " + child[0][indent+2:]
			out = append(out, child...)
		}
	}
	return out
}

// yamlInline is a scalar or empty collection written on the key's line.
func yamlInline(n node) (string, bool) {
	switch {
	case n.kind == nodeString:
		return yamlString(n.text), true
	case n.kind == nodeRaw:
		return n.text, true
	case n.kind == nodeObject && len(n.fields) == 0:
		return "{}", true
	case n.kind == nodeArray && len(n.items) == 0:
		return "[]", true
	}
	return "", false
}
