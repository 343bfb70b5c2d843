package admin

import (
	"net/http"

	"deskpbx/store"
)

// The admin's own account: password and API tokens.

type accountData struct {
	Tokens       []*store.APIToken
	PasswordForm *form
	TokenForm    *form
	NewToken     string // shown once, right after creation
}

func (s *Server) accountPage(c *call) error {
	return s.renderAccount(c, accountData{PasswordForm: newForm(nil), TokenForm: newForm(nil)}, http.StatusOK)
}

func (s *Server) renderAccount(c *call, d accountData, status int) error {
	var err error
	if d.Tokens, err = s.db.APITokens(c.ctx, c.admin.ID); err != nil {
		return err
	}
	s.render(c.w, c.r, status, "account", &page{Title: "Your account", Nav: "account", D: d})
	return nil
}

func (s *Server) accountPassword(c *call) error {
	f := newForm(c.r)
	bad := invalid{}
	if _, err := s.db.AuthenticateAdmin(c.ctx, c.admin.Username, f.Values["current"]); err != nil {
		if store.ErrorCode(err) != store.EUNAUTHORIZED {
			return err
		}
		bad["current"] = "This is not your current password"
	}
	bad.check("password", store.ValidAdminPassword(f.Values["password"], c.admin.Username))
	if f.Values["password"] != f.Values["confirm"] {
		bad["confirm"] = "The two new passwords differ"
	}
	if len(bad) > 0 {
		f.apply(bad)
		return s.renderAccount(c, accountData{PasswordForm: f, TokenForm: newForm(nil)}, http.StatusUnprocessableEntity)
	}
	if err := s.db.SetAdminPassword(c.ctx, c.admin.ID, f.Values["password"]); err != nil {
		return err
	}
	// Changing the password ended every session, this one too: start a
	// fresh one so whoever changed it stays logged in, alone.
	if err := s.startSession(c.w, c.r, c.admin); err != nil {
		return err
	}
	s.log.Info("admin changed password", "user", c.admin.Username)
	return c.redirect("/account", "Password changed. Other browsers logged in as you were logged out.")
}

func (s *Server) tokenCreate(c *call) error {
	f := newForm(c.r)
	token, _, err := s.db.CreateAPIToken(c.ctx, c.admin.ID, f.Values["name"])
	if store.ErrorCode(err) == store.EINVALID {
		f.Errors["name"] = upperFirst(err.Error())
		f.Message = "Please correct the marked fields."
		return s.renderAccount(c, accountData{PasswordForm: newForm(nil), TokenForm: f}, http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	s.log.Info("API token created", "admin", c.admin.Username, "name", f.Values["name"])
	// Rendered, not redirected: the token must not travel in a cookie or
	// URL, and this is the only time it is shown.
	return s.renderAccount(c, accountData{PasswordForm: newForm(nil), TokenForm: newForm(nil), NewToken: token}, http.StatusOK)
}

func (s *Server) tokenDelete(c *call) error {
	if err := s.db.DeleteAPIToken(c.ctx, c.admin.ID, c.id); err != nil {
		return err
	}
	return c.redirect("/account", "Token revoked.")
}
