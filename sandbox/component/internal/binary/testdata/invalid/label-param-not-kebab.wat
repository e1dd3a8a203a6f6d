;; a parameter name that is not kebab case
;; want: component: at byte offset 0xd: param name: `my_param` is not in kebab case
(component
  (type (func (param "my_param" u8)))
)
