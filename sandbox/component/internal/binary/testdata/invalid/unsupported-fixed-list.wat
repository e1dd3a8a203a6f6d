;; a fixed-length list type
;; want: component: at byte offset 0xb: fixed-length list type (0x67; a gated 🔧 feature) (not supported by Tapedeck, which runs WASI 0.2 components)
(component
  (type (list u8 4))
)
