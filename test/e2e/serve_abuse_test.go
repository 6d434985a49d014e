//go:build unix

package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rolehop/rolehop/internal/endpoint/abusetest"
)

// TestServeAbuse: `rolehop serve prod`, started with an open-file limit of
// E2E_ABUSE_NOFILE (default 256), under every kind of abuse at once while a
// good client keeps polling: idle connections (more than the open-file
// limit), slowloris headers, a body dribbled byte by byte, clients that
// never read, oversized headers and bodies, wrong tokens in a loop, wrong
// Host, path and method. The good client's requests all succeed, every
// abuser gets its refusal or is closed by the server's timeouts, and the
// server's RSS stays under 100 MiB without growing from round to round.
// Figures are logged with the prefix "ABUSE" for bench/endpoint-abuse.sh,
// which runs bigger rounds; nothing is asserted on timings.
func TestServeAbuse(t *testing.T) {
	t.Parallel()
	rounds := abusetest.Knob("E2E_ABUSE_ROUNDS", 0, 2)
	roundTime := time.Duration(abusetest.Knob("E2E_ABUSE_ROUND_MS", 0, 3000)) * time.Millisecond
	idle := abusetest.Knob("E2E_ABUSE_IDLE", 0, 400)
	nofile := abusetest.Knob("E2E_ABUSE_NOFILE", 0, 256)

	env, _ := newChainEnv(t)
	bin := requireRolehop(t)
	// The same binary, under a lower open-file limit (0: the default).
	argv := []string{shBin, "-c", `ulimit -n "$1" && shift && exec "$@"`, "sh", strconv.Itoa(nofile), bin, "serve", "prod"}
	if os.Getenv("E2E_ABUSE_NOFILE") == "0" {
		argv = []string{bin, "serve", "prod"}
	}
	srv := startServeArgv(t, env, argv)
	route := srv.Routes[0]
	u, _ := url.Parse(route.URL)
	addr, path, tok := u.Host, u.Path, route.Token
	pid := srv.cmd.Process.Pid
	limit, _ := procLimit(pid)
	t.Logf("ABUSE serve pid %d, open-file limit %d, %d rounds of %s, %d idle connections a round", pid, limit, rounds, roundTime, idle)

	var (
		mu       sync.Mutex
		failures []string
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 20 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}

	// Slow kinds outlive a round: started once, checked at the end, they
	// must be closed by the server's ReadHeaderTimeout (5 s) and
	// WriteTimeout (10 s).
	slow := map[string]*abuseKind{"slowloris headers": {}, "never reads": {}}
	var slowWG sync.WaitGroup
	for range 4 {
		slowWG.Add(1)
		go func() {
			defer slowWG.Done()
			k := slow["slowloris headers"]
			c, err := net.Dial("tcp", addr)
			if err != nil {
				k.bad("dial: %v", err)
				return
			}
			defer c.Close()
			start := time.Now()
			go func() {
				for _, b := range []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nX-Slow: " + strings.Repeat("s", 400)) {
					if _, err := c.Write([]byte{b}); err != nil {
						return
					}
					time.Sleep(30 * time.Millisecond)
				}
			}()
			got, closed := abusetest.ReadUntilClosed(c, 15*time.Second)
			k.outcome(closed && !strings.HasPrefix(string(got), "HTTP/1.1 200"), "closed %v after %s: %.60q", closed, time.Since(start), got)
			k.note(time.Since(start))
		}()
	}
	for range 2 {
		slowWG.Add(1)
		go func() {
			defer slowWG.Done()
			k := slow["never reads"]
			c, err := net.Dial("tcp", addr)
			if err != nil {
				k.bad("dial: %v", err)
				return
			}
			defer c.Close()
			req := []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: " + randHex(32) + "\r\nX-Pad: " + strings.Repeat("p", 512) + "\r\n\r\n")
			start := time.Now()
			_ = c.SetWriteDeadline(time.Now().Add(25 * time.Second))
			var err2 error
			for err2 == nil {
				_, err2 = c.Write(req)
			}
			var ne net.Error
			k.outcome(!(errors.As(err2, &ne) && ne.Timeout()), "still open after %s: %v", time.Since(start), err2)
			k.note(time.Since(start))
		}()
	}

	rssBefore := procRSS(pid)
	var afterRounds []float64
	good := &goodClient{env: env, route: route}
	for round := 1; round <= rounds; round++ {
		ctx, cancel := context.WithTimeout(context.Background(), roundTime)
		var wg sync.WaitGroup
		kinds := map[string]*abuseKind{}
		run := func(kind string, workers int, f func(k *abuseKind)) {
			k := &abuseKind{}
			kinds[kind] = k
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil {
						f(k)
						time.Sleep(5 * time.Millisecond)
					}
				}()
			}
		}
		raw := func(k *abuseKind, req string, want int) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				k.bad("dial: %v", err)
				return
			}
			defer c.Close()
			_, _ = io.WriteString(c, req)
			got, closed := abusetest.ReadUntilClosed(c, 5*time.Second)
			k.answered(abusetest.StatusOf(got), want, closed, true, "status %d (want %d), closed %v: %.60q", abusetest.StatusOf(got), want, closed, got)
		}
		hdr := "Host: " + addr + "\r\nConnection: close\r\n"
		run("dribbled body", 2, func(k *abuseKind) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				k.bad("dial: %v", err)
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Length: 100000\r\n\r\nx", path, addr, tok)
			start := time.Now()
			go func() {
				for range 100 {
					time.Sleep(20 * time.Millisecond)
					if _, err := c.Write([]byte{'x'}); err != nil {
						return
					}
				}
			}()
			got, closed := abusetest.ReadUntilClosed(c, 5*time.Second)
			// The right token, but a body: 413 at once, then closed.
			k.answered(abusetest.StatusOf(got), 413, closed, !strings.Contains(string(got), "SecretAccessKey") && time.Since(start) < 3*time.Second,
				"status %d, closed %v after %s", abusetest.StatusOf(got), closed, time.Since(start))
		})
		run("oversized header", 1, func(k *abuseKind) {
			raw(k, "GET "+path+" HTTP/1.1\r\n"+hdr+"Authorization: "+tok+"\r\nX-Pad: "+strings.Repeat("h", 16<<10)+"\r\n\r\n", 431)
		})
		run("oversized body", 1, func(k *abuseKind) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				k.bad("dial: %v", err)
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Length: %d\r\n\r\n", path, addr, randHex(32), 64<<20)
			go func() {
				chunk := make([]byte, 64<<10)
				_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
				for range 32 {
					if _, err := c.Write(chunk); err != nil {
						return
					}
				}
			}()
			got, closed := abusetest.ReadUntilClosed(c, 5*time.Second)
			k.answered(abusetest.StatusOf(got), 401, closed, true, "status %d, closed %v", abusetest.StatusOf(got), closed)
		})
		run("bad tokens", 2, func(k *abuseKind) {
			client := &http.Client{Timeout: 5 * time.Second}
			defer client.CloseIdleConnections()
			for i := 0; i < 500 && ctx.Err() == nil; i++ {
				status, _, err := getWith(client, route.URL, randHex(32))
				if err != nil { // the connection was refused or closed for room
					k.refused.Add(1)
					k.outcome(true, "")
					continue
				}
				k.outcome(status == 401, "status %d", status)
				time.Sleep(time.Millisecond) // thousands, not a CPU flood
			}
		})
		run("wrong Host", 1, func(k *abuseKind) {
			raw(k, "GET "+path+" HTTP/1.1\r\nHost: rebind.example:80\r\nConnection: close\r\nAuthorization: "+tok+"\r\n\r\n", 403)
		})
		run("wrong path", 1, func(k *abuseKind) {
			raw(k, "GET /v1/credentials/"+randHex(4)+" HTTP/1.1\r\n"+hdr+"Authorization: "+tok+"\r\n\r\n", 404)
		})
		run("wrong method", 1, func(k *abuseKind) {
			raw(k, "POST "+path+" HTTP/1.1\r\n"+hdr+"Content-Length: 0\r\nAuthorization: "+tok+"\r\n\r\n", 405)
		})
		// Idle connections, more than the open-file limit, 2.5 ms
		// apart, held without a byte until the round ends: the server
		// closes the longest-waiting ones to make room.
		idleKind := &abuseKind{}
		kinds["idle connections"] = idleKind
		wg.Add(1)
		go func() {
			defer wg.Done()
			var conns []net.Conn
			for i := 0; i < idle && ctx.Err() == nil; i++ {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					idleKind.bad("dial %d: %v", i+1, err)
					continue
				}
				conns = append(conns, c)
				time.Sleep(2500 * time.Microsecond)
			}
			<-ctx.Done()
			var closedByServer atomic.Int64
			var cwg sync.WaitGroup
			for _, c := range conns {
				cwg.Add(1)
				go func() {
					defer cwg.Done()
					got, closed := abusetest.ReadUntilClosed(c, 10*time.Millisecond)
					if closed {
						closedByServer.Add(1)
					}
					idleKind.outcome(len(got) == 0, "an idle connection got %.60q", got)
					c.Close()
				}()
			}
			cwg.Wait()
			idleKind.extra = fmt.Sprintf("%d closed by the server for room", closedByServer.Load())
		}()

		// The good client, and the server's RSS and open files.
		var rssDuring float64
		var fdsDuring int
		good.reset()
		for i := 0; ctx.Err() == nil; i++ {
			good.poll(i)
			rssDuring = max(rssDuring, procRSS(pid))
			fdsDuring = max(fdsDuring, procFDs(pid))
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		good.idle()
		time.Sleep(300 * time.Millisecond)
		after := procRSS(pid)
		afterRounds = append(afterRounds, after)

		t.Logf("ABUSE round %d: good client %d requests (+%d by the SDK with GetCallerIdentity), %d failed, %d retried on a new connection after the server closed a kept one, latency p50 %s p99 %s max %s",
			round, good.n, good.sdk, good.failed, good.retried, good.pct(50), good.pct(99), good.pct(100))
		t.Logf("ABUSE round %d: serve RSS before %.1f MiB, during ≤ %.1f MiB, after %.1f MiB; open files ≤ %d (limit %d)", round, rssBefore, rssDuring, after, fdsDuring, limit)
		names := slices.Sorted(func(yield func(string) bool) {
			for k := range kinds {
				if !yield(k) {
					return
				}
			}
		})
		for _, name := range names {
			k := kinds[name]
			t.Logf("ABUSE round %d: %-18s %6d requests, %6d refused or closed as expected (%d closed without an answer) %s", round, name, k.sent.Load(), k.ok.Load(), k.refused.Load(), k.extra)
			if k.sent.Load() == 0 {
				t.Errorf("round %d: %s: nothing sent", round, name)
			}
			for _, b := range k.bads() {
				fail("round %d: %s: %s", round, name, b)
			}
		}
		for _, f := range good.failures {
			fail("round %d: good client: %s", round, f)
		}
		if rssDuring > 100 || after > 100 {
			fail("round %d: RSS %.1f MiB during, %.1f MiB after: want < 100 MiB", round, rssDuring, after)
		}
		if after > afterRounds[0]+16 {
			fail("round %d: RSS after the round %.1f MiB, after round 1 %.1f MiB: it grows", round, after, afterRounds[0])
		}
	}
	slowWG.Wait()
	for _, name := range []string{"slowloris headers", "never reads"} {
		k := slow[name]
		t.Logf("ABUSE %-18s %6d connections, %6d closed by the server, after %s", name, k.sent.Load(), k.ok.Load(), k.durations())
		for _, b := range k.bads() {
			fail("%s: %s", name, b)
		}
	}
	srv.Stop(t)
	if strings.Contains(srv.Stderr(), "Accept error") || strings.Contains(srv.Stderr(), "too many open files") {
		fail("serve ran out of file descriptors:\n%s", srv.Stderr())
	}
	assertNoSecrets(t, "serve stderr", srv.Stderr(), append(secretsOf(env), tok))
	for _, f := range failures {
		t.Error(f)
	}
}

