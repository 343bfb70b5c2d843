//go:build !linux

package main

import "errors"

func setRealtime(prio int) error {
	return errors.New("real-time scheduling is set on Linux only")
}
