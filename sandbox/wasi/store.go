package wasi

import (
	"context"
	"fmt"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// wasi:config/store@0.2.0-draft — served from Config.Store; without one the
// store is empty. A store error reaches the guest as upstream, except when
// the call's ctx is done: then the call ends.

func (h *Host) storeFuncs() map[string]map[string]hostFn {
	errT := h.valueType("wasi:config/store", "error")
	upstream := caseIndex(errT, "upstream")
	storeErr := func(err error) ([]any, error) {
		return one(errValue(types.VariantValue{Case: upstream, Value: err.Error()}))
	}
	return map[string]map[string]hostFn{
		"wasi:config/store": {
			"get": func(ctx context.Context, args []any) ([]any, error) {
				key, err := stringArg(args[0], "get")
				if err != nil {
					return nil, err
				}
				if h.cfg.Store == nil {
					return one(okValue(noneValue))
				}
				v, ok, err := h.cfg.Store.Get(ctx, key)
				if err != nil && ctx.Err() != nil {
					// The call ended while the key was decided (a person
					// was being asked): end the guest's call too.
					return nil, fmt.Errorf("wasi: config key %q: %w", key, err)
				}
				if err != nil {
					return storeErr(err)
				}
				if !ok {
					return one(okValue(noneValue))
				}
				return one(okValue(someValue(v)))
			},
			"get-all": func(ctx context.Context, _ []any) ([]any, error) {
				if h.cfg.Store == nil {
					return one(okValue([]any{}))
				}
				all, err := h.cfg.Store.GetAll(ctx)
				if err != nil {
					return storeErr(err)
				}
				list := make([]any, len(all))
				for i, kv := range all {
					list[i] = []any{kv[0], kv[1]}
				}
				return one(okValue(list))
			},
		},
	}
}
