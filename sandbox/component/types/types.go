// Package types describes Component Model value and function types and the Go
// values that carry them. It is the vocabulary shared by the component decoder,
// the canonical ABI, the JSON bridge and the host interfaces (WASI and others):
// each of those speaks in *Type, *Func and the value representations below, and
// none of them needs to know how the others work.
//
// # Values
//
// A component value is a Go value whose dynamic type follows its *Type:
//
//	bool                      bool
//	s8 s16 s32 s64            int8 int16 int32 int64
//	u8 u16 u32 u64            uint8 uint16 uint32 uint64
//	f32 f64                   float32 float64
//	char                      rune (a Unicode scalar value)
//	string                    string (valid UTF-8)
//	list<T>                   []any
//	record, tuple             []any, one element per field, in declaration order
//	variant                   VariantValue{Case, Value} (Value nil when the case has no payload)
//	enum                      VariantValue{Case} (never a payload)
//	option<T>                 VariantValue{Case: 0} for none, VariantValue{Case: 1, Value: v} for some
//	result<T, E>              VariantValue{Case: 0, Value: ok} or VariantValue{Case: 1, Value: err}
//	flags                     uint32, bit i set when label i is set (0.2 allows at most 32 labels)
//	own<R>, borrow<R>         Handle
//
// option, result and enum share VariantValue with variant because the canonical ABI
// lays them out as variants; their case order is fixed as shown.
package types

import (
	"fmt"
	"strings"
)

// Kind names a Component Model value type.
type Kind uint8

// The value type kinds of the Component Model (WASI 0.2 subset: no async,
// no fixed-length lists, no error-context).
const (
	Bool Kind = iota + 1
	S8
	U8
	S16
	U16
	S32
	U32
	S64
	U64
	F32
	F64
	Char
	String
	List
	Record
	Tuple
	Variant
	Enum
	Option
	Result
	Flags
	Own
	Borrow
)

var kindNames = [...]string{
	Bool: "bool", S8: "s8", U8: "u8", S16: "s16", U16: "u16", S32: "s32", U32: "u32",
	S64: "s64", U64: "u64", F32: "f32", F64: "f64", Char: "char", String: "string",
	List: "list", Record: "record", Tuple: "tuple", Variant: "variant", Enum: "enum",
	Option: "option", Result: "result", Flags: "flags", Own: "own", Borrow: "borrow",
}

// String returns the WIT spelling of the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// IsPrimitive reports whether k has no type parameters.
func (k Kind) IsPrimitive() bool { return k >= Bool && k <= String }

// Type is a resolved Component Model value type. Types are trees with no
// indices left in them; a *Type is immutable once built and safe to share.
// Which fields are set depends on Kind:
//
//	List, Option      Elem
//	Record, Tuple     Fields (tuple fields have empty names)
//	Variant           Cases (a case's Type is nil when it has no payload)
//	Enum, Flags       Labels
//	Result            OK, Err (either may be nil)
//	Own, Borrow       Resource
type Type struct {
	Kind     Kind
	Elem     *Type
	Fields   []Field
	Cases    []Case
	Labels   []string
	OK, Err  *Type
	Resource *Resource

	// Name is the name the component gave this type where it exported or
	// imported it (a WIT type name such as "point"); empty for anonymous types.
	// It is documentation only: two types with different names can be equal.
	Name string
}

// Field is a record field or a tuple element.
type Field struct {
	Name string // empty for tuple elements
	Type *Type
}

// Case is a variant case; Type is nil when the case carries no payload.
type Case struct {
	Name string
	Type *Type
}

// Resource identifies a resource type. Identity is the pointer: every
// resource type definition (a guest's `(resource …)` or a host interface's
// resource) is one *Resource, and two handles have the same resource type
// only when their *Resource pointers are equal.
type Resource struct {
	// Name is the resource's WIT name, such as "output-stream".
	Name string
	// Interface names the interface that defines it, such as "wasi:io/streams@0.2.3";
	// empty for a resource defined by a component itself.
	Interface string
}

// Param is a named function parameter or result.
type Param struct {
	Name string
	Type *Type
}

// Func is a component function type. Results holds zero results, one unnamed
// result (Name ""), or named results.
type Func struct {
	Params  []Param
	Results []Param
}

// VariantValue is the value of a variant, enum, option or result type.
type VariantValue struct {
	Case  uint32
	Value any
}

// Handle is the value of an own<R> or borrow<R> type as the host sees it.
//
// For a resource the guest defines, Rep is the guest's representation (an i32
// it chose in resource.new) and Host is nil. For a resource the host defines,
// Host is the Go object behind the handle and Rep is unused; the runtime maps
// guest handle indices to these objects.
type Handle struct {
	Resource *Resource
	Rep      uint32
	Host     any
}

// Primitive types, shared because they carry no parameters.
var (
	BoolType   = &Type{Kind: Bool}
	S8Type     = &Type{Kind: S8}
	U8Type     = &Type{Kind: U8}
	S16Type    = &Type{Kind: S16}
	U16Type    = &Type{Kind: U16}
	S32Type    = &Type{Kind: S32}
	U32Type    = &Type{Kind: U32}
	S64Type    = &Type{Kind: S64}
	U64Type    = &Type{Kind: U64}
	F32Type    = &Type{Kind: F32}
	F64Type    = &Type{Kind: F64}
	CharType   = &Type{Kind: Char}
	StringType = &Type{Kind: String}
)

