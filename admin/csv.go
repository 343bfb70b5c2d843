package admin

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"deskpbx/store"
)

// The CSV format is the CLI's (deskpbx ext import), so a file prepared for
// one works with the other.
const csvHeaderText = "domain,number,password,pin,name"

var csvHeader = strings.Split(csvHeaderText, ",")

// importCSV adds every row of in, or none. Errors name the line to fix,
// as a spreadsheet user counts them (the header is line 1).
func (s *Server) importCSV(ctx context.Context, a *store.Admin, in io.Reader) (int, error) {
	rows, lines, err := readExtensionsCSV(in)
	if err != nil {
		return 0, invalid{"file": err.Error() + "; nothing was imported"}
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

func readExtensionsCSV(in io.Reader) ([]store.NewExtension, []int, error) {
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("The file is empty: it needs the header line %s", csvHeaderText)
	}
	if err != nil {
		return nil, nil, csvLineError(err)
	}
	if len(header) > 0 {
		// Spreadsheets on Windows start UTF-8 exports with a byte order mark.
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	if !headerMatches(header) {
		return nil, nil, fmt.Errorf("Line 1: the header is %q, it should be %s", strings.Join(header, ","), csvHeaderText)
	}
	var rows []store.NewExtension
	var lines []int
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, lines, nil
		}
		if err != nil {
			return nil, nil, csvLineError(err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(csvHeader) {
			return nil, nil, fmt.Errorf("Line %d: %d columns, it should have %d (%s)", line, len(rec), len(csvHeader), csvHeaderText)
		}
		rows = append(rows, store.NewExtension{Domain: rec[0], Number: rec[1], Password: rec[2], PIN: rec[3], Name: rec[4]})
		lines = append(lines, line)
	}
}

func headerMatches(h []string) bool {
	if len(h) != len(csvHeader) {
		return false
	}
	for i, name := range csvHeader {
		if !strings.EqualFold(strings.TrimSpace(h[i]), name) {
			return false
		}
	}
	return true
}

func csvLineError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		line := pe.Line
		if errors.Is(pe.Err, csv.ErrQuote) {
			line = pe.StartLine
		}
		return fmt.Errorf("Line %d: %v", line, pe.Err)
	}
	return err
}

// exportCSV writes the extensions of tenantID (0: all) in the import
// format. Passwords and PINs are stored only as hashes, so those columns
// are empty: fill them in before importing the file elsewhere.
func (s *Server) exportCSV(ctx context.Context, tenantID int64, w io.Writer) error {
	exts, err := s.db.Extensions(ctx, tenantID)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	for _, e := range exts {
		cw.Write([]string{e.Domain, e.Number, "", "", csvSafe(e.DisplayName)})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a display name from being run as a formula when the file
// is opened in a spreadsheet.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}
