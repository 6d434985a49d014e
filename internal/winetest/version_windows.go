package winetest

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

// version asks Wine's ntdll, which exports wine_get_version (Windows' does
// not).
var version = sync.OnceValue(func() string {
	proc := windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version")
	if proc.Find() != nil {
		return ""
	}
	r, _, _ := proc.Call()
	// A C string in ntdll's static data, not Go memory.
	return windows.BytePtrToString(*(**byte)(unsafe.Pointer(&r)))
})
