// Package sigv4 verifies requests signed with AWS Signature Version 4,
// in both the Authorization-header form and the presigned query-string
// form, and answers with the error names and messages AWS uses.
//
// Why not aws-sdk-go-v2's aws/signer/v4: a verifier has to rebuild the
// exact canonical request the client built, and that is determined by the
// client's SignedHeaders list. The SDK signer instead chooses the headers
// itself: it always signs content-length when the body is not empty, never
// signs User-Agent, Expect or Transfer-Encoding, and signs every other
// header present. botocore does not sign content-length and the Java SDK
// signs User-Agent, so feeding their requests through the SDK signer would
// reject valid signatures. The algorithm itself is small and fully
// specified, so it is implemented here; the tests check it against the SDK
// signer and AWS's published test vectors.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const (
	// Algorithm is the only signing algorithm SigV4 defines.
	Algorithm = "AWS4-HMAC-SHA256"
	// terminator ends every credential scope.
	terminator = "aws4_request"
	// amzDateFormat is ISO 8601 basic format, as in X-Amz-Date.
	amzDateFormat = "20060102T150405Z"
	// MaxSkew is how far a request's date may be from the server's clock.
	MaxSkew = 15 * time.Minute
	// maxExpires is the longest X-Amz-Expires a presigned request may ask for
	// (7 days, as on AWS).
	maxExpires = 7 * 24 * 3600
)

// Error codes, as AWS's JSON services name them.
const (
	MissingAuthenticationToken = "MissingAuthenticationTokenException"
	IncompleteSignature        = "IncompleteSignatureException"
	InvalidSignature           = "InvalidSignatureException"
	UnrecognizedClient         = "UnrecognizedClientException"
)

// Messages AWS sends word for word.
const (
	msgMissing           = "Missing Authentication Token"
	msgUnknownKey        = "The security token included in the request is invalid."
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Error is an authentication failure, to be sent to the client as an AWS
// error with HTTP status 400.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func newErr(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Credential is one access key and the account it acts as.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	Account         string
}

// Identity is who signed a verified request, and for which region.
type Identity struct {
	AccessKeyID string
	Account     string
	Region      string
}

// Options tune a Verifier. The zero value verifies Kinesis requests
// against the system clock.
type Options struct {
	// Service is the service name the credential scope must carry;
	// "kinesis" when empty.
	Service string
	// Now is the clock requests' dates are checked against; time.Now when
	// nil. Tests set it.
	Now func() time.Time
}

// Verifier checks SigV4 signatures against a fixed set of credentials. It
// is immutable after New and safe for concurrent use.
type Verifier struct {
	keys    map[string]Credential
	service string
	now     func() time.Time
}

// regionRE accepts any plausible region name. Tributary serves every
// region, so the scope's region only has to be well formed.
var regionRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ValidRegion reports whether a credential scope's region is well formed.
// Unsigned servers check it too: the region becomes part of metadata keys
// and ARNs.
func ValidRegion(region string) bool { return regionRE.MatchString(region) }

// InvalidRegionMessage is AWS's message for a malformed scope region.
const InvalidRegionMessage = "Credential should be scoped to a valid region, not '%s'. "

// New returns a Verifier for creds. Access key ids must be unique.
func New(creds []Credential, opts Options) (*Verifier, error) {
	v := &Verifier{keys: make(map[string]Credential, len(creds)), service: opts.Service, now: opts.Now}
	if v.service == "" {
		v.service = "kinesis"
	}
	if v.now == nil {
		v.now = time.Now
	}
	for _, c := range creds {
		if c.AccessKeyID == "" || c.SecretAccessKey == "" {
			return nil, fmt.Errorf("credential %q: access key id and secret must not be empty", c.AccessKeyID)
		}
		if _, dup := v.keys[c.AccessKeyID]; dup {
			return nil, fmt.Errorf("access key id %q listed twice", c.AccessKeyID)
		}
		v.keys[c.AccessKeyID] = c
	}
	return v, nil
}

// authParts is what a request says about its signature, from either form.
type authParts struct {
	credential    string
	signedHeaders string
	signature     string
	// date is X-Amz-Date, or the Date header when there is none.
	date time.Time
	// expires is X-Amz-Expires in seconds for presigned requests, or 0.
	expires int
	presign bool
}

