package voicemail

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/zaf/g711"

	"deskpbx/store"
)

// What the admin page needs beyond the phone menus: a message by ID, its
// file to stream, and greetings uploaded as WAV files.

// Message returns message id of box.
func (s *Service) Message(ctx context.Context, box *store.Extension, id int64) (*store.VoicemailMessage, error) {
	ms, err := s.db.VoicemailMessages(ctx, box.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.ID == id {
			return m, nil
		}
	}
	return nil, store.Errorf(store.ENOTFOUND, "no such message")
}

// Open opens a file of the data directory (a message's, greeting's or
// name's) for reading, e.g. to serve it with ranges to a browser.
func (s *Service) Open(file string) (*os.File, error) {
	return os.Open(filepath.Join(s.Dir, filepath.Base(file)))
}

// SetRecordingWAV stores an uploaded WAV file as box's greeting or name
// (see SetRecording), converted to our format; a file we cannot convert
// is refused (EINVALID) with what to upload instead.
func (s *Service) SetRecordingWAV(ctx context.Context, box *store.Extension, which string, wav []byte) error {
	pcm, err := ConvertWAV(wav)
	if err != nil {
		return err
	}
	if d := time.Duration(len(pcm)) * time.Second / sampleRate; d > s.MaxLen {
		return store.Errorf(store.EINVALID, "the recording lasts %v, longer than the %v a message may", d.Round(time.Second), s.MaxLen)
	}
	return s.SetRecording(ctx, box, which, pcm)
}

const uploadHint = "upload a mono WAV file: 16-bit PCM at 8 or 16 kHz, or G.711 (µ-law or A-law) at 8 kHz " +
	"(sox greeting.mp3 -r 8000 -c 1 -b 16 greeting.wav makes one)"

// ConvertWAV returns the samples, at our 8 kHz, of a WAV file a phone
// call can play without guessing: mono 16-bit PCM at 8 or 16 kHz, or
// G.711 at 8 kHz. Anything else is refused rather than resampled badly.
func ConvertWAV(b []byte) ([]int16, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, store.Errorf(store.EINVALID, "this is not a WAV file: %s", uploadHint)
	}
	var format, channels, bits uint16
	var rate uint32
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		if size > len(body) || size < 0 {
			size = len(body)
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, store.Errorf(store.EINVALID, "the WAV file's format header is damaged: %s", uploadHint)
			}
			format, channels = binary.LittleEndian.Uint16(body[0:]), binary.LittleEndian.Uint16(body[2:])
			rate, bits = binary.LittleEndian.Uint32(body[4:]), binary.LittleEndian.Uint16(body[14:])
			if format == 0xfffe && size >= 26 { // WAVE_FORMAT_EXTENSIBLE: the real tag opens the sub-format GUID
				format = binary.LittleEndian.Uint16(body[24:])
			}
		case "data":
			if format == 0 {
				return nil, store.Errorf(store.EINVALID, "the WAV file has no format header before its audio: %s", uploadHint)
			}
			return convertSamples(body, format, channels, bits, rate)
		}
		off += 8 + size + size&1
	}
	return nil, store.Errorf(store.EINVALID, "the WAV file holds no audio: %s", uploadHint)
}

func convertSamples(body []byte, format, channels, bits uint16, rate uint32) ([]int16, error) {
	refuse := func(what string) error {
		return store.Errorf(store.EINVALID, "the WAV file is %s, which we cannot play: %s", what, uploadHint)
	}
	if channels != 1 {
		return nil, refuse(fmt.Sprintf("%d-channel", channels))
	}
	switch {
	case format == 1 && bits == 16 && (rate == 8000 || rate == 16000):
		pcm := make([]int16, len(body)/2)
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
		}
		if rate == 16000 {
			// Each output sample is the mean of two: a crude low-pass
			// that keeps speech and folds little above 4 kHz back in.
			for i := 0; i+1 < len(pcm); i += 2 {
				pcm[i/2] = int16((int32(pcm[i]) + int32(pcm[i+1])) / 2)
			}
			pcm = pcm[:len(pcm)/2]
		}
		return pcm, nil
	case (format == 6 || format == 7) && bits == 8 && rate == 8000:
		decode := g711.DecodeAlawFrame
		if format == 7 {
			decode = g711.DecodeUlawFrame
		}
		pcm := make([]int16, len(body))
		for i, c := range body {
			pcm[i] = decode(c)
		}
		return pcm, nil
	case format == 1:
		return nil, refuse(fmt.Sprintf("%d-bit PCM at %d Hz", bits, rate))
	case format == 6 || format == 7:
		return nil, refuse(fmt.Sprintf("G.711 at %d Hz", rate))
	}
	return nil, refuse(fmt.Sprintf("compressed (format %#x)", format))
}
