package wasi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"tapedeck.dev/tapedeck/sandbox/access"
	"tapedeck.dev/tapedeck/sandbox/component/types"
	"tapedeck.dev/tapedeck/sandbox/policy"
)

// wasi:http outgoing-handler.handle, and the incoming side it hands back
// (future-incoming-response, incoming-response, incoming-body,
// future-trailers).
//
// handle parses the request's target once (authority.go), refuses a guest
// Host header that names anything else, and asks the call's
// access.Checker about scheme://host:port before anything is resolved or
// dialled. The request is then sent by a goroutine with a Transport of its
// own: no proxy from the environment, no connection reuse (every dial is
// decided afresh), no redirects followed (RoundTrip returns a 3xx as it
// is), no transparent decompression, and a dialler that resolves the name
// and re-checks each address (dial.go). The response body reaches the
// guest through a streamPipe, counted against Limits.MaxResponseBytes.

// httpError is a failure the guest sees as a wasi:http error-code: the
// result of a future-incoming-response, or the error behind a body stream's
// last-operation-failed (http-error-code finds it there).
type httpError struct {
	code types.VariantValue // an error-code
	msg  string
}

func (e *httpError) Error() string { return "wasi:http: " + e.msg }

// httpCodes builds error-code values.
type httpCodes struct{ t *types.Type }

func (c httpCodes) code(label string, payload any) types.VariantValue {
	return types.VariantValue{Case: caseIndex(c.t, label), Value: payload}
}

func (c httpCodes) err(label string, payload any, format string, args ...any) *httpError {
	return &httpError{code: c.code(label, payload), msg: fmt.Sprintf(format, args...)}
}

// preparedRequest is an outgoing-request turned into what will be sent.
type preparedRequest struct {
	target  target
	req     *http.Request // without body and context yet
	body    *outgoingBody // nil: no body
	timeout struct{ connect, firstByte, betweenBytes time.Duration }
}

var methodNames = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

// prepare checks an outgoing request and builds the Go request. A refusal
// is returned as the error-code the guest gets.
func (c httpCodes) prepare(r *outgoingRequest, opts *requestOptions, limits Limits) (*preparedRequest, *httpError) {
	scheme := "https"
	if r.scheme.Case == 1 {
		sch, _ := r.scheme.Value.(types.VariantValue)
		switch sch.Case {
		case 0:
			scheme = "http"
		case 1:
			scheme = "https"
		default:
			other, _ := sch.Value.(string)
			return nil, c.err("HTTP-request-denied", nil, "the scheme %q is not http or https; this host sends only those", other)
		}
	}
	authority, _ := r.authority.Value.(string)
	if r.authority.Case == 0 {
		return nil, c.err("HTTP-request-URI-invalid", nil, "the request has no authority")
	}
	t, err := parseAuthority(scheme, authority)
	if err != nil {
		return nil, c.err("HTTP-request-URI-invalid", nil, "%v", err)
	}

	method := ""
	if int(r.method.Case) < len(methodNames) {
		method = methodNames[r.method.Case]
	} else if s, ok := r.method.Value.(string); ok && validToken(s) {
		method = s
	} else {
		return nil, c.err("HTTP-request-method-invalid", nil, "method %v is not a token", r.method.Value)
	}

	pathWithQuery := "/"
	if r.pathWithQuery.Case == 1 {
		pathWithQuery, _ = r.pathWithQuery.Value.(string)
	}
	rawPath, query, _ := strings.Cut(pathWithQuery, "?")
	if !strings.HasPrefix(rawPath, "/") {
		return nil, c.err("HTTP-request-URI-invalid", nil, "path %q does not start with /", rawPath)
	}
	path, err := url.PathUnescape(rawPath)
	if err != nil {
		return nil, c.err("HTTP-request-URI-invalid", nil, "path %q: %v", rawPath, err)
	}

	header := http.Header{}
	for _, e := range r.headers.data.entries {
		if !strings.EqualFold(e.name, "host") {
			header.Add(e.name, string(e.value))
			continue
		}
		if !hostHeaderMatches(t, string(e.value)) {
			return nil, c.err("HTTP-request-denied", nil,
				"the Host header %q does not name the request's authority %q: a request goes only where its URL says", e.value, t.authority())
		}
	}

	p := &preparedRequest{target: t, body: r.body}
	p.req = &http.Request{
		Method: method,
		URL:    &url.URL{Scheme: t.scheme, Host: t.authority(), Path: path, RawPath: rawPath, RawQuery: query},
		Proto:  "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: header,
		Host:   t.authority(),
	}
	p.timeout.connect = limits.ConnectTimeout
	p.timeout.firstByte = limits.FirstByteTimeout
	p.timeout.betweenBytes = limits.BetweenBytesTimeout
	if opts != nil {
		shorten := func(d *time.Duration, opt types.VariantValue) {
			if ns, ok := opt.Value.(uint64); opt.Case == 1 && ok && ns > 0 && time.Duration(ns) < *d {
				*d = time.Duration(ns)
			}
		}
		shorten(&p.timeout.connect, opts.connectTimeout)
		shorten(&p.timeout.firstByte, opts.firstByteTimeout)
		shorten(&p.timeout.betweenBytes, opts.betweenBytesTimeout)
	}
	return p, nil
}

