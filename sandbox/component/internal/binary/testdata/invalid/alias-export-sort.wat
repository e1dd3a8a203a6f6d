;; an alias whose sort differs from the export's kind
;; want: component: at byte offset 0x23: export "f" of instance 0 is a func, not an instance
(component
  (import "i" (instance $i (export "f" (func))))
  (alias export $i "f" (instance))
)
