//go:build unix

package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/rolehop/rolehop"
)

// The library tests run rolehop's Go API in this process. The library reads
// its environment with os.Getenv, so they set it with t.Setenv and cannot
// be parallel; Go runs them before the package's parallel tests start.

// libEnv points the in-process library at env's proxy: the process
// environment gets env's HOME and config files, AWS_ENDPOINT_URL_STS, no
// instance metadata and region us-east-1, and loses every other AWS_* and
// ROLEHOP_* variable. With keys, they become AWS_ACCESS_KEY_ID/SECRET.
func libEnv(t *testing.T, env *TestEnv, keys *Keys) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "ROLEHOP_") {
			unsetenv(t, k)
		}
	}
	t.Setenv("HOME", env.Home)
	t.Setenv("AWS_CONFIG_FILE", env.ConfigFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", env.CredentialsFile)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL_STS", env.Proxy.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	if keys != nil {
		t.Setenv("AWS_ACCESS_KEY_ID", keys.AccessKeyID)
		t.Setenv("AWS_SECRET_ACCESS_KEY", keys.SecretAccessKey)
	}
}

// unsetenv removes k for the rest of the test (t.Setenv restores it).
func unsetenv(t *testing.T, k string) {
	t.Setenv(k, "")
	os.Unsetenv(k)
}

// viaProxy sends an STS client's calls to the test's proxy. A config
// returned by rolehop without WithBaseConfig has no ConfigSources, so
// service clients do not read AWS_ENDPOINT_URL_STS themselves.
func viaProxy(env *TestEnv) func(*sts.Options) {
	return func(o *sts.Options) { o.BaseEndpoint = aws.String(env.Proxy.URL) }
}

// libCaller returns the ARN cfg acts as, asked through the test's proxy.
func libCaller(t *testing.T, env *TestEnv, cfg aws.Config) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := sts.NewFromConfig(cfg, viaProxy(env)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	return aws.ToString(out.Arn)
}

// motoS3 is an S3 client talking straight to moto with k, path-style.
func motoS3(k Keys) *s3.Client {
	return s3.NewFromConfig(motoConfig(k), func(o *s3.Options) { o.UsePathStyle = true })
}

// ownBuckets creates two buckets, each by its own account (moto keeps the
// owner): the first with a session of roleA, the second with a session of
// roleB, which it returns for reading them back. Names are unique: moto's
// state outlives one run.
func ownBuckets(t *testing.T, ctx context.Context, seed Seed, prefix, roleA, roleB string) (bucketA, bucketB string, inA, inB Keys) {
	t.Helper()
	suffix := strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "-")
	bucketA, bucketB = prefix+"-a-"+suffix, prefix+"-b-"+suffix
	inA, inB = motoAssumeRole(t, seed.CIUser, roleA, "setup"), motoAssumeRole(t, seed.CIUser, roleB, "setup")
	for _, b := range []struct {
		keys   Keys
		bucket string
	}{{inA, bucketA}, {inB, bucketB}} {
		if _, err := motoS3(b.keys).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b.bucket)}); err != nil {
			t.Fatalf("CreateBucket %s: %v", b.bucket, err)
		}
	}
	return bucketA, bucketB, inA, inB
}

// buildExample builds ./examples/cross-account into dir.
func buildExample(t *testing.T, dir string) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "cross-account")
	cmd := exec.Command("go", "build", "-o", bin, "./examples/cross-account")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/cross-account: %v\n%s", err, out)
	}
	return bin
}

