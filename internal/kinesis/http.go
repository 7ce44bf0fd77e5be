package kinesis

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/tributary-data/tributary/internal/sigv4"
)

// The AWS JSON 1.1 protocol: POST / with X-Amz-Target naming the action,
// a JSON object body, and errors as {"__type","message"} with an HTTP
// status. The order of the checks below follows AWS's front end, because
// clients see the first failure and some branch on which one it is.

const (
	contentTypeJSON = "application/x-amz-json-1.1"
	contentTypeCBOR = "application/x-amz-cbor-1.1"
	// maxBody bounds a request body. The largest request AWS accepts
	// carries 10 MiB of data and partition keys (one record on a stream
	// with UpdateMaxRecordSize at 10240 KiB; PutRecords allows no more in
	// total): 13.34 MiB once the data is in base64, plus partition keys
	// written as \u escapes at worst and the members' framing, well under
	// 14 MiB. Larger bodies are refused with a bare 413, as AWS's front
	// end does, before they are read. docs/configuration.md states it.
	maxBody = 14 << 20
)

// action decodes a request body and runs one API action.
type action func(ctx context.Context, s *Service, c caller, body []byte) (any, *Error)

// bind adapts a typed action method to the action signature.
func bind[In any](fn func(s *Service, ctx context.Context, c caller, in *In) (any, *Error)) action {
	return func(ctx context.Context, s *Service, c caller, body []byte) (any, *Error) {
		in := new(In)
		if err := decodeBody(body, in); err != nil {
			return nil, err
		}
		return fn(s, ctx, c, in)
	}
}

func (s *Service) increaseRetention(ctx context.Context, c caller, in *retentionInput) (any, *Error) {
	return s.changeRetention(ctx, c, in, true)
}

func (s *Service) decreaseRetention(ctx context.Context, c caller, in *retentionInput) (any, *Error) {
	return s.changeRetention(ctx, c, in, false)
}

var actions = map[string]action{
	"CreateStream":                           bind((*Service).createStream),
	"DeleteStream":                           bind((*Service).deleteStream),
	"DescribeStream":                         bind((*Service).describeStream),
	"DescribeStreamSummary":                  bind((*Service).describeStreamSummary),
	"ListStreams":                            bind((*Service).listStreams),
	"ListShards":                             bind((*Service).listShards),
	"IncreaseStreamRetentionPeriod":          bind((*Service).increaseRetention),
	"DecreaseStreamRetentionPeriod":          bind((*Service).decreaseRetention),
	"AddTagsToStream":                        bind((*Service).addTagsToStream),
	"RemoveTagsFromStream":                   bind((*Service).removeTagsFromStream),
	"ListTagsForStream":                      bind((*Service).listTagsForStream),
	"TagResource":                            bind((*Service).tagResource),
	"UntagResource":                          bind((*Service).untagResource),
	"ListTagsForResource":                    bind((*Service).listTagsForResource),
	"DescribeLimits":                         bind((*Service).describeLimits),
	"PutRecord":                              bind((*Service).putRecord),
	"PutRecords":                             putRecordsAction,
	"GetShardIterator":                       bind((*Service).getShardIterator),
	"GetRecords":                             bind((*Service).getRecords),
	"SplitShard":                             bind((*Service).splitShard),
	"MergeShards":                            bind((*Service).mergeShards),
	"UpdateShardCount":                       bind((*Service).updateShardCount),
	"StartStreamEncryption":                  bind((*Service).startStreamEncryption),
	"StopStreamEncryption":                   bind((*Service).stopStreamEncryption),
	"RegisterStreamConsumer":                 bind((*Service).registerStreamConsumer),
	"DeregisterStreamConsumer":               bind((*Service).deregisterStreamConsumer),
	"DescribeStreamConsumer":                 bind((*Service).describeStreamConsumer),
	"ListStreamConsumers":                    bind((*Service).listStreamConsumers),
	"EnableEnhancedMonitoring":               bind((*Service).enableEnhancedMonitoring),
	"DisableEnhancedMonitoring":              bind((*Service).disableEnhancedMonitoring),
	"UpdateStreamMode":                       bind((*Service).updateStreamMode),
	"UpdateMaxRecordSize":                    bind((*Service).updateMaxRecordSize),
	"UpdateStreamWarmThroughput":             bind((*Service).updateStreamWarmThroughput),
	"UpdateStreamRecordDistributionStrategy": bind((*Service).updateStreamRecordDistributionStrategy),
	"PutResourcePolicy":                      bind((*Service).putResourcePolicy),
	"GetResourcePolicy":                      bind((*Service).getResourcePolicy),
	"DeleteResourcePolicy":                   bind((*Service).deleteResourcePolicy),
	"DescribeAccountSettings":                bind((*Service).describeAccountSettings),
	"UpdateAccountSettings":                  bind((*Service).updateAccountSettings),
}

