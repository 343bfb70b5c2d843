package sip

import (
	"slices"
	"testing"
)

// Every name of the package's map has an arena parser, and no other.
func TestStockHeaderParsersAreThePackageMap(t *testing.T) {
	for name := range headersParsers {
		if stockHeaderParser(name) == nil {
			t.Errorf("%q is in the package's map but has no arena parser", name)
		}
	}
	for _, name := range []string{"expires", "user-agent", "authorization", "x", "e", "k", "allow", "content-disposition"} {
		if stockHeaderParser(name) != nil {
			t.Errorf("%q has an arena parser but no parser in the package's map", name)
		}
	}
}

// A parser given other header parsers uses them, and a header it has no
// parser for stays generic, even one the package would parse.
func TestParserWithOwnHeaderParsersUsesThem(t *testing.T) {
	parsers := map[string]HeaderParser{
		"via":     headerParserVia,
		"expires": func(_ []byte, s string) (Header, error) { return NewHeader("Expires", "parsed:"+s), nil },
	}
	p := NewParser(WithHeadersParsers(parsers))
	msg, err := p.ParseSIP(benchRegisters[0])
	if err != nil {
		t.Fatal(err)
	}
	req := msg.(*Request)
	if h := req.GetHeader("Expires"); h == nil || h.Value() != "parsed:3600" {
		t.Errorf("Expires = %v, want the given parser's", h)
	}
	if _, ok := req.GetHeader("Contact").(*ContactHeader); ok {
		t.Error("Contact was parsed by a parser the parser was not given")
	}
	if req.Via() == nil || req.Via().Host != "127.0.0.1" {
		t.Errorf("Via = %v", req.Via())
	}
}

// Parameter lists share the arena, so each must end where it ends:
// appending to one header's parameters leaves the others as they were.
func TestArenaParamsDoNotOverlap(t *testing.T) {
	msg, err := NewParser().ParseSIP(benchRegisters[1])
	if err != nil {
		t.Fatal(err)
	}
	req := msg.(*Request)
	want := req.String()
	from, contact, via := req.From(), req.Contact(), req.Via()
	before := [][]HeaderKV{slices.Clone(from.Params), slices.Clone(contact.Address.UriParams), slices.Clone(via.Params)}
	for _, p := range []*HeaderParams{&from.Params, &contact.Address.UriParams, &via.Params} {
		*p = append(*p, HeaderKV{"x", "y"})
		*p = (*p)[:len(*p)-1]
	}
	after := [][]HeaderKV{from.Params, contact.Address.UriParams, via.Params}
	for i := range before {
		if !slices.Equal(before[i], after[i]) {
			t.Errorf("params %d: %v after appends to the others, want %v", i, after[i], before[i])
		}
	}
	if req.String() != want {
		t.Errorf("message after appends to its params:\n%s\nwant\n%s", req.String(), want)
	}
}
