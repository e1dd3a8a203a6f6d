;; a record with two fields of the same name
;; want: component: at byte offset 0x10: record field name "A" conflicts with previous name "a" (names must differ in more than case and annotations)
(component
  (type (record (field "a" u8) (field "A" u8)))
)
