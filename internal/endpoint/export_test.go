package endpoint

import "time"

// SetReadHeaderTimeout shortens the server's ReadHeaderTimeout so that the
// slow-client test runs in a fraction of a second. Call it before Serve.
func SetReadHeaderTimeout(s *Server, d time.Duration) { s.readHeaderTimeout = d }