// abuseKind counts one kind of abuse's requests and outcomes.
type abuseKind struct {
	sent, ok atomic.Int64 // ok: the expected refusal or closing
	refused  atomic.Int64 // of ok: closed without an answer (connection limit)
	extra    string

	mu      sync.Mutex
	samples []string
	took    []time.Duration
}

func (k *abuseKind) outcome(ok bool, format string, args ...any) {
	k.sent.Add(1)
	if ok {
		k.ok.Add(1)
		return
	}
	k.bad(format, args...)
}

// answered records a raw request's outcome: the wanted status, or closed
// without an answer (refused or closed for room by the connection limit,
// which a loaded machine reaches sooner) are both refusals.
func (k *abuseKind) answered(status, want int, closed, extra bool, format string, args ...any) {
	if status == 0 && closed {
		k.refused.Add(1)
		k.outcome(true, "")
		return
	}
	k.outcome(status == want && closed && extra, format, args...)
}

func (k *abuseKind) bad(format string, args ...any) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.samples) < 5 {
		k.samples = append(k.samples, fmt.Sprintf(format, args...))
	}
}

func (k *abuseKind) bads() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.samples)
}

func (k *abuseKind) note(d time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.took = append(k.took, d)
}

// durations is the range of noted durations, e.g. "5.0–5.1s".
func (k *abuseKind) durations() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.took) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f–%.1fs", slices.Min(k.took).Seconds(), slices.Max(k.took).Seconds())
}

