package keys

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rolehop/rolehop/internal/awsarn"
	"github.com/rolehop/rolehop/internal/awserr"
	"github.com/rolehop/rolehop/internal/keychain"
	"github.com/rolehop/rolehop/internal/plan"
	"github.com/rolehop/rolehop/internal/prompt"
)

// DefaultVerifyTimeout is how long rotate waits for IAM to accept a new
// key. IAM is eventually consistent: a new key usually signs within a few
// seconds, and AWS documents no bound.
const DefaultVerifyTimeout = 60 * time.Second

// cleanupTimeout bounds the calls that undo a step (deleting the new key,
// putting the old one back), which run even when the run was interrupted.
const cleanupTimeout = 30 * time.Second

// RotateOptions tune Rotate.
type RotateOptions struct {
	// VerifyTimeout bounds the wait for the new key to work (0:
	// DefaultVerifyTimeout).
	VerifyTimeout time.Duration
	// MFAProcess is a command that prints the MFA code (--mfa-process);
	// it outranks the profile's mfa_process and Env.MFA.
	MFAProcess string
	// Stderr receives what MFAProcess prints on its stderr (a "touch
	// your key" prompt); nil discards it.
	Stderr io.Writer
	// Sleep waits d or until ctx is done; nil sleeps for real. Tests make
	// it advance Env.Now instead.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Rotate replaces profile's stored access key by a new one of the same IAM
// user, in this order, so that whatever fails a working key stays stored:
//
//  1. read the old key from the store the index names;
//  2. GetCallerIdentity with it: it must be an IAM user's;
//  3. with mfa_serial, GetSessionToken with an MFA code, and sign the IAM
//     calls with that session (else with the old key);
//  4. ListAccessKeys: a user that already has two keys is refused, as
//     CreateAccessKey would fail;
//  5. CreateAccessKey;
//  6. GetCallerIdentity with the new key, retried while IAM propagates it,
//     until it answers as the same user (else: delete the new key);
//  7. store the new key in the same store, read it back, index it (else:
//     put the old key back if needed, then delete the new key);
//  8. DeleteAccessKey of the old key (else: say how to delete it).
//
// The identity check comes before the MFA code is asked for, so that a dead
// key or a role's credentials are refused without spending a code.
func Rotate(ctx context.Context, e *Env, profile string, opts RotateOptions) error {
	if opts.VerifyTimeout <= 0 {
		opts.VerifyTimeout = DefaultVerifyTimeout
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	// The store is opened twice (here, and by e.store): one passphrase
	// asked on the terminal serves both.
	re := *e
	re.Keychain.Passphrase = askOnce(e.Keychain.Passphrase)
	e = &re

	ix, err := keychain.LoadIndex(e.Getenv)
	if err != nil {
		return err
	}
	en, ok := ix.Lookup(profile)
	if !ok {
		return fmt.Errorf("rolehop's index (%s) has no keys for profile %q: store them first with `rolehop keys add %s` or `rolehop keys import`", ix.Path, profile, profile)
	}
	where := en.Backend.Describe() + " keychain"
	st, err := e.open(ctx, en.Backend)
	if err != nil {
		return fmt.Errorf("profile %q: %w; nothing was changed", profile, err)
	}
	old, err := st.Get(ctx, profile)
	if err != nil {
		return fmt.Errorf("profile %q: %w; nothing was changed", profile, err)
	}
	t, err := e.targetFor(profile)
	if err != nil {
		return err
	}
	unchanged := fmt.Sprintf("nothing was changed: the key %s is still stored in the %s", plan.MaskKeyID(old.AccessKeyID), where)

	// 2. Who the old key is.
	out, err := t.sts(provider(old)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("profile %q: the stored key %s does not work: %s; rotating needs a working key (store one with `rolehop keys add %s`)",
			profile, plan.MaskKeyID(old.AccessKeyID), t.explain("STS", t.stsEndpoint, "AWS_ENDPOINT_URL_STS", err), profile)
	}
	userARN := aws.ToString(out.Arn)
	user, err := iamUserName(userARN)
	if err != nil {
		return fmt.Errorf("profile %q: %w", profile, err)
	}

	// 3. What signs the IAM calls.
	creds, err := e.iamCredentials(ctx, t, profile, old, opts)
	if err != nil {
		return fmt.Errorf("profile %q: %w; %s", profile, err, unchanged)
	}
	ic := t.iam(creds)
	iamErr := func(action string, err error) string {
		msg := t.explain("IAM", t.iamEndpoint, "AWS_ENDPOINT_URL_IAM", err)
		if f := awserr.Classify(err, t.settings.Timeout()); f.Code == "AccessDenied" || f.Code == "AccessDeniedException" {
			msg += fmt.Sprintf(" (user %s needs iam:%s on its own user, arn:aws:iam::%s:user/${aws:username}", user, action, awsarn.Account(userARN))
			if !hasMFA(e, profile) {
				msg += "; if its policy asks for MFA, set mfa_serial in the profile"
			}
			msg += ")"
		}
		return msg
	}

	// 4. The user's keys.
	listed, err := ic.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	if err != nil {
		return fmt.Errorf("profile %q: cannot list the access keys of user %s: %s; %s", profile, user, iamErr("ListAccessKeys", err), unchanged)
	}
	if len(listed.AccessKeyMetadata) >= 2 {
		var have []accessKey
		for _, k := range listed.AccessKeyMetadata {
			have = append(have, accessKey{ID: aws.ToString(k.AccessKeyId), Status: string(k.Status), Created: aws.ToTime(k.CreateDate)})
		}
		return twoKeysError(profile, user, old.AccessKeyID, have)
	}

	// 5. The new key.
	created, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
	if err != nil {
		return fmt.Errorf("profile %q: cannot create a new access key for user %s: %s; %s", profile, user, iamErr("CreateAccessKey", err), unchanged)
	}
	if created.AccessKey == nil || aws.ToString(created.AccessKey.AccessKeyId) == "" || aws.ToString(created.AccessKey.SecretAccessKey) == "" {
		return fmt.Errorf("profile %q: IAM answered CreateAccessKey without a key: check `aws iam list-access-keys` for a key to delete; %s", profile, unchanged)
	}
	nk := keychain.Keys{AccessKeyID: aws.ToString(created.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(created.AccessKey.SecretAccessKey)}
	createdAt := aws.ToTime(created.AccessKey.CreateDate)
	if createdAt.IsZero() {
		createdAt = e.now()
	}

	// undo deletes the new key again; the old one is (still, or again)
	// the stored one. It runs even when ctx was canceled (Ctrl-C).
	undo := func(why string) error {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		_, err := ic.DeleteAccessKey(cctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(nk.AccessKeyID)})
		if err != nil {
			return fmt.Errorf("profile %q: %s; deleting the new key again failed too (%s): %s exists in IAM unused, delete it with `aws iam delete-access-key --access-key-id %s`; the key %s is still stored in the %s and works",
				profile, why, iamErr("DeleteAccessKey", err), nk.AccessKeyID, nk.AccessKeyID, plan.MaskKeyID(old.AccessKeyID), where)
		}
		return fmt.Errorf("profile %q: %s; deleted the new key again in IAM: the key %s is still stored in the %s and works", profile, why, plan.MaskKeyID(old.AccessKeyID), where)
	}

	// 6. The new key works, as the same user.
	if err := e.verify(ctx, t, nk, userARN, opts); err != nil {
		return undo(fmt.Sprintf("the new key %s %v", plan.MaskKeyID(nk.AccessKeyID), err))
	}

	// 7. Store it where the old one was. Not interruptible: a store call
	// left running would race with the checks below.
	sctx := context.WithoutCancel(ctx)
	entry := keychain.Entry{Created: createdAt.UTC().Truncate(time.Second), UserARN: userARN}
	choice := keychain.Choice{Backend: en.Backend, From: "the store of the old key"}
	if err := e.store(sctx, profile, nk, choice, entry); err != nil {
		return e.storeFailed(ctx, st, profile, old, nk, where, err, undo)
	}

	// 8. The old key goes.
	if _, err := ic.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(old.AccessKeyID)}); err != nil {
		return fmt.Errorf("profile %q: the new key %s is stored in the %s and works, but deleting the old key in IAM failed (%s): %s still exists and works, delete it with `aws iam delete-access-key --access-key-id %s`",
			profile, plan.MaskKeyID(nk.AccessKeyID), where, iamErr("DeleteAccessKey", err), old.AccessKeyID, old.AccessKeyID)
	}
	e.notice("rotated the key of profile %q (user %s): %s → %s, stored in the %s; the old key is deleted in IAM",
		profile, user, plan.MaskKeyID(old.AccessKeyID), plan.MaskKeyID(nk.AccessKeyID), where)
	return nil
}

