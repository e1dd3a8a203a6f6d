package wasi

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"tapedeck.dev/tapedeck/sandbox/component/types"
)

// wasi:http — types: fields, outgoing-request, request-options,
// outgoing-body and outgoing-response are built here; outgoing-handler.handle
// and the incoming side it returns (future-incoming-response,
// incoming-response, incoming-body, future-trailers) are in http_send.go.
// This host is never a server: incoming-request and response-outparam are
// never created, so their methods trap as unreachable.

const (
	httpTypes           = "wasi:http/types"
	httpOutgoingHandler = "wasi:http/outgoing-handler"
)

// forbiddenHeaders are hop-by-hop headers a guest may not set: the host
// owns the connection they describe. A guest-set Host is allowed here and
// checked against the authority when a request is sent.
var forbiddenHeaders = map[string]bool{
	"connection": true, "keep-alive": true, "proxy-authenticate": true,
	"proxy-authorization": true, "proxy-connection": true, "te": true,
	"transfer-encoding": true, "upgrade": true, "http2-settings": true,
}

type fieldEntry struct {
	name  string
	value []byte
}

// fieldsData is the content of a fields resource; child handles (the
// headers of a request) share it.
type fieldsData struct {
	entries []fieldEntry
	size    int // bytes of names and values, against Limits.MaxFieldsBytes
}

type fields struct {
	tracked
	data      *fieldsData
	immutable bool
}

type outgoingRequest struct {
	tracked
	headers       *fields // owned: given to the constructor
	method        types.VariantValue
	pathWithQuery types.VariantValue // option<string>
	scheme        types.VariantValue // option<scheme>
	authority     types.VariantValue // option<string>
	bodyTaken     bool
	body          *outgoingBody // the body the guest took, sent once finished
}

func (r *outgoingRequest) Close() error {
	_ = r.headers.Close()
	return r.tracked.Close()
}

type outgoingResponse struct {
	tracked
	headers    *fields
	statusCode uint16
	bodyTaken  bool
}

func (r *outgoingResponse) Close() error {
	_ = r.headers.Close()
	return r.tracked.Close()
}

// outgoingBody keeps what the guest writes, up to Limits.MaxBodyBytes.
// done closes when the guest finishes it (finished is then true) or drops it.
type outgoingBody struct {
	tracked
	sink        *captureSink
	streamTaken bool
	done        chan struct{}
	finished    bool
	endOnce     sync.Once
}

// end marks the body complete (finished) or abandoned, once.
func (b *outgoingBody) end(finished bool) {
	b.endOnce.Do(func() {
		b.finished = finished
		close(b.done)
	})
}

func (b *outgoingBody) Close() error {
	b.end(false)
	return b.tracked.Close()
}

type requestOptions struct {
	tracked
	connectTimeout, firstByteTimeout, betweenBytesTimeout types.VariantValue // option<duration>
}

