//go:build linux

package cuda

import (
	"errors"
	"fmt"

	"github.com/ebitengine/purego"
)

// dlopen loads a shared library by soname (searched the way dlopen(3)
// searches: LD_LIBRARY_PATH, the ld.so cache, the default directories).
func dlopen(name string) (uintptr, error) {
	return purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL)
}

// dlsym returns the address of an exported function.
func dlsym(lib uintptr, name string) (uintptr, error) {
	return purego.Dlsym(lib, name)
}

// bindSymbols binds every symbol of syms from lib into its func variable,
// failing (instead of purego's panic) when one is missing.
func bindSymbols(lib uintptr, libName string, syms []symbol) error {
	for _, s := range syms {
		addr, err := purego.Dlsym(lib, s.name)
		if err == nil && addr == 0 {
			err = errors.New("address 0")
		}
		if err != nil {
			return fmt.Errorf("%s has no %s (too old?): %w", libName, s.name, err)
		}
		purego.RegisterFunc(s.fptr, addr)
	}
	return nil
}
