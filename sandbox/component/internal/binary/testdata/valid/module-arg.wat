;; Core module and component values passed to a nested component.
(component
  (core module $m (func (export "f")) (memory (export "mem") 1))
  (component $arg (type $t u8) (export "x" (type $t)))
  (component $c
    (import "m" (core module (export "f" (func))))
    (import "plugin" (component (type u8) (export "x" (type (eq 0)))))
  )
  (instance (instantiate $c (with "m" (core module $m)) (with "plugin" (component $arg))))
)
