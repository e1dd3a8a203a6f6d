package jsonbridge_test

import (
	"fmt"

	"tapedeck.dev/tapedeck/sandbox/component/internal/jsonbridge"
	"tapedeck.dev/tapedeck/sandbox/component/types"
)

func Example() {
	// resolve-library-id: func(name: string, limit: option<u8>) -> result<string, string>
	ft := &types.Func{
		Params: []types.Param{
			{Name: "name", Type: types.StringType},
			{Name: "limit", Type: types.OptionOf(types.U8Type)},
		},
		Results: []types.Param{{Type: types.ResultOf(types.StringType, types.StringType)}},
	}
	fmt.Println(jsonbridge.ToolName("local:context7/context7@0.1.0", "resolve-library-id"))

	_, err := jsonbridge.DecodeArgs(ft, []byte(`{"nmae": "react"}`))
	fmt.Println(err)
	_, err = jsonbridge.DecodeArgs(ft, []byte(`{"name": "react", "limit": 300}`))
	fmt.Println(err)
	args, _ := jsonbridge.DecodeArgs(ft, []byte(`{"name": "react"}`))
	fmt.Printf("%#v\n", args)

	structured, text, _ := jsonbridge.EncodeResults(ft, []any{types.VariantValue{Case: 0, Value: "/facebook/react"}})
	fmt.Println(string(structured))
	fmt.Println(text)
	// Output:
	// local_context7_context7_0_1_0_resolve-library-id
	// arguments: unknown parameter "nmae" (did you mean "name"?)
	// arguments.limit: 300 is out of range for u8 (0..255)
	// []interface {}{"react", types.VariantValue{Case:0x0, Value:interface {}(nil)}}
	// {"result":{"ok":"/facebook/react"}}
	// {"ok":"/facebook/react"}
}
