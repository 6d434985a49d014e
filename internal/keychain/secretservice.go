package keychain

import (
	"fmt"
	"slices"

	"github.com/godbus/dbus/v5"
)

// checkSecretService finds out, before any call that could wait on a
// dialog, whether a Secret Service answers on the session bus and whether
// its default collection can be used: a locked collection makes the
// service ask for its password through a desktop prompt, which never
// appears in a session without a display (SSH, a container, CI).
func checkSecretService(getenv func(string) string) error {
	conn, err := dbus.SessionBus()
	if err != nil {
		return &UnavailableError{Backend: SecretService, Reason: fmt.Sprintf("the D-Bus session at %s does not answer (%v)", sessionBus(getenv), err)}
	}
	var owned bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.secrets").Store(&owned); err != nil {
		return &UnavailableError{Backend: SecretService, Reason: fmt.Sprintf("the D-Bus session does not answer (%v)", err)}
	}
	if !owned {
		var activatable []string
		_ = conn.BusObject().Call("org.freedesktop.DBus.ListActivatableNames", 0).Store(&activatable)
		if !slices.Contains(activatable, "org.freedesktop.secrets") {
			return &UnavailableError{Backend: SecretService, Reason: "nothing provides the Secret Service on this D-Bus session (start gnome-keyring-daemon, KWallet or KeePassXC's Secret Service integration)"}
		}
		return nil // started on first use
	}
	var path dbus.ObjectPath
	svc := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
	if err := svc.Call("org.freedesktop.Secret.Service.ReadAlias", 0, "default").Store(&path); err != nil || path == "/" {
		return nil // no default collection yet: the store makes one (and may ask for its password)
	}
	locked, err := conn.Object("org.freedesktop.secrets", path).GetProperty("org.freedesktop.Secret.Collection.Locked")
	if err != nil {
		return nil
	}
	if l, _ := locked.Value().(bool); l && getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		return &UnavailableError{Backend: SecretService, Reason: "its default collection (" + string(path) + ") is locked, and without a desktop session nothing can ask for its password (unlock it, e.g. with `gnome-keyring-daemon --unlock` reading the password on stdin)"}
	}
	return nil
}
