;; a value type that refers to a function type
;; want: component: at byte offset 0x10: type 0 is a func type, not a value type
(component
  (type $f (func))
  (type (list $f))
)
