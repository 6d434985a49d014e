package endpoint

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultMaxConns is how many connections the endpoint keeps open at most
// (lowered to leave fdReserve descriptors under the process's open-file
// limit). net/http alone accepts connections until the process runs out of
// file descriptors: every idle connection costs about 20 KiB (goroutine,
// read and write buffers), so a local process holding 15,000 idle
// connections grew `rolehop serve` to 300 MiB, and at the open-file limit
// accept failed and legitimate clients timed out. The legitimate clients
// of a credentials endpoint are the SDKs and CLIs of one machine's jobs,
// which poll rarely and hold a connection for milliseconds; 512 leaves room
// for hundreds of them refreshing at once while bounding the server at
// about 10 MiB of connection state.
const DefaultMaxConns = 512

// fdReserve is how many file descriptors MaxConns leaves for everything
// else the process opens: the listener, STS connections of a refresh, the
// cache's files and locks, the SSO token cache.
const fdReserve = 64

// minConns is the least MaxConns derived from a low open-file limit.
const minConns = 16

// maxConns is the connection limit for opts: the option, else
// DefaultMaxConns, both lowered to stay below the open-file limit.
func maxConns(opt int) int {
	n := opt
	if n <= 0 {
		n = DefaultMaxConns
	}
	if limit, ok := openFileLimit(); ok && limit-fdReserve < n {
		n = max(limit-fdReserve, minConns)
	}
	return n
}

// connLimit caps the open connections of an http.Server through its
// ConnState hook. Above three quarters of the cap, every new connection
// closes one that is answered (net/http lingers 500 ms before closing a
// "Connection: close" one), else the one that has waited longest without a
// request in progress (new or idle: a slow or silent client, or a
// keep-alive connection nobody uses), so clients that open connections and leave them idle cannot lock
// others out. A connection is never closed for room before it has waited
// grace, so that a good client's fresh connection is not closed before its
// goroutine had a chance to read the request it already sent — except at
// the cap, where the one that has waited longest goes even within grace (a
// burst of silent connections evicts its own oldest members, while a good
// client's connection, sending its request at once, is active before it is
// the oldest). Only when every connection is busy in a request (bounded by
// the read and write timeouts) is the new one refused.
type connLimit struct {
	limit, soft int
	grace       time.Duration
	log         io.Writer
	now         func() time.Time

	mu      sync.Mutex
	conns   map[net.Conn]connInfo
	closed  int       // connections closed for room since the last log line
	refused int       // new connections refused since the last log line
	logged  time.Time // when the last log line was written
}

type connInfo struct {
	state http.ConnState
	since time.Time // when it entered state
}

// stateAnswered marks an active connection whose answer has been sent: it
// may be closed for room at once, like a waiting one past grace.
const stateAnswered http.ConnState = -1

// defaultGrace is how long a connection is safe from being closed for room
// after it was accepted or finished a request.
const defaultGrace = 250 * time.Millisecond

// limitLogEvery is the least time between two log lines about the cap.
const limitLogEvery = time.Minute

func newConnLimit(n int, grace time.Duration, log io.Writer, now func() time.Time) *connLimit {
	return &connLimit{limit: n, soft: max(n*3/4, 1), grace: grace, log: log, now: now, conns: map[net.Conn]connInfo{}}
}

// track is the http.Server's ConnState hook.
func (l *connLimit) track(c net.Conn, state http.ConnState) {
	var victim net.Conn
	var line string
	now := l.now()
	l.mu.Lock()
	switch state {
	case http.StateNew:
		l.conns[c] = connInfo{state, now}
		if len(l.conns) > l.soft {
			switch victim = l.longestWaitingLocked(c, now, l.grace); {
			case victim != nil:
				l.closed++
			case len(l.conns) <= l.limit:
			// At the cap something must go: the connection that has waited
			// longest without a request had the most time to send one,
			// even within grace. Only when all are in a request is the
			// newcomer refused.
			case l.longestWaitingLocked(c, now, 0) != nil:
				victim = l.longestWaitingLocked(c, now, 0)
				l.closed++
			default:
				victim = c
				l.refused++
			}
		}
		if victim != nil {
			delete(l.conns, victim)
			if l.logged.IsZero() || now.Sub(l.logged) >= limitLogEvery {
				line = fmt.Sprintf("rolehop: serve: %d connections open (limit %d): closed %d that waited longest without a request, refused %d new ones\n", len(l.conns), l.limit, l.closed, l.refused)
				l.logged, l.closed, l.refused = now, 0, 0
			}
		}
	case http.StateActive, http.StateIdle:
		if _, ok := l.conns[c]; ok { // not closed for room meanwhile
			l.conns[c] = connInfo{state, now}
		}
	case http.StateHijacked, http.StateClosed:
		delete(l.conns, c)
	}
	l.mu.Unlock()
	if victim != nil {
		closeNow(victim)
	}
	if line != "" {
		_, _ = io.WriteString(l.log, line)
	}
}

// answered marks c, active, as having sent its answer.
func (l *connLimit) answered(c net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ci, ok := l.conns[c]; ok && ci.state == http.StateActive {
		l.conns[c] = connInfo{stateAnswered, time.Time{}} // the first to close
	}
}

// longestWaitingLocked is the connection other than except that is
// answered, or new or idle since at least grace before now, and has waited
// longest; or nil.
func (l *connLimit) longestWaitingLocked(except net.Conn, now time.Time, grace time.Duration) net.Conn {
	var oldest net.Conn
	since := now.Add(-grace)
	for c, ci := range l.conns {
		if c == except || (ci.state != http.StateNew && ci.state != http.StateIdle && ci.state != stateAnswered) {
			continue
		}
		if !ci.since.After(since) {
			oldest, since = c, ci.since
			if ci.state == stateAnswered {
				break
			}
		}
	}
	return oldest
}

// open is the number of tracked connections.
func (l *connLimit) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// closeNow closes c without a TLS close_notify, which could block on a
// client that does not read (ConnState runs in the accept loop).
func closeNow(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	_ = c.Close()
}
