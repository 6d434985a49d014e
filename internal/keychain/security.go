package keychain

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
)

// securityRing reads a macOS keychain file of its own (aws-vault keeps its
// items in ~/Library/Keychains/aws-vault.keychain-db) with
// /usr/bin/security: the generic password of the service for the account,
// which is the entry name. rolehop only reads it.
type securityRing struct {
	service, keychain, home string
}

func (r securityRing) path() string {
	return filepath.Join(r.home, "Library", "Keychains", r.keychain+".keychain-db")
}

func (r securityRing) get(name string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := exec.Command("/usr/bin/security", "find-generic-password", "-s", r.service, "-a", name, "-w", r.path())
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if strings.Contains(stderr.String(), "could not be found") {
			return nil, errNoEntry
		}
		return nil, errors.New("security find-generic-password: " + strings.TrimSpace(stderr.String()))
	}
	return bytes.TrimRight(out, "\n"), nil
}

// names cannot be listed without reading every item's attributes: the
// importer tries the profiles of the AWS config files instead.
func (r securityRing) names() ([]string, error) {
	return nil, ErrCannotList
}

func (r securityRing) set(string, string, []byte) error {
	return errors.New("rolehop does not write into another program's keychain")
}

func (r securityRing) remove(string) error {
	return errors.New("rolehop does not remove entries from another program's keychain")
}