// Verify authenticates r, whose body the caller has already read. It
// returns the signer's identity, or an *Error worded as AWS words it.
//
// The checks run in the order AWS's front end appears to use: presence of
// any authentication, completeness, the credential's shape and scope, the
// request date, the access key, and finally the signature itself.
func (v *Verifier) Verify(r *http.Request, body []byte) (Identity, error) {
	a, err := parseAuth(r)
	if err != nil {
		return Identity{}, err
	}
	// Credential = <key>/<yyyymmdd>/<region>/<service>/aws4_request. The
	// wording below is AWS's (seen in client bug reports); errors.md does
	// not cover it.
	scope := strings.Split(a.credential, "/")
	if len(scope) != 5 {
		return Identity{}, newErr(IncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", a.credential)
	}
	keyID, scopeDate, region, service, term := scope[0], scope[1], scope[2], scope[3], scope[4]
	// The three scope messages follow AWS's SigV4 troubleshooting guide,
	// with the trailing ". " AWS's JSON services send; errors.md is silent.
	if term != terminator {
		return Identity{}, newErr(InvalidSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'. ", term)
	}
	if service != v.service {
		return Identity{}, newErr(InvalidSignature, "Credential should be scoped to correct service: '%s'. ", v.service)
	}
	if !ValidRegion(region) {
		return Identity{}, newErr(InvalidSignature, InvalidRegionMessage, region)
	}
	signed := strings.Split(a.signedHeaders, ";")
	if !contains(signed, "host") {
		// AWS's wording; errors.md is silent.
		return Identity{}, newErr(InvalidSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	amzDate := a.date.Format(amzDateFormat)
	if scopeDate != amzDate[:8] {
		// AWS's wording per its troubleshooting guide; the detail after the
		// colon is from memory of AWS responses, errors.md is silent.
		return Identity{}, newErr(InvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", scopeDate, amzDate[:8], amzDate)
	}
	if err := v.checkTime(a); err != nil {
		return Identity{}, err
	}
	cred, ok := v.keys[keyID]
	if !ok {
		return Identity{}, newErr(UnrecognizedClient, msgUnknownKey)
	}
	if tokenOf(r) != "" {
		// Only long-term keys are configured, so any session token is one
		// this server never issued: AWS's answer to an invalid token.
		return Identity{}, newErr(UnrecognizedClient, msgUnknownKey)
	}
	payloadHash := hashHex(body)
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != payloadHash {
		// Kinesis has no unsigned payloads: a declared hash that is not the
		// body's is a tampered or corrupted request.
		return Identity{}, newErr(InvalidSignature, msgSignatureMismatch)
	}
	creq := canonicalRequest(r, signed, payloadHash, a.presign)
	scopeStr := scopeDate + "/" + region + "/" + service + "/" + terminator
	sts := Algorithm + "\n" + amzDate + "\n" + scopeStr + "\n" + hashHex([]byte(creq))
	want := hex.EncodeToString(hmacSHA256(SigningKey(cred.SecretAccessKey, scopeDate, region, service), sts))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(a.signature))) {
		return Identity{}, newErr(InvalidSignature, msgSignatureMismatch)
	}
	return Identity{AccessKeyID: keyID, Account: cred.Account, Region: region}, nil
}

// checkTime enforces the 15-minute window around the server's clock, and
// for presigned requests their X-Amz-Expires.
func (v *Verifier) checkTime(a authParts) error {
	now := v.now().UTC()
	if a.presign && a.expires > 0 {
		// A presigned request is good from its date for X-Amz-Expires
		// seconds. The wording mirrors the header form's; errors.md is
		// silent on presigned expiry.
		if limit := now.Add(-time.Duration(a.expires) * time.Second); a.date.Before(limit) {
			return newErr(InvalidSignature, "Signature expired: %s is now earlier than %s (%s - %d sec.)",
				a.date.Format(amzDateFormat), limit.Format(amzDateFormat), now.Format(amzDateFormat), a.expires)
		}
	} else if limit := now.Add(-MaxSkew); a.date.Before(limit) {
		return newErr(InvalidSignature, "Signature expired: %s is now earlier than %s (%s - 15 min.)",
			a.date.Format(amzDateFormat), limit.Format(amzDateFormat), now.Format(amzDateFormat))
	}
	if limit := now.Add(MaxSkew); a.date.After(limit) {
		// AWS's wording per its troubleshooting guide; errors.md is silent.
		return newErr(InvalidSignature, "Signature not yet current: %s is still later than %s (%s + 15 min.)",
			a.date.Format(amzDateFormat), limit.Format(amzDateFormat), now.Format(amzDateFormat))
	}
	return nil
}

// parseAuth finds the signature parameters in the header or the query
// string and reports what is missing exactly as AWS does (errors.md §3.7).
func parseAuth(r *http.Request) (authParts, error) {
	auth := r.Header.Get("Authorization")
	q := r.URL.Query()
	// errors.md names X-Amz-Algorithm as the query form's marker. A query
	// carrying the other presigning parameters but no algorithm is treated
	// as an incomplete presigned request, so that AWS's "must include
	// 'X-Amz-Algorithm'" message can be reached at all.
	queryAuth := q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Signature")
	switch {
	case auth == "" && !queryAuth:
		return authParts{}, newErr(MissingAuthenticationToken, msgMissing)
	case auth != "" && q.Has("X-Amz-Algorithm"):
		return authParts{}, newErr(InvalidSignature, "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")
	case auth != "":
		return parseHeaderAuth(r, auth)
	default:
		return parseQueryAuth(q)
	}
}

func parseHeaderAuth(r *http.Request, auth string) (authParts, error) {
	// Like AWS (and kinesalite), split on commas and spaces: the first
	// field is the algorithm, the rest are name=value parameters.
	fields := strings.FieldsFunc(auth, func(c rune) bool { return c == ',' || c == ' ' })
	params := map[string]string{}
	alg := ""
	if len(fields) > 0 {
		alg = fields[0]
		for _, f := range fields[1:] {
			if k, v, ok := strings.Cut(f, "="); ok {
				params[k] = v
			}
		}
	}
	a := authParts{credential: params["Credential"], signedHeaders: params["SignedHeaders"], signature: params["Signature"]}
	xdate, date := r.Header.Get("X-Amz-Date"), r.Header.Get("Date")
	var msg strings.Builder
	if a.credential == "" {
		msg.WriteString("Authorization header requires 'Credential' parameter. ")
	}
	if a.signature == "" {
		msg.WriteString("Authorization header requires 'Signature' parameter. ")
	}
	if a.signedHeaders == "" {
		msg.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
	}
	if xdate == "" && date == "" {
		msg.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	if msg.Len() > 0 {
		return authParts{}, newErr(IncompleteSignature, "%sAuthorization=%s", msg.String(), auth)
	}
	if alg != Algorithm {
		// errors.md is silent on a complete header with another algorithm
		// (SigV2, SigV4A); this wording is ours.
		return authParts{}, newErr(IncompleteSignature, "Unsupported AWS 'algorithm': '%s'. Authorization=%s", alg, auth)
	}
	if xdate != "" {
		t, err := parseAmzDate(xdate)
		if err != nil {
			return authParts{}, err
		}
		a.date = t
	} else {
		t, err := http.ParseTime(date)
		if err != nil {
			return authParts{}, badDate(date)
		}
		a.date = t.UTC()
	}
	return a, nil
}

func parseQueryAuth(q map[string][]string) (authParts, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	a := authParts{credential: get("X-Amz-Credential"), signedHeaders: get("X-Amz-SignedHeaders"), signature: get("X-Amz-Signature"), presign: true}
	alg, date := get("X-Amz-Algorithm"), get("X-Amz-Date")
	var msg strings.Builder
	for _, p := range []struct{ name, val string }{
		{"X-Amz-Algorithm", alg}, {"X-Amz-Credential", a.credential}, {"X-Amz-Signature", a.signature},
		{"X-Amz-SignedHeaders", a.signedHeaders}, {"X-Amz-Date", date},
	} {
		if p.val == "" {
			fmt.Fprintf(&msg, "AWS query-string parameters must include '%s'. ", p.name)
		}
	}
	if msg.Len() > 0 {
		return authParts{}, newErr(IncompleteSignature, "%sRe-examine the query-string parameters.", msg.String())
	}
	if alg != Algorithm {
		// errors.md is silent; AWS's query-form wording as we recall it.
		return authParts{}, newErr(IncompleteSignature, "X-Amz-Algorithm only supports '%s'", Algorithm)
	}
	t, err := parseAmzDate(date)
	if err != nil {
		return authParts{}, err
	}
	a.date = t
	if e := get("X-Amz-Expires"); e != "" {
		n, err := strconv.Atoi(e)
		if err != nil || n < 1 || n > maxExpires {
			// errors.md is silent; wording is ours.
			return authParts{}, newErr(IncompleteSignature, "X-Amz-Expires must be a number of seconds from 1 to %d, got '%s'.", maxExpires, e)
		}
		a.expires = n
	}
	return a, nil
}

func parseAmzDate(s string) (time.Time, error) {
	t, err := time.Parse(amzDateFormat, s)
	if err != nil {
		return time.Time{}, badDate(s)
	}
	return t, nil
}

// badDate is AWS's complaint about an unparsable date, as we recall it;
// errors.md is silent.
func badDate(s string) error {
	return newErr(IncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", s)
}

// tokenOf returns the session token a request carries, in either form.
func tokenOf(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Security-Token"); t != "" {
		return t
	}
	return r.URL.Query().Get("X-Amz-Security-Token")
}

// SigningKey derives the SigV4 signing key for a date (yyyymmdd), region
// and service.
func SigningKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, terminator)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
