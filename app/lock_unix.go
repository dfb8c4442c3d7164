//go:build unix

package app

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockData takes an exclusive lock on the data directory, so two exchanges
// never write one journal and store: the second is refused at once. The
// kernel drops the lock with the process, kill -9 included. release(true)
// after a failed start also removes the directory if this call made it and
// nothing else was written there.
func lockData(dir string) (release func(failed bool), err error) {
	_, statErr := os.Stat(dir)
	fresh := os.IsNotExist(statErr)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("app: data directory: %w", err)
	}
	lock := filepath.Join(dir, "LOCK")
	f, err := os.OpenFile(lock, os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("app: data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("app: data directory %s is in use by another exchange (%v)", dir, err)
	}
	return func(failed bool) {
		if failed && fresh {
			if ents, err := os.ReadDir(dir); err == nil && len(ents) == 1 {
				_ = os.Remove(lock)
				_ = os.Remove(dir)
			}
		}
		f.Close()
	}, nil
}
