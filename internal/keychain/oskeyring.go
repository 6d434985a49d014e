package keychain

import (
	"errors"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
	ss "github.com/zalando/go-keyring/secret_service"
)

// osRing is the system store as github.com/zalando/go-keyring reaches it:
// the macOS Keychain through /usr/bin/security (no cgo, the secret on its
// standard input), the Windows Credential Manager, and the Secret Service's
// default collection. An entry is the service's password for the user
// name, here the profile.
type osRing struct{ service string }

func (r osRing) get(name string) ([]byte, error) {
	v, err := keyring.Get(r.service, name)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, errNoEntry
	}
	return []byte(v), err
}

func (r osRing) set(name, _ string, data []byte) error {
	return keyring.Set(r.service, name, string(data))
}

func (r osRing) remove(name string) error {
	err := keyring.Delete(r.service, name)
	if errors.Is(err, keyring.ErrNotFound) {
		return errNoEntry
	}
	return err
}

// names is not something the library can list; rolehop's index knows its
// own entries.
func (r osRing) names() ([]string, error) {
	return nil, ErrCannotList
}

// collectionRing reads a named Secret Service collection whose entries
// carry a "profile" attribute: where 99designs/keyring, and so aws-vault,
// keeps them. rolehop only reads it.
type collectionRing struct{ collection string }

func (r *collectionRing) open() (*ss.SecretService, dbus.BusObject, error) {
	svc, err := ss.NewSecretService()
	if err != nil {
		return nil, nil, err
	}
	c := svc.GetCollection(r.collection)
	if err := svc.CheckCollectionPath(c.Path()); err != nil {
		return nil, nil, errNoEntry
	}
	if err := svc.Unlock(c.Path()); err != nil {
		return nil, nil, err
	}
	return svc, c, nil
}

func (r *collectionRing) get(name string) ([]byte, error) {
	svc, c, err := r.open()
	if err != nil {
		return nil, err
	}
	items, err := svc.SearchItems(c, map[string]string{"profile": name})
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errNoEntry
	}
	session, err := svc.OpenSession()
	if err != nil {
		return nil, err
	}
	defer svc.Close(session)
	secret, err := svc.GetSecret(items[0], session.Path())
	if err != nil {
		return nil, err
	}
	return secret.Value, nil
}

func (r *collectionRing) names() ([]string, error) {
	svc, c, err := r.open()
	if errors.Is(err, errNoEntry) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	items, err := svc.SearchItems(c, map[string]string{})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, it := range items {
		v, err := svc.Object("org.freedesktop.secrets", it).GetProperty("org.freedesktop.Secret.Item.Attributes")
		if err != nil {
			return nil, err
		}
		if attrs, ok := v.Value().(map[string]string); ok && attrs["profile"] != "" {
			names = append(names, attrs["profile"])
		}
	}
	return names, nil
}

func (r *collectionRing) set(string, string, []byte) error {
	return errors.New("rolehop does not write into another program's collection")
}

func (r *collectionRing) remove(string) error {
	return errors.New("rolehop does not remove entries from another program's collection")
}
