;; a resource whose representation is not i32
;; want: component: at byte offset 0xb: resource representation 0x7e is not i32
(component
  (type (resource (rep i64)))
)
