package policy

import (
	"bytes"
	"encoding/json"
)

// JSON is the whole result, {"steps":[…]}, indented by two spaces with a
// final newline: `rolehop policy --format json`.
func JSON(r *Result) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(r) // strings, maps and slices only: cannot fail
	return buf.Bytes()
}
