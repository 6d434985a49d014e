package iampolicy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ConditionCheck is the verdict on one key of one condition operator.
type ConditionCheck struct {
	Operator string   `json:"operator"`
	Key      string   `json:"key"`
	Values   []string `json:"values"` // the policy's values
	Result   Tri      `json:"result"`
	// Reason says why, e.g. `StringEquals sts:ExternalId wants "abc", but
	// the hop sends no external id`.
	Reason string `json:"reason"`
}

// operator is a parsed condition operator.
type operator struct {
	name       string // as written
	base       string // lower-case base, e.g. "stringequals"
	kind       string // string, arn, numeric, date, bool, null, or "" (not evaluated)
	negated    bool
	ignoreCase bool
	like       bool
	ifExists   bool
	set        string // "", "forallvalues", "foranyvalue"
	numCmp     string // eq, lt, le, gt, ge (numeric, date)
}

var baseOperators = map[string]operator{
	"stringequals":              {kind: "string"},
	"stringnotequals":           {kind: "string", negated: true},
	"stringequalsignorecase":    {kind: "string", ignoreCase: true},
	"stringnotequalsignorecase": {kind: "string", ignoreCase: true, negated: true},
	"stringlike":                {kind: "string", like: true},
	"stringnotlike":             {kind: "string", like: true, negated: true},
	"arnequals":                 {kind: "arn"},
	"arnlike":                   {kind: "arn"},
	"arnnotequals":              {kind: "arn", negated: true},
	"arnnotlike":                {kind: "arn", negated: true},
	"numericequals":             {kind: "numeric", numCmp: "eq"},
	"numericnotequals":          {kind: "numeric", numCmp: "eq", negated: true},
	"numericlessthan":           {kind: "numeric", numCmp: "lt"},
	"numericlessthanequals":     {kind: "numeric", numCmp: "le"},
	"numericgreaterthan":        {kind: "numeric", numCmp: "gt"},
	"numericgreaterthanequals":  {kind: "numeric", numCmp: "ge"},
	"dateequals":                {kind: "date", numCmp: "eq"},
	"datenotequals":             {kind: "date", numCmp: "eq", negated: true},
	"datelessthan":              {kind: "date", numCmp: "lt"},
	"datelessthanequals":        {kind: "date", numCmp: "le"},
	"dategreaterthan":           {kind: "date", numCmp: "gt"},
	"dategreaterthanequals":     {kind: "date", numCmp: "ge"},
	"bool":                      {kind: "bool"},
	"null":                      {kind: "null"},
}

func parseOperator(name string) operator {
	s := strings.ToLower(strings.TrimSpace(name))
	set := ""
	for _, pre := range []string{"forallvalues:", "foranyvalue:"} {
		if strings.HasPrefix(s, pre) {
			set, s = strings.TrimSuffix(pre, ":"), strings.TrimPrefix(s, pre)
		}
	}
	ifExists := false
	if strings.HasSuffix(s, "ifexists") && s != "ifexists" {
		ifExists, s = true, strings.TrimSuffix(s, "ifexists")
	}
	op := baseOperators[s] // unknown operators keep kind ""
	op.name, op.base, op.set, op.ifExists = name, s, set, ifExists
	return op
}

