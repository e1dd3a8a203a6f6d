package jsonbridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// jsonKind is the kind of a parsed JSON value.
type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

// node is a parsed JSON value. Conversion to a component value needs the
// whole of an object before it can read it (a variant's "val" may come before
// its "tag"), so input is parsed into nodes first, checking syntax, nesting
// depth and duplicate keys on the way, and converted afterwards.
type node struct {
	kind    jsonKind
	boolean bool
	text    string   // the string, or the number exactly as written
	elems   []*node  // array elements
	members []member // object members, in input order
}

type member struct {
	key string
	val *node
}

// get returns the value of key in an object node.
func (n *node) get(key string) (*node, bool) {
	for _, m := range n.members {
		if m.key == key {
			return m.val, true
		}
	}
	return nil, false
}

// parseJSON parses exactly one JSON value from data. Errors are *Error at root
// or at the path inside the value where the problem is.
func parseJSON(data []byte, root *path) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := parseValue(dec, root, 0)
	if err != nil {
		return nil, err
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		return nil, root.errorf("invalid JSON: more data after the value, from offset %d", end)
	}
	return n, nil
}

func parseValue(dec *json.Decoder, p *path, depth int) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxError(dec, p, err)
	}
	switch tok := tok.(type) {
	case nil:
		return &node{kind: jsonNull}, nil
	case bool:
		return &node{kind: jsonBool, boolean: tok}, nil
	case json.Number:
		return &node{kind: jsonNumber, text: string(tok)}, nil
	case string:
		return &node{kind: jsonString, text: tok}, nil
	case json.Delim:
		if depth >= MaxDepth {
			return nil, p.errorf("JSON nested more than %d levels deep", MaxDepth)
		}
		n := &node{kind: jsonArray}
		if tok == '{' {
			n.kind = jsonObject
		}
		var seen map[string]struct{}
		for dec.More() {
			if n.kind == jsonArray {
				elem, err := parseValue(dec, p.at(len(n.elems)), depth+1)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, elem)
				continue
			}
			keyTok, err := dec.Token()
			if err != nil {
				return nil, syntaxError(dec, p, err)
			}
			key, ok := keyTok.(string)
			if !ok {
				return nil, p.errorf("invalid JSON: object key is not a string at offset %d", dec.InputOffset())
			}
			if seen == nil {
				seen = make(map[string]struct{})
			}
			if _, dup := seen[key]; dup {
				return nil, p.errorf("duplicate key %s", quoteShort(key))
			}
			seen[key] = struct{}{}
			val, err := parseValue(dec, p.field(key), depth+1)
			if err != nil {
				return nil, err
			}
			n.members = append(n.members, member{key, val})
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, syntaxError(dec, p, err)
		}
		return n, nil
	}
	return nil, p.errorf("invalid JSON: unexpected token %v", tok)
}

func syntaxError(dec *json.Decoder, p *path, err error) *Error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return p.errorf("invalid JSON: unexpected end of input")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return p.errorf("invalid JSON at offset %d: %v", se.Offset, err)
	}
	return p.errorf("invalid JSON at offset %d: %v", dec.InputOffset(), err)
}

// describe says what a JSON value is, for "got …" in error messages.
func (n *node) describe() string {
	switch n.kind {
	case jsonNull:
		return "null"
	case jsonBool:
		return "boolean " + strconv.FormatBool(n.boolean)
	case jsonNumber:
		if len(n.text) > maxQuoted {
			return "number " + n.text[:maxQuoted] + "…"
		}
		return "number " + n.text
	case jsonString:
		return "string " + quoteShort(n.text)
	case jsonArray:
		return fmt.Sprintf("array of %d items", len(n.elems))
	}
	return "object"
}
