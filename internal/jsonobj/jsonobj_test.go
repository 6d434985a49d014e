package jsonobj

import (
	"encoding/json"
	"testing"
)

func TestObject(t *testing.T) {
	var o Object
	if err := json.Unmarshal([]byte(`{"s":"v","n":12345678901234567890,"x":{"a" : [1, 2.50]},"b":true}`), &o); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]bool{"s": true, "n": false, "x": false, "b": false, "missing": false} {
		if _, ok := o.String(k); ok != want {
			t.Errorf("String(%s) ok = %v, want %v", k, ok, want)
		}
	}
	c := o.Clone()
	c.SetString("s", "<key>&")
	c.SetString("new", "-----BEGIN EC PRIVATE KEY-----\n")
	if v, _ := o.String("s"); v != "v" {
		t.Errorf("changing the clone changed the original: %q", v)
	}
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"b":true,"n":12345678901234567890,"new":"-----BEGIN EC PRIVATE KEY-----\n","s":"<key>&","x":{"a":[1,2.50]}}`
	if string(b) != want {
		t.Errorf("Marshal =\n%s\nwant (sorted, no HTML escaping, unknown values as written, compact)\n%s", b, want)
	}
}
