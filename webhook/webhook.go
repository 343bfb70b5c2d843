// Package webhook tells other systems what happened in a tenant: a signed
// JSON POST per event (hot-desk login and logout, missed call, new
// voicemail, emergency call) to each of the tenant's webhooks.
//
// Events go through an outbox in the database: Emit writes one row per
// webhook before returning, and Run delivers them, retrying with
// exponential backoff, so a receiver that is down, or a restart of
// deskpbx, loses nothing. Delivery is at least once: receivers dedupe on
// the event's id.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"deskpbx/internal/outbox"
	"deskpbx/store"
)

// The events a tenant's webhooks receive.
const (
	HotdeskLogin  = "hotdesk.login"
	HotdeskLogout = "hotdesk.logout"
	CallMissed    = "call.missed"
	VoicemailNew  = "voicemail.new"
	EmergencyCall = "emergency.call"
)

// Events lists every event, for documentation and validation.
var Events = []string{HotdeskLogin, HotdeskLogout, CallMissed, VoicemailNew, EmergencyCall}

// Headers of every delivery. The signature is HMAC-SHA256, keyed with the
// webhook's secret, over the timestamp, a dot and the body: a receiver
// that checks it and refuses old timestamps cannot be fed a replay.
const (
	SignatureHeader = "X-Deskpbx-Signature" // "sha256=" + hex
	TimestampHeader = "X-Deskpbx-Timestamp" // Unix seconds of this attempt
	EventHeader     = "X-Deskpbx-Event"
	DeliveryHeader  = "X-Deskpbx-Delivery" // the event's id, the same on every attempt
)

// Envelope is the JSON body of every delivery.
type Envelope struct {
	ID         string          `json:"id"`
	Event      string          `json:"event"`
	Tenant     string          `json:"tenant"`
	OccurredAt time.Time       `json:"occurred_at"`
	Data       json.RawMessage `json:"data"`
}

// Sign returns the signature header value for body sent at timestamp.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a delivery as a receiver should: the signature matches
// and the timestamp is within tolerance of now.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts := h.Get(TimestampHeader)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("webhook: no timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook: timestamp %s is %v away", ts, d.Round(time.Second))
	}
	if !hmac.Equal([]byte(h.Get(SignatureHeader)), []byte(Sign(secret, ts, body))) {
		return errors.New("webhook: bad signature")
	}
	return nil
}

// NewSecret returns a fresh signing secret: 256 random bits, hex.
func NewSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ValidURL accepts http and https URLs with a host, and no credentials
// (they would show in every list).
func ValidURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return store.Errorf(store.EINVALID, "webhook URL %q: want http:// or https:// and a host", raw)
	}
	if u.User != nil {
		return store.Errorf(store.EINVALID, "webhook URL %q: no user or password in the URL", raw)
	}
	if len(raw) > 2048 {
		return store.Errorf(store.EINVALID, "webhook URL is longer than 2048 characters")
	}
	return nil
}

// Add creates a webhook for the tenant domain with a fresh secret; the
// returned Webhook carries the secret, which no list shows again.
func Add(ctx context.Context, db *store.DB, domain, rawURL string) (*store.Webhook, error) {
	if err := ValidURL(rawURL); err != nil {
		return nil, err
	}
	return db.CreateWebhook(ctx, strings.ToLower(strings.TrimSpace(domain)), rawURL, NewSecret())
}

// Service emits events into the outbox and delivers them.
type Service struct {
	db   *store.DB
	log  *slog.Logger
	kick outbox.Kick

	// Client sends the POSTs; it follows no redirects (a 3xx is a
	// failure: the admin should fix the URL).
	Client *http.Client
	// MaxAttempts bounds the tries of one delivery (default 10).
	MaxAttempts int
	// FirstRetry is the wait after the first failure, doubled after each
	// one up to MaxRetry (defaults 3 min and 8 h: ten attempts span about
	// 21 hours).
	FirstRetry, MaxRetry time.Duration
	// Keep is how long finished deliveries stay for `webhook list`
	// (default 7 days).
	Keep time.Duration
}

// New returns a service over db; Run delivers.
func New(db *store.DB, log *slog.Logger) *Service {
	return &Service{
		db:   db,
		log:  log,
		kick: outbox.NewKick(),
		Client: &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		MaxAttempts: 10,
		FirstRetry:  3 * time.Minute,
		MaxRetry:    8 * time.Hour,
		Keep:        7 * 24 * time.Hour,
	}
}

// Emit records event for every webhook of the tenant, with data as its
// payload, and wakes the delivery loop. Once it returns nil the event is
// in the database: a restart does not lose it.
func (s *Service) Emit(ctx context.Context, tenantID int64, event string, data any) error {
	// Events come on the paths of calls and logins: for the many tenants
	// without webhooks, one read and nothing more.
	domain, hooks, err := s.db.WebhookTenant(ctx, tenantID)
	if err != nil || hooks == 0 {
		return err
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", event, err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	body, err := json.Marshal(Envelope{ID: hex.EncodeToString(id), Event: event, Tenant: domain,
		OccurredAt: s.db.Now().UTC(), Data: raw})
	if err != nil {
		return err
	}
	n, err := s.db.EnqueueWebhookEvent(ctx, tenantID, event, body)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", event, err)
	}
	if n > 0 {
		s.kick.Wake()
	}
	return nil
}