// ListOf returns list<elem>.
func ListOf(elem *Type) *Type { return &Type{Kind: List, Elem: elem} }

// OptionOf returns option<elem>.
func OptionOf(elem *Type) *Type { return &Type{Kind: Option, Elem: elem} }

// ResultOf returns result<ok, err>; either may be nil.
func ResultOf(ok, err *Type) *Type { return &Type{Kind: Result, OK: ok, Err: err} }

// TupleOf returns tuple<elems...>.
func TupleOf(elems ...*Type) *Type {
	t := &Type{Kind: Tuple, Fields: make([]Field, len(elems))}
	for i, e := range elems {
		t.Fields[i].Type = e
	}
	return t
}

// RecordOf returns a record with the given fields.
func RecordOf(fields ...Field) *Type { return &Type{Kind: Record, Fields: fields} }

// VariantOf returns a variant with the given cases.
func VariantOf(cases ...Case) *Type { return &Type{Kind: Variant, Cases: cases} }

// EnumOf returns an enum with the given labels.
func EnumOf(labels ...string) *Type { return &Type{Kind: Enum, Labels: labels} }

// FlagsOf returns a flags type with the given labels.
func FlagsOf(labels ...string) *Type { return &Type{Kind: Flags, Labels: labels} }

// OwnOf returns own<r>.
func OwnOf(r *Resource) *Type { return &Type{Kind: Own, Resource: r} }

// BorrowOf returns borrow<r>.
func BorrowOf(r *Resource) *Type { return &Type{Kind: Borrow, Resource: r} }

// Equal reports whether a and b are the same type structurally, as the
// Component Model's subtyping-free 0.2 type check requires: names of records,
// variants and their fields and cases count; Type.Name does not; resources
// compare by identity.
func Equal(a, b *Type) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil || a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case List, Option:
		return Equal(a.Elem, b.Elem)
	case Record, Tuple:
		if len(a.Fields) != len(b.Fields) {
			return false
		}
		for i := range a.Fields {
			if a.Fields[i].Name != b.Fields[i].Name || !Equal(a.Fields[i].Type, b.Fields[i].Type) {
				return false
			}
		}
	case Variant:
		if len(a.Cases) != len(b.Cases) {
			return false
		}
		for i := range a.Cases {
			if a.Cases[i].Name != b.Cases[i].Name || !Equal(a.Cases[i].Type, b.Cases[i].Type) {
				return false
			}
		}
	case Enum, Flags:
		if len(a.Labels) != len(b.Labels) {
			return false
		}
		for i := range a.Labels {
			if a.Labels[i] != b.Labels[i] {
				return false
			}
		}
	case Result:
		return Equal(a.OK, b.OK) && Equal(a.Err, b.Err)
	case Own, Borrow:
		return a.Resource == b.Resource
	}
	return true
}

// EqualFunc reports whether two function types are equal: same parameter and
// result names, in order, with equal types.
func EqualFunc(a, b *Func) bool {
	return equalParams(a.Params, b.Params) && equalParams(a.Results, b.Results)
}

func equalParams(a, b []Param) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !Equal(a[i].Type, b[i].Type) {
			return false
		}
	}
	return true
}

// String returns the type in WIT syntax, such as "list<option<string>>".
// Records, variants, enums and flags print as their Name when they have one.
func (t *Type) String() string {
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *Type) write(b *strings.Builder) {
	if t == nil {
		b.WriteString("_")
		return
	}
	switch t.Kind {
	case List, Option:
		b.WriteString(t.Kind.String())
		b.WriteByte('<')
		t.Elem.write(b)
		b.WriteByte('>')
	case Tuple:
		b.WriteString("tuple<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			f.Type.write(b)
		}
		b.WriteByte('>')
	case Result:
		b.WriteString("result")
		if t.OK != nil || t.Err != nil {
			b.WriteByte('<')
			t.OK.write(b)
			b.WriteString(", ")
			t.Err.write(b)
			b.WriteByte('>')
		}
	case Own, Borrow:
		if t.Kind == Borrow {
			b.WriteString("borrow<")
		} else {
			b.WriteString("own<")
		}
		if t.Resource != nil {
			b.WriteString(t.Resource.Name)
		}
		b.WriteByte('>')
	case Record, Variant, Enum, Flags:
		if t.Name != "" {
			b.WriteString(t.Name)
			return
		}
		b.WriteString(t.Kind.String())
		b.WriteString(" {")
		switch t.Kind {
		case Record:
			for i, f := range t.Fields {
				if i > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(b, " %s: %s", f.Name, f.Type)
			}
		case Variant:
			for i, c := range t.Cases {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString(" " + c.Name)
				if c.Type != nil {
					fmt.Fprintf(b, "(%s)", c.Type)
				}
			}
		default:
			for i, l := range t.Labels {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString(" " + l)
			}
		}
		b.WriteString(" }")
	default:
		b.WriteString(t.Kind.String())
	}
}

// String returns the function type in WIT syntax, such as "func(a: u32) -> string".
func (f *Func) String() string {
	var b strings.Builder
	b.WriteString("func(")
	for i, p := range f.Params {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %s", p.Name, p.Type)
	}
	b.WriteString(")")
	switch {
	case len(f.Results) == 1 && f.Results[0].Name == "":
		fmt.Fprintf(&b, " -> %s", f.Results[0].Type)
	case len(f.Results) > 0:
		b.WriteString(" -> (")
		for i, p := range f.Results {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s: %s", p.Name, p.Type)
		}
		b.WriteString(")")
	}
	return b.String()
}
