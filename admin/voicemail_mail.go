package admin

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"deskpbx/store"
)

// A tenant's mail server for voicemail e-mail. The password goes in and
// never comes out: neither page nor API shows it, only whether one is set.

type smtpInput struct {
	Host        string `json:"host"`
	Port        int    `json:"port"`
	Security    string `json:"security"` // starttls, tls or none
	Username    string `json:"username"`
	Password    string `json:"password"` // "": keep the stored one
	From        string `json:"from"`
	DeleteAfter bool   `json:"delete_after_mailing"`
	CAPEM       string `json:"ca_pem"` // "": the system's roots
}

type apiSMTP struct {
	TenantID    int64  `json:"tenant_id"`
	Configured  bool   `json:"configured"`
	Host        string `json:"host,omitempty"`
	Port        int    `json:"port,omitempty"`
	Security    string `json:"security,omitempty"`
	Username    string `json:"username,omitempty"`
	HasPassword bool   `json:"has_password"`
	From        string `json:"from,omitempty"`
	DeleteAfter bool   `json:"delete_after_mailing"`
	CAPEM       string `json:"ca_pem,omitempty"`
	Queued      int    `json:"queued"`
	LastError   string `json:"last_error,omitempty"`
}

type smtpView struct {
	Tenant *store.Tenant
	apiSMTP
}

func (s *Server) smtpView(c *call) (*smtpView, error) {
	t, err := s.tenantFor(c.ctx, c.admin, c.id)
	if err != nil {
		return nil, err
	}
	v := &smtpView{Tenant: t, apiSMTP: apiSMTP{TenantID: t.ID}}
	st, err := s.db.SMTPSettingsOf(c.ctx, t.ID)
	switch {
	case err == nil:
		v.Configured, v.Host, v.Port, v.Security, v.Username = true, st.Host, st.Port, st.Security, st.Username
		v.HasPassword, v.From, v.DeleteAfter, v.CAPEM = st.Password != "", st.From, st.DeleteAfter, st.CAPEM
	case store.ErrorCode(err) != store.ENOTFOUND:
		return nil, err
	}
	v.Queued, v.LastError, err = s.db.MailQueued(c.ctx, t.ID)
	return v, err
}

func (s *Server) setSMTP(c *call, in smtpInput) (*smtpView, error) {
	t, err := s.tenantFor(c.ctx, c.admin, c.id)
	if err != nil {
		return nil, err
	}
	err = s.db.SetSMTPSettings(c.ctx, store.SMTPSettings{TenantID: t.ID, Host: in.Host, Port: in.Port, Security: in.Security,
		Username: in.Username, Password: in.Password, From: in.From, DeleteAfter: in.DeleteAfter, CAPEM: in.CAPEM})
	if err != nil {
		return nil, fieldError(err, "")
	}
	s.log.Info("voicemail mail server set", "admin", c.admin.Username, "tenant", t.Domain, "host", in.Host)
	return s.smtpView(c)
}

func (s *Server) deleteSMTP(c *call) error {
	t, err := s.tenantFor(c.ctx, c.admin, c.id)
	if err != nil {
		return err
	}
	return s.db.DeleteSMTPSettings(c.ctx, t.ID)
}

func smtpRoutes(s *Server, r chi.Router) {
	r.Get("/tenants/{id}/voicemail-mail", s.page(s.smtpPage))
	r.Post("/tenants/{id}/voicemail-mail", s.page(s.smtpUpdate))
	r.Post("/tenants/{id}/voicemail-mail/delete", s.page(s.smtpDelete))
}

func apiSMTPRoutes(s *Server, r chi.Router) {
	r.Get("/tenants/{id}/voicemail/smtp", s.api(s.apiSMTPGet))
	r.Put("/tenants/{id}/voicemail/smtp", s.api(s.apiSMTPPut))
	r.Delete("/tenants/{id}/voicemail/smtp", s.api(s.apiSMTPDelete))
}

type smtpPageData struct {
	*smtpView
	Form         *form
	PasswordHint string
}

func (s *Server) renderSMTP(c *call, f *form, status int) error {
	v, err := s.smtpView(c)
	if err != nil {
		return err
	}
	if f == nil {
		f = newForm(nil).set("host", v.Host, "security", v.Security, "username", v.Username, "from", v.From, "ca_pem", v.CAPEM)
		if v.Port != 0 {
			f.set("port", strconv.Itoa(v.Port))
		}
		if v.DeleteAfter {
			f.set("delete_after", "on")
		}
	}
	hint := "Not set."
	if v.HasPassword {
		hint = "A password is set; leave empty to keep it."
	}
	s.render(c.w, c.r, status, "voicemail_mail", &page{Title: "Voicemail e-mail of " + v.Tenant.Domain, Nav: "tenants",
		D: smtpPageData{smtpView: v, Form: f, PasswordHint: hint}})
	return nil
}

func (s *Server) smtpPage(c *call) error { return s.renderSMTP(c, nil, http.StatusOK) }

func (s *Server) smtpUpdate(c *call) error {
	f := newForm(c.r)
	port, err := strconv.Atoi(f.Values["port"])
	if err != nil {
		port = 0 // refused below, beside the field
	}
	_, err = s.setSMTP(c, smtpInput{Host: f.Values["host"], Port: port, Security: f.Values["security"], Username: f.Values["username"],
		Password: f.Values["password"], From: f.Values["from"], DeleteAfter: f.Values["delete_after"] != "", CAPEM: f.Values["ca_pem"]})
	if err != nil {
		return c.refused(f, err, func(status int) error { return s.renderSMTP(c, f, status) })
	}
	return c.redirect(fmt.Sprintf("/tenants/%d/voicemail-mail", c.id), "Mail server saved.")
}

func (s *Server) smtpDelete(c *call) error {
	if err := s.deleteSMTP(c); err != nil {
		return err
	}
	return c.redirect(fmt.Sprintf("/tenants/%d/voicemail-mail", c.id), "Voicemail e-mail turned off.")
}

func toAPISMTP(v *smtpView) apiSMTP { return v.apiSMTP }

func (s *Server) apiSMTPGet(c *call) error {
	v, err := s.smtpView(c)
	return answer(c, http.StatusOK, v, err, toAPISMTP)
}

func (s *Server) apiSMTPPut(c *call) error {
	if _, err := s.tenantFor(c.ctx, c.admin, c.id); err != nil {
		return err
	}
	return decoded(c, http.StatusOK, s.setSMTP, toAPISMTP)
}

func (s *Server) apiSMTPDelete(c *call) error { return c.done(s.deleteSMTP(c)) }
