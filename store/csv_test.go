package store

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// TestExtensionsCSVFromAWindowsSpreadsheet: a file saved by Excel on Windows
// starts with a byte order mark, may capitalise and pad the header, and a
// name with a comma or a line break is quoted. Each row comes back with the
// line it starts on, counting the header as line 1 and blank lines too.
func TestExtensionsCSVFromAWindowsSpreadsheet(t *testing.T) {
	in := "\ufeffDomain, Number ,PASSWORD,pin,Name\r\n" +
		"acme.example,1001,secret1,,\"Lovelace, Ada\"\r\n" +
		"\r\n" +
		"acme.example,1002,secret2,4826,\"Grace\r\nHopper\"\r\n" +
		"beta.example,2001,secret3,,Alan\r\n"
	rows, lines, err := ParseExtensionsCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []NewExtension{
		{Domain: "acme.example", Number: "1001", Password: "secret1", Name: "Lovelace, Ada"},
		{Domain: "acme.example", Number: "1002", Password: "secret2", PIN: "4826", Name: "Grace\nHopper"},
		{Domain: "beta.example", Number: "2001", Password: "secret3", Name: "Alan"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows = %+v, want %+v", rows, want)
	}
	if !reflect.DeepEqual(lines, []int{2, 4, 6}) {
		t.Errorf("lines = %v, want [2 4 6]", lines)
	}
}

func TestExtensionsCSVWithOnlyAHeaderHasNoRows(t *testing.T) {
	rows, lines, err := ParseExtensionsCSV(strings.NewReader(ExtensionsCSVHeader + "\n"))
	if err != nil || len(rows) != 0 || len(lines) != 0 {
		t.Fatalf("header only = %v, %v, %v", rows, lines, err)
	}
}

// TestExtensionsCSVErrorsNameTheLineToFix: what is wrong with a file is a
// *CSVError with the line a spreadsheet user would go to.
func TestExtensionsCSVErrorsNameTheLineToFix(t *testing.T) {
	const header = ExtensionsCSVHeader + "\n"
	const good = "acme.example,1001,secret1,,Ada\n"
	cases := []struct {
		name, in string
		line     int
		want     string
	}{
		{"empty file", "", 0, "empty file: want a header line domain,number,password,pin,name"},
		{"columns swapped in the header", "domain,number,password,name,pin\n" + good, 1,
			`line 1: header is "domain,number,password,name,pin", want domain,number,password,pin,name`},
		{"missing column", header + good + "acme.example,1002,secret2\n", 3,
			"line 3: 3 columns, want 5 (domain,number,password,pin,name)"},
		{"extra column", header + "\n" + good + "acme.example,1002,secret2,,Bob,x\n", 4,
			"line 4: 6 columns, want 5 (domain,number,password,pin,name)"},
		{"unclosed quote", header + good + `acme.example,1002,secret2,,"Bob` + "\n" + good + good, 3,
			`line 3: extraneous or missing " in quoted-field`},
		{"stray quote", header + good + `acme.example,1002,secret2,,Bo"b` + "\n", 3,
			`line 3: bare " in non-quoted-field`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, _, err := ParseExtensionsCSV(strings.NewReader(c.in))
			var ce *CSVError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *CSVError", err)
			}
			if ce.Line != c.line || err.Error() != c.want {
				t.Errorf("err = line %d %q, want line %d %q", ce.Line, err, c.line, c.want)
			}
			if rows != nil {
				t.Errorf("%d rows returned with an error", len(rows))
			}
		})
	}
}

func TestExtensionsCSVReadErrorIsNotALineError(t *testing.T) {
	broken := errors.New("connection reset")
	_, _, err := ParseExtensionsCSV(iotest.ErrReader(broken))
	var ce *CSVError
	if !errors.Is(err, broken) || errors.As(err, &ce) {
		t.Fatalf("err = %#v, want the reader's error as it is", err)
	}
}

// TestExportedExtensionsCSVImportsBack: the export is in the import format,
// with the secrets left for the admin to fill in, and a display name that a
// spreadsheet would run as a formula is defused.
func TestExportedExtensionsCSVImportsBack(t *testing.T) {
	var out strings.Builder
	err := WriteExtensionsCSV(&out, []*Extension{
		{Domain: "acme.example", Number: "1001", DisplayName: "Lovelace, Ada"},
		{Domain: "acme.example", Number: "1002", DisplayName: "=HYPERLINK(\"http://evil\")"},
		{Domain: "beta.example", Number: "2001"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "domain,number,password,pin,name\n" +
		"acme.example,1001,,,\"Lovelace, Ada\"\n" +
		"acme.example,1002,,,\"'=HYPERLINK(\"\"http://evil\"\")\"\n" +
		"beta.example,2001,,,\n"
	if out.String() != want {
		t.Fatalf("export:\n%s\nwant:\n%s", out.String(), want)
	}
	rows, lines, err := ParseExtensionsCSV(strings.NewReader(out.String()))
	if err != nil || len(rows) != 3 || rows[1].Name != `'=HYPERLINK("http://evil")` || lines[2] != 4 {
		t.Fatalf("export read back = %+v %v, %v", rows, lines, err)
	}
}
