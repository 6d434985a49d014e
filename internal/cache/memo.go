package cache

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Memo keeps a step's credentials in memory and fetches new ones when less
// than MinTTL of validity remains. Unlike aws.CredentialsCache with an
// ExpiryWindow, it hands out the credentials' true expiry, which rolehop
// prints and passes on. It is safe for concurrent use; concurrent callers
// share one refresh.
type Memo struct {
	Next   aws.CredentialsProvider
	MinTTL time.Duration
	Now    func() time.Time // nil: time.Now

	mu    sync.Mutex
	creds aws.Credentials
	have  bool
}

// Retrieve implements aws.CredentialsProvider.
func (m *Memo) Retrieve(ctx context.Context) (aws.Credentials, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	if m.have && (!m.creds.CanExpire || m.creds.Expires.Sub(now()) > m.MinTTL) {
		return m.creds, nil
	}
	c, err := m.Next.Retrieve(ctx)
	if err != nil {
		return c, err
	}
	m.creds, m.have = c, true
	return c, nil
}

// Invalidate drops the in-memory credentials so the next Retrieve fetches.
func (m *Memo) Invalidate() {
	m.mu.Lock()
	m.have = false
	m.mu.Unlock()
}