// storeFailed answers a failed store step. It deletes the new key only once
// the store is known to hold the old one: as it was (the failure came
// before the write), or put back (it came after, reading back or indexing).
// When neither can be shown, both keys stay valid in IAM, so that whatever
// the store holds works.
func (e *Env) storeFailed(ctx context.Context, st *keychain.Store, profile string, old, nk keychain.Keys, where string, storeErr error, undo func(string) error) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	why := fmt.Sprintf("storing the new key %s in the %s failed (%v)", plan.MaskKeyID(nk.AccessKeyID), where, storeErr)
	held, err := st.Get(cctx, profile)
	if err != nil || held != old {
		if err := st.Set(cctx, profile, old); err == nil {
			held, err = st.Get(cctx, profile)
		}
		if err != nil || held != old {
			if err == nil && held == nk {
				return fmt.Errorf("profile %q: %s, yet the %s holds the new key %s, which works; the old key %s was left in IAM: once `rolehop exec %s -- aws sts get-caller-identity` works, delete it with `aws iam delete-access-key --access-key-id %s`",
					profile, why, where, plan.MaskKeyID(nk.AccessKeyID), old.AccessKeyID, profile, old.AccessKeyID)
			}
			return fmt.Errorf("profile %q: %s, and what the %s now holds cannot be told: both keys were left valid in IAM (old %s, new %s) so that the stored one works; fix the store, check with `rolehop exec %s -- aws sts get-caller-identity`, then delete the unused key with `aws iam delete-access-key --access-key-id ID`",
				profile, why, where, old.AccessKeyID, nk.AccessKeyID, profile)
		}
		why += ", so the old key was put back in the store"
	}
	return undo(why)
}

