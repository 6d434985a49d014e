package sink

import (
	"os"
	"strings"
	"testing"
)

// helperEnv makes the test binary act as a child process that prints its
// AWS_* environment, NUL-separated, instead of running tests. Shell tests
// exec it after sourcing an export to see what was really exported.
const helperEnv = "ROLEHOP_SINK_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "dumpenv" {
		var b strings.Builder
		for _, kv := range os.Environ() {
			if strings.HasPrefix(kv, "AWS_") {
				b.WriteString(kv)
				b.WriteByte(0)
			}
		}
		os.Stdout.WriteString(b.String())
		os.Exit(0)
	}
	os.Exit(m.Run())
}
