package voicemail

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Messages are stored as WAV, 8 kHz 16-bit linear PCM mono: what the
// call carried (G.711 decodes to exactly this), and what every browser's
// audio element plays, so the admin page can offer them as they are.
const (
	sampleRate = 8000
	wavHeader  = 44
)

// encodeWAV returns pcm as a complete WAV file.
func encodeWAV(pcm []int16) []byte {
	data := 2 * len(pcm)
	b := make([]byte, wavHeader, wavHeader+data)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+data))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)           // fmt chunk size
	binary.LittleEndian.PutUint16(b[20:], 1)            // PCM
	binary.LittleEndian.PutUint16(b[22:], 1)            // mono
	binary.LittleEndian.PutUint32(b[24:], sampleRate)   // samples per second
	binary.LittleEndian.PutUint32(b[28:], sampleRate*2) // bytes per second
	binary.LittleEndian.PutUint16(b[32:], 2)            // bytes per frame
	binary.LittleEndian.PutUint16(b[34:], 16)           // bits per sample
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(data))
	for _, s := range pcm {
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
	}
	return b
}

// ErrNotOurWAV is ReadWAV's answer for anything but 8 kHz 16-bit PCM
// mono WAV.
var ErrNotOurWAV = errors.New("voicemail: not an 8 kHz 16-bit mono PCM WAV file")

// DecodeWAV returns the samples of an 8 kHz 16-bit mono PCM WAV file,
// skipping chunks other than fmt and data (LIST, fact...) that other
// tools add.
func DecodeWAV(b []byte) ([]int16, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, ErrNotOurWAV
	}
	fmtOK := false
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		if size > len(body) {
			size = len(body) // a header written before the recording ended
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if size < 16 || binary.LittleEndian.Uint16(body[0:]) != 1 || binary.LittleEndian.Uint16(body[2:]) != 1 ||
				binary.LittleEndian.Uint32(body[4:]) != sampleRate || binary.LittleEndian.Uint16(body[14:]) != 16 {
				return nil, ErrNotOurWAV
			}
			fmtOK = true
		case "data":
			if !fmtOK {
				return nil, ErrNotOurWAV
			}
			pcm := make([]int16, size/2)
			for i := range pcm {
				pcm[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return pcm, nil
		}
		off += 8 + size + size&1 // chunks are padded to even sizes
	}
	return nil, ErrNotOurWAV
}

// writeDurable writes b to dir/name, which must not exist, and makes it
// durable (file and directory entry) before returning: only then may a
// row name it.
func writeDurable(dir, name string, b []byte) error {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// readAll reads a file of the data directory.
func readFile(dir, name string) ([]byte, error) {
	f, err := os.Open(filepath.Join(dir, filepath.Base(name)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