// futureResponse is a future-incoming-response: done closes when the
// response head arrived or the request failed.
type futureResponse struct {
	tracked
	done   chan struct{}
	cancel context.CancelFunc // ends the request: its dial, its wait and its body

	mu        sync.Mutex
	resp      *http.Response
	body      *responseBody
	err       *httpError
	taken     bool
	abandoned bool // the guest dropped the future
}

// settle records the outcome; a response nobody will read is closed.
func (f *futureResponse) settle(resp *http.Response, body *responseBody, err *httpError) {
	f.mu.Lock()
	f.resp, f.body, f.err = resp, body, err
	abandoned := f.abandoned
	f.mu.Unlock()
	close(f.done)
	if abandoned && body != nil {
		body.close()
	}
}

func (f *futureResponse) Close() error {
	f.mu.Lock()
	f.abandoned = true
	taken, body := f.taken, f.body
	f.mu.Unlock()
	if !taken { // else the incoming-response owns the request from here
		f.cancel()
		if body != nil {
			body.close()
		}
	}
	return f.tracked.Close()
}

// responseBody is a response's body and the connection slot it holds; it
// is released once, by whoever holds it last.
type responseBody struct {
	body         io.ReadCloser
	betweenBytes time.Duration // the request's between-bytes timeout
	release      func()
	once         sync.Once
}

func (b *responseBody) close() {
	b.once.Do(func() {
		_ = b.body.Close()
		b.release()
	})
}

type incomingResponse struct {
	tracked
	status    uint16
	headers   *fieldsData
	body      *responseBody
	bodyTaken bool
}

func (r *incomingResponse) Close() error {
	if !r.bodyTaken {
		r.body.close()
	}
	return r.tracked.Close()
}

type incomingBody struct {
	tracked
	body        *responseBody
	streamTaken bool
}

func (b *incomingBody) Close() error {
	if !b.streamTaken {
		b.body.close()
	}
	return b.tracked.Close()
}

// futureTrailers is always ready: this host reads no trailers.
type futureTrailers struct {
	tracked
	taken bool
}

// contents returns a copy of what the sink kept, and whether it reached its limit.
func (c *captureSink) contents() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf...), len(c.buf) >= c.limit
}

