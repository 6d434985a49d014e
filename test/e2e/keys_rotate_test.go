//go:build unix

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// rotateMoto is a private auth-mode moto_server (auth is server-wide) with
// IAM users that may manage their own access keys, one per subtest so that
// they run side by side. Each user's inline policy allows
// iam:ListAccessKeys, iam:CreateAccessKey, iam:DeleteAccessKey and
// sts:GetCallerIdentity with Resource "*": moto evaluates IAM actions
// against the resource "*" only, so the policy a real account would use
// (Resource arn:aws:iam::*:user/${aws:username}) would deny everything
// here.
type rotateMoto struct {
	url   string
	users map[string]rotateUser
}

type rotateUser struct {
	arn  string
	keys []Keys // the keys made at seeding, first is the one to store
}

// startRotateMoto starts and seeds the server: a user of each name, with
// one access key, or two for a name ending "-two".
func startRotateMoto(t *testing.T, names ...string) *rotateMoto {
	t.Helper()
	requireHarness(t)
	url, stop, err := startMotoServer(t.TempDir(), "moto-rotate.log")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	m := &rotateMoto{url: url, users: map[string]rotateUser{}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := seedIAMClient(url)
	const policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListAccessKeys","iam:CreateAccessKey","iam:DeleteAccessKey","sts:GetCallerIdentity"],"Resource":"*"}]}`
	for _, name := range names {
		out, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
		if err != nil {
			t.Fatalf("CreateUser %s: %v", name, err)
		}
		if _, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("own-keys"), PolicyDocument: aws.String(policy)}); err != nil {
			t.Fatalf("PutUserPolicy %s: %v", name, err)
		}
		u := rotateUser{arn: aws.ToString(out.User.Arn)}
		n := 1
		if strings.HasSuffix(name, "-two") {
			n = 2
		}
		for range n {
			key, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
			if err != nil {
				t.Fatalf("CreateAccessKey %s: %v", name, err)
			}
			u.keys = append(u.keys, Keys{AccessKeyID: aws.ToString(key.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey)})
		}
		m.users[name] = u
	}
	switchOnAuth(ctx, t, url)
	return m
}

// rotateWorld is one subtest: its HOME and XDG_CONFIG_HOME, rolehop's
// encrypted-file keychain holding user's first key as profile user, and a
// recording proxy in front of the auth-mode moto.
type rotateWorld struct {
	m    *rotateMoto
	env  *TestEnv
	user string
	arn  string
	old  Keys
	runs []Result // every rolehop run, checked for secrets at the end
}

const rotatePassphrase = "e2e keyring passphrase"

// world makes a subtest's world and seeds its keychain with `rolehop keys add USER --env`.
// extra are more variables (set before seeding).
func (m *rotateMoto) world(t *testing.T, user string, extra ...string) *rotateWorld {
	t.Helper()
	env := newTestEnv(t)
	env.Proxy = newProxy(t, m.url)
	env.Set("AWS_ENDPOINT_URL_STS", env.Proxy.URL)
	env.Set("AWS_ENDPOINT_URL", env.Proxy.URL)
	env.Set("XDG_CONFIG_HOME", filepath.Join(env.Home, ".config"))
	env.Set("ROLEHOP_KEYRING_BACKEND", "file")
	env.Set("ROLEHOP_KEYRING_PASSWORD", rotatePassphrase)
	for _, kv := range extra {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			env.Unset(k)
			continue
		}
		env.Set(k, v)
	}
	u := m.users[user]
	w := &rotateWorld{m: m, env: env, user: user, arn: u.arn, old: u.keys[0]}
	t.Cleanup(func() { w.checkSecrets(t) })
	res := w.run(t, []string{"AWS_ACCESS_KEY_ID=" + w.old.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + w.old.SecretAccessKey}, "keys", "add", user, "--env")
	if res.Code != 0 {
		t.Fatalf("keys add: %s", res)
	}
	if got := w.listed(t); got.AccessKeyID != maskKeyID(w.old.AccessKeyID) {
		t.Fatalf("after keys add, keys list shows %q, want %q", got.AccessKeyID, maskKeyID(w.old.AccessKeyID))
	}
	return w
}

func (w *rotateWorld) run(t *testing.T, extraEnv []string, args ...string) Result {
	t.Helper()
	res := w.env.RunWith(t, extraEnv, args...)
	w.runs = append(w.runs, res)
	return res
}

func (w *rotateWorld) rotate(t *testing.T, args ...string) Result {
	t.Helper()
	return w.run(t, nil, append([]string{"keys", "rotate", w.user}, args...)...)
}