// TestLibraryExampleCrossAccount runs examples/cross-account (seed 003: a
// bot in account A working in B's bucket, and through B in A's bucket)
// against moto and checks the objects it wrote and the AssumeRole calls
// behind them.
func TestLibraryExampleCrossAccount(t *testing.T) {
	env := newTestEnv(t)
	seed := seedAccounts(t)
	bin := buildExample(t, env.Dir)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bucketA, bucketB, inA, inB := ownBuckets(t, ctx, seed, "bucket", devRoleARN, prodRoleARN)

	useEnvKeys(env, seed.CIUser)
	env.Set("AWS_ENDPOINT_URL_S3", motoURL)
	res := env.RunCmd(t, bin,
		"-role-b", prodRoleARN, "-bucket-b", bucketB,
		"-role-a", devRoleARN, "-bucket-a", bucketA,
		"-region", "us-east-1", "-path-style")
	if res.Code != 0 {
		t.Fatalf("cross-account failed: %s", res)
	}
	t.Logf("cross-account output:\n%s", res.Stdout)

	const key = "rolehop-cross-account.txt"
	wantB := assumedARN(prodAccount, "prod", "cross-account-bot")
	wantA := assumedARN(devAccount, "dev", "cross-account-bot")
	for _, want := range []string{"[B] identity: " + wantB, "[A via B] identity: " + wantA, "[B] s3://" + bucketB + "/" + key + " round trip ok", "[A via B] s3://" + bucketA + "/" + key + " round trip ok"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("output does not contain %q", want)
		}
	}
	for _, o := range []struct {
		keys           Keys
		bucket, writer string
	}{{inB, bucketB, wantB}, {inA, bucketA, wantA}} {
		out, err := motoS3(o.keys).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(key)})
		if err != nil {
			t.Errorf("GetObject s3://%s/%s: %v", o.bucket, key, err)
			continue
		}
		body, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := "hello from " + o.writer + "\n"; string(body) != want {
			t.Errorf("s3://%s/%s = %q, want %q", o.bucket, key, body, want)
		}
	}

	// Direction 1 assumes prod with the bot's keys; direction 2 is the chain
	// prod → dev, its second hop signed with the first hop's key.
	calls := mustCalls(t, env.Proxy, "AssumeRole", 3)
	byRole := map[string][]Call{}
	for _, c := range calls {
		byRole[c.Get("RoleArn")] = append(byRole[c.Get("RoleArn")], c)
	}
	if len(byRole[prodRoleARN]) != 2 || len(byRole[devRoleARN]) != 1 {
		t.Fatalf("AssumeRole calls per role: want prod twice and dev once:\n%s", callList(calls))
	}
	back := byRole[devRoleARN][0]
	wantParam(t, back, "RoleSessionName", "cross-account-bot")
	chained := false
	for _, c := range byRole[prodRoleARN] {
		if c.AccessKeyID != seed.CIUser.AccessKeyID {
			t.Errorf("AssumeRole prod signed with %q, want the bot's key %q", c.AccessKeyID, seed.CIUser.AccessKeyID)
		}
		if id, _, _ := c.ReturnedCredentials(); id == back.AccessKeyID {
			chained = true // the chain's first hop
		} else {
			wantParam(t, c, "RoleSessionName", "cross-account-bot") // direction 1
		}
	}
	if !chained {
		t.Errorf("AssumeRole dev signed with %q, want a key returned for prod:\n%s", back.AccessKeyID, callList(calls))
	}
	mustCalls(t, env.Proxy, "GetCallerIdentity", 2)
}