// putRecordsAction is PutRecords with a reflection-free decoder for the
// common request shape in front of the general one.
func putRecordsAction(ctx context.Context, s *Service, c caller, body []byte) (any, *Error) {
	in := new(putRecordsInput)
	if !decodePutRecordsFast(body, in) {
		*in = putRecordsInput{}
		if err := decodeBody(body, in); err != nil {
			return nil, err
		}
	}
	return s.putRecords(ctx, c, in)
}

// ActionName returns the action an X-Amz-Target names, or "unknown", so
// that metrics labels stay bounded whatever clients send.
func ActionName(target string) string {
	if name, ok := trimAction(target); ok && (actions[name] != nil || streamingActions[name] != nil) {
		return name
	}
	return "unknown"
}

// decodeBody decodes a JSON object into in. Unknown members are ignored
// and null members count as absent, as on AWS.
//
// JSON text is UTF-8 (RFC 8259), and a body that is not, or that escapes
// half of a surrogate pair, is refused like any body the parser cannot
// read: encoding/json would quietly turn either into U+FFFD, storing a
// partition key other than the one sent while answering 200.
func decodeBody(body []byte, in any) *Error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' || !utf8.Valid(body) || loneSurrogate(body) {
		return &Error{Type: "SerializationException", Status: http.StatusBadRequest}
	}
	if err := json.Unmarshal(body, in); err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			return ae
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return structuralError(te)
		}
		return &Error{Type: "SerializationException", Status: http.StatusBadRequest}
	}
	return nil
}

// loneSurrogate reports whether JSON text b has a \u escape of half a
// UTF-16 surrogate pair without the other half. Escapes appear only in
// strings, and a backslash always starts one, so b is scanned escape by
// escape without tracking where strings begin.
func loneSurrogate(b []byte) bool {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			return false
		}
		i += j
		r, ok := hexEscape(b, i)
		if !ok {
			i += 2 // another escape, or a malformed one the decoder reports
			continue
		}
		i += 6
		switch {
		case utf16.IsSurrogate(r) && r < 0xdc00: // high half: a low one must follow
			r2, ok := hexEscape(b, i)
			if !ok || !utf16.IsSurrogate(r2) || r2 < 0xdc00 {
				return true
			}
			i += 6
		case utf16.IsSurrogate(r):
			return true
		}
	}
}

// hexEscape decodes the \uXXXX escape at b[i:], if that is one.
func hexEscape(b []byte, i int) (rune, bool) {
	if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16)
	return rune(n), err == nil
}

// ServeHTTP implements the Kinesis endpoint.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h := w.Header()
	h.Set("x-amzn-RequestId", uuid.NewString())
	var id2 [72]byte
	_, _ = rand.Read(id2[:])
	h.Set("x-amz-id-2", base64.StdEncoding.EncodeToString(id2[:]))
	if origin := r.Header.Get("Origin"); origin != "" {
		h.Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			h.Del("x-amz-id-2")
			h.Set("Access-Control-Max-Age", "172800")
			if v := r.Header.Get("Access-Control-Request-Headers"); v != "" {
				h.Set("Access-Control-Allow-Headers", v)
			}
			if v := r.Header.Get("Access-Control-Request-Method"); v != "" {
				h.Set("Access-Control-Allow-Methods", v)
			}
			h.Set("Content-Length", "0")
			w.WriteHeader(http.StatusOK)
			return
		}
		h.Set("Access-Control-Expose-Headers", "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date")
	}

	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost {
		writeXML(w, http.StatusForbidden, "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n")
		return
	}
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	name, known := trimAction(target)
	act := actions[name]
	if ct == contentTypeCBOR {
		// CBOR is transcoded at the edges; the actions speak only JSON (cbor.go).
		w, act = cborWriter{w}, cborAction(act)
	}

	if r.ContentLength > maxBody {
		writeTooLarge(w)
		return
	}
	body, err := readBody(r)
	if err != nil {
		s.writeError(w, bodyReadError(err))
		return
	}
	if len(body) > maxBody {
		writeTooLarge(w)
		return
	}
	if ct != contentTypeJSON && ct != "application/json" && ct != contentTypeCBOR {
		if !strings.Contains(target, ".") {
			writeXML(w, http.StatusForbidden, "<AccessDeniedException>\n  <Message>Unable to determine service/operation name to be authorized</Message>\n</AccessDeniedException>\n")
			return
		}
		writeXML(w, http.StatusNotFound, "<UnknownOperationException/>\n")
		return
	}
	if ct == "application/json" {
		h.Set("Content-Type", "application/json")
		if !json.Valid(body) || len(bytes.TrimSpace(body)) == 0 || bytes.TrimSpace(body)[0] != '{' {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"Output":{"__type":"com.amazon.coral.service#SerializationException"},"Version":"1.0"}`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"Output":{"__type":"com.amazon.coral.service#UnknownOperationException"},"Version":"1.0"}`))
		return
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if act != nil {
			s.writeError(w, &Error{Type: "SerializationException", Status: http.StatusBadRequest})
		} else {
			s.writeError(w, &Error{Type: "UnknownOperationException", Status: http.StatusBadRequest})
		}
		return
	}
	stream := streamingActions[name]
	if !known || (act == nil && stream == nil) {
		s.writeError(w, &Error{Type: "UnknownOperationException", Status: http.StatusBadRequest})
		return
	}

	c, aerr := s.callerOf(r, body)
	if aerr != nil {
		s.writeError(w, aerr)
		s.log.Debug("request refused", "action", name, "type", aerr.Type, "msg", aerr.Message)
		return
	}
	if stream != nil {
		if ct == contentTypeCBOR {
			if body, aerr = cborToJSON(body); aerr != nil {
				s.writeError(w, aerr)
				return
			}
		}
		stream(s, w, r, c, body)
		s.log.Debug("stream ended", "action", name, "took", time.Since(start))
		return
	}
	out, aerr := act(r.Context(), s, c, body)
	if aerr != nil {
		s.writeError(w, aerr)
		s.log.Debug("request failed", "action", name, "type", aerr.Type, "msg", aerr.Message, "took", time.Since(start))
		return
	}
	s.writeJSON(w, out)
	s.log.Debug("request", "action", name, "took", time.Since(start))
}

