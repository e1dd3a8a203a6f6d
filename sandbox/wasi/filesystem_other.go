//go:build !unix

package wasi

import "context"

// wasi:filesystem on systems other than unix — no preopened directories, so a guest can hold no
// descriptor; every descriptor operation is still served, typed, and returns
// error-code access, so that a component importing the interface links and a
// guest that somehow asks is refused rather than trapped.

func (h *Host) filesystemFuncs() map[string]map[string]hostFn {
	const iface = "wasi:filesystem/types"
	fsTypes := h.denyAll(iface, "access")
	fsTypes["[method]descriptor.is-same-object"] = unreachable(iface, "[method]descriptor.is-same-object",
		"no descriptor exists: Tapedeck preopens no directory")
	// No error this host reports comes from a file system.
	fsTypes["filesystem-error-code"] = func(context.Context, []any) ([]any, error) { return one(noneValue) }
	return map[string]map[string]hostFn{
		iface: fsTypes,
		"wasi:filesystem/preopens": {
			"get-directories": func(context.Context, []any) ([]any, error) { return one([]any{}) },
		},
	}
}
