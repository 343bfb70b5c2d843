package admin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"deskpbx/store"
)

// who is the authenticated caller of a request.
type who struct {
	admin   *store.Admin
	session string // cookie value; empty for API requests
	csrf    string
}

type ctxKey struct{}

func whoFrom(ctx context.Context) *who {
	w, _ := ctx.Value(ctxKey{}).(*who)
	return w
}

// The __Host- prefix makes the browser refuse the cookie unless it is
// Secure, host-only and for the whole site, so under TLS nothing on a
// sibling subdomain can plant or shadow it.
func sessionCookieName(r *http.Request) string {
	if r.TLS != nil {
		return "__Host-deskpbx_session"
	}
	return "deskpbx_session"
}

func loginCookieName(r *http.Request) string {
	if r.TLS != nil {
		return "__Host-deskpbx_login"
	}
	return "deskpbx_login"
}

// csrfToken is derived from the session ID rather than stored: it
// changes with every session and cannot be computed from the database,
// which holds only a hash of the session ID.
func csrfToken(session string) string {
	m := hmac.New(sha256.New, []byte(session))
	m.Write([]byte("deskpbx csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// requireSession loads the session of a page request, sends the browser
// to the login page without one, and refuses any state-changing request
// whose CSRF token does not match the session.
func (s *Server) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sess *store.AdminSession
		c, err := r.Cookie(sessionCookieName(r))
		if err == nil {
			sess, err = s.db.AdminSession(r.Context(), c.Value, s.cfg.IdleTimeout, s.cfg.MaxSessionAge)
			if err != nil && store.ErrorCode(err) == store.EINTERNAL {
				s.serverError(w, r, err)
				return
			}
		}
		if sess == nil {
			if r.Method == http.MethodGet && r.URL.Path != "/events" {
				next := r.URL.RequestURI()
				http.Redirect(w, r, "/login?next="+url.QueryEscape(next), http.StatusSeeOther)
				return
			}
			http.Error(w, "your session has ended: log in again", http.StatusUnauthorized)
			return
		}
		me := &who{admin: sess.Admin, session: c.Value, csrf: csrfToken(c.Value)}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(me.csrf)) {
				http.Error(w, "this form has expired or did not come from this site: reload the page and try again", http.StatusForbidden)
				return
			}
		}
		if sess.Admin.MustChangePassword && !allowedBeforePasswordChange[r.URL.Path] {
			if r.Method == http.MethodGet {
				redirect(w, r, "/account", mustChangeMessage)
				return
			}
			http.Error(w, mustChangeMessage, http.StatusForbidden)
			return
		}
		// The live stream is not activity: a dashboard left open on a wall
		// screen should not keep a session alive forever.
		if r.URL.Path != "/events" && s.db.Now().Sub(sess.LastSeen) > time.Minute {
			s.db.TouchAdminSession(r.Context(), c.Value)
		}
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, me)))
	})
}

// allowedBeforePasswordChange is all an account with a generated
// password may reach: the form that changes it, and logging out.
var allowedBeforePasswordChange = map[string]bool{"/account": true, "/account/password": true, "/logout": true}

const mustChangeMessage = "Choose your own password before anything else: the one you logged in with was generated."

// maxFormBytes bounds every form post, CSV uploads included.
const maxFormBytes = 8 << 20

type loginData struct {
	Form *form
	Next string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, newForm(r), http.StatusOK)
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, f *form, status int) {
	// Login has no session yet; a cookie that the form must echo stops
	// another site from logging a browser into an account of its choice.
	token := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookieName(r), Value: token, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	w.Header().Set("Cache-Control", "no-store")
	next := safeNext(r.FormValue("next"))
	s.render(w, r, status, "login", &page{Title: "Log in", CSRF: token, D: loginData{Form: f, Next: next}})
}

// safeNext keeps the after-login redirect on this site: only a path of
// this site (with its query) survives, anything else becomes "/".
// Browsers strip tabs and newlines from a Location and read "\\" as "/",
// so "/\t/evil.example/" would leave the site although it starts with a
// single slash: any byte outside printable ASCII, and any backslash, is
// refused before parsing.
func safeNext(next string) string {
	for i := 0; i < len(next); i++ {
		if c := next[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || strings.HasPrefix(u.Path, "/login") {
		return "/"
	}
	// Rebuilt from its parts, so what goes out is what was checked.
	out := u.EscapedPath()
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	if strings.HasPrefix(out, "//") {
		return "/"
	}
	return out
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	f := newForm(r)
	c, err := r.Cookie(loginCookieName(r))
	if err != nil || c.Value == "" || !hmac.Equal([]byte(c.Value), []byte(r.PostFormValue("csrf"))) {
		f.Message = "The login form had expired. Please try again."
		s.renderLogin(w, r, f, http.StatusForbidden)
		return
	}
	username := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	f.Values["username"] = username
	ip := clientIP(r)
	keys := limitKeys(strings.ToLower(username), ip)
	// Counted before bcrypt runs: parallel guesses past the budget are
	// refused without their password ever being checked.
	if wait := s.limiter.begin(keys); wait > 0 {
		s.log.Warn("admin login refused: locked out", "user", username, "ip", ip)
		f.Message = fmt.Sprintf("Too many failed logins. Try again in %s.", roundUp(wait))
		s.renderLogin(w, r, f, http.StatusTooManyRequests)
		return
	}
	a, err := s.db.AuthenticateAdmin(r.Context(), username, password)
	if store.ErrorCode(err) == store.EUNAUTHORIZED {
		s.log.Warn("admin login failed", "user", username, "ip", ip)
		f.Message = "Wrong username or password."
		if wait := s.limiter.locked(keys); wait > 0 {
			f.Message = fmt.Sprintf("Wrong username or password. Too many failed logins: try again in %s.", roundUp(wait))
		}
		s.renderLogin(w, r, f, http.StatusUnauthorized)
		return
	}
	if err != nil {
		s.limiter.succeed(keys) // not a guess: the database failed
		s.serverError(w, r, err)
		return
	}
	s.limiter.succeed(keys)
	if err := s.startSession(w, r, a); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.Info("admin logged in", "user", a.Username, "ip", ip)
	http.SetCookie(w, &http.Cookie{Name: loginCookieName(r), Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil})
	if a.MustChangePassword {
		redirect(w, r, "/account", mustChangeMessage)
		return
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, a *store.Admin) error {
	token, err := s.db.CreateAdminSession(r.Context(), a.ID, clientIP(r))
	if err != nil {
		return err
	}
	// No MaxAge: the cookie goes with the browser; the server ends the
	// session anyway after IdleTimeout or MaxSessionAge.
	http.SetCookie(w, &http.Cookie{Name: sessionCookieName(r), Value: token, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	if err := s.db.DeleteAdminSession(r.Context(), me.session); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookieName(r), Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func roundUp(d time.Duration) string {
	m := int((d + time.Minute - 1) / time.Minute)
	if m <= 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", m)
}

// EnsureFirstAdmin creates the system admin "admin" with a random
// password when no admin account exists, and returns that password; ok is
// false when there already was an admin.
func EnsureFirstAdmin(ctx context.Context, db *store.DB) (username, password string, ok bool, err error) {
	n, err := db.AdminCount(ctx)
	if err != nil || n > 0 {
		return "", "", false, err
	}
	password = store.GeneratePassword()
	_, ok, err = db.CreateFirstAdmin(ctx, "admin", password)
	if err != nil || !ok {
		return "", "", false, err
	}
	return "admin", password, true, nil
}
