package cli

import (
	"github.com/spf13/cobra"
)

// outputFormat is the --output text|json (-o) flag of the informational
// commands (whoami, explain, cache list, doctor, version). The older
// --json is still accepted, hidden. The JSON schemas are in
// docs/json-output.md.
type outputFormat struct {
	value string
	json  bool
}

func addOutputFlag(cmd *cobra.Command, o *outputFormat, what string) {
	f := cmd.Flags()
	f.StringVarP(&o.value, "output", "o", "text", "output format: text, or json ("+what+"; schema in docs/json-output.md)")
	f.BoolVar(&o.json, "json", false, "same as --output json")
	_ = f.MarkHidden("json")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

// isJSON reports whether JSON output was asked for; an unknown format is a
// usage error, found before any network call.
func (o outputFormat) isJSON() (bool, error) {
	switch o.value {
	case "json":
		return true, nil
	case "text", "":
		return o.json, nil
	}
	return false, usagef("unknown --output %q: use text or json", o.value)
}