// evalCondition evaluates one key of one operator. vars enables policy
// variables (Version 2012-10-17 only).
func evalCondition(opName, key string, values []string, ctx Context, vars bool) ConditionCheck {
	op := parseOperator(opName)
	cc := ConditionCheck{Operator: opName, Key: key, Values: values}
	want := describeValues(values)
	if vars {
		want += resolved(values, ctx)
	}
	got := ctx.Lookup(key)
	set := func(r Tri, format string, args ...any) ConditionCheck {
		cc.Result, cc.Reason = r, fmt.Sprintf(format, args...)
		return cc
	}
	if op.kind == "" {
		return set(Unknown, "cannot tell: rolehop does not evaluate the %s operator", opName)
	}
	if op.kind == "null" {
		// Null: "true" means the key must be absent, "false" present.
		if got.State == KeyUnknown {
			return set(Unknown, "cannot tell whether the request carries %s: %s", key, got.Why)
		}
		r := No
		for _, v := range values {
			r = or(r, triOf(strings.EqualFold(v, "true") == (got.State == KeyAbsent)))
		}
		if r == Yes {
			return set(Yes, "%s %s %s: satisfied", opName, key, want)
		}
		if got.State == KeyAbsent {
			return set(No, "%s %s %s requires %s to be present, but %s", opName, key, want, key, why(got, key))
		}
		return set(No, "%s %s %s requires %s to be absent, but the request carries %s", opName, key, want, key, describeValues(got.Values))
	}
	switch got.State {
	case KeyUnknown:
		return set(Unknown, "cannot tell whether %s %s %s holds: %s", opName, key, want, got.Why)
	case KeyAbsent:
		// A missing key matches nothing; negated operators are then true,
		// ...IfExists is true, ForAllValues is true (vacuously) and
		// ForAnyValue false (IAM User Guide, "Condition operators" and
		// "Set operators for multivalued context keys").
		switch {
		case op.ifExists:
			return set(Yes, "%s %s: the request has no %s, so the condition holds", opName, key, key)
		case op.set == "forallvalues":
			return set(Yes, "%s %s: the request has no %s, so ForAllValues holds", opName, key, key)
		case op.set == "foranyvalue":
			return set(No, "%s %s %s: %s", opName, key, want, why(got, key))
		case op.negated:
			return set(Yes, "%s %s: the request has no %s, so the negated condition holds", opName, key, key)
		}
		return set(No, "%s %s wants %s, but %s", opName, key, want, why(got, key))
	}
	one := func(v string) Tri { // does request value v satisfy the operator?
		r := No
		for _, pv := range values {
			r = or(r, matchValue(op, pv, v, ctx, vars))
		}
		if op.negated {
			return not(r)
		}
		return r
	}
	var r Tri
	switch op.set {
	case "foranyvalue":
		r = No
		for _, v := range got.Values {
			r = or(r, one(v))
		}
	case "forallvalues":
		r = Yes
		for _, v := range got.Values {
			r = and(r, one(v))
		}
	default:
		if len(got.Values) != 1 {
			return set(Unknown, "cannot tell: %s is multivalued here (%s) and %s has no ForAllValues/ForAnyValue", key, describeValues(got.Values), opName)
		}
		r = one(got.Values[0])
	}
	switch r {
	case Yes:
		return set(Yes, "%s %s %s: satisfied by %s", opName, key, want, describeValues(got.Values))
	case Unknown:
		return set(Unknown, "cannot tell whether %s %s %s holds for %s: a policy variable in it is unknown", opName, key, want, describeValues(got.Values))
	}
	if op.negated {
		return set(No, "%s %s %s: the request sends %s, which the policy excludes", opName, key, want, describeValues(got.Values))
	}
	return set(No, "%s %s wants %s, but the request sends %s", opName, key, want, describeValues(got.Values))
}

// matchValue compares one policy value with one request value, before
// negation.
func matchValue(op operator, policyValue, v string, ctx Context, vars bool) Tri {
	switch op.kind {
	case "string", "arn":
		p, ok := expand(policyValue, ctx, vars)
		if ok != Yes {
			// An unknown variable: cannot tell. An absent one without a
			// default: the value cannot match.
			if ok == Unknown {
				return Unknown
			}
			return No
		}
		switch {
		case op.kind == "arn":
			return triOf(arnMatch(p, v))
		case op.like:
			return triOf(p.match(v, false))
		case op.ignoreCase:
			return triOf(strings.EqualFold(p.text, v))
		}
		return triOf(p.text == v)
	case "bool":
		return triOf(strings.EqualFold(strings.TrimSpace(policyValue), strings.TrimSpace(v)))
	case "numeric":
		a, err1 := strconv.ParseFloat(strings.TrimSpace(v), 64)
		b, err2 := strconv.ParseFloat(strings.TrimSpace(policyValue), 64)
		if err1 != nil || err2 != nil {
			return No
		}
		return compare(op.numCmp, a, b)
	case "date":
		a, ok1 := parseDate(v)
		b, ok2 := parseDate(policyValue)
		if !ok1 || !ok2 {
			return No
		}
		return compare(op.numCmp, float64(a.UnixNano()), float64(b.UnixNano()))
	}
	return Unknown
}

