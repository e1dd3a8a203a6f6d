;; the error-context type
;; want: component: at byte offset 0xc: error-context type (0x64) (not supported by Tapedeck, which runs WASI 0.2 components)
(component
  (type (list error-context))
)
