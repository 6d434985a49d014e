// Package abusetest holds what the endpoint's abuse tests share, in
// process (internal/endpoint) and against `rolehop serve` (test/e2e):
// reading a raw connection until the server closes it, the status of a raw
// answer, and the size knobs that bench/endpoint-abuse.sh sets.
package abusetest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// ReadUntilClosed reads c until the peer closes it or within passes, and
// reports what arrived and whether the server closed the connection (EOF
// or reset) rather than the wait running out.
func ReadUntilClosed(c net.Conn, within time.Duration) (got []byte, closed bool) {
	_ = c.SetReadDeadline(time.Now().Add(within))
	got, err := io.ReadAll(c)
	var ne net.Error
	return got, !(errors.As(err, &ne) && ne.Timeout())
}

// StatusOf is the status code of the first response in raw, or 0.
func StatusOf(raw []byte) int {
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(raw))), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Knob reads an integer knob of the bench script that is at least min,
// else def.
func Knob(name string, min, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n >= min {
		return n
	}
	return def
}
