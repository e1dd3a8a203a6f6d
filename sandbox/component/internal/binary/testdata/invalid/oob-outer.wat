;; an outer alias counting past the outermost component
;; want: component: at byte offset 0xd: outer alias count 2 exceeds the 0 enclosing scopes
(component
  (alias outer 2 0 (type))
)
