;; an export of a func index that does not exist
;; want: component: at byte offset 0xf: func index 0 out of range (0 defined so far)
(component
  (export "f" (func 0))
)
