;; Outer aliases of types into a nested component and into an instance type.
(component
  (type $point (record (field "x" u8)))
  (type $i (instance
    (alias outer 1 $point (type $p))
    (export "get" (func (result $p)))
  ))
  (import "points" (instance (type $i)))
  (component
    (alias outer 1 $point (type $p))
    (import "f" (func (param "p" $p)))
  )
)
