//go:build !linux

package media

import "errors"

// UseRealtime is Linux's only; elsewhere media runs at normal priority.
func UseRealtime(prio int) error {
	if prio <= 0 {
		return nil
	}
	return errors.New("real-time scheduling is set on Linux only")
}

func mediaThread() (done func()) { return func() {} }
