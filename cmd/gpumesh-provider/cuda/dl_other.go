//go:build !linux

package cuda

import (
	"fmt"
	"runtime"
)

func dlopen(name string) (uintptr, error) {
	return 0, fmt.Errorf("the CUDA backend loads %s on Linux only (GOOS=%s)", name, runtime.GOOS)
}

func dlsym(lib uintptr, name string) (uintptr, error) {
	return 0, fmt.Errorf("no dynamic loading on %s", runtime.GOOS)
}

func bindSymbols(lib uintptr, libName string, syms []symbol) error {
	return fmt.Errorf("no dynamic loading on %s", runtime.GOOS)
}