func (h *Host) httpFuncs() map[string]map[string]hostFn {
	headerErr := h.valueType(httpTypes, "header-error")
	invalidSyntax := errValue(types.VariantValue{Case: caseIndex(headerErr, "invalid-syntax")})
	forbidden := errValue(types.VariantValue{Case: caseIndex(headerErr, "forbidden")})
	immutable := errValue(types.VariantValue{Case: caseIndex(headerErr, "immutable")})
	unitOK, unitErr := okValue(nil), errValue(nil)

	// withFields wraps a fields method, finding the receiver.
	withFields := withState[*fields](h)
	// mutate checks what set, append and delete share: a mutable fields and
	// a valid, allowed name. It returns the header-error to answer, if any.
	mutate := func(f *fields, name string) (types.VariantValue, bool) {
		switch {
		case f.immutable:
			return immutable, false
		case !validFieldName(name):
			return invalidSyntax, false
		case forbiddenHeaders[strings.ToLower(name)]:
			return forbidden, false
		}
		return types.VariantValue{}, true
	}
	newFields := func(st *instanceState, data *fieldsData, immutable bool) (*fields, error) {
		f := &fields{data: data, immutable: immutable}
		if err := st.track(&f.tracked, "fields", false); err != nil {
			return nil, err
		}
		return f, nil
	}
	newFieldsHandle := func(st *instanceState, data *fieldsData, immutable bool) ([]any, error) {
		f, err := newFields(st, data, immutable)
		if err != nil {
			return nil, err
		}
		return one(handleValue(h.fieldsRes, f))
	}

	fieldsFuncs := map[string]hostFn{
		"[constructor]fields": func(ctx context.Context, _ []any) ([]any, error) {
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			return newFieldsHandle(st, &fieldsData{}, false)
		},
		"[static]fields.from-list": func(ctx context.Context, args []any) ([]any, error) {
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			entries, ok := args[0].([]any)
			if !ok {
				return nil, fmt.Errorf("wasi: fields.from-list: expected a list, got %T (a bug in the runtime)", args[0])
			}
			data := &fieldsData{}
			for _, e := range entries {
				name, value, err := fieldTuple(e)
				if err != nil {
					return nil, err
				}
				if !validFieldName(name) || !validFieldValue(value) {
					return one(invalidSyntax)
				}
				if forbiddenHeaders[strings.ToLower(name)] {
					return one(forbidden)
				}
				if err := data.add(st, name, value); err != nil {
					return nil, err
				}
			}
			f, err := newFields(st, data, false)
			if err != nil {
				return nil, err
			}
			return one(okValue(handleValue(h.fieldsRes, f)))
		},
		"[method]fields.get": withFields("fields.get", func(_ *instanceState, f *fields, args []any) ([]any, error) {
			name, err := stringArg(args[0], "fields.get")
			if err != nil {
				return nil, err
			}
			values := []any{}
			for _, e := range f.data.entries {
				if strings.EqualFold(e.name, name) {
					values = append(values, bytesValue(e.value))
				}
			}
			return one(values)
		}),
		"[method]fields.has": withFields("fields.has", func(_ *instanceState, f *fields, args []any) ([]any, error) {
			name, err := stringArg(args[0], "fields.has")
			if err != nil {
				return nil, err
			}
			for _, e := range f.data.entries {
				if strings.EqualFold(e.name, name) {
					return one(true)
				}
			}
			return one(false)
		}),
		"[method]fields.set": withFields("fields.set", func(st *instanceState, f *fields, args []any) ([]any, error) {
			name, err := stringArg(args[0], "fields.set")
			if err != nil {
				return nil, err
			}
			if answer, ok := mutate(f, name); !ok {
				return one(answer)
			}
			list, ok := args[1].([]any)
			if !ok {
				return nil, fmt.Errorf("wasi: fields.set: expected a list of values, got %T (a bug in the runtime)", args[1])
			}
			values := make([][]byte, len(list))
			for i, v := range list {
				if values[i], err = bytesArg(v, "fields.set"); err != nil {
					return nil, err
				}
				if !validFieldValue(values[i]) {
					return one(invalidSyntax)
				}
			}
			f.data.remove(name)
			for _, v := range values {
				if err := f.data.add(st, name, v); err != nil {
					return nil, err
				}
			}
			return one(unitOK)
		}),
		"[method]fields.delete": withFields("fields.delete", func(_ *instanceState, f *fields, args []any) ([]any, error) {
			name, err := stringArg(args[0], "fields.delete")
			if err != nil {
				return nil, err
			}
			if answer, ok := mutate(f, name); !ok {
				return one(answer)
			}
			f.data.remove(name)
			return one(unitOK)
		}),
		"[method]fields.append": withFields("fields.append", func(st *instanceState, f *fields, args []any) ([]any, error) {
			name, err := stringArg(args[0], "fields.append")
			if err != nil {
				return nil, err
			}
			if answer, ok := mutate(f, name); !ok {
				return one(answer)
			}
			value, err := bytesArg(args[1], "fields.append")
			if err != nil {
				return nil, err
			}
			if !validFieldValue(value) {
				return one(invalidSyntax)
			}
			if err := f.data.add(st, name, value); err != nil {
				return nil, err
			}
			return one(unitOK)
		}),
		"[method]fields.entries": withFields("fields.entries", func(_ *instanceState, f *fields, _ []any) ([]any, error) {
			list := make([]any, len(f.data.entries))
			for i, e := range f.data.entries {
				list[i] = []any{e.name, bytesValue(e.value)}
			}
			return one(list)
		}),
		"[method]fields.clone": withFields("fields.clone", func(st *instanceState, f *fields, _ []any) ([]any, error) {
			data := &fieldsData{entries: append([]fieldEntry(nil), f.data.entries...), size: f.data.size}
			return newFieldsHandle(st, data, false)
		}),
	}

	// Requests and responses.
	withRequest := withState[*outgoingRequest](h)
	withResponse := withState[*outgoingResponse](h)
	// ownedHeaders takes the fields a constructor receives: the host owns
	// them from now on, and they can no longer change.
	ownedHeaders := func(arg any, name string) (*fields, error) {
		f, err := hostObject[*fields](arg, name)
		if err != nil {
			return nil, err
		}
		f.immutable = true
		return f, nil
	}
	newBody := func(st *instanceState) (*outgoingBody, []any, error) {
		b := &outgoingBody{sink: newCaptureSink(0, st.limits.MaxBodyBytes, nil), done: make(chan struct{})}
		if err := st.track(&b.tracked, "outgoing-body", false); err != nil {
			return nil, nil, err
		}
		res, err := one(okValue(handleValue(h.outgoingBodyRes, b)))
		return b, res, err
	}

	// setOptionalString is the setter of an option<string> field of a
	// request, refusing a value valid does not accept.
	setOptionalString := func(name string, field func(*outgoingRequest) *types.VariantValue, valid func(string) bool) hostFn {
		return withRequest(name, func(_ *instanceState, r *outgoingRequest, args []any) ([]any, error) {
			v, err := variantArg(args[0], name)
			if err != nil {
				return nil, err
			}
			if s, ok := v.Value.(string); v.Case == 1 && (!ok || !valid(s)) {
				return one(unitErr)
			}
			*field(r) = v
			return one(unitOK)
		})
	}

	reqFuncs := map[string]hostFn{
		"[constructor]outgoing-request": func(ctx context.Context, args []any) ([]any, error) {
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			hdrs, err := ownedHeaders(args[0], "outgoing-request constructor")
			if err != nil {
				return nil, err
			}
			r := &outgoingRequest{headers: hdrs, method: types.VariantValue{Case: 0}, pathWithQuery: noneValue, scheme: noneValue, authority: noneValue}
			if err := st.track(&r.tracked, "outgoing-request", false); err != nil {
				_ = hdrs.Close()
				return nil, err
			}
			return one(handleValue(h.outgoingRequestRes, r))
		},
		"[method]outgoing-request.body": withRequest("outgoing-request.body", func(st *instanceState, r *outgoingRequest, _ []any) ([]any, error) {
			if r.bodyTaken {
				return one(unitErr)
			}
			b, res, err := newBody(st)
			if err != nil {
				return nil, err
			}
			r.bodyTaken, r.body = true, b
			return res, nil
		}),
		"[method]outgoing-request.method": withRequest("outgoing-request.method", func(_ *instanceState, r *outgoingRequest, _ []any) ([]any, error) {
			return one(r.method)
		}),
		"[method]outgoing-request.set-method": withRequest("outgoing-request.set-method", func(_ *instanceState, r *outgoingRequest, args []any) ([]any, error) {
			m, err := variantArg(args[0], "outgoing-request.set-method")
			if err != nil {
				return nil, err
			}
			if s, ok := m.Value.(string); ok && !validToken(s) {
				return one(unitErr)
			}
			r.method = m
			return one(unitOK)
		}),
		"[method]outgoing-request.path-with-query": withRequest("outgoing-request.path-with-query", func(_ *instanceState, r *outgoingRequest, _ []any) ([]any, error) {
			return one(r.pathWithQuery)
		}),
		"[method]outgoing-request.set-path-with-query": setOptionalString("outgoing-request.set-path-with-query", func(r *outgoingRequest) *types.VariantValue { return &r.pathWithQuery }, validPathWithQuery),
		"[method]outgoing-request.scheme": withRequest("outgoing-request.scheme", func(_ *instanceState, r *outgoingRequest, _ []any) ([]any, error) {
			return one(r.scheme)
		}),
		"[method]outgoing-request.set-scheme": withRequest("outgoing-request.set-scheme", func(_ *instanceState, r *outgoingRequest, args []any) ([]any, error) {
			v, err := variantArg(args[0], "outgoing-request.set-scheme")
			if err != nil {
				return nil, err
			}
			if v.Case == 1 {
				sch, ok := v.Value.(types.VariantValue)
				if !ok {
					return nil, fmt.Errorf("wasi: outgoing-request.set-scheme: expected a scheme, got %T (a bug in the runtime)", v.Value)
				}
				if s, isOther := sch.Value.(string); isOther && !validScheme(s) {
					return one(unitErr)
				}
			}
			r.scheme = v
			return one(unitOK)
		}),
		"[method]outgoing-request.authority": withRequest("outgoing-request.authority", func(_ *instanceState, r *outgoingRequest, _ []any) ([]any, error) {
			return one(r.authority)
		}),
		"[method]outgoing-request.set-authority": setOptionalString("outgoing-request.set-authority", func(r *outgoingRequest) *types.VariantValue { return &r.authority }, validAuthority),
		"[method]outgoing-request.headers": withRequest("outgoing-request.headers", func(st *instanceState, r *outgoingRequest, _ []any) ([]any, error) {
			return newFieldsHandle(st, r.headers.data, true)
		}),

		"[constructor]outgoing-response": func(ctx context.Context, args []any) ([]any, error) {
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			hdrs, err := ownedHeaders(args[0], "outgoing-response constructor")
			if err != nil {
				return nil, err
			}
			r := &outgoingResponse{headers: hdrs, statusCode: 200}
			if err := st.track(&r.tracked, "outgoing-response", false); err != nil {
				_ = hdrs.Close()
				return nil, err
			}
			return one(handleValue(h.outgoingResponseRes, r))
		},
		"[method]outgoing-response.status-code": withResponse("outgoing-response.status-code", func(_ *instanceState, r *outgoingResponse, _ []any) ([]any, error) {
			return one(r.statusCode)
		}),
		"[method]outgoing-response.set-status-code": withResponse("outgoing-response.set-status-code", func(_ *instanceState, r *outgoingResponse, args []any) ([]any, error) {
			code, ok := args[0].(uint16)
			if !ok {
				return nil, fmt.Errorf("wasi: outgoing-response.set-status-code: expected a u16, got %T (a bug in the runtime)", args[0])
			}
			if code < 100 || code > 599 {
				return one(unitErr)
			}
			r.statusCode = code
			return one(unitOK)
		}),
		"[method]outgoing-response.headers": withResponse("outgoing-response.headers", func(st *instanceState, r *outgoingResponse, _ []any) ([]any, error) {
			return newFieldsHandle(st, r.headers.data, true)
		}),
		"[method]outgoing-response.body": withResponse("outgoing-response.body", func(st *instanceState, r *outgoingResponse, _ []any) ([]any, error) {
			if r.bodyTaken {
				return one(unitErr)
			}
			_, res, err := newBody(st)
			if err != nil {
				return nil, err
			}
			r.bodyTaken = true
			return res, nil
		}),

		"[method]outgoing-body.write": func(ctx context.Context, args []any) ([]any, error) {
			b, err := hostObject[*outgoingBody](args[0], "outgoing-body.write")
			if err != nil {
				return nil, err
			}
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			if b.streamTaken {
				return one(unitErr)
			}
			s, err := h.newOutputStream(st, b.sink)
			if err != nil {
				return nil, err
			}
			b.streamTaken = true
			return one(okValue(s))
		},
		"[static]outgoing-body.finish": func(_ context.Context, args []any) ([]any, error) {
			b, err := hostObject[*outgoingBody](args[0], "outgoing-body.finish")
			if err != nil {
				return nil, err
			}
			b.end(true)
			_ = b.Close()
			if trailers, err := variantArg(args[1], "outgoing-body.finish"); err == nil && trailers.Case == 1 {
				if f, err := hostObject[*fields](trailers.Value, "outgoing-body.finish"); err == nil {
					_ = f.Close()
				}
			}
			return one(unitOK)
		},
	}

	optionsFuncs := map[string]hostFn{
		"[constructor]request-options": func(ctx context.Context, _ []any) ([]any, error) {
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			o := &requestOptions{connectTimeout: noneValue, firstByteTimeout: noneValue, betweenBytesTimeout: noneValue}
			if err := st.track(&o.tracked, "request-options", false); err != nil {
				return nil, err
			}
			return one(handleValue(h.requestOptionsRes, o))
		},
	}
	for name, field := range map[string]func(*requestOptions) *types.VariantValue{
		"connect-timeout":       func(o *requestOptions) *types.VariantValue { return &o.connectTimeout },
		"first-byte-timeout":    func(o *requestOptions) *types.VariantValue { return &o.firstByteTimeout },
		"between-bytes-timeout": func(o *requestOptions) *types.VariantValue { return &o.betweenBytesTimeout },
	} {
		get, set := "[method]request-options."+name, "[method]request-options.set-"+name
		optionsFuncs[get] = func(_ context.Context, args []any) ([]any, error) {
			o, err := hostObject[*requestOptions](args[0], get)
			if err != nil {
				return nil, err
			}
			return one(*field(o))
		}
		optionsFuncs[set] = func(_ context.Context, args []any) ([]any, error) {
			o, err := hostObject[*requestOptions](args[0], set)
			if err != nil {
				return nil, err
			}
			v, err := variantArg(args[1], set)
			if err != nil {
				return nil, err
			}
			*field(o) = v
			return one(unitOK)
		}
	}

	handle, incomingFuncs := h.httpSendFuncs()
	typesFuncs := map[string]hostFn{}
	for _, m := range []map[string]hostFn{fieldsFuncs, reqFuncs, optionsFuncs, incomingFuncs} {
		for k, v := range m {
			typesFuncs[k] = v
		}
	}
	h.unreachableMethods(typesFuncs, httpTypes, "incoming-request", "response-outparam")

	return map[string]map[string]hostFn{
		httpTypes:           typesFuncs,
		httpOutgoingHandler: {"handle": handle},
	}
}

