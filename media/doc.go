// Package media is deskpbx's media plane for calls the PBX anchors itself
// (IVR, hot-desk login, echo test): G.711, SDP offer/answer, an RTP session
// with symmetric latching, a paced prompt player and DTMF detection from
// RFC 4733 events, in-band tones and SIP INFO, merged into one digit stream
// per call.
//
// Ordinary calls never come here: RTP flows phone to phone, because one
// syscall per packet is the limit measured on the target box (see
// shared/design.md). Everything on the per-packet path therefore reuses its
// buffers and allocates nothing.
package media
