package admin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"deskpbx/store"
)

// page is what every template gets.
type page struct {
	Title string
	Nav   string // which menu entry is current
	Admin *store.Admin
	CSRF  string
	Flash string
	// HotDesk says whether the hot-desk pages exist.
	HotDesk bool
	D       any
}

type pageTemplate struct {
	t *template.Template
}

var assetHashes = map[string]string{}

func init() {
	fs.WalkDir(assets, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := assets.ReadFile(p)
		sum := sha256.Sum256(b)
		assetHashes[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:6])
		return nil
	})
}

// assetURL adds the content hash so a new binary's CSS is never hidden by
// a browser's cache of the old one.
func assetURL(name string) string {
	return "/static/" + name + "?v=" + assetHashes[name]
}

var funcs = template.FuncMap{
	"asset": assetURL,
	"field": func(f *form, name, label, typ string, extra ...string) fieldView {
		v := fieldView{Name: name, Label: label, Type: typ, Value: f.Values[name], Error: f.Errors[name]}
		if len(extra) > 0 {
			v.Hint = extra[0]
		}
		if len(extra) > 1 {
			v.Attrs = extra[1]
		}
		// Secrets are never sent back to the browser, even the one just typed.
		if typ == "password" {
			v.Value = ""
		}
		return v
	},
	"ago":       ago,
	"afterText": formatAfter,
	"until":     until,
	"when":      when,
	"dict":      dict,
	"pathEsc":   url.PathEscape,
	"hasAttr":   func(attrs, a string) bool { return strings.Contains(" "+attrs+" ", " "+a+" ") },
}

// fieldView is one labelled input with its message beside it.
type fieldView struct {
	Name, Label, Type, Value, Error, Hint, Attrs string
}

func dict(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func parseTemplates() (map[string]*pageTemplate, error) {
	base, err := template.New("base").Funcs(funcs).ParseFS(assets, "templates/_*.html")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	out := map[string]*pageTemplate{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(assets, f); err != nil {
			return nil, err
		}
		out[name] = &pageTemplate{t: t}
	}
	return out, nil
}

// render executes a page into a buffer first, so a template error becomes
// a clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	if me := whoFrom(r.Context()); me != nil {
		p.Admin = me.admin
		p.CSRF = me.csrf
	}
	p.HotDesk = s.hotdesk != nil
	if c, err := r.Cookie("deskpbx_flash"); err == nil {
		if msg, err := url.QueryUnescape(c.Value); err == nil {
			p.Flash = msg
		}
		http.SetCookie(w, &http.Cookie{Name: "deskpbx_flash", Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	}
	pt := s.pages[name]
	if pt == nil {
		s.serverError(w, r, fmt.Errorf("no template %s", name))
		return
	}
	var buf bytes.Buffer
	if err := pt.t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderFragment executes one named template of a page, for live updates.
func (s *Server) renderFragment(name, block string, data any) (string, error) {
	var buf bytes.Buffer
	if err := s.pages[name].t.ExecuteTemplate(&buf, block, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// redirect answers a successful form post: the message shows once on
// the page the browser lands on, and reloading it posts nothing again.
func redirect(w http.ResponseWriter, r *http.Request, to, flash string) {
	if flash != "" {
		http.SetCookie(w, &http.Cookie{Name: "deskpbx_flash", Value: url.QueryEscape(flash), Path: "/", HttpOnly: true,
			Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: 60})
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		apiError(w, http.StatusNotFound, store.ENOTFOUND, "not found", "")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusNotFound, "error", &page{Title: "Not found", D: "There is nothing here, or it is not yours to see."})
}

func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("admin request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(w, "internal error; the server log has the details", http.StatusInternalServerError)
}

// failed answers an error from an operation that is not a form error:
// not found becomes the 404 page, a refusal a page with its reason.
func (s *Server) failed(w http.ResponseWriter, r *http.Request, err error) {
	var se *store.Error
	switch {
	case store.ErrorCode(err) == store.ENOTFOUND:
		s.notFound(w, r)
	case errors.As(err, &se) && se.Code != store.EINTERNAL:
		s.render(w, r, statusOf(se.Code), "error", &page{Title: "Not done", D: upperFirst(se.Message) + "."})
	default:
		s.serverError(w, r, err)
	}
}

func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return human(time.Since(t))
}

func until(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return human(time.Until(t))
}

func human(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Round(time.Second)
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h >= 48:
		return fmt.Sprintf("%dd %dh", h/24, h%24)
	case h > 0:
		return fmt.Sprintf("%dh %02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm %02ds", m, sec)
	}
	return fmt.Sprintf("%ds", sec)
}

func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
