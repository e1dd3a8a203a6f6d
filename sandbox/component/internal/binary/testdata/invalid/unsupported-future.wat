;; a future type
;; want: component: at byte offset 0xb: future type (0x65; the async ABI) (not supported by Tapedeck, which runs WASI 0.2 components)
(component
  (type (future))
)
