package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"tapedeck.dev/tapedeck/sandbox/store"
)

func Example() {
	tmp, err := os.MkdirTemp("", "store-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)

	// An empty component (just the preamble) with a policy beside it.
	src := filepath.Join(tmp, "weather.wasm")
	os.WriteFile(src, []byte{0x00, 'a', 's', 'm', 0x0d, 0x00, 0x01, 0x00}, 0o644)
	os.WriteFile(filepath.Join(tmp, "weather.policy.yaml"), []byte("version: \"1.0\"\n"), 0o644)

	f, err := store.Fetch(context.Background(), src, store.FetchOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("fetched", f.ID, "with a bundled policy:", f.BundledPolicy != nil)

	st, err := store.Open(filepath.Join(tmp, "components"))
	if err != nil {
		log.Fatal(err)
	}
	// The bundled policy is only a proposal: keep it for a person to approve.
	pending := &store.PendingPolicy{Policy: string(f.BundledPolicy), Source: f.BundledPolicySource, CodeDigest: f.Digest}
	err = st.Put(f.ID, store.Entry{Wasm: f.Bytes, Settings: store.Settings{Source: f.Source, PendingPolicy: pending}})
	if err != nil {
		log.Fatal(err)
	}
	list, err := st.List()
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range list {
		fmt.Println("stored", c.ID, "code", c.Settings.CodeDigest[:19], "pending policy:", c.Settings.PendingPolicy != nil)
	}
	// Output:
	// fetched weather with a bundled policy: true
	// stored weather code sha256:24eaf3439a60 pending policy: true
}
