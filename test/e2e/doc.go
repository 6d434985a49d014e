//go:build unix

// Package e2e holds rolehop's end-to-end tests.
//
// The tests run the real rolehop binary (built once by TestMain) against one
// moto_server shared by the whole package, with the real AWS CLI (`aws`) as
// the consumer that proves which identity a credential set belongs to.
//
// Every test gets its own environment from newTestEnv: a temporary HOME,
// config and credentials files, rolehop cache directory, and a recording
// reverse proxy in front of moto (AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL
// point at it), so the test can assert exactly which STS parameters were sent
// and with which access key.
//
// Environment knobs:
//
//	CI=true           missing moto_server/aws is a failure instead of a skip
//	E2E_NO_BUILD=1    do not build rolehop (harness development only; ignored
//	                  when CI=true); tests that need the binary are skipped
//	E2E_ROLEHOP_BIN   use this prebuilt binary instead of building one
//	E2E_KEEP=1        keep the temporary directory (binary, moto log)
//	E2E_SLOW=1        also run the slow tests (the 60 s cache lock timeout)
package e2e
