package iampolicy

import (
	"strings"
)

// Tri is a three-valued verdict: evaluating a policy against a request
// whose context is partly unknown must say "cannot tell" rather than guess.
type Tri int

// Verdicts.
const (
	No Tri = iota
	Yes
	Unknown
)

func (t Tri) String() string {
	switch t {
	case Yes:
		return "yes"
	case No:
		return "no"
	}
	return "unknown"
}

// MarshalText writes "yes", "no" or "unknown".
func (t Tri) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

func triOf(b bool) Tri {
	if b {
		return Yes
	}
	return No
}

// and is Kleene conjunction: No wins, then Unknown.
func and(ts ...Tri) Tri {
	out := Yes
	for _, t := range ts {
		switch t {
		case No:
			return No
		case Unknown:
			out = Unknown
		}
	}
	return out
}

// or is Kleene disjunction: Yes wins, then Unknown.
func or(ts ...Tri) Tri {
	out := No
	for _, t := range ts {
		switch t {
		case Yes:
			return Yes
		case Unknown:
			out = Unknown
		}
	}
	return out
}

func not(t Tri) Tri {
	switch t {
	case Yes:
		return No
	case No:
		return Yes
	}
	return Unknown
}

// KeyState says what a request is known to carry for a condition key.
type KeyState int

// Key states. The zero value is KeyUnknown, so a key nobody set is unknown.
const (
	KeyUnknown KeyState = iota
	KeyPresent
	KeyAbsent
)

// KeyValue is what a request says about one condition key.
type KeyValue struct {
	State  KeyState
	Values []string
	// Why explains, in words a user can act on, an absent or unknown key
	// ("the hop sends no external id"); it is quoted in mismatch reasons.
	Why string
}

// Context holds a request's condition keys. Keys are case-insensitive, as
// in IAM; a key that was never set is unknown.
type Context map[string]KeyValue

// Set records that key is present with values.
func (c Context) Set(key string, values ...string) {
	c[strings.ToLower(key)] = KeyValue{State: KeyPresent, Values: values}
}

// SetAbsent records that the request does not carry key, and why.
func (c Context) SetAbsent(key, why string) {
	c[strings.ToLower(key)] = KeyValue{State: KeyAbsent, Why: why}
}

// SetUnknown records that whether and how the request carries key cannot
// be known, and why.
func (c Context) SetUnknown(key, why string) {
	c[strings.ToLower(key)] = KeyValue{State: KeyUnknown, Why: why}
}

// Lookup returns what the request carries for key. aws:RequestTag/K is
// absent for every K not set when aws:TagKeys is known (the request's tags
// are then known completely).
func (c Context) Lookup(key string) KeyValue {
	lk := strings.ToLower(key)
	if v, ok := c[lk]; ok {
		return v
	}
	if strings.HasPrefix(lk, "aws:requesttag/") {
		if tk, ok := c["aws:tagkeys"]; ok && tk.State != KeyUnknown {
			return KeyValue{State: KeyAbsent, Why: "the request sends no session tag " + key[len("aws:requesttag/"):]}
		}
	}
	return KeyValue{State: KeyUnknown, Why: "rolehop does not know the value of " + key + " for this request"}
}