func compare(cmp string, a, b float64) Tri {
	switch cmp {
	case "eq":
		return triOf(a == b)
	case "lt":
		return triOf(a < b)
	case "le":
		return triOf(a <= b)
	case "gt":
		return triOf(a > b)
	case "ge":
		return triOf(a >= b)
	}
	return Unknown
}

func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

// expand substitutes policy variables (${aws:username}, ${aws:username,
// 'default'}, and the escapes ${*} ${?} ${$}) in a condition value; the
// result's wildcards are only the "*" and "?" written literally. ok is
// Unknown when a variable's value is unknown, No when a variable is absent
// and has no default (IAM User Guide, "IAM policy elements: Variables").
func expand(s string, ctx Context, vars bool) (pattern, Tri) {
	if !vars || !strings.Contains(s, "${") {
		return globPattern(s), Yes
	}
	var text strings.Builder
	var wild []bool
	add := func(str string, w bool) {
		text.WriteString(str)
		for range len(str) {
			wild = append(wild, w)
		}
	}
	for len(s) > 0 {
		i := strings.Index(s, "${")
		end := -1
		if i >= 0 {
			end = strings.IndexByte(s[i:], '}')
		}
		if i < 0 || end < 0 {
			for j := 0; j < len(s); j++ {
				add(s[j:j+1], s[j] == '*' || s[j] == '?')
			}
			break
		}
		for j := 0; j < i; j++ {
			add(s[j:j+1], s[j] == '*' || s[j] == '?')
		}
		inner := strings.TrimSpace(s[i+2 : i+end])
		s = s[i+end+1:]
		switch inner {
		case "*", "?", "$":
			add(inner, false)
			continue
		}
		key, def, hasDef := inner, "", false
		if k, d, ok := strings.Cut(inner, ","); ok {
			d = strings.TrimSpace(d)
			if len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'' {
				key, def, hasDef = strings.TrimSpace(k), d[1:len(d)-1], true
			}
		}
		kv := ctx.Lookup(key)
		switch {
		case kv.State == KeyPresent && len(kv.Values) == 1:
			add(kv.Values[0], false)
		case kv.State == KeyAbsent && hasDef:
			add(def, false)
		case kv.State == KeyAbsent:
			return pattern{}, No
		default:
			return pattern{}, Unknown
		}
	}
	return pattern{text: text.String(), wild: wild}, Yes
}

// resolved shows what policy variables in values stand for here:
// ` (= "ci-user")`.
func resolved(values []string, ctx Context) string {
	var out []string
	for _, v := range values {
		if !strings.Contains(v, "${") {
			continue
		}
		if p, ok := expand(v, ctx, true); ok == Yes {
			out = append(out, strconv.Quote(p.text))
		} else if ok == No {
			out = append(out, "nothing: its variable is absent")
		} else {
			out = append(out, "unknown")
		}
	}
	if len(out) == 0 {
		return ""
	}
	return " (= " + strings.Join(out, ", ") + ")"
}

func why(kv KeyValue, key string) string {
	if kv.Why != "" {
		return kv.Why
	}
	return "the request has no " + key
}

func describeValues(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	if len(q) == 1 {
		return q[0]
	}
	return "one of [" + strings.Join(q, ", ") + "]"
}
