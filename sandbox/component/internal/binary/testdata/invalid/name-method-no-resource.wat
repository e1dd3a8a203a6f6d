;; a [method] name whose resource was not imported before it
;; want: component: at byte offset 0x12: import "[method]r.m": no resource named "r" was imported before it in this scope
(component
  (import "[method]r.m" (func))
)
