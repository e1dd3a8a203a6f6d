;; A component type with imports and exports of every kind, including a
;; resource it exports: an import of a component of that type.
(component
  (type $ct (component
    (import "r" (type $r (sub resource)))
    (type $own (own $r))
    (import "wasi:cli/env@0.2.0" (instance (export "get" (func (result string)))))
    (export "e" (type $e (sub resource)))
    (type $own-e (own $e))
    (export "make" (func (param "r" $own) (result $own-e)))
    (core type $mt (module (export "memory" (memory 1))))
    (export "m" (core module (type $mt)))
  ))
  (import "plugin" (component $p (type $ct)))
  (import "res" (type $res (sub resource)))
  (import "env" (instance $env (export "get" (func (result string)))))
  (instance $i (instantiate $p (with "r" (type $res)) (with "wasi:cli/env@0.2.0" (instance $env))))
  (alias export $i "e" (type $e))
  (export "e" (type $e))
  (alias export $i "make" (func $make))
  (export "make" (func $make))
)
