package kinesis

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
)

// CBOR (application/x-amz-cbor-1.1) is what the Java SDKs, and so the KCL
// and the KPL, send by default. It carries the same members as AWS JSON
// 1.1; only three things differ on the wire: blobs are byte strings,
// timestamps are tag 1 holding epoch milliseconds, and numbers are typed.
//
// Requests are transcoded into the JSON the actions already accept (blobs
// to base64, tag-1 milliseconds to epoch seconds) rather than decoded a
// second way. That keeps one decoder per action, so Coral's validation
// order and its SerializationException texts come out identical for both
// protocols: a text string where an Integer belongs fails with the very
// message JSON gives. Responses go the other way without JSON in between:
// the response types encode themselves (Timestamp as tag 1, []byte as a
// byte string, members named by their json tags, which fxamacker/cbor
// honours), and GetRecords, the one large response, is hand-encoded so its
// data is copied once and never base64-encoded.

// cborDec only checks well-formedness and limits before cborToJSON walks
// the bytes; it and cborEnc are immutable and safe for concurrent use.
var (
	cborDec = mustDecMode(cbor.DecOptions{
		MaxArrayElements: maxBody,
		MaxMapPairs:      maxBody,
	})
	// Struct members keep their declaration order, as in the JSON.
	cborEnc = mustEncMode(cbor.EncOptions{})
)

func mustDecMode(o cbor.DecOptions) cbor.DecMode {
	m, err := o.DecMode()
	if err != nil {
		panic(err)
	}
	return m
}

func mustEncMode(o cbor.EncOptions) cbor.EncMode {
	m, err := o.EncMode()
	if err != nil {
		panic(err)
	}
	return m
}

