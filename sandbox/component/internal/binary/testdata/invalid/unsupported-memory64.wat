;; an embedded core module with a 64-bit memory
;; want: component: at byte offset 0x15: 64-bit memory or table limits (flags 0x4; the memory64 proposal) (not supported by Tapedeck, which runs WASI 0.2 components)
(component
  (core module (memory i64 1))
)
