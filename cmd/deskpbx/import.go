package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"deskpbx/store"
)

const csvHeaderText = "domain,number,password,pin,name"

var csvHeader = strings.Split(csvHeaderText, ",")

func (c *cli) extImport(cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	db := dbFlag(fs)
	if err := c.parse(fs, cmd, args, 1, 1); err != nil {
		return err
	}
	file, label := fs.Arg(0), fs.Arg(0)
	in := c.stdin
	if file == "-" {
		label = "stdin"
	} else {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	// The whole file is read and checked before the database is touched,
	// so a malformed line costs nothing and leaves nothing behind.
	rows, lines, err := readExtensionsCSV(in)
	if err != nil {
		return fmt.Errorf("%s %w; nothing was imported", label, err)
	}
	d, err := openDB(*db, false)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.ImportExtensions(context.Background(), rows); err != nil {
		var re *store.RowError
		if errors.As(err, &re) && re.Row >= 0 && re.Row < len(lines) {
			return fmt.Errorf("%s line %d: %v; nothing was imported", label, lines[re.Row], re.Err)
		}
		return err
	}
	fmt.Fprintf(c.stdout, "imported %d extensions\n", len(rows))
	return nil
}

// readExtensionsCSV parses the import format and returns the rows with the
// line each starts on (the header is line 1), because a spreadsheet user
// fixes "line 734", not "row 732".
func readExtensionsCSV(in io.Reader) ([]store.NewExtension, []int, error) {
	r := csv.NewReader(in)
	// Counted here rather than by csv, to say which columns are expected.
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("is empty: want a header line %s", csvHeaderText)
	}
	if err != nil {
		return nil, nil, csvLineError(err)
	}
	if len(header) > 0 {
		// Spreadsheets on Windows start UTF-8 exports with a byte order mark.
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	if !headerMatches(header) {
		return nil, nil, fmt.Errorf("line 1: header is %q, want %s", strings.Join(header, ","), csvHeaderText)
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
			return nil, nil, fmt.Errorf("line %d: %d columns, want %d (%s)", line, len(rec), len(csvHeader), csvHeaderText)
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
			// An unclosed quote is noticed at the end of the file; the
			// line to fix is where the record began.
			line = pe.StartLine
		}
		return fmt.Errorf("line %d: %v", line, pe.Err)
	}
	return err
}
