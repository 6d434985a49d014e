//go:build unix

// Package soak holds rolehop's reliability soaks, run against the real
// binary, a private moto_server and a recording proxy:
//
//   - TestCrashSoak starts rolehop again and again and SIGKILLs it at a
//     random moment (before, during or after its cache and credentials-file
//     writes), then checks that every cache entry and the credentials file
//     is a complete old or new version, that no lock is left held, that
//     temp files get cleaned, and that the next run succeeds.
//   - TestConcurrencySoak keeps 100+ rolehop processes running at once for
//     a while (credential-process, exec, write --to, cache clear on three
//     chains that share their first hop) and checks that none fails, that
//     the AssumeRole calls stay within the single-flight bound, and that
//     every output and file holds credentials of the right role.
//
// Sizes come from the environment; the defaults keep each soak around 20 s
// (CI). bench/soak.sh runs both at the report size and prints the figures.
//
//	SOAK_CRASH_ITERATIONS  killed runs (default 300; report size 1000)
//	SOAK_CRASH_BUDGET      stop the crash soak early after this long
//	                       (default 25s; 0: no limit)
//	SOAK_PROCS             processes running at once (default 100)
//	SOAK_DURATION          how long the concurrency soak runs (default 20s)
//	SOAK_REPORT            append the result tables (Markdown) to this file
//	SOAK_ROLEHOP_BIN       use this rolehop binary instead of building one
//	CI=true                a missing moto_server is a failure, not a skip
//
// Timings are printed, never asserted: these machines are shared.
package soak