// rotateAsync starts `rolehop keys rotate USER ARGS…` and returns a func
// that waits for it: the test acts while rolehop is held back (Proxy.Delay).
func (w *rotateWorld) rotateAsync(t *testing.T, args ...string) func() Result {
	t.Helper()
	bin := requireRolehop(t)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	cmd := w.env.Command(ctx, bin, append([]string{"keys", "rotate", w.user}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return func() Result {
		t.Helper()
		defer cancel()
		err := <-done
		res := Result{Stdout: stdout.String(), Stderr: stderr.String(), Duration: time.Since(start)}
		res.Code, res.Signal = exitStatus(cmd, err)
		res.TimedOut = ctx.Err() == context.DeadlineExceeded
		t.Logf("$ rolehop keys rotate %s %s → %s", w.user, shellQuote(args), res.brief())
		w.runs = append(w.runs, res)
		return res
	}
}

// listRow is a row of `rolehop keys list --output json`.
type listRow struct {
	Profile     string    `json:"profile"`
	AccessKeyID string    `json:"access_key_id"`
	Backend     string    `json:"backend"`
	Created     time.Time `json:"created"`
	UserARN     string    `json:"user_arn"`
}

// listed is the keys list row of the world's profile.
func (w *rotateWorld) listed(t *testing.T) listRow {
	t.Helper()
	res := w.run(t, nil, "keys", "list", "--output", "json")
	if res.Code != 0 {
		t.Fatalf("keys list: %s", res)
	}
	var rows []listRow
	if err := json.Unmarshal([]byte(res.Stdout), &rows); err != nil {
		t.Fatalf("keys list --output json: %v: %s", err, res.Stdout)
	}
	for _, r := range rows {
		if r.Profile == w.user {
			return r
		}
	}
	t.Fatalf("keys list has no row for %s: %s", w.user, res.Stdout)
	return listRow{}
}

// storedKeyWorks runs `rolehop exec USER -- aws sts get-caller-identity`
// (the real AWS CLI as the child) and returns the key id the child signed
// with: it must answer as the user.
func (w *rotateWorld) storedKeyWorks(t *testing.T) string {
	t.Helper()
	w.env.Proxy.Reset()
	arn, res := execCallerARN(t, w.env, w.user)
	w.runs = append(w.runs, res)
	if arn != w.arn {
		t.Errorf("rolehop exec %s: the child is %s, want %s", w.user, arn, w.arn)
	}
	calls := mustCalls(t, w.env.Proxy, "GetCallerIdentity", 1)
	return calls[0].AccessKeyID
}

// keyWorks runs the AWS CLI with k straight against moto.
func (w *rotateWorld) keyWorks(t *testing.T, k Keys) (bool, string) {
	t.Helper()
	res := w.env.RunCmdWith(t, []string{"AWS_ACCESS_KEY_ID=" + k.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + k.SecretAccessKey, "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"},
		awsBin, "sts", "get-caller-identity", "--output", "json", "--endpoint-url", w.m.url)
	return res.Code == 0, res.Stdout + res.Stderr
}

// iamKeys lists the user's access key ids in IAM, asking with k (straight
// against moto).
func (w *rotateWorld) iamKeys(t *testing.T, k Keys) []string {
	t.Helper()
	res := w.env.RunCmdWith(t, []string{"AWS_ACCESS_KEY_ID=" + k.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + k.SecretAccessKey, "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"},
		awsBin, "iam", "list-access-keys", "--output", "json", "--endpoint-url", w.m.url)
	if res.Code != 0 {
		t.Fatalf("aws iam list-access-keys: %s", res)
	}
	var out struct {
		AccessKeyMetadata []struct{ AccessKeyId string }
	}
	if err := json.Unmarshal([]byte(res.Stdout), &out); err != nil {
		t.Fatalf("aws iam list-access-keys: %v: %s", err, res.Stdout)
	}
	var ids []string
	for _, m := range out.AccessKeyMetadata {
		ids = append(ids, m.AccessKeyId)
	}
	return ids
}

// created is the key CreateAccessKey made, from its recorded answer.
func (w *rotateWorld) created(t *testing.T) Keys {
	t.Helper()
	for _, c := range w.env.Proxy.Calls("CreateAccessKey") {
		if c.Status == http.StatusOK {
			return Keys{AccessKeyID: xmlText(c.Response, "AccessKeyId"), SecretAccessKey: xmlText(c.Response, "SecretAccessKey")}
		}
	}
	t.Fatalf("no CreateAccessKey succeeded:\n%s", callList(w.env.Proxy.Calls("")))
	return Keys{}
}

// checkSecrets: no secret access key of the world reached the output of
// any rolehop run.
func (w *rotateWorld) checkSecrets(t *testing.T) {
	t.Helper()
	secrets := secretsOf(w.env, w.m.users[w.user].keys...)
	for _, r := range w.runs {
		assertNoSecrets(t, "stdout", r.Stdout, secrets)
		assertNoSecrets(t, "stderr", r.Stderr, secrets)
	}
}

// maskKeyID is plan.MaskKeyID.
func maskKeyID(id string) string { return id[:4] + "…" + id[len(id)-4:] }

// wantOneLine asserts a failed rotate: exit 1, one stderr line saying every
// fragment.
func wantOneLine(t *testing.T, res Result, code int, fragments ...string) {
	t.Helper()
	if res.Code != code {
		t.Errorf("exit %d, want %d: %s", res.Code, code, res)
	}
	lines := stderrLines(res)
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "rolehop: ") {
		t.Fatalf("stderr is not one line starting \"rolehop: \":\n%s", res.Stderr)
	}
	for _, f := range fragments {
		if !strings.Contains(lines[0], f) {
			t.Errorf("stderr does not say %q:\n%s", f, lines[0])
		}
	}
}

// afterFailure asserts what every failure must leave: the keychain still
// holds a key that works, and it is the one wantStored.
func (w *rotateWorld) afterFailure(t *testing.T, wantStored Keys) {
	t.Helper()
	if got := w.listed(t); got.AccessKeyID != maskKeyID(wantStored.AccessKeyID) {
		t.Errorf("keys list shows %s, want %s", got.AccessKeyID, maskKeyID(wantStored.AccessKeyID))
	}
	if signed := w.storedKeyWorks(t); signed != wantStored.AccessKeyID {
		t.Errorf("rolehop exec's child signed with %s, want the stored key %s", signed, wantStored.AccessKeyID)
	}
}

func TestKeysRotate(t *testing.T) {
	t.Parallel()
	m := startRotateMoto(t, "rot-happy", "rot-two", "rot-create", "rot-verify", "rot-store", "rot-store-cleanup", "rot-delete")

	t.Run("rotates", func(t *testing.T) {
		t.Parallel()
		w := m.world(t, "rot-happy")
		res := w.rotate(t)
		if res.Code != 0 {
			t.Fatalf("keys rotate: %s", res)
		}
		nk := w.created(t)
		lines := stderrLines(res)
		want := maskKeyID(w.old.AccessKeyID) + " → " + maskKeyID(nk.AccessKeyID) + ", stored in the encrypted-file keychain"
		if len(lines) != 1 || !strings.Contains(lines[0], want) || res.Stdout != "" {
			t.Errorf("want one notice saying %q, and no stdout:\n%s", want, res)
		}
		// The calls, in order: who, list, create, check the new key, delete the old.
		var seq []string
		for _, c := range w.env.Proxy.Calls("") {
			who := "old"
			if c.AccessKeyID == nk.AccessKeyID {
				who = "new"
			}
			seq = append(seq, c.Action+"("+who+")")
		}
		if got, want := strings.Join(seq, " "), "GetCallerIdentity(old) ListAccessKeys(old) CreateAccessKey(old) GetCallerIdentity(new) DeleteAccessKey(old)"; got != want {
			t.Errorf("calls %s\nwant  %s", got, want)
		}
		wantParam(t, mustCalls(t, w.env.Proxy, "DeleteAccessKey", 1)[0], "AccessKeyId", w.old.AccessKeyID)

		row := w.listed(t)
		if row.AccessKeyID != maskKeyID(nk.AccessKeyID) || row.Backend != "file" || row.UserARN != w.arn || row.Created.IsZero() {
			t.Errorf("keys list after rotate: %+v, want %s in file, user %s, a creation time", row, maskKeyID(nk.AccessKeyID), w.arn)
		}
		if signed := w.storedKeyWorks(t); signed != nk.AccessKeyID {
			t.Errorf("rolehop exec's child signed with %s, want the new key %s", signed, nk.AccessKeyID)
		}
		if ok, out := w.keyWorks(t, w.old); ok || !strings.Contains(out, "InvalidClientTokenId") {
			t.Errorf("the old key still works (or fails otherwise): %s", out)
		}
		if ids := w.iamKeys(t, nk); len(ids) != 1 || ids[0] != nk.AccessKeyID {
			t.Errorf("IAM has %v, want only the new key %s", ids, nk.AccessKeyID)
		}
	})

	t.Run("refused at two keys", func(t *testing.T) {
		t.Parallel()
		w := m.world(t, "rot-two")
		second := w.m.users["rot-two"].keys[1]
		res := w.rotate(t)
		wantOneLine(t, res, 1, "already has 2 access keys",
			w.old.AccessKeyID+" (Active, created ", `stored for profile "rot-two"`, second.AccessKeyID+" (Active, created ",
			"`aws iam delete-access-key --access-key-id "+second.AccessKeyID+"`")
		if n := len(w.env.Proxy.Calls("CreateAccessKey")) + len(w.env.Proxy.Calls("DeleteAccessKey")); n != 0 {
			t.Errorf("rotate changed IAM:\n%s", callList(w.env.Proxy.Calls("")))
		}
		w.afterFailure(t, w.old)
		if ids := w.iamKeys(t, w.old); len(ids) != 2 {
			t.Errorf("IAM has %v, want both keys still", ids)
		}
	})

	t.Run("CreateAccessKey fails", func(t *testing.T) {
		t.Parallel()
		w := m.world(t, "rot-create")
		w.env.Proxy.InjectSTSError("CreateAccessKey", 1, http.StatusForbidden, "AccessDenied",
			"User: "+w.arn+" is not authorized to perform: iam:CreateAccessKey on resource: "+w.arn)
		res := w.rotate(t)
		wantOneLine(t, res, 1, "cannot create a new access key for user rot-create", "AccessDenied", "iam:CreateAccessKey",
			"nothing was changed", maskKeyID(w.old.AccessKeyID)+" is still stored in the encrypted-file keychain")
		mustCalls(t, w.env.Proxy, "DeleteAccessKey", 0)
		w.afterFailure(t, w.old)
		if ids := w.iamKeys(t, w.old); len(ids) != 1 || ids[0] != w.old.AccessKeyID {
			t.Errorf("IAM has %v, want only the old key", ids)
		}
	})

	t.Run("the new key never works", func(t *testing.T) {
		t.Parallel()
		w := m.world(t, "rot-verify")
		// Hold CreateAccessKey back and, meanwhile, make every later
		// GetCallerIdentity fail as IAM does for a key it does not know
		// yet: those are all the new key's (the old key's check came
		// before CreateAccessKey; asserted below).
		w.env.Proxy.Delay("CreateAccessKey", 1, 1500*time.Millisecond)
		wait := w.rotateAsync(t, "--verify-timeout", "3s")
		w.env.Proxy.WaitArrived(t, "CreateAccessKey", 1, 20*time.Second)
		w.env.Proxy.InjectSTSError("GetCallerIdentity", 1000, http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
		res := wait()
		w.env.Proxy.ClearInjections()
		nk := w.created(t)
		wantOneLine(t, res, 1, "the new key "+maskKeyID(nk.AccessKeyID)+" did not work within 3s", "InvalidClientTokenId",
			"deleted the new key again in IAM", "the key "+maskKeyID(w.old.AccessKeyID)+" is still stored in the encrypted-file keychain and works")
		calls := w.env.Proxy.Calls("GetCallerIdentity")
		if len(calls) < 2 || calls[0].AccessKeyID != w.old.AccessKeyID || calls[0].Injected {
			t.Fatalf("GetCallerIdentity calls:\n%s", callList(calls))
		}
		for _, c := range calls[1:] {
			if c.AccessKeyID != nk.AccessKeyID || !c.Injected {
				t.Errorf("after CreateAccessKey, a GetCallerIdentity not of the new key, or not failed: %s", c)
			}
		}
		wantParam(t, mustCalls(t, w.env.Proxy, "DeleteAccessKey", 1)[0], "AccessKeyId", nk.AccessKeyID)
		w.afterFailure(t, w.old)
		if ids := w.iamKeys(t, w.old); len(ids) != 1 || ids[0] != w.old.AccessKeyID {
			t.Errorf("IAM has %v, want only the old key", ids)
		}
	})

	// Storing fails for real: the encrypted-file keychain takes its
	// passphrase from ROLEHOP_KEYRING_PASSWORD_COMMAND, which rolehop runs
	// at each opening of the store. Rotate opens it to read the old key,
	// then again to store the new one; while CreateAccessKey is held back
	// the test makes the command print a wrong passphrase, so the second
	// opening refuses to write ("does not open the encrypted-file
	// keychain") after the new key exists in IAM.
	storeFails := func(t *testing.T, user string, cleanupFails bool) (*rotateWorld, Result, string) {
		dir := t.TempDir()
		pwFile := filepath.Join(dir, "passphrase")
		if err := os.WriteFile(pwFile, []byte(rotatePassphrase+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		w := m.world(t, user, "ROLEHOP_KEYRING_PASSWORD", "ROLEHOP_KEYRING_PASSWORD_COMMAND=cat "+pwFile)
		if cleanupFails {
			w.env.Proxy.InjectSTSError("DeleteAccessKey", 1, http.StatusForbidden, "AccessDenied",
				"User: "+w.arn+" is not authorized to perform: iam:DeleteAccessKey on resource: "+w.arn)
		}
		w.env.Proxy.Delay("CreateAccessKey", 1, 1500*time.Millisecond)
		wait := w.rotateAsync(t)
		w.env.Proxy.WaitArrived(t, "CreateAccessKey", 1, 20*time.Second)
		if err := os.WriteFile(pwFile, []byte("not the passphrase\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		res := wait()
		if err := os.WriteFile(pwFile, []byte(rotatePassphrase+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		w.env.Proxy.ClearInjections()
		return w, res, pwFile
	}

	t.Run("storing fails", func(t *testing.T) {
		t.Parallel()
		w, res, _ := storeFails(t, "rot-store", false)
		nk := w.created(t)
		wantOneLine(t, res, 1, "storing the new key "+maskKeyID(nk.AccessKeyID)+" in the encrypted-file keychain failed",
			"does not open", "deleted the new key again in IAM", "the key "+maskKeyID(w.old.AccessKeyID)+" is still stored in the encrypted-file keychain and works")
		wantParam(t, mustCalls(t, w.env.Proxy, "DeleteAccessKey", 1)[0], "AccessKeyId", nk.AccessKeyID)
		w.afterFailure(t, w.old)
		if ids := w.iamKeys(t, w.old); len(ids) != 1 || ids[0] != w.old.AccessKeyID {
			t.Errorf("IAM has %v, want only the old key", ids)
		}
	})

	t.Run("storing fails, and deleting the new key too", func(t *testing.T) {
		t.Parallel()
		w, res, _ := storeFails(t, "rot-store-cleanup", true)
		nk := w.created(t)
		cmd := "aws iam delete-access-key --access-key-id " + nk.AccessKeyID
		wantOneLine(t, res, 1, "storing the new key", "deleting the new key again failed too", "AccessDenied",
			nk.AccessKeyID+" exists in IAM unused", "`"+cmd+"`", "the key "+maskKeyID(w.old.AccessKeyID)+" is still stored in the encrypted-file keychain and works")
		w.afterFailure(t, w.old)
		if ids := w.iamKeys(t, w.old); len(ids) != 2 {
			t.Errorf("IAM has %v, want the old key and the unused new one", ids)
		}
		// The command the message gives does delete it.
		del := w.env.RunCmdWith(t, []string{"AWS_ACCESS_KEY_ID=" + w.old.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + w.old.SecretAccessKey, "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"},
			awsBin, append(strings.Fields(cmd)[1:], "--endpoint-url", w.m.url)...)
		if del.Code != 0 {
			t.Fatalf("%s: %s", cmd, del)
		}
		if ids := w.iamKeys(t, w.old); len(ids) != 1 || ids[0] != w.old.AccessKeyID {
			t.Errorf("IAM has %v, want only the old key", ids)
		}
	})

	t.Run("deleting the old key fails", func(t *testing.T) {
		t.Parallel()
		w := m.world(t, "rot-delete")
		w.env.Proxy.InjectSTSError("DeleteAccessKey", 1, http.StatusForbidden, "AccessDenied",
			"User: "+w.arn+" is not authorized to perform: iam:DeleteAccessKey on resource: "+w.arn)
		res := w.rotate(t)
		nk := w.created(t)
		cmd := "aws iam delete-access-key --access-key-id " + w.old.AccessKeyID
		wantOneLine(t, res, 1, "the new key "+maskKeyID(nk.AccessKeyID)+" is stored in the encrypted-file keychain and works",
			"deleting the old key in IAM failed", "AccessDenied", w.old.AccessKeyID+" still exists", "`"+cmd+"`")
		w.afterFailure(t, nk)
		if ok, out := w.keyWorks(t, w.old); !ok {
			t.Errorf("the old key should still work, as the message says: %s", out)
		}
		del := w.env.RunCmdWith(t, []string{"AWS_ACCESS_KEY_ID=" + nk.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + nk.SecretAccessKey, "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"},
			awsBin, append(strings.Fields(cmd)[1:], "--endpoint-url", w.m.url)...)
		if del.Code != 0 {
			t.Fatalf("%s: %s", cmd, del)
		}
		if ids := w.iamKeys(t, nk); len(ids) != 1 || ids[0] != nk.AccessKeyID {
			t.Errorf("IAM has %v, want only the new key", ids)
		}
	})
}
