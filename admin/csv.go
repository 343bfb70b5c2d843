package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"deskpbx/store"
)

// importCSV adds every row of in, or none. Errors name the line to fix,
// as a spreadsheet user counts them (the header is line 1).
func (s *Server) importCSV(ctx context.Context, a *store.Admin, in io.Reader) (int, error) {
	rows, lines, err := store.ParseExtensionsCSV(in)
	if err != nil {
		return 0, invalid{"file": csvMessage(err) + "; nothing was imported"}
	}
	if len(rows) == 0 {
		return 0, invalid{"file": "The file has a header but no extensions"}
	}
	domains := map[string]*store.Tenant{}
	for i, row := range rows {
		d := strings.ToLower(strings.TrimSpace(row.Domain))
		t, seen := domains[d]
		if !seen {
			// Another tenant's domain reads exactly like one that does not
			// exist: a tenant admin learns nothing about who else is here.
			t, _ = s.resolveTenant(ctx, a, 0, d)
			if d == "" {
				t = nil
			}
			domains[d] = t
		}
		if t == nil {
			return 0, invalid{"file": fmt.Sprintf("Line %d: no tenant %q; nothing was imported", lines[i], d)}
		}
		if err := checkExtension(extensionInput{Number: row.Number, Password: row.Password, PIN: row.PIN, Name: row.Name}, t.Domain); err != nil {
			return 0, invalid{"file": fmt.Sprintf("Line %d: %v; nothing was imported", lines[i], err)}
		}
	}
	for i := range rows {
		rows[i].Line = lines[i]
	}
	if err := s.db.ImportExtensions(ctx, rows); err != nil {
		var re *store.RowError
		if errors.As(err, &re) && re.Row >= 0 && re.Row < len(lines) && store.ErrorCode(re.Err) != store.EINTERNAL {
			return 0, invalid{"file": fmt.Sprintf("Line %d: %v; nothing was imported", lines[re.Row], re.Err)}
		}
		return 0, err
	}
	s.log.Info("extensions imported", "admin", a.Username, "count", len(rows))
	return len(rows), nil
}

// csvMessage words a file that is not in the import format for the person
// at the import page.
func csvMessage(err error) string {
	var ce *store.CSVError
	switch {
	case !errors.As(err, &ce):
		return err.Error()
	case ce.Line == 0:
		return "The file is empty: it needs the header line " + store.ExtensionsCSVHeader
	case ce.Header != nil:
		return fmt.Sprintf("Line 1: the header is %q, it should be %s", strings.Join(ce.Header, ","), store.ExtensionsCSVHeader)
	case ce.Columns != 0:
		return fmt.Sprintf("Line %d: %d columns, it should have %d (%s)", ce.Line, ce.Columns, len(strings.Split(store.ExtensionsCSVHeader, ",")), store.ExtensionsCSVHeader)
	default:
		return fmt.Sprintf("Line %d: %v", ce.Line, ce.Err)
	}
}

// exportCSV writes the extensions of tenantID (0: all) in the import format.
func (s *Server) exportCSV(ctx context.Context, tenantID int64, w io.Writer) error {
	exts, err := s.db.Extensions(ctx, tenantID)
	if err != nil {
		return err
	}
	return store.WriteExtensionsCSV(w, exts)
}

// exportTo answers with the extensions of the ?tenant= asked for, as a
// file to save when attachment is set (the page's link).
func (s *Server) exportTo(c *call, attachment bool) error {
	tenantID, err := s.scopeTenant(c.ctx, c.admin, tenantParam(c.r))
	if err != nil {
		return err
	}
	c.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	if attachment {
		c.w.Header().Set("Content-Disposition", `attachment; filename="extensions.csv"`)
	}
	if err := s.exportCSV(c.ctx, tenantID, c.w); err != nil {
		s.log.Error("exporting extensions", "err", err)
	}
	return nil
}

// The pages.

type importData struct {
	Form   *form
	Header string
}

func (s *Server) renderImport(c *call, f *form, status int) error {
	s.render(c.w, c.r, status, "import", &page{Title: "Import extensions", Nav: "extensions", D: importData{Form: f, Header: store.ExtensionsCSVHeader}})
	return nil
}

func (s *Server) importPage(c *call) error { return s.renderImport(c, newForm(nil), http.StatusOK) }

// importExtensions takes an uploaded file, else the pasted text.
func (s *Server) importExtensions(c *call) error {
	f := newForm(c.r)
	var in io.Reader = strings.NewReader(f.Values["csv"])
	if file, _, err := c.r.FormFile("file"); err == nil {
		defer file.Close()
		in = file
	}
	n, err := s.importCSV(c.ctx, c.admin, in)
	if err != nil {
		return c.refused(f, err, func(status int) error {
			if msg, ok := f.Errors["file"]; ok {
				// The message is about the pasted text too.
				f.Errors["csv"] = msg
			}
			return s.renderImport(c, f, status)
		})
	}
	return c.redirect("/extensions", fmt.Sprintf("Imported %d extensions.", n))
}

func (s *Server) exportExtensions(c *call) error { return s.exportTo(c, true) }

// The API.

// apiImport takes the CSV file as the request body (Content-Type text/csv).
func (s *Server) apiImport(c *call) error {
	n, err := s.importCSV(c.ctx, c.admin, c.r.Body)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]int{"imported": n})
}

func (s *Server) apiExport(c *call) error { return s.exportTo(c, false) }
