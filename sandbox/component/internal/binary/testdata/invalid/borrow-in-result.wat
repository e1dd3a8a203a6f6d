;; a function type returning a borrow
;; want: component: at byte offset 0x17: function result type contains a borrow handle; borrows may appear only in parameters
(component
  (import "r" (type $r (sub resource)))
  (type $b (borrow $r))
  (type (func (result $b)))
)
