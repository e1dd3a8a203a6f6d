;; A resource defined and exported by the component, with a destructor,
;; resource.new/rep/drop, and annotated [constructor]/[method]/[static] exports.
(component
  (core module $m
    (func (export "dtor") (param i32))
    (func (export "ctor") (param i32) (result i32) local.get 0)
    (func (export "get") (param i32) (result i32) local.get 0)
    (func (export "merge") (param i32 i32) (result i32) local.get 0)
  )
  (core instance $i (instantiate $m))
  (type $counter (resource (rep i32) (dtor (core func $i "dtor"))))
  (core func $new (canon resource.new $counter))
  (core func $rep (canon resource.rep $counter))
  (core func $drop (canon resource.drop $counter))
  (export $c "counter" (type $counter))
  (type $own (own $c))
  (type $borrow (borrow $c))
  (func (export "[constructor]counter") (param "start" u32) (result $own)
    (canon lift (core func $i "ctor")))
  (func (export "[method]counter.get") (param "self" $borrow) (result u32)
    (canon lift (core func $i "get")))
  (func (export "[static]counter.merge") (param "a" $borrow) (param "b" $borrow) (result $own)
    (canon lift (core func $i "merge")))
)