// send runs a prepared request whose target the checker allowed, and
// settles f. release gives back the connection slot.
func (h *Host) send(ctx context.Context, checker access.Checker, codes httpCodes, p *preparedRequest, limits Limits, f *futureResponse, release func()) {
	fail := func(err *httpError) {
		release()
		f.settle(nil, nil, err)
	}
	req := p.req.WithContext(ctx)
	if b := p.body; b != nil {
		select {
		case <-b.done:
		case <-ctx.Done():
			fail(codes.err("internal-error", someValue("the call ended"), "the call ended before the request body was finished"))
			return
		}
		data, full := b.sink.contents()
		switch {
		case !b.finished:
			fail(codes.err("HTTP-request-body-size", noneValue, "the request body was dropped without outgoing-body.finish"))
			return
		case full:
			fail(codes.err("HTTP-request-body-size", someValue(uint64(len(data))),
				"the request body reached the limit of %d bytes (raise wasi.Config.Limits.MaxBodyBytes)", limits.MaxBodyBytes))
			return
		}
		if len(data) > 0 {
			req.Body = io.NopCloser(bytes.NewReader(data))
			req.ContentLength = int64(len(data))
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
		}
	}

	t := p.target
	var connected atomic.Bool
	transport := &http.Transport{
		Proxy: nil, // HTTP_PROXY and friends would hide the real target
		DialContext: func(dctx context.Context, _, _ string) (net.Conn, error) {
			conn, err := h.dialDecided(dctx, checker, t.scheme, t.host, t.port, p.timeout.connect)
			if err == nil {
				connected.Store(true)
			}
			return conn, err
		},
		TLSClientConfig:        &tls.Config{RootCAs: h.cfg.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    p.timeout.connect,
		DisableKeepAlives:      true,
		DisableCompression:     true,
		ResponseHeaderTimeout:  p.timeout.firstByte,
		MaxResponseHeaderBytes: int64(limits.MaxFieldsBytes),
	}
	resp, err := transport.RoundTrip(req)
	if err != nil {
		fail(classifyHTTPError(codes, err, connected.Load()))
		return
	}
	f.settle(resp, &responseBody{body: resp.Body, betweenBytes: p.timeout.betweenBytes, release: func() {
		release()
		transport.CloseIdleConnections()
	}}, nil)
}

// classifyHTTPError turns a failed round trip into the error-code a guest
// can act on; connected says whether a connection was made.
func classifyHTTPError(c httpCodes, err error, connected bool) *httpError {
	var denied *addressDeniedError
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var alert tls.AlertError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &denied):
		return c.err("destination-IP-prohibited", nil, "%v", denied.denied)
	case access.IsDenied(err):
		return c.err("HTTP-request-denied", nil, "%v", err)
	case errors.As(err, &dnsErr) && dnsErr.IsTimeout:
		return c.err("DNS-timeout", nil, "%v", err)
	case errors.As(err, &dnsErr):
		return c.err("DNS-error", []any{noneValue, noneValue}, "%v", err)
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr):
		return c.err("TLS-certificate-error", nil, "%v", err)
	case errors.As(err, &alert):
		return c.err("TLS-alert-received", []any{someValue(uint8(alert)), someValue(alert.Error())}, "%v", err)
	case errors.As(err, &recordErr):
		return c.err("TLS-protocol-error", nil, "%v", err)
	case isTimeout(err) && !connected:
		return c.err("connection-timeout", nil, "%v", err)
	case isTimeout(err):
		return c.err("HTTP-response-timeout", nil, "%v", err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return c.err("connection-refused", nil, "%v", err)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return c.err("connection-terminated", nil, "%v", err)
	}
	return c.err("internal-error", someValue(err.Error()), "%v", err)
}

