;; a resource type defined inside an instance type
;; want: component: at byte offset 0xd: resource types cannot be defined inside component or instance types; declare them with (export "name" (type (sub resource)))
(component
  (type (instance (type (resource (rep i32)))))
)
