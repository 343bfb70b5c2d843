package store

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ExtensionsCSVHeader is the header line of the provisioning CSV that
// `deskpbx ext import` and the admin's import page read and its export
// writes, so a file prepared for one works with the other.
const ExtensionsCSVHeader = "domain,number,password,pin,name"

var csvColumns = strings.Split(ExtensionsCSVHeader, ",")

// CSVError is why a provisioning CSV cannot be read, and the line to fix
// as a spreadsheet user counts them (the header is line 1). Exactly one of
// the problems is set; each caller words it for its own audience.
type CSVError struct {
	Line    int      // 0 when the file is empty
	Header  []string // the header found, when it is not ExtensionsCSVHeader
	Columns int      // the number of columns on Line, when it is not 5
	Err     error    // encoding/csv's complaint, when Line is not valid CSV
}

func (e *CSVError) Error() string {
	switch {
	case e.Line == 0:
		return "empty file: want a header line " + ExtensionsCSVHeader
	case e.Header != nil:
		return fmt.Sprintf("line 1: header is %q, want %s", strings.Join(e.Header, ","), ExtensionsCSVHeader)
	case e.Columns != 0:
		return fmt.Sprintf("line %d: %d columns, want %d (%s)", e.Line, e.Columns, len(csvColumns), ExtensionsCSVHeader)
	default:
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
}

func (e *CSVError) Unwrap() error { return e.Err }

// ParseExtensionsCSV reads the provisioning CSV and returns its rows with
// the line each starts on, because a spreadsheet user fixes "line 734",
// not "row 732". A file that is not in the format is a *CSVError; an error
// reading r is returned as it is.
func ParseExtensionsCSV(r io.Reader) (rows []NewExtension, lines []int, err error) {
	cr := csv.NewReader(r)
	// Counted here rather than by csv, to say which columns are expected.
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, &CSVError{}
	}
	if err != nil {
		return nil, nil, csvLineError(err)
	}
	if len(header) > 0 {
		// Spreadsheets on Windows start UTF-8 exports with a byte order mark.
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	if !csvHeaderMatches(header) {
		return nil, nil, &CSVError{Line: 1, Header: header}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, lines, nil
		}
		if err != nil {
			return nil, nil, csvLineError(err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(csvColumns) {
			return nil, nil, &CSVError{Line: line, Columns: len(rec)}
		}
		rows = append(rows, NewExtension{Domain: rec[0], Number: rec[1], Password: rec[2], PIN: rec[3], Name: rec[4]})
		lines = append(lines, line)
	}
}

// csvHeaderMatches allows the column names in any case, padded with spaces.
func csvHeaderMatches(h []string) bool {
	if len(h) != len(csvColumns) {
		return false
	}
	for i, name := range csvColumns {
		if !strings.EqualFold(strings.TrimSpace(h[i]), name) {
			return false
		}
	}
	return true
}

func csvLineError(err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	line := pe.Line
	if errors.Is(pe.Err, csv.ErrQuote) {
		// An unclosed quote is noticed at the end of the file; the line to
		// fix is where the record began.
		line = pe.StartLine
	}
	return &CSVError{Line: line, Err: pe.Err}
}

// WriteExtensionsCSV writes exts in the import format. Passwords and PINs
// are stored only as hashes, so those columns are empty: fill them in
// before importing the file elsewhere.
func WriteExtensionsCSV(w io.Writer, exts []*Extension) error {
	cw := csv.NewWriter(w)
	cw.Write(csvColumns)
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
