//go:build !unix && !windows

package picker

import (
	"errors"
	"os"
)

var terminateSignals = []os.Signal{os.Interrupt}

func openTerminal() (terminal, error) {
	return nil, errors.New("no terminal support on this platform")
}
