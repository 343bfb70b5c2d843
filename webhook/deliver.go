package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"deskpbx/internal/outbox"
	"deskpbx/store"
)

const (
	// batch is how many due deliveries one pass takes, and parallel how
	// many of them are in flight at once: one slow receiver must not
	// hold up the others' events.
	batch    = 32
	parallel = 4
	// idleCheck bounds how long the loop sleeps with nothing due: Emit
	// wakes it, but another process (a CLI command) may add rows too.
	idleCheck = time.Minute
)

// Run delivers due events until ctx ends. One Run per database.
func (s *Service) Run(ctx context.Context) {
	lastPrune := time.Time{}
	outbox.Loop(ctx, s.kick, idleCheck, s.db.Now, s.db.NextWebhookDue, func(ctx context.Context) {
		s.deliverDue(ctx)
		if now := s.db.Now(); now.Sub(lastPrune) > time.Hour {
			lastPrune = now
			if _, err := s.db.PruneWebhookDeliveries(ctx, now.Add(-s.Keep)); err != nil && ctx.Err() == nil {
				s.log.Warn("pruning webhook deliveries", "err", err)
			}
		}
	})
}

// deliverDue attempts every delivery due now, a batch at a time.
func (s *Service) deliverDue(ctx context.Context) {
	for ctx.Err() == nil {
		due, err := s.db.DueWebhookDeliveries(ctx, batch)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("reading the webhook outbox", "err", err)
			}
			return
		}
		if len(due) == 0 {
			return
		}
		sem := make(chan struct{}, parallel)
		var wg sync.WaitGroup
		for _, d := range due {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				s.attempt(ctx, d)
			}()
		}
		wg.Wait()
	}
}

// attempt POSTs one delivery and records how it went.
func (s *Service) attempt(ctx context.Context, d *store.WebhookDelivery) {
	err := s.post(ctx, d)
	if ctx.Err() != nil {
		// Shutting down mid-attempt: the row stays due and is sent again
		// after the restart.
		return
	}
	// Recorded even as the server stops: a receiver that answered must
	// not get the event again.
	rctx := context.WithoutCancel(ctx)
	log := s.log.With("webhook", d.WebhookID, "url", d.URL, "event", d.Event, "attempt", d.Attempts+1)
	if err == nil {
		if err := s.db.WebhookDelivered(rctx, d.ID); err != nil {
			log.Warn("recording a webhook delivery", "err", err)
		}
		log.Debug("webhook delivered")
		return
	}
	var retryAt time.Time
	if d.Attempts+1 < s.MaxAttempts {
		retryAt = s.db.Now().Add(s.backoff(d.Attempts + 1))
		log.Info("webhook delivery failed; will retry", "err", err, "retry_at", retryAt)
	} else {
		log.Warn("webhook delivery failed; giving up", "err", err)
	}
	if err := s.db.WebhookAttemptFailed(rctx, d.ID, err.Error(), retryAt); err != nil {
		log.Warn("recording a webhook failure", "err", err)
	}
}

// backoff is the wait after the n-th failed attempt: FirstRetry doubled
// n-1 times, at most MaxRetry.
func (s *Service) backoff(n int) time.Duration {
	d := s.FirstRetry
	for i := 1; i < n && d < s.MaxRetry; i++ {
		d *= 2
	}
	return min(d, s.MaxRetry)
}

// post sends the delivery once; nil when the receiver answered 2xx.
func (s *Service) post(ctx context.Context, d *store.WebhookDelivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(s.db.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "deskpbx-webhook")
	req.Header.Set(TimestampHeader, ts)
	req.Header.Set(SignatureHeader, Sign(d.Secret, ts, d.Body))
	req.Header.Set(EventHeader, d.Event)
	req.Header.Set(DeliveryHeader, deliveryID(d.Body))
	res, err := s.Client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	// Read a little so the connection can be reused; the rest is not ours.
	io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", res.Status)
	}
	return nil
}