// pumpBody copies a response body into p, ending it with io.EOF, the
// error-code of a failure, or a *LimitError past maxBytes.
func pumpBody(ctx context.Context, codes httpCodes, rb *responseBody, p *streamPipe, maxBytes int) {
	defer rb.close()
	betweenBytes := rb.betweenBytes
	buf := make([]byte, 32<<10)
	total := 0
	for {
		var timedOut atomic.Bool
		timer := time.AfterFunc(betweenBytes, func() {
			timedOut.Store(true)
			_ = rb.body.Close() // unblocks the Read below
		})
		n, err := rb.body.Read(buf)
		timer.Stop()
		if n > 0 {
			if total+n > maxBytes {
				if keep := maxBytes - total; keep > 0 {
					_ = p.write(ctx, buf[:keep])
				}
				p.finish(&LimitError{What: fmt.Sprintf("an HTTP response body of more than %d bytes", maxBytes), Setting: "Limits.MaxResponseBytes", Limit: maxBytes})
				return
			}
			total += n
			if p.write(ctx, buf[:n]) != nil {
				return
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			p.finish(io.EOF)
			return
		case timedOut.Load():
			p.finish(codes.err("connection-read-timeout", nil, "the server sent no more of the response body for %s", betweenBytes))
			return
		default:
			p.finish(codes.err("HTTP-response-incomplete", nil, "reading the response body: %v", err))
			return
		}
	}
}

// responseFields turns response headers into an immutable fields' data,
// names in lower case, in a stable order.
func responseFields(hdr http.Header, limit int) (*fieldsData, bool) {
	names := make([]string, 0, len(hdr))
	for name := range hdr {
		names = append(names, name)
	}
	sort.Strings(names)
	d := &fieldsData{}
	for _, name := range names {
		for _, v := range hdr[name] {
			d.size += len(name) + len(v)
			if d.size > limit {
				return nil, false
			}
			d.entries = append(d.entries, fieldEntry{name: strings.ToLower(name), value: []byte(v)})
		}
	}
	return d, true
}

// httpSendFuncs returns outgoing-handler.handle and the functions of the
// incoming side, to be merged into wasi:http/types.
func (h *Host) httpSendFuncs() (handle hostFn, incoming map[string]hostFn) {
	codes := httpCodes{t: h.valueType(httpTypes, "error-code")}
	futureRes := h.resource(httpTypes, "future-incoming-response")
	responseRes := h.resource(httpTypes, "incoming-response")
	bodyRes := h.resource(httpTypes, "incoming-body")
	trailersRes := h.resource(httpTypes, "future-trailers")
	unitErr := errValue(nil)

	handle = func(ctx context.Context, args []any) ([]any, error) {
		r, err := hostObject[*outgoingRequest](args[0], "handle")
		if err != nil {
			return nil, err
		}
		defer r.Close() // the host owns the request now
		var opts *requestOptions
		if o, ok := args[1].(types.VariantValue); ok && o.Case == 1 {
			if opts, err = hostObject[*requestOptions](o.Value, "handle"); err != nil {
				return nil, err
			}
			defer opts.Close()
		}
		st, err := h.state(ctx)
		if err != nil {
			return nil, err
		}
		ns, err := h.netState(ctx)
		if err != nil {
			return nil, err
		}
		p, refused := codes.prepare(r, opts, st.limits)
		if refused != nil {
			return one(errValue(refused.code))
		}
		checker := access.FromContext(ctx)
		t := p.target
		if err := checker.Check(ctx, policy.Network{Scheme: t.scheme, Host: t.host, Port: t.port}); err != nil {
			if access.IsDenied(err) {
				return one(errValue(codes.code("HTTP-request-denied", nil)))
			}
			return nil, fmt.Errorf("wasi: deciding %s://%s: %w", t.scheme, t.authority(), err)
		}
		release, ok := ns.acquire()
		if !ok {
			return one(errValue(codes.code("connection-limit-reached", nil)))
		}
		sendCtx, cancel := context.WithCancel(ctx)
		f := &futureResponse{done: make(chan struct{}), cancel: cancel}
		if err := st.track(&f.tracked, "future-incoming-response", false); err != nil {
			cancel()
			release()
			return nil, err
		}
		go h.send(sendCtx, checker, codes, p, st.limits, f, func() {
			cancel()
			release()
		})
		return one(okValue(handleValue(futureRes, f)))
	}

	incoming = map[string]hostFn{
		"[method]future-incoming-response.subscribe": subscriber(h, "future-incoming-response.subscribe", func(f *futureResponse) <-chan struct{} { return f.done }),
		"[method]future-incoming-response.get": func(ctx context.Context, args []any) ([]any, error) {
			f, err := hostObject[*futureResponse](args[0], "future-incoming-response.get")
			if err != nil {
				return nil, err
			}
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			select {
			case <-f.done:
			default:
				return one(noneValue)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			switch {
			case f.taken:
				return one(someValue(unitErr))
			case f.err != nil:
				f.taken = true
				return one(someValue(okValue(errValue(f.err.code))))
			}
			hdrs, ok := responseFields(f.resp.Header, st.limits.MaxFieldsBytes)
			if !ok {
				f.taken = true
				f.body.close()
				return one(someValue(okValue(errValue(codes.code("HTTP-response-header-section-size", noneValue)))))
			}
			resp := &incomingResponse{status: uint16(f.resp.StatusCode), headers: hdrs, body: f.body}
			if err := st.track(&resp.tracked, "incoming-response", false); err != nil {
				return nil, err
			}
			f.taken = true
			return one(someValue(okValue(okValue(handleValue(responseRes, resp)))))
		},
		"[method]incoming-response.status": func(_ context.Context, args []any) ([]any, error) {
			r, err := hostObject[*incomingResponse](args[0], "incoming-response.status")
			if err != nil {
				return nil, err
			}
			return one(r.status)
		},
		"[method]incoming-response.headers": func(ctx context.Context, args []any) ([]any, error) {
			r, err := hostObject[*incomingResponse](args[0], "incoming-response.headers")
			if err != nil {
				return nil, err
			}
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			f := &fields{data: r.headers, immutable: true}
			if err := st.track(&f.tracked, "fields", false); err != nil {
				return nil, err
			}
			return one(handleValue(h.fieldsRes, f))
		},
		"[method]incoming-response.consume": func(ctx context.Context, args []any) ([]any, error) {
			r, err := hostObject[*incomingResponse](args[0], "incoming-response.consume")
			if err != nil {
				return nil, err
			}
			if r.bodyTaken {
				return one(unitErr)
			}
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			b := &incomingBody{body: r.body}
			if err := st.track(&b.tracked, "incoming-body", false); err != nil {
				return nil, err
			}
			r.bodyTaken = true
			return one(okValue(handleValue(bodyRes, b)))
		},
		"[method]incoming-body.stream": func(ctx context.Context, args []any) ([]any, error) {
			b, err := hostObject[*incomingBody](args[0], "incoming-body.stream")
			if err != nil {
				return nil, err
			}
			if b.streamTaken {
				return one(unitErr)
			}
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			pipe := newStreamPipe()
			s, err := h.newInputStream(st, pipe)
			if err != nil {
				return nil, err
			}
			b.streamTaken = true
			go pumpBody(ctx, codes, b.body, pipe, st.limits.MaxResponseBytes)
			return one(okValue(s))
		},
		"[static]incoming-body.finish": func(ctx context.Context, args []any) ([]any, error) {
			b, err := hostObject[*incomingBody](args[0], "incoming-body.finish")
			if err != nil {
				return nil, err
			}
			b.body.close()
			_ = b.Close()
			st, err := h.state(ctx)
			if err != nil {
				return nil, err
			}
			ft := &futureTrailers{}
			if err := st.track(&ft.tracked, "future-trailers", false); err != nil {
				return nil, err
			}
			return one(handleValue(trailersRes, ft))
		},
		"[method]future-trailers.subscribe": subscriber(h, "future-trailers.subscribe", func(*futureTrailers) <-chan struct{} { return closedChan }),
		"[method]future-trailers.get": func(_ context.Context, args []any) ([]any, error) {
			ft, err := hostObject[*futureTrailers](args[0], "future-trailers.get")
			if err != nil {
				return nil, err
			}
			if ft.taken {
				return one(someValue(unitErr))
			}
			ft.taken = true
			return one(someValue(okValue(okValue(noneValue))))
		},
		"http-error-code": func(_ context.Context, args []any) ([]any, error) {
			e, err := hostObject[*ioError](args[0], "http-error-code")
			if err != nil {
				return nil, err
			}
			var he *httpError
			if errors.As(e.err, &he) {
				return one(someValue(he.code))
			}
			return one(noneValue)
		},
	}
	return handle, incoming
}
