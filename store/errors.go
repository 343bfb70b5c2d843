package store

import (
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"
)

// Application error codes; callers map them to exit codes, SIP or HTTP
// statuses without parsing messages.
const (
	ECONFLICT = "conflict"
	EINVALID  = "invalid"
	ENOTFOUND = "not_found"
	EINTERNAL = "internal"
)

// Error is an error whose Message is safe to show to the person who caused it.
type Error struct {
	Code string
	// Field names the input the error is about, as the forms and the API
	// name it ("number", "hotdesk_id", "company_pin"...); "" when the
	// error is about the request as a whole.
	Field   string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an *Error about input field.
func FieldErrorf(field, code, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// invalidf is an EINVALID error about field.
func invalidf(field, format string, args ...any) *Error {
	return FieldErrorf(field, EINVALID, format, args...)
}

// FieldOf returns the input field err is about, "" if none.
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorCode returns the application code of err, EINTERNAL for foreign errors.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique
}

func isConstraintViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint
}
