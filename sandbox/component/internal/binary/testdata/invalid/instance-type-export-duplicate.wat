;; An instance type with two exports of the same name.
;; want: component: at byte offset 0x1e: export name "f" conflicts with previous name "f" (a duplicate)
(component
  (type (instance (export "f" (func)) (export "f" (func))))
)