// goodClient polls a route as clients do: a fresh connection every other
// request, a keep-alive one otherwise, and every 25th request the
// aws-sdk-go-v2 container provider signs a GetCallerIdentity with what it
// got.
type goodClient struct {
	env   *TestEnv
	route ServeRoute

	fresh, kept             *http.Client
	n, sdk, failed, retried int
	lat                     []time.Duration
	failures                []string
}

func (g *goodClient) reset() {
	g.fresh = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	g.kept = &http.Client{Timeout: 5 * time.Second}
	g.n, g.sdk, g.failed, g.retried, g.lat, g.failures = 0, 0, 0, 0, nil, nil
}

func (g *goodClient) idle() { g.kept.CloseIdleConnections() }

func (g *goodClient) poll(i int) {
	client := g.fresh
	if i%2 == 1 {
		client = g.kept
	}
	start := time.Now()
	status, body, err := getWith(client, g.route.URL, g.route.Token)
	if err != nil && client == g.kept {
		// A server may close an idle keep-alive connection at any time, and
		// clients retry an idempotent request on a new one (RFC 9110 §9.2.2,
		// RFC 9112 §9.3.1); the SDKs' container providers do. Under abuse the
		// endpoint closes answered connections to make room, so a reused one
		// can be gone: that is one retry, not a failure.
		g.retried++
		status, body, err = getWith(g.fresh, g.route.URL, g.route.Token)
	}
	g.lat = append(g.lat, time.Since(start))
	g.n++
	switch {
	case err != nil:
		g.failed++
		g.failures = append(g.failures, err.Error())
	case status != http.StatusOK || !strings.Contains(string(body), `"SecretAccessKey":"`):
		g.failed++
		g.failures = append(g.failures, fmt.Sprintf("HTTP %d: %.80s", status, body))
	}
	if i%25 == 0 {
		g.sdk++
		if arn, err := sdkCallerARN(g.env, endpointProvider(g.route)); err != nil || arn != assumedARN(prodAccount, "prod", "alice") {
			g.failed++
			g.failures = append(g.failures, fmt.Sprintf("SDK GetCallerIdentity: %q, %v", arn, err))
		}
	}
}

