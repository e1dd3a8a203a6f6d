;; a stream type
;; want: component: at byte offset 0xb: stream type (0x66; the async ABI) (not supported by Tapedeck, which runs WASI 0.2 components)
(component
  (type (stream u8))
)