// cborWriter marks the response to a CBOR request, so that writeJSON and
// writeError (and any error written before the action runs, such as an
// authentication failure) answer in CBOR without each call site knowing
// the request's protocol.
type cborWriter struct{ http.ResponseWriter }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w cborWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush keeps the wrapper an http.Flusher, as the writer it wraps is, for
// code that type-asserts rather than using http.ResponseController.
func (w cborWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

func isCBOR(w http.ResponseWriter) bool {
	_, ok := w.(cborWriter)
	return ok
}

// cborAction runs act on a CBOR request body by transcoding it to JSON
// first. A nil action stays nil (unknown operation).
func cborAction(act action) action {
	if act == nil {
		return nil
	}
	return func(ctx context.Context, s *Service, c caller, body []byte) (any, *Error) {
		js, aerr := cborToJSON(body)
		if aerr != nil {
			return nil, aerr
		}
		return act(ctx, s, c, js)
	}
}

// errCBORSyntax is the bare SerializationException that a body JSON could
// not parse gets too.
var errCBORSyntax = &Error{Type: "SerializationException", Status: http.StatusBadRequest}

// cborToJSON transcodes a CBOR request body into the JSON the actions
// decode. The body must be one well-formed CBOR map with text keys, as a
// JSON body must be one object. Byte strings become base64 strings, tag 1
// (epoch milliseconds) becomes epoch seconds, other tags are dropped in
// favour of their content, and undefined reads as null (absent). An
// untagged number stays a number, so a timestamp sent that way means epoch
// seconds as in JSON. A byte string where a string member is expected
// reads as its base64 text; no SDK sends that.
func cborToJSON(body []byte) ([]byte, *Error) {
	if cborDec.Wellformed(body) != nil {
		return nil, errCBORSyntax
	}
	r := cborReader{data: body}
	for body[r.off]>>5 == 6 { // such as the self-described CBOR tag
		r.head()
	}
	if body[r.off]>>5 != 5 {
		return nil, errCBORSyntax
	}
	// Base64 grows blobs by a third; most of a large body is blobs.
	out, err := r.value(make([]byte, 0, len(body)+len(body)/3+64))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// cborReader walks CBOR that cborDec has already found well-formed, so it
// does no bounds or structure checks of its own.
type cborReader struct {
	data []byte
	off  int
}

// head reads an initial byte and its argument; ai 31 means indefinite
// length (or, for major type 7, a break).
func (r *cborReader) head() (major, ai byte, arg uint64) {
	ib := r.data[r.off]
	r.off++
	major, ai = ib>>5, ib&0x1f
	switch ai {
	case 24:
		arg = uint64(r.data[r.off])
		r.off++
	case 25:
		arg = uint64(binary.BigEndian.Uint16(r.data[r.off:]))
		r.off += 2
	case 26:
		arg = uint64(binary.BigEndian.Uint32(r.data[r.off:]))
		r.off += 4
	case 27:
		arg = binary.BigEndian.Uint64(r.data[r.off:])
		r.off += 8
	default:
		if ai < 24 {
			arg = uint64(ai)
		}
	}
	return major, ai, arg
}

// atBreak consumes the break that ends an indefinite-length item.
func (r *cborReader) atBreak() bool {
	if r.data[r.off] == 0xff {
		r.off++
		return true
	}
	return false
}

// str returns a byte or text string's content, joining the chunks of an
// indefinite-length one.
func (r *cborReader) str(ai byte, n uint64) []byte {
	if ai != 31 {
		s := r.data[r.off : r.off+int(n)]
		r.off += int(n)
		return s
	}
	var s []byte
	for !r.atBreak() {
		_, _, n := r.head()
		s = append(s, r.data[r.off:r.off+int(n)]...)
		r.off += int(n)
	}
	return s
}

// value appends the next item as JSON.
func (r *cborReader) value(b []byte) ([]byte, *Error) {
	major, ai, arg := r.head()
	switch major {
	case 0:
		return strconv.AppendUint(b, arg, 10), nil
	case 1: // -1-arg
		b = append(b, '-')
		if arg == math.MaxUint64 {
			return append(b, "18446744073709551616"...), nil
		}
		return strconv.AppendUint(b, arg+1, 10), nil
	case 2:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, r.str(ai, arg))
		return append(b, '"'), nil
	case 3:
		s := r.str(ai, arg)
		if !utf8.Valid(s) {
			return nil, errCBORSyntax // as in JSON (decodeBody), not U+FFFD
		}
		return appendJSONString(b, string(s)), nil
	case 4:
		return r.array(b, ai, arg)
	case 5:
		return r.object(b, ai, arg)
	case 6:
		if arg == 1 {
			if ms, ok := r.epochMillis(); ok {
				return appendMillisAsSeconds(b, ms), nil
			}
		}
		return r.value(b)
	}
	return r.simple(b, ai, arg)
}

// array transcodes an array of arg items (or up to a break, when ai is 31).
func (r *cborReader) array(b []byte, ai byte, arg uint64) ([]byte, *Error) {
	b = append(b, '[')
	for i := uint64(0); ai == 31 && !r.atBreak() || ai != 31 && i < arg; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		var err *Error
		if b, err = r.value(b); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// object transcodes a map of arg pairs (or up to a break, when ai is 31)
// with text keys.
func (r *cborReader) object(b []byte, ai byte, arg uint64) ([]byte, *Error) {
	b = append(b, '{')
	for i := uint64(0); ai == 31 && !r.atBreak() || ai != 31 && i < arg; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		if r.data[r.off]>>5 != 3 {
			return nil, errCBORSyntax
		}
		_, kai, n := r.head()
		key := r.str(kai, n)
		if !utf8.Valid(key) {
			return nil, errCBORSyntax
		}
		b = appendJSONString(b, string(key))
		b = append(b, ':')
		var err *Error
		if b, err = r.value(b); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// simple transcodes major type 7: simple values and floats.
func (r *cborReader) simple(b []byte, ai byte, arg uint64) ([]byte, *Error) {
	var f float64
	switch ai {
	case 20:
		return append(b, "false"...), nil
	case 21:
		return append(b, "true"...), nil
	case 22, 23: // null, undefined
		return append(b, "null"...), nil
	case 25:
		f = halfToFloat(uint16(arg))
	case 26:
		f = float64(math.Float32frombits(uint32(arg)))
	case 27:
		f = math.Float64frombits(arg)
	default:
		return nil, errCBORSyntax
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errCBORSyntax
	}
	// Plain decimals where encoding/json writes them, so that numbers
	// read back the same.
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, f, format, -1, 64), nil
}

// epochMillis reads a tag-1 content that is a number of milliseconds,
// rounded to a whole millisecond as the JSON path rounds epoch seconds. It
// consumes nothing and reports false for anything else (a string, say),
// which is then transcoded as is and fails the member's type check.
func (r *cborReader) epochMillis() (int64, bool) {
	start := r.off
	major, ai, arg := r.head()
	switch {
	case major == 0 && arg <= math.MaxInt64:
		return int64(arg), true
	case major == 1 && arg <= math.MaxInt64:
		return -1 - int64(arg), true
	case major == 7 && ai >= 25 && ai <= 27:
		var f float64
		switch ai {
		case 25:
			f = halfToFloat(uint16(arg))
		case 26:
			f = float64(math.Float32frombits(uint32(arg)))
		default:
			f = math.Float64frombits(arg)
		}
		if f = math.Round(f); f >= -(1<<63) && f < 1<<63 {
			return int64(f), true
		}
	}
	r.off = start
	return 0, false
}

// appendMillisAsSeconds writes ms as exact decimal epoch seconds.
func appendMillisAsSeconds(b []byte, ms int64) []byte {
	u := uint64(ms)
	if ms < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/1000, 10)
	if r := u % 1000; r != 0 {
		b = append(b, '.', byte('0'+r/100), byte('0'+r/10%10), byte('0'+r%10))
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
	}
	return b
}

// halfToFloat decodes an IEEE 754 half-precision float.
func halfToFloat(h uint16) float64 {
	exp, mant := int(h>>10&0x1f), float64(h&0x3ff)
	var f float64
	switch exp {
	case 0:
		f = math.Ldexp(mant, -24)
	case 31:
		f = math.Inf(1)
		if mant != 0 {
			f = math.NaN()
		}
	default:
		f = math.Ldexp(mant+1024, exp-25)
	}
	if h&0x8000 != 0 {
		f = -f
	}
	return f
}

// cborAppender is a response that encodes itself as CBOR, like
// jsonAppender.
type cborAppender interface{ appendCBOR(b []byte) []byte }

// emptyCBORMap answers an action with no output members. A CBOR parser
// handed zero bytes reports end of input, which some treat as an error;
// an empty map is what an output without members encodes to.
var emptyCBORMap = []byte{0xa0}

func (s *Service) writeCBOR(w http.ResponseWriter, out any) {
	w.Header().Set("Content-Type", contentTypeCBOR)
	var b []byte
	switch o := out.(type) {
	case nil:
		b = emptyCBORMap
	case cborAppender:
		b = o.appendCBOR(nil)
	default:
		var err error
		if b, err = cborEnc.Marshal(out); err != nil {
			s.writeError(w, errInternal(err))
			return
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// encodeCBORError encodes an error body: the same members as in JSON,
// __type first.
func encodeCBORError(body map[string]string) []byte {
	b := appendCBORHead(nil, 5, uint64(len(body)))
	b = appendCBORText(appendCBORText(b, "__type"), body["__type"])
	for k, v := range body {
		if k != "__type" {
			b = appendCBORText(appendCBORText(b, k), v)
		}
	}
	return b
}

// MarshalCBOR writes tag 1 holding epoch milliseconds, which the Java
// SDKs read as a long. Without it the embedded time.Time's MarshalBinary
// would make a byte string.
func (t Timestamp) MarshalCBOR() ([]byte, error) {
	return appendCBORTime(make([]byte, 0, 10), t.Time), nil
}

// CBOR encoding helpers for hand-encoded responses.

func appendCBORHead(b []byte, major byte, n uint64) []byte {
	major <<= 5
	switch {
	case n < 24:
		return append(b, major|byte(n))
	case n <= math.MaxUint8:
		return append(b, major|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, major|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, major|26), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, major|27), n)
}

func appendCBORInt(b []byte, n int64) []byte {
	if n < 0 {
		return appendCBORHead(b, 1, uint64(-1-n))
	}
	return appendCBORHead(b, 0, uint64(n))
}

func appendCBORText(b []byte, s string) []byte {
	return append(appendCBORHead(b, 3, uint64(len(s))), s...)
}

func appendCBORBytes(b []byte, p []byte) []byte {
	return append(appendCBORHead(b, 2, uint64(len(p))), p...)
}

func appendCBORTime(b []byte, t time.Time) []byte {
	return appendCBORInt(append(b, 0xc1), t.UnixMilli())
}

// appendCBOR encodes GetRecords' response as appendJSON does, members in
// the same order. TestGetRecordsOutputFields fails when getRecordsOutput
// gains a field, as a reminder to encode it here too.
func (o getRecordsOutput) appendCBOR(b []byte) []byte {
	n := 64 + len(o.next)
	for _, r := range o.records {
		n += 130 + len(r.PartitionKey) + len(r.Data)
	}
	b = slices.Grow(b, n)
	members := uint64(2)
	if o.next != "" {
		members++
	}
	if o.children != nil {
		members++
	}
	b = appendCBORHead(b, 5, members)
	b = appendCBORText(b, "Records")
	b = o.appendRecordsCBOR(b)
	b = appendCBORText(b, "MillisBehindLatest")
	b = appendCBORInt(b, o.millisBehind)
	if o.next != "" {
		b = appendCBORText(b, "NextShardIterator")
		b = appendCBORText(b, o.next)
	}
	if o.children != nil {
		b = appendCBORText(b, "ChildShards")
		cb, _ := cborEnc.Marshal(o.children) // strings only: cannot fail
		b = append(b, cb...)
	}
	return b
}

// appendRecordsCBOR encodes the records as a CBOR array, for GetRecords
// and for SubscribeToShard events alike.
func (o getRecordsOutput) appendRecordsCBOR(b []byte) []byte {
	b = appendCBORHead(b, 4, uint64(len(o.records)))
	for _, r := range o.records {
		fields := uint64(4)
		if r.Encrypted {
			fields++
		}
		b = appendCBORHead(b, 5, fields)
		b = appendCBORText(b, "SequenceNumber")
		b = appendCBORText(b, r.Seq)
		b = appendCBORText(b, "ApproximateArrivalTimestamp")
		b = appendCBORTime(b, r.Arrival)
		b = appendCBORText(b, "Data")
		b = appendCBORBytes(b, r.Data)
		b = appendCBORText(b, "PartitionKey")
		b = appendCBORText(b, r.PartitionKey)
		if r.Encrypted {
			b = appendCBORText(b, "EncryptionType")
			b = appendCBORText(b, "KMS")
		}
	}
	return b
}