// hasMFA reports whether profile has an mfa_serial.
func hasMFA(e *Env, profile string) bool {
	serial, _ := profileValue(e, profile, "mfa_serial")
	return serial != ""
}

// profileValue is a key of profile in the config files, trimmed.
func profileValue(e *Env, profile, key string) (value, origin string) {
	if e.Config == nil {
		return "", ""
	}
	p, ok := e.Config.Profile(profile)
	if !ok {
		return "", ""
	}
	v, ok := p.Get(key)
	if !ok {
		return "", ""
	}
	return strings.TrimSpace(v.Value), v.Origin()
}

// iamCredentials signs the IAM calls: the old key, or with mfa_serial a
// GetSessionToken session of it, MFA-authenticated, for policies that let
// a user manage its keys only with MFA (AWS's "self-manage credentials
// with MFA" example policy).
func (e *Env) iamCredentials(ctx context.Context, t target, profile string, old keychain.Keys, opts RotateOptions) (aws.CredentialsProvider, error) {
	serial, origin := profileValue(e, profile, "mfa_serial")
	if serial == "" {
		return provider(old), nil
	}
	code, err := e.mfaCode(ctx, profile, serial, origin, opts)
	if err != nil {
		return nil, err
	}
	out, err := t.sts(provider(old)).GetSessionToken(ctx, &sts.GetSessionTokenInput{
		SerialNumber: aws.String(serial), TokenCode: aws.String(code), DurationSeconds: aws.Int32(900),
	})
	if err != nil {
		return nil, fmt.Errorf("GetSessionToken with MFA device %s failed: %s", serial, t.explain("STS", t.stsEndpoint, "AWS_ENDPOINT_URL_STS", err))
	}
	c := out.Credentials
	if c == nil || aws.ToString(c.AccessKeyId) == "" {
		return nil, fmt.Errorf("GetSessionToken with MFA device %s answered without credentials", serial)
	}
	return credentials.NewStaticCredentialsProvider(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)), nil
}

// mfaCode asks for the code of serial: --mfa-process, else the profile's
// mfa_process, else Env.MFA (the terminal).
func (e *Env) mfaCode(ctx context.Context, profile, serial, origin string, opts RotateOptions) (string, error) {
	command := opts.MFAProcess
	if command == "" {
		command, _ = profileValue(e, profile, "mfa_process")
	}
	var code string
	var err error
	switch {
	case command != "":
		w := opts.Stderr
		if w == nil {
			w = io.Discard
		}
		code, err = prompt.FromProcess(ctx, command, w)
	case e.MFA != nil:
		code, err = e.MFA(ctx, serial)
	default:
		return "", fmt.Errorf("mfa_serial %s (%s) needs an MFA code and there is no terminal to ask on: pass --mfa-process COMMAND or set mfa_process in the profile", serial, origin)
	}
	if err != nil {
		return "", fmt.Errorf("no MFA code for %s: %v", serial, err)
	}
	if code = strings.TrimSpace(code); code == "" {
		return "", fmt.Errorf("no MFA code for %s: the answer was empty", serial)
	}
	return code, nil
}