// add appends a field, counting its bytes against Limits.MaxFieldsBytes.
func (d *fieldsData) add(st *instanceState, name string, value []byte) error {
	n := len(name) + len(value)
	if d.size+n > st.limits.MaxFieldsBytes {
		return &LimitError{What: fmt.Sprintf("an HTTP field of %d bytes added to fields holding %d", n, d.size), Setting: "Limits.MaxFieldsBytes", Limit: st.limits.MaxFieldsBytes}
	}
	d.entries = append(d.entries, fieldEntry{name: name, value: append([]byte(nil), value...)})
	d.size += n
	return nil
}

func (d *fieldsData) remove(name string) {
	kept := d.entries[:0]
	for _, e := range d.entries {
		if strings.EqualFold(e.name, name) {
			d.size -= len(e.name) + len(e.value)
			continue
		}
		kept = append(kept, e)
	}
	d.entries = kept
}

// fieldTuple reads a tuple<field-name, field-value>.
func fieldTuple(v any) (string, []byte, error) {
	t, ok := v.([]any)
	if !ok || len(t) != 2 {
		return "", nil, fmt.Errorf("wasi: fields.from-list: expected a (name, value) tuple, got %T (a bug in the runtime)", v)
	}
	name, err := stringArg(t[0], "fields.from-list")
	if err != nil {
		return "", nil, err
	}
	value, err := bytesArg(t[1], "fields.from-list")
	return name, value, err
}

// validToken reports whether s is an RFC 9110 token: a field name or a method.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func validFieldName(s string) bool { return validToken(s) }

// validFieldValue reports whether v may be a field value: no control
// characters but horizontal tab (RFC 9110 field-value), so no CR or LF that
// would split a header.
func validFieldValue(v []byte) bool {
	for _, c := range v {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validScheme reports whether s is an RFC 3986 scheme.
func validScheme(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validAuthority reports whether s can be a URI authority: no spaces,
// controls, or the characters that end an authority.
func validAuthority(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c == 0x7f || c == '/' || c == '?' || c == '#' {
			return false
		}
	}
	return true
}

// validPathWithQuery reports whether s can be a request target's path and
// query: no spaces, controls or fragment.
func validPathWithQuery(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c == 0x7f || c == '#' {
			return false
		}
	}
	return true
}
