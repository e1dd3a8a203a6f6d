;; Core type definitions, including a module type, and a module import.
(component
  (core type $ft (func (param i32) (result i64)))
  (core type $mt (module
    (type $t (func (param i32)))
    (import "env" "f" (func (type $t)))
    (alias outer 1 $ft (type $outer))
    (export "g" (func (type $outer)))
    (export "mem" (memory 1))
  ))
  (import "plugin" (core module (type $mt)))
)
