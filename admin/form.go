package admin

import (
	"errors"
	"net/http"
	"sort"
	"strings"

	"deskpbx/store"
)

// form is what the browser typed and what was wrong with it, so a refused
// form comes back as it was, with each message beside its field.
type form struct {
	Values  map[string]string
	Errors  map[string]string
	Message string // about the form as a whole
}

func newForm(r *http.Request) *form {
	f := &form{Values: map[string]string{}, Errors: map[string]string{}}
	if r != nil && r.Method == http.MethodPost {
		r.ParseMultipartForm(maxFormBytes)
		for k, v := range r.PostForm {
			if k != "csrf" && len(v) > 0 {
				f.Values[k] = v[0]
			}
		}
	}
	return f
}

func (f *form) set(kv ...string) *form {
	for i := 0; i+1 < len(kv); i += 2 {
		f.Values[kv[i]] = kv[i+1]
	}
	return f
}

// apply takes an operation's error into the form: field errors beside
// their fields, other refusals as the form's message. It reports whether
// the error was of that kind, i.e. the form should be shown again.
func (f *form) apply(err error) bool {
	var inv invalid
	if errors.As(err, &inv) {
		for k, v := range inv {
			if k == "" {
				f.Message = v
			} else {
				f.Errors[k] = v
			}
		}
		if f.Message == "" {
			f.Message = "Please correct the marked fields."
		}
		return true
	}
	var se *store.Error
	if errors.As(err, &se) && (se.Code == store.EINVALID || se.Code == store.ECONFLICT) {
		f.Message = se.Message
		return true
	}
	return false
}

// fieldError puts a store refusal (EINVALID or ECONFLICT) beside the
// field it names, or fallback when it names none; other errors pass.
func fieldError(err error, fallback string) error {
	var se *store.Error
	if !errors.As(err, &se) || se.Code != store.EINVALID && se.Code != store.ECONFLICT {
		return err
	}
	field := se.Field
	if field == "" {
		field = fallback
	}
	return invalid{field: upperFirst(se.Message)}
}

// invalid is bad input, by field name ("" for the input as a whole).
type invalid map[string]string

func (v invalid) Error() string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	msgs := make([]string, len(keys))
	for i, k := range keys {
		msgs[i] = v[k]
	}
	return strings.Join(msgs, "; ")
}

// check records err's message against field, if err is not nil.
func (v invalid) check(field string, err error) {
	if err == nil {
		return
	}
	if _, seen := v[field]; seen {
		return
	}
	v[field] = upperFirst(err.Error())
}

func (v invalid) err() error {
	if len(v) == 0 {
		return nil
	}
	return v
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