// verify calls GetCallerIdentity with k until it answers as wantARN,
// retrying the failures of a key IAM has not spread yet (retryable) with a
// growing wait (verifyBackoff) for at most opts.VerifyTimeout. The error
// completes "the new key X …".
func (e *Env) verify(ctx context.Context, t target, k keychain.Keys, wantARN string, opts RotateOptions) error {
	client := t.sts(provider(k))
	deadline := e.now().Add(opts.VerifyTimeout)
	for attempt := 1; ; attempt++ {
		out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err == nil {
			if got := aws.ToString(out.Arn); got != wantARN {
				return fmt.Errorf("signs as %s, not as %s", got, wantARN)
			}
			return nil
		}
		msg := t.explain("STS", t.stsEndpoint, "AWS_ENDPOINT_URL_STS", err)
		if ctx.Err() != nil {
			return fmt.Errorf("was not checked: interrupted (%v)", ctx.Err())
		}
		if !retryable(err, t.settings.Timeout()) {
			return fmt.Errorf("does not work: %s", msg)
		}
		wait := verifyBackoff(attempt)
		if e.now().Add(wait).After(deadline) {
			return fmt.Errorf("did not work within %s (%d attempts; IAM may be slow to accept new keys: --verify-timeout waits longer): %s", opts.VerifyTimeout, attempt, msg)
		}
		if err := opts.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("was not checked: interrupted (%v)", err)
		}
	}
}

// verifyBackoff is the wait after the attempt-th failed check: 1s, 2s, 4s,
// then 5s.
func verifyBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 3 {
		return 5 * time.Second
	}
	return time.Second << (attempt - 1)
}

// retryable reports whether a failed GetCallerIdentity of a new key is
// worth another try: what IAM answers while the key has not reached every
// endpoint (the key unknown, its secret not known yet, its user's policies
// not attached), and the transient failures the SDK's retryer retries.
func retryable(err error, timeout time.Duration) bool {
	f := awserr.Classify(err, timeout)
	if f.Retryable() {
		return true
	}
	switch f.Code {
	case "InvalidClientTokenId", "SignatureDoesNotMatch", "AccessDenied", "AccessDeniedException",
		"UnrecognizedClientException", "InvalidAccessKeyId", "AuthFailure":
		return true
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// iamUserName returns the user name of arn, a GetCallerIdentity answer, or
// why its keys cannot be rotated.
func iamUserName(arn string) (string, error) {
	a, err := awsarn.Parse(arn)
	if err != nil {
		return "", fmt.Errorf("the key signs as %q, which is not an IAM user's ARN: only an IAM user's access keys can be rotated", arn)
	}
	switch {
	case a.Service == "iam" && a.Type == "user":
		return a.Name, nil
	case a.Service == "iam" && a.Type == "root":
		return "", fmt.Errorf("the key is the root user's of account %s (%s): rolehop rotates IAM users' keys only; AWS advises deleting root access keys (Security credentials in the console) and using an IAM user or role", a.Account, arn)
	case a.Type == "assumed-role":
		return "", fmt.Errorf("the key signs as a session of role %s (%s): a role has no access keys to rotate, only an IAM user has", a.Name, arn)
	case a.Type == "federated-user":
		return "", fmt.Errorf("the key signs as federated user %s (%s): temporary credentials have no access key to rotate, only an IAM user has", a.Name, arn)
	}
	return "", fmt.Errorf("the key signs as %s, which is not an IAM user: only an IAM user's access keys can be rotated", arn)
}

// accessKey is one of the user's keys as ListAccessKeys lists it.
type accessKey struct {
	ID, Status string
	Created    time.Time
}

// twoKeysError refuses to rotate for a user that already has the two access
// keys IAM allows, naming both and the command that deletes the one not in
// use. Key ids are not secrets: the command needs the whole id.
func twoKeysError(profile, user, stored string, have []accessKey) error {
	var desc, others []string
	for _, k := range have {
		d := k.ID + " (" + k.Status
		if !k.Created.IsZero() {
			d += ", created " + k.Created.UTC().Format("2006-01-02")
		}
		if k.ID == stored {
			d += fmt.Sprintf(", stored for profile %q", profile)
		} else {
			others = append(others, k.ID)
		}
		desc = append(desc, d+")")
	}
	del := "`aws iam delete-access-key --access-key-id KEY-ID` of the one not in use"
	if len(others) == 1 {
		del = "the other one once nothing uses it: `aws iam delete-access-key --access-key-id " + others[0] + "`"
	}
	return fmt.Errorf("profile %q: user %s already has %d access keys, the most IAM allows: %s; a rotation needs room for a new one: delete %s, then run `rolehop keys rotate %s` again",
		profile, user, len(have), strings.Join(desc, " and "), del, profile)
}

// askOnce wraps a passphrase prompt so that it asks once and then gives
// the same answer.
func askOnce(ask func(ctx context.Context, question string, confirm bool) (string, error)) func(context.Context, string, bool) (string, error) {
	if ask == nil {
		return nil
	}
	var mu sync.Mutex
	var answer string
	return func(ctx context.Context, question string, confirm bool) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if answer != "" {
			return answer, nil
		}
		pw, err := ask(ctx, question, confirm)
		if err != nil {
			return "", err
		}
		answer = pw
		return pw, nil
	}
}
