package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
)

// LoginCacheDir is where `aws login` keeps its sessions: AWS_LOGIN_CACHE_DIRECTORY
// (botocore expands ~ and $VARS in it, utils.get_login_token_cache_directory)
// or ~/.aws/login/cache. from says which.
func LoginCacheDir(getenv func(string) string, home string) (dir, from string) {
	if d := getenv("AWS_LOGIN_CACHE_DIRECTORY"); d != "" {
		d = os.Expand(d, getenv)
		if d == "~" || strings.HasPrefix(d, "~/") {
			d = filepath.Join(home, d[1:])
		}
		return d, "env AWS_LOGIN_CACHE_DIRECTORY"
	}
	return filepath.Join(home, ".aws", "login", "cache"), "~/.aws/login/cache"
}

// LoginFileName is the cache file of a login_session: the lower-case hex SHA-256
// of the value (botocore utils.generate_login_cache_key; aws-sdk-go-v2
// logincreds.StandardCachedTokenFilepath also trims spaces, which the
// config parsers have done already).
func LoginFileName(session string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(session)))
	return hex.EncodeToString(sum[:]) + ".json"
}
