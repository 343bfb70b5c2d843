package store

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseExtensionsCSV: an uploaded provisioning file is parsed or
// refused with an error naming a line; the rows that come back each have
// a line, in increasing order, after the header.
func FuzzParseExtensionsCSV(f *testing.F) {
	f.Add(ExtensionsCSVHeader + "\nacme.example,1001,long-secret-1001,4826,Ada\nacme.example,1002,long-secret-1002,,\"Hopper, Grace\"\n")
	f.Add("\ufeffDomain, Number ,PASSWORD,pin,Name\r\nacme.example,1001,secret1,,\"Lovelace, Ada\"\r\n\r\nacme.example,1002,secret2,4826,\"Grace\r\nHopper\"\r\n")
	f.Add(ExtensionsCSVHeader + "\nacme.example,1001\n")
	f.Add("number,domain\n1,2\n")
	f.Add(ExtensionsCSVHeader + "\n\"unterminated,1001,x,,y\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, in string) {
		rows, lines, err := ParseExtensionsCSV(strings.NewReader(in))
		if err != nil {
			var ce *CSVError
			if !errors.As(err, &ce) || err.Error() == "" {
				t.Fatalf("error %T %q is not a CSVError with a message", err, err)
			}
			if rows != nil || lines != nil {
				t.Fatal("rows returned with an error: the import is all or nothing")
			}
			return
		}
		if len(rows) != len(lines) {
			t.Fatalf("%d rows, %d lines", len(rows), len(lines))
		}
		for i, l := range lines {
			if l < 2 || i > 0 && l <= lines[i-1] {
				t.Fatalf("lines %v", lines)
			}
		}
	})
}