// readBody reads at most maxBody+1 bytes, in one allocation when the
// client declared the length.
func readBody(r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n >= 0 && n <= maxBody {
		b := make([]byte, n)
		_, err := io.ReadFull(r.Body, b)
		return b, err
	}
	return io.ReadAll(io.LimitReader(r.Body, maxBody+1))
}

var credentialRE = regexp.MustCompile(`Credential=([^/,\s]+)/[^/]+/([^/]+)/`)

// callerOf finds the account and region of a request, and is the one
// place that does. With a Verifier configured, the request must be signed
// and the signing key decides (auth.go). Otherwise the server is open: the
// region comes from the SigV4 credential scope, and the account is the
// access key id when that is a 12-digit number (so tests can act as
// several accounts), and the configured default account otherwise.
func (s *Service) callerOf(r *http.Request, body []byte) (caller, *Error) {
	if s.cfg.Verifier != nil {
		return s.verifiedCaller(r, body)
	}
	c := caller{account: s.cfg.DefaultAccount, region: s.cfg.DefaultRegion}
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); auth != "" {
		if m := credentialRE.FindStringSubmatch(auth); m != nil {
			cred = m[1] + "/x/" + m[2] + "/"
		}
	}
	if parts := strings.Split(cred, "/"); len(parts) >= 3 {
		if parts[2] != "" {
			// As a signed server would, refuse a region that is not one:
			// "a.b" would otherwise list another region's streams.
			if !sigv4.ValidRegion(parts[2]) {
				return caller{}, newError(sigv4.InvalidSignature, http.StatusBadRequest, sigv4.InvalidRegionMessage, parts[2])
			}
			c.region = parts[2]
		}
		if key := parts[0]; len(key) == 12 && strings.Trim(key, "0123456789") == "" {
			c.account = key
		}
	}
	return c, nil
}

// writeTooLarge refuses a body over maxBody. AWS answers 413 with no
// body, which SDKs report as error code "413". net/http closes an
// HTTP/1.1 connection rather than read the rest of a large body.
func writeTooLarge(w http.ResponseWriter) {
	w.Header()["Content-Type"] = nil
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
}

func writeXML(w http.ResponseWriter, status int, body string) {
	// AWS sends these bodies with no Content-Type. A nil entry, unlike a
	// deleted one, also stops net/http from sniffing one.
	w.Header()["Content-Type"] = nil
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// jsonAppender is a response that encodes itself. The data-plane
// responses do, because reflection-based encoding (and json.Marshal's
// re-validation of custom output) dominated their cost.
type jsonAppender interface{ appendJSON(b []byte) []byte }

// writeJSON writes a successful response, in CBOR when the request was.
func (s *Service) writeJSON(w http.ResponseWriter, out any) {
	if isCBOR(w) {
		s.writeCBOR(w, out)
		return
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	if out == nil {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	var b []byte
	if a, ok := out.(jsonAppender); ok {
		b = a.appendJSON(nil)
	} else {
		var err error
		if b, err = json.Marshal(out); err != nil {
			s.writeError(w, errInternal(err))
			return
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

func (s *Service) writeError(w http.ResponseWriter, e *Error) {
	if e.Status == 0 {
		e.Status = http.StatusBadRequest
	}
	body := map[string]string{"__type": e.Type}
	if e.Message != "" {
		// SerializationException alone spells the key with a capital M.
		if e.Type == "SerializationException" {
			body["Message"] = e.Message
		} else {
			body["message"] = e.Message
		}
	}
	if e.Status >= 500 {
		s.logStoreError("internal failure", e)
	}
	b, _ := json.Marshal(body)
	ct := contentTypeJSON
	if isCBOR(w) {
		b, ct = encodeCBORError(body), contentTypeCBOR
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("x-amzn-ErrorType", e.Type)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}
