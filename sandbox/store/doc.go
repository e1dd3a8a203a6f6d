// Package store keeps Tapedeck's component directory and fetches components
// into it from a local path, a file:// or https:// URL, or an OCI registry.
//
// The directory uses Wassette's layout, so a Wassette component directory can
// be imported as is ([Store.Import]):
//
//	<id>.wasm            the component's code
//	<id>.policy.yaml     its policy (grants), edited through sandbox/policy
//	<id>.metadata.json   tool schemas and a size/mtime/digest stamp, so that
//	                     start-up lists tools without reading the code
//	<id>.tapedeck.json   Tapedeck's own settings (see [Settings])
//
// [Store.Put] replaces every file of an id at once: the new files are staged
// and synced, a commit record is written, and only then are they moved into
// place — the .wasm last. A crash before the commit record leaves the old
// component; a crash after it is finished on the next access. Nothing else is
// ever seen.
//
// [Fetch] returns the bytes of a component and their sha256 digest, with any
// policy that came with it as a proposal ([Fetched.BundledPolicy]): the store
// never applies a bundled policy. Every OCI digest is verified, and every size
// is capped before the download starts.
//
// Usage:
//
//	st, err := store.Open(filepath.Join(dataDir, "components"))
//	…
//	f, err := store.Fetch(ctx, "oci://ghcr.io/acme/weather:1.0", store.FetchOptions{
//		Progress: func(done, total int64) { … },
//	})
//	…
//	err = st.Put(f.ID, store.Entry{Wasm: f.Bytes, Settings: store.Settings{Source: f.Source}})
//
// The store is safe for concurrent use within one process (operations on one
// id are serialized). Exclusion between processes is the owner lock's job
// (internal/ownerlock): only the process that owns the data dir writes here.
package store
