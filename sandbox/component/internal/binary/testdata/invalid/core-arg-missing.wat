;; a core module imports from a module name no argument supplies
;; want: component: at byte offset 0x31: core module 0 imports "f" from module "env", but no core instantiation argument is named "env"
(component
  (core module $m (import "env" "f" (func)))
  (core instance (instantiate $m))
)
