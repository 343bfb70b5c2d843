package admin

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"deskpbx/store"
)

// Admins: the accounts of this page and API. A system admin manages all
// of them; a tenant admin those of its tenant.

type adminInput struct {
	Username string `json:"username"`
	Password string `json:"password"`
	TenantID int64  `json:"tenant_id"` // 0: system admin (only a system admin may create one)
}

func (s *Server) createAdmin(c *call, in adminInput) (*store.Admin, error) {
	a := c.admin
	if !a.System() && in.TenantID == 0 {
		in.TenantID = a.TenantID
	}
	if in.TenantID != 0 || !a.System() {
		if _, err := s.tenantFor(c.ctx, a, in.TenantID); err != nil {
			return nil, err
		}
	}
	in.Username = strings.TrimSpace(in.Username)
	bad := invalid{}
	bad.check("username", store.ValidAdminUsername(in.Username))
	bad.check("password", store.ValidAdminPassword(in.Password, in.Username))
	if err := bad.err(); err != nil {
		return nil, err
	}
	na, err := s.db.CreateAdmin(c.ctx, in.Username, in.Password, in.TenantID)
	if store.ErrorCode(err) == store.ECONFLICT {
		return nil, invalid{"username": "This username is already in use"}
	}
	if err == nil {
		s.log.Info("admin account created", "by", a.Username, "user", na.Username, "role", na.Role(), "tenant", na.Domain)
	}
	return na, err
}

func (s *Server) deleteAdmin(c *call) error {
	other, err := s.db.AdminByID(c.ctx, c.id)
	if err != nil {
		return err
	}
	if !c.admin.System() && other.TenantID != c.admin.TenantID {
		return notFound("admin")
	}
	if other.ID == c.admin.ID {
		return store.Errorf(store.EINVALID, "you cannot delete your own account while logged in with it")
	}
	if err := s.db.DeleteAdmin(c.ctx, other.ID); err != nil {
		return err
	}
	s.log.Info("admin account deleted", "by", c.admin.Username, "user", other.Username)
	return nil
}

// The pages.

type adminsData struct {
	Admins  []*store.Admin
	Tenants []*store.Tenant
	Form    *form
}

func (s *Server) adminsPage(c *call) error { return s.renderAdmins(c, newForm(nil), http.StatusOK) }

func (s *Server) renderAdmins(c *call, f *form, status int) error {
	admins, err := s.db.Admins(c.ctx, c.admin.TenantID)
	if err != nil {
		return err
	}
	ts, err := s.tenantsFor(c.ctx, c.admin)
	if err != nil {
		return err
	}
	s.render(c.w, c.r, status, "admins", &page{Title: "Admins", Nav: "admins", D: adminsData{Admins: admins, Tenants: ts, Form: f}})
	return nil
}

func (s *Server) adminCreate(c *call) error {
	f := newForm(c.r)
	tenantID, _ := strconv.ParseInt(f.Values["tenant"], 10, 64)
	na, err := s.createAdmin(c, adminInput{Username: f.Values["username"], Password: f.Values["password"], TenantID: tenantID})
	if err != nil {
		return c.refused(f, err, func(status int) error { return s.renderAdmins(c, f, status) })
	}
	return c.redirect("/admins", "Admin "+na.Username+" added.")
}

func (s *Server) adminDelete(c *call) error {
	if err := s.deleteAdmin(c); err != nil {
		return err
	}
	return c.redirect("/admins", "Admin deleted.")
}

// The API.

type apiAdmin struct {
	ID       int64     `json:"id"`
	Username string    `json:"username"`
	Role     string    `json:"role"`
	TenantID int64     `json:"tenant_id,omitempty"`
	Domain   string    `json:"domain,omitempty"`
	Created  time.Time `json:"created_at"`
}

func toAPIAdmin(a *store.Admin) apiAdmin {
	return apiAdmin{ID: a.ID, Username: a.Username, Role: a.Role(), TenantID: a.TenantID, Domain: a.Domain, Created: a.CreatedAt}
}

func (s *Server) apiMe(c *call) error { return c.json(http.StatusOK, toAPIAdmin(c.admin)) }

func (s *Server) apiAdmins(c *call) error {
	admins, err := s.db.Admins(c.ctx, c.admin.TenantID)
	return answerList(c, admins, err, toAPIAdmin)
}

func (s *Server) apiAdminCreate(c *call) error {
	return decoded(c, http.StatusCreated, s.createAdmin, toAPIAdmin)
}

func (s *Server) apiAdminDelete(c *call) error { return c.done(s.deleteAdmin(c)) }
