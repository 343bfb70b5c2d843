package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"deskpbx/store"
)

// call is one request being answered: who asks, and the route's {id}.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	ctx   context.Context
	me    *who
	admin *store.Admin
	id    int64 // the route's {id}; 0 when the route has none
}

// page makes a page handler of fn and api a JSON API handler: both find
// the admin asking and the route's {id} (a malformed one is not found),
// and answer an error fn returns as its kind says: not found, a refusal
// with its reason, or an internal error that only the log details. A
// handler that shows its form again with the errors beside their fields
// does so itself (see refused) and returns nil.
func (s *Server) page(fn func(*call) error) http.HandlerFunc { return s.handle(fn, s.failed) }

func (s *Server) api(fn func(*call) error) http.HandlerFunc { return s.handle(fn, s.apiFail) }

func (s *Server) handle(fn func(*call) error, fail func(http.ResponseWriter, *http.Request, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r, ctx: r.Context(), me: whoFrom(r.Context())}
		if c.me != nil {
			c.admin = c.me.admin
		}
		if raw := chi.URLParam(r, "id"); raw != "" {
			id, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || id <= 0 {
				s.notFound(w, r)
				return
			}
			c.id = id
		}
		if err := fn(c); err != nil {
			fail(w, r, err)
		}
	}
}

// refused shows a form again, through show, when err is about what was
// typed into it (beside each field where it names one); any other error
// it returns for the handler to answer.
func (c *call) refused(f *form, err error, show func(status int) error) error {
	if store.ErrorCode(err) != store.ENOTFOUND && f.apply(err) {
		return show(http.StatusUnprocessableEntity)
	}
	return err
}

// redirect answers a successful form post (see redirect).
func (c *call) redirect(to, flash string) error {
	redirect(c.w, c.r, to, flash)
	return nil
}

// json answers an API request with v.
func (c *call) json(status int, v any) error {
	writeJSON(c.w, status, v)
	return nil
}

// decode reads the JSON body strictly: a misspelt field is an error, not
// a silently ignored change.
func (c *call) decode(v any) error {
	dec := json.NewDecoder(c.r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid{"": "invalid JSON body: " + err.Error()}
	}
	return nil
}

// tenantParam reads ?tenant=ID; garbage reads as "all".
func tenantParam(r *http.Request) int64 {
	id, _ := strconv.ParseInt(r.URL.Query().Get("tenant"), 10, 64)
	return id
}

type apiErrorBody struct {
	Error  string            `json:"error"`
	Code   string            `json:"code"`
	Fields map[string]string `json:"fields,omitempty"`
}

func apiError(w http.ResponseWriter, status int, code, msg, field string) {
	body := apiErrorBody{Error: msg, Code: code}
	if field != "" {
		body.Fields = map[string]string{field: msg}
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// statusOf maps an application error code to an HTTP status.
func statusOf(code string) int {
	switch code {
	case store.ENOTFOUND:
		return http.StatusNotFound
	case store.EINVALID:
		return http.StatusUnprocessableEntity
	case store.ECONFLICT:
		return http.StatusConflict
	case store.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case EFORBIDDEN:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

func (s *Server) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	var inv invalid
	if errors.As(err, &inv) {
		fields := map[string]string{}
		for k, v := range inv {
			if k != "" {
				fields[k] = v
			}
		}
		writeJSON(w, http.StatusUnprocessableEntity, apiErrorBody{Error: inv.Error(), Code: store.EINVALID, Fields: fields})
		return
	}
	code := store.ErrorCode(err)
	if code == store.EINTERNAL {
		s.log.Error("admin API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		apiError(w, http.StatusInternalServerError, code, "internal error; the server log has the details", "")
		return
	}
	apiError(w, statusOf(code), code, err.Error(), "")
}

// answer answers an API request with conv(x), or err when there is one.
func answer[T, U any](c *call, status int, x T, err error, conv func(T) U) error {
	if err != nil {
		return err
	}
	return c.json(status, conv(x))
}

// decoded answers an API request by decoding its JSON body into an In,
// running op with it and answering with conv of the result.
func decoded[In, T, U any](c *call, status int, op func(*call, In) (T, error), conv func(T) U) error {
	var in In
	if err := c.decode(&in); err != nil {
		return err
	}
	x, err := op(c, in)
	return answer(c, status, x, err, conv)
}

// answerList answers an API request with every element of xs converted,
// or err when there is one.
func answerList[T, U any](c *call, xs []T, err error, conv func(T) U) error {
	if err != nil {
		return err
	}
	out := make([]U, len(xs))
	for i, x := range xs {
		out[i] = conv(x)
	}
	return c.json(http.StatusOK, out)
}

// done answers an API request that has nothing to return, or err.
func (c *call) done(err error) error {
	if err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// redirectSaying redirects to to with yes as the flash when did, else no.
func (c *call) redirectSaying(to string, did bool, yes, no string) error {
	if !did {
		return c.redirect(to, no)
	}
	return c.redirect(to, yes)
}
