package sigv4

import "crypto/subtle"

// CheckSecret reports whether secret is the secret access key of
// accessKeyID, for the places that accept a key id and its secret as
// HTTP Basic credentials (the Connect REST API, /metrics) instead of a
// signature. The comparison takes the same time whether the key id is
// unknown or the secret wrong, and does not depend on how much of the
// secret matched, so timing tells an attacker nothing.
func (v *Verifier) CheckSecret(accessKeyID, secret string) (Identity, bool) {
	cred, known := v.keys[accessKeyID]
	want := cred.SecretAccessKey
	if !known {
		// Compare against a string of the same length as the guess, so an
		// unknown key costs what a wrong secret does.
		want = string(make([]byte, len(secret)))
	}
	same := subtle.ConstantTimeCompare([]byte(secret), []byte(want)) == 1
	if !known || !same {
		return Identity{}, false
	}
	return Identity{AccessKeyID: cred.AccessKeyID, Account: cred.Account}, true
}