func (g *goodClient) pct(p int) time.Duration {
	if len(g.lat) == 0 {
		return 0
	}
	l := slices.Sorted(slices.Values(g.lat))
	return l[min(len(l)-1, len(l)*p/100)]
}

// getWith GETs rawURL with `Authorization: token`.
func getWith(client *http.Client, rawURL, token string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", token)
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// procRSS is a process's resident set size in MiB (VmRSS), 0 if unknown.
func procRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// procFDs is how many files a process has open.
func procFDs(pid int) int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents)
}

// procLimit is a process's soft open-file limit.
func procLimit(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Max open files") {
			f := strings.Fields(strings.TrimPrefix(l, "Max open files"))
			if len(f) > 0 {
				return strconv.Atoi(f[0])
			}
		}
	}
	return 0, errors.New("no Max open files line")
}

// startServeArgv is startServe for a serve command run as argv (for
// example through sh to lower a limit first); argv must exec rolehop so
// that the process is rolehop's.
func startServeArgv(t *testing.T, env *TestEnv, argv []string) *ServeProc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &ServeProc{cmd: env.Command(ctx, argv[0], argv[1:]...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", shellQuote(argv), err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	deadline := time.After(20 * time.Second)
	for !strings.Contains(s.stderr.String(), "rolehop: serving ") || !strings.HasSuffix(s.stdout.String(), "\n") {
		select {
		case <-s.done:
			t.Fatalf("%s exited before serving: %v\n--- stderr:\n%s", shellQuote(argv), s.err, s.stderr)
		case <-deadline:
			t.Fatalf("%s did not start serving within 20 s\n--- stderr:\n%s", shellQuote(argv), s.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", s.cmd.Process.Pid)); err != nil || filepath.Base(exe) != filepath.Base(requireRolehop(t)) {
		t.Fatalf("process %d is %q (%v), not rolehop: argv must exec it", s.cmd.Process.Pid, exe, err)
	}
	s.Routes = parseServeOutput(t, s.stdout.String())
	if len(s.Routes) != 1 {
		t.Fatalf("%d routes, want 1:\n%s", len(s.Routes), s.stdout)
	}
	return s
}
