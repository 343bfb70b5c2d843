package presence

import (
	"context"
	"encoding/xml"
	"strconv"
	"strings"

	"deskpbx/store"
)

// Content types of the two packages' NOTIFY bodies.
const (
	DialogInfoType = "application/dialog-info+xml"
	PIDFType       = "application/pidf+xml"
)

// DialogPackage is the dialog event package (RFC 4235) over a Tracker.
type DialogPackage struct{ t *Tracker }

// PresencePackage is the presence event package (RFC 3856, PIDF body)
// over a Tracker.
type PresencePackage struct{ t *Tracker }

// Dialog returns the dialog event package of t.
func (t *Tracker) Dialog() DialogPackage { return DialogPackage{t} }

// Presence returns the presence event package of t.
func (t *Tracker) Presence() PresencePackage { return PresencePackage{t} }

// Authorize lets a phone watch any extension of its own tenant.
func (p DialogPackage) Authorize(ctx context.Context, subscriber *store.Extension, target string) (string, bool) {
	return p.t.authorize(ctx, subscriber, target)
}

// Body is the person's dialog-info, full state.
func (p DialogPackage) Body(ctx context.Context, resource string, version uint32) (string, []byte) {
	e := p.t.entity(ctx, resource)
	if e == nil {
		return "", nil
	}
	return DialogInfoType, dialogInfo(e, p.t.snapshot(e.ID), version)
}

// Authorize lets a phone watch any extension of its own tenant.
func (p PresencePackage) Authorize(ctx context.Context, subscriber *store.Extension, target string) (string, bool) {
	return p.t.authorize(ctx, subscriber, target)
}

// Body is the person's PIDF document.
func (p PresencePackage) Body(ctx context.Context, resource string, _ uint32) (string, []byte) {
	e := p.t.entity(ctx, resource)
	if e == nil {
		return "", nil
	}
	return PIDFType, PIDF(e, busy(p.t.snapshot(e.ID)))
}

func uri(e *store.Extension) string { return "sip:" + e.Number + "@" + e.Domain }

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

var dialogStates = map[State]string{Early: "early", Confirmed: "confirmed", Terminated: "terminated"}

// dialogInfo is an RFC 4235 full-state document of entity's dialogs. A
// dialog names the other party (display name and URI) as BLF keys with
// pickup show it, and its direction: initiator for calls entity placed.
func dialogInfo(entity *store.Extension, dialogs []dialog, version uint32) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="` + strconv.FormatUint(uint64(version), 10) +
		`" state="full" entity="` + esc(uri(entity)) + `">` + "\n")
	for _, d := range dialogs {
		dir := "recipient"
		if d.outgoing {
			dir = "initiator"
		}
		b.WriteString(` <dialog id="` + esc(d.id) + `" call-id="` + esc(d.id) + `" direction="` + dir + `">` + "\n")
		b.WriteString(`  <state>` + dialogStates[d.state] + `</state>` + "\n")
		b.WriteString(`  <local><identity display="` + esc(entity.DisplayName) + `">` + esc(uri(entity)) + `</identity></local>` + "\n")
		if d.peer != nil {
			b.WriteString(`  <remote><identity display="` + esc(d.peer.DisplayName) + `">` + esc(uri(d.peer)) +
				`</identity><target uri="` + esc(uri(d.peer)) + `"/></remote>` + "\n")
		}
		b.WriteString(" </dialog>\n")
	}
	b.WriteString("</dialog-info>\n")
	return []byte(b.String())
}

// PIDF is an RFC 3863 document for entity: basic status open (deskpbx
// reaches a person wherever they sit), and while busy the RPID
// (RFC 4480) activity on-the-phone with a note, which softphones show as
// busy.
func PIDF(entity *store.Extension, busy bool) []byte {
	note := "Available"
	activity := ""
	if busy {
		note = "On the phone"
		activity = `<rpid:activities><rpid:on-the-phone/></rpid:activities>`
	}
	id := esc(entity.Number)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model"` +
		` xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="` + esc(uri(entity)) + `">` + "\n")
	b.WriteString(` <tuple id="t` + id + `"><status><basic>open</basic></status><contact>` + esc(uri(entity)) +
		`</contact><note>` + note + `</note></tuple>` + "\n")
	b.WriteString(` <dm:person id="p` + id + `">` + activity + `<dm:note>` + note + `</dm:note></dm:person>` + "\n")
	b.WriteString("</presence>\n")
	return []byte(b.String())
}
