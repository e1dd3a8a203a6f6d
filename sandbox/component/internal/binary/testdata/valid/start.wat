;; A component start function that takes and returns nothing.
(component
  (import "init" (func $init))
  (start $init)
)