// TestLibraryConcurrentRefresh: 100 goroutines share one config for 20 s
// while its credentials last 8 s and are renewed 2 s before expiry. Every
// call succeeds as the role, and each renewal is one AssumeRole — no
// thundering herd.
func TestLibraryConcurrentRefresh(t *testing.T) {
	env := newTestEnv(t)
	seed := seedAccounts(t)
	libEnv(t, env, &seed.CIUser)
	const (
		ttl      = 8 * time.Second
		minTTL   = 2 * time.Second
		run      = 20 * time.Second
		workers  = 100
		interval = 100 * time.Millisecond
	)
	env.Proxy.SetExpiration("AssumeRole", ttl)

	ctx, cancel := context.WithTimeout(context.Background(), run+20*time.Second)
	defer cancel()
	cfg, err := rolehop.AssumeRole(ctx, prodRoleARN, rolehop.WithMinTTL(minTTL), rolehop.WithSessionName("lib"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "us-east-1" {
		t.Errorf("config region %q, want us-east-1 (AWS_REGION)", cfg.Region)
	}
	want := assumedARN(prodAccount, "prod", "lib")

	var (
		wg       sync.WaitGroup
		ok       atomic.Int64
		failures atomic.Int64
	)
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 5 { // the first few are enough to debug
			t.Errorf(format, args...)
		}
	}
	deadline := time.Now().Add(run)
	for i := range workers {
		wg.Go(func() {
			client := sts.NewFromConfig(cfg, viaProxy(env))
			// Spread the goroutines over the first interval.
			time.Sleep(time.Duration(i) * interval / workers)
			for time.Now().Before(deadline) {
				c, err := cfg.Credentials.Retrieve(ctx)
				if err != nil {
					fail("Retrieve: %v", err)
					return
				}
				if left := time.Until(c.Expires); left < minTTL-500*time.Millisecond {
					fail("Retrieve handed out credentials with %s left (min TTL %s)", left, minTTL)
				}
				out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				if err != nil {
					fail("GetCallerIdentity: %v", err)
					return
				}
				if got := aws.ToString(out.Arn); got != want {
					fail("GetCallerIdentity: %s, want %s", got, want)
					return
				}
				ok.Add(1)
				time.Sleep(interval)
			}
		})
	}
	wg.Wait()

	ars := env.Proxy.Calls("AssumeRole")
	gcis := env.Proxy.Calls("GetCallerIdentity")
	t.Logf("%d GetCallerIdentity calls succeeded from %d goroutines in %s; %d AssumeRole calls", ok.Load(), workers, run, len(ars))
	if failures.Load() > 0 {
		t.Fatalf("%d failures", failures.Load())
	}
	if len(ars) < 3 || len(ars) > 6 {
		t.Fatalf("%d AssumeRole calls in %s with %s credentials renewed %s early, want 3–6 (one per renewal):\n%s",
			len(ars), run, ttl, minTTL, callList(ars))
	}

	// SetExpiration made each Expiration the response time + ttl: that
	// dates the calls.
	var at []time.Time
	keys := map[string]bool{}
	for _, c := range ars {
		if c.AccessKeyID != seed.CIUser.AccessKeyID {
			t.Errorf("AssumeRole signed with %q, want ci-user's key", c.AccessKeyID)
		}
		exp, err := time.Parse(time.RFC3339Nano, xmlText(c.Response, "Expiration"))
		if err != nil {
			t.Fatalf("AssumeRole response Expiration: %v", err)
		}
		at = append(at, exp.Add(-ttl))
		id, _, _ := c.ReturnedCredentials()
		keys[id] = true
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < time.Second {
			t.Errorf("AssumeRole calls %d and %d only %s apart: concurrent refreshes", i, i+1, gap.Round(time.Millisecond))
		}
	}

	// Every GetCallerIdentity was signed with role credentials from this
	// run, and the renewed ones were used.
	used := map[string]int{}
	for _, c := range gcis {
		if !keys[c.AccessKeyID] {
			t.Fatalf("GetCallerIdentity signed with %q, not a key AssumeRole returned", c.AccessKeyID)
		}
		used[c.AccessKeyID]++
	}
	if len(used) < len(keys)-1 {
		t.Errorf("GetCallerIdentity used %d of the %d role keys: renewed credentials were not used", len(used), len(keys))
	}
}

// TestLibraryOptions: every option reaches STS; Config chains; WithBaseConfig,
// Profile and the errors.
func TestLibraryOptions(t *testing.T) {
	seed := seedAccounts(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("AllHopOptions", func(t *testing.T) {
		env := newTestEnv(t)
		libEnv(t, env, &seed.CIUser)
		cfg, err := rolehop.AssumeRole(ctx, prodRoleARN,
			rolehop.WithSessionName("opts"),
			rolehop.WithDuration(30*time.Minute),
			rolehop.WithExternalID("ext-1"),
			rolehop.WithPolicy(sessionPolicy),
			rolehop.WithPolicyARNs(readOnlyARN),
			rolehop.WithTags(map[string]string{"team": "core", "env": "dev"}),
			rolehop.WithTransitiveTagKeys("team"),
			rolehop.WithSourceIdentity("alice"),
			rolehop.WithRegion("eu-central-1"),
		)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Region != "eu-central-1" {
			t.Errorf("config region %q, want eu-central-1", cfg.Region)
		}
		if len(env.Proxy.Calls("")) != 0 {
			t.Errorf("AssumeRole called STS before the credentials were used:\n%s", callList(env.Proxy.Calls("")))
		}
		if got, want := libCaller(t, env, cfg), assumedARN(prodAccount, "prod", "opts"); got != want {
			t.Fatalf("caller %q, want %q", got, want)
		}
		c := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
		if c.AccessKeyID != seed.CIUser.AccessKeyID {
			t.Errorf("AssumeRole signed with %q, want ci-user's key", c.AccessKeyID)
		}
		wantParam(t, c, "RoleArn", prodRoleARN)
		wantParam(t, c, "RoleSessionName", "opts")
		wantParam(t, c, "DurationSeconds", "1800")
		wantParam(t, c, "ExternalId", "ext-1")
		wantParam(t, c, "Policy", sessionPolicy)
		wantParam(t, c, "SourceIdentity", "alice")
		if got := c.Members("PolicyArns", "arn"); !reflect.DeepEqual(got, []string{readOnlyARN}) {
			t.Errorf("PolicyArns %q, want [%s]", got, readOnlyARN)
		}
		if got := c.Tags(); !reflect.DeepEqual(got, map[string]string{"team": "core", "env": "dev"}) {
			t.Errorf("Tags %v, want team=core env=dev", got)
		}
		if got := c.Members("TransitiveTagKeys", ""); !reflect.DeepEqual(got, []string{"team"}) {
			t.Errorf("TransitiveTagKeys %q, want [team]", got)
		}
		for _, k := range []string{"SerialNumber", "TokenCode"} {
			noParam(t, c, k)
		}
	})

	t.Run("ConfigChain", func(t *testing.T) {
		env := newTestEnv(t)
		libEnv(t, env, &seed.CIUser)
		cfg, err := rolehop.Config(ctx, []string{devRoleARN, prodRoleARN}, rolehop.WithSessionName("chain"), rolehop.WithExternalID("only-last"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := libCaller(t, env, cfg), assumedARN(prodAccount, "prod", "chain"); got != want {
			t.Fatalf("caller %q, want %q", got, want)
		}
		calls := mustCalls(t, env.Proxy, "AssumeRole", 2)
		h1, h2 := calls[0], calls[1]
		wantParam(t, h1, "RoleArn", devRoleARN)
		// Not asserted: hop 1's RoleSessionName. Config's doc says earlier
		// hops carry the last hop's session name; rolehop sends its default
		// (rolehop-<user>) there — reported to the lead.
		t.Logf("hop 1 RoleSessionName %q", h1.Get("RoleSessionName"))
		noParam(t, h1, "ExternalId")
		if h1.AccessKeyID != seed.CIUser.AccessKeyID {
			t.Errorf("hop 1 signed with %q, want ci-user's key", h1.AccessKeyID)
		}
		wantParam(t, h2, "RoleArn", prodRoleARN)
		wantParam(t, h2, "RoleSessionName", "chain")
		wantParam(t, h2, "ExternalId", "only-last")
		if id, _, _ := h1.ReturnedCredentials(); h2.AccessKeyID != id {
			t.Errorf("hop 2 signed with %q, want hop 1's key %q", h2.AccessKeyID, id)
		}
	})

	t.Run("BaseConfig", func(t *testing.T) {
		env := newTestEnv(t)
		libEnv(t, env, nil)
		unsetenv(t, "AWS_REGION")
		// What a Lambda function would build with config.LoadDefaultConfig:
		// here static keys and a region, and nothing in the environment.
		base := aws.Config{
			Region:      "eu-west-1",
			Credentials: credentials.NewStaticCredentialsProvider(seed.CIUser.AccessKeyID, seed.CIUser.SecretAccessKey, ""),
			HTTPClient:  &http.Client{Timeout: 10 * time.Second},
		}
		cfg, err := rolehop.AssumeRole(ctx, prodRoleARN, rolehop.WithBaseConfig(base), rolehop.WithSessionName("based"))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Region != "eu-west-1" {
			t.Errorf("config region %q, want the base's eu-west-1", cfg.Region)
		}
		if cfg.HTTPClient != base.HTTPClient {
			t.Errorf("config HTTPClient is not the base's")
		}
		if got, want := libCaller(t, env, cfg), assumedARN(prodAccount, "prod", "based"); got != want {
			t.Fatalf("caller %q, want %q", got, want)
		}
		c := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
		if c.AccessKeyID != seed.CIUser.AccessKeyID {
			t.Errorf("AssumeRole signed with %q, want the base config's key", c.AccessKeyID)
		}

		if _, err := rolehop.AssumeRole(ctx, prodRoleARN, rolehop.WithBaseConfig(base), rolehop.WithCacheDir(env.CacheDir)); err == nil {
			t.Errorf("WithBaseConfig + WithCacheDir: no error")
		}
		if _, err := rolehop.AssumeRole(ctx, prodRoleARN, rolehop.WithBaseConfig(aws.Config{Region: "eu-west-1"})); err == nil || !strings.Contains(err.Error(), "Credentials") {
			t.Errorf("WithBaseConfig without credentials: error %v, want one naming Credentials", err)
		}
	})

	t.Run("Profile", func(t *testing.T) {
		env := newTestEnv(t)
		libEnv(t, env, nil)
		env.WriteCredentials(ciCredentials("base", seed.CIUser))
		env.WriteConfig(`
			[profile base]
			region = us-east-1

			[profile prod]
			role_arn = ` + prodRoleARN + `
			source_profile = base
			role_session_name = from-profile
			region = ap-northeast-1
		`)
		cfg, err := rolehop.Profile(ctx, "prod")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := libCaller(t, env, cfg), assumedARN(prodAccount, "prod", "from-profile"); got != want {
			t.Fatalf("caller %q, want %q", got, want)
		}
		c := mustCalls(t, env.Proxy, "AssumeRole", 1)[0]
		if c.AccessKeyID != seed.CIUser.AccessKeyID {
			t.Errorf("AssumeRole signed with %q, want base's key", c.AccessKeyID)
		}
		if cfg.Region != "us-east-1" {
			// AWS_REGION (set by libEnv) wins over the profile's region, as in the SDK.
			t.Errorf("config region %q, want us-east-1 from AWS_REGION", cfg.Region)
		}

		// A hop option overrides the profile's key for its last role.
		cfg, err = rolehop.Profile(ctx, "prod", rolehop.WithSessionName("from-option"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := libCaller(t, env, cfg), assumedARN(prodAccount, "prod", "from-option"); got != want {
			t.Fatalf("caller %q, want %q", got, want)
		}

		if _, err := rolehop.Profile(ctx, "prdo"); err == nil || !strings.Contains(err.Error(), `"prdo"`) || !strings.Contains(err.Error(), `"prod"`) {
			t.Errorf("unknown profile: error %v, want one naming it and suggesting prod", err)
		}
	})

	t.Run("InvalidARN", func(t *testing.T) {
		env := newTestEnv(t)
		libEnv(t, env, &seed.CIUser)
		const bad = "arn:aws:iam::12345:role/short-account"
		_, err := rolehop.AssumeRole(ctx, bad)
		if err == nil {
			t.Fatalf("AssumeRole(%q): no error", bad)
		}
		if !strings.Contains(err.Error(), bad) || !strings.HasPrefix(err.Error(), "rolehop: ") {
			t.Errorf("error %q does not start with rolehop: and name %q", err, bad)
		}
		if _, err := rolehop.Config(ctx, nil); err == nil {
			t.Errorf("Config with no role: no error")
		}
		if n := len(env.Proxy.Calls("")); n != 0 {
			t.Errorf("%d STS calls for invalid input", n)
		}
	})

	t.Run("NoCredentials", func(t *testing.T) {
		env := newTestEnv(t)
		libEnv(t, env, nil)
		cfg, err := rolehop.AssumeRole(ctx, prodRoleARN)
		if err == nil {
			// Resolution may be lazy: then the first use must fail.
			_, err = cfg.Credentials.Retrieve(ctx)
		}
		if err == nil {
			t.Fatal("no credentials anywhere, and no error")
		}
		msg := err.Error()
		for _, want := range []string{"AWS_ACCESS_KEY_ID", "default profile", "container", "instance metadata"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not say it tried %q", msg, want)
			}
		}
		var ae smithy.APIError
		if errors.As(err, &ae) {
			t.Errorf("error is an STS API error (%s), want a local one", ae.ErrorCode())
		}
		if n := len(env.Proxy.Calls("")); n != 0 {
			t.Errorf("%d STS calls without credentials", n)
		}
	})
}
