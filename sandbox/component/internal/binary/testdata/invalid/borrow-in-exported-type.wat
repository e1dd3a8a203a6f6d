;; an exported type containing a borrow
;; want: component: at byte offset 0x1d: exported type "rec" contains a borrow handle; borrows may appear only in function parameters
(component
  (import "r" (type $r (sub resource)))
  (type $b (borrow $r))
  (type $rec (record (field "x" $b)))
  (export "rec" (type $rec))
)
