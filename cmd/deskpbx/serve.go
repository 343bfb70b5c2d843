package main

import "errors"

// runServe runs the PBX until SIGINT/SIGTERM. (Being written: pbx wiring.)
func runServe(args []string) error {
	return errors.New("serve: not yet wired")
}
