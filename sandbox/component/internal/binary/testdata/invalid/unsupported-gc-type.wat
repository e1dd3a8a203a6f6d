;; an embedded core module with a GC struct type
;; want: component: at byte offset 0x15: core type form 0x5f (the GC proposal) (not supported by Tapedeck, which runs WASI 0.2 components)
(component
  (core module (type (struct)))
)
