// Package jsonbridge connects component functions to MCP's JSON world: the
// tool name of an export function, its description from the component's
// package-docs section, the JSON Schemas of its parameters and results, and
// the conversion of JSON arguments into component values and of results back
// into JSON. The rules are WASSETTE-COMPAT.md's ("Tool names from component
// exports", "WIT → JSON Schema and values"); where that document leaves a
// choice open, the choice is recorded here, and it is the same in the schema,
// the decoder and the encoder, so whatever Encode produces validates against
// the schema and decodes back to the value it came from.
//
// Usage, for one export function ft at export path ["local:demo/tools@0.1.0", "greet"]:
//
//	in, err := jsonbridge.InputSchema(ft)         // error: not callable from JSON, and why
//	out, _ := jsonbridge.OutputSchema(ft)         // nil when ft returns nothing
//	args, err := jsonbridge.DecodeArgs(ft, raw)   // err is an *Error naming the bad field
//	results := call(args)                         // the canonical ABI's job
//	structured, text, err := jsonbridge.EncodeResults(ft, results)
//
// # JSON forms of WIT types
//
//	bool            true / false
//	s8 … u64        a JSON number with an integral value, within the type's range.
//	                3.0 and 3e2 are integral and accepted; 3.5 is not. Numbers are
//	                read exactly (never through float64), so u64 and s64 keep all
//	                their digits beyond 2^53 both ways. Strings are not numbers.
//	f32, f64        a JSON number; the three values JSON has no number for are the
//	                strings "NaN", "Infinity" and "-Infinity", both ways. A finite
//	                number too large for the type is an error, not infinity.
//	char            a string of exactly one Unicode code point. The schema says
//	                minLength/maxLength 1, which JSON Schema counts in code points;
//	                a validator that counts UTF-16 units would wrongly reject
//	                characters outside the Basic Multilingual Plane.
//	string          a string. encoding/json turns invalid UTF-8 and lone surrogate
//	                escapes into U+FFFD, so every decoded string is valid UTF-8.
//	list<T>         an array.
//	list<u8>        an array of numbers, or (input only) a base64 string, standard
//	                alphabet, padding optional. Encode always writes the array.
//	record          an object with every field, and no others.
//	tuple           an array of exactly the tuple's length.
//	variant         {"tag": case} or {"tag": case, "val": payload}.
//	enum            the case name as a string.
//	option<T>       null for none, the value of T for some — except when T is
//	                itself an option: then some(x) is {"some": x}, because a bare
//	                null could not tell none from some(none).
//	result<T, E>    {"ok": value} or {"err": value}; a side without a type is null.
//	flags           an array of the set flag names, no repeats, in any order on
//	                input and in declaration order on output.
//	own, borrow     no JSON form: the schema functions return an
//	                *UnrepresentableError naming the parameter, and the tool is
//	                not callable from JSON.
//
// # Decoding is strict, with three allowances
//
// Unknown object keys are errors (with a "did you mean" when one is close), and
// so are duplicate keys: parsers disagree on which duplicate wins, so accepting
// them would let a client and Tapedeck read different arguments. The allowances,
// for what Wassette's clients send:
//   - a missing parameter, record field or variant "val" whose type is an option
//     is none (the schema still lists it as required, as Wassette does);
//   - arguments that are absent or null mean {};
//   - a variant case without a payload may carry "val": null.
//
// # Limits
//
// JSON input nested deeper than MaxDepth arrays and objects is refused (an
// *Error) before any of it is converted, so a hostile argument cannot make
// conversion recurse without bound; a type nested deeper than MaxDepth has no
// schema and is not encoded (an *UnrepresentableError). Parsing, conversion
// and encoding are linear in the size of their input, and error messages
// quote at most a few dozen characters of it. A schema bigger than
// maxSchemaNodes (a type that reuses a large type many times over, small in
// the binary but exponential written out) is refused rather than built.
package jsonbridge
