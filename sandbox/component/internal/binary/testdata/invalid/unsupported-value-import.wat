;; a value import
;; want: component: at byte offset 0xe: value import or export (a gated 🪙 feature) (not supported by Tapedeck, which runs WASI 0.2 components)
(component
  (import "v" (value u32))
)
