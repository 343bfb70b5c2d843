package store

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// HA1MD5 is the digest HA1 for MD5: H(user:realm:password).
func HA1MD5(user, realm, password string) string {
	sum := md5.Sum([]byte(user + ":" + realm + ":" + password))
	return hex.EncodeToString(sum[:])
}

// HA1SHA256 is the digest HA1 for SHA-256 (RFC 8760).
func HA1SHA256(user, realm, password string) string {
	sum := sha256.Sum256([]byte(user + ":" + realm + ":" + password))
	return hex.EncodeToString(sum[:])
}

// pinIterations is deliberately modest. A PIN has so few possible values
// that no hash makes a stolen database safe; the hash only keeps PINs from
// being read at a glance, and the real defence is the online lockout. A
// costlier hash would add milliseconds to every hot-desk login.
const pinIterations = 1000

// HashPIN returns a salted PBKDF2-SHA256 hash of pin.
func HashPIN(pin string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	return hashPINWith(pin, salt, pinIterations)
}

func hashPINWith(pin string, salt []byte, iter int) string {
	key, _ := pbkdf2.Key(sha256.New, pin, salt, iter, 32)
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", iter,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPIN reports whether pin matches hash, in constant time.
func CheckPIN(hash, pin string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > 10_000_000 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	want := hashPINWith(pin, salt, iter)
	return hmac.Equal([]byte(want), []byte(hash))
}
