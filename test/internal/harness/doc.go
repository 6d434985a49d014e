// Package harness is what rolehop's test packages that run the real binary
// against moto_server share: building rolehop once, finding the tools, and
// starting a private moto_server on a free loopback port. It holds no
// state: each test package's TestMain keeps what these functions return.
package harness
