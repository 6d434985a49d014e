package endpoint

import "time"

// SetReadHeaderTimeout shortens the server's ReadHeaderTimeout so that the
// slow-client test runs in a fraction of a second. Call it before Serve.
func SetReadHeaderTimeout(s *Server, d time.Duration) { s.timeouts.readHeader = d }

// SetTimeouts shortens the server's read-header, read, write and idle
// timeouts (0 keeps the default). Call it before Serve.
func SetTimeouts(s *Server, readHeader, read, write, idle time.Duration) {
	s.timeouts = timeouts{readHeader: readHeader, read: read, write: write, idle: idle, grace: s.timeouts.grace}
}

// SetGrace sets how long a connection is safe from being closed for room
// (default 250 ms). Call it before Serve.
func SetGrace(s *Server, d time.Duration) { s.timeouts.grace = d }

// OpenConns is how many connections the server tracks as open (0 before
// Serve).
func OpenConns(s *Server) int {
	if l := s.conns.Load(); l != nil {
		return l.open()
	}
	return 0
}

// MaxConns is the connection limit Serve applies for the option opt.
func MaxConns(opt int) int { return maxConns(opt) }
