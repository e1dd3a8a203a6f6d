;; an async function type
;; want: component: at byte offset 0xb: async function type (0x43; the async ABI) (not supported by Tapedeck, which runs WASI 0.2 components)
(component
  (type (func async))
)
