package sigv4

import (
	"crypto/sha256"
	"crypto/subtle"
)

// CheckSecret reports whether secret is the secret access key of
// accessKeyID, for the places that accept a key id and its secret as
// HTTP Basic credentials (the Connect REST API, /metrics) instead of a
// signature. The comparison takes the same time whether the key id is
// unknown or the secret wrong, and does not depend on how much of the
// secret matched nor on its length, so timing tells an attacker nothing.
func (v *Verifier) CheckSecret(accessKeyID, secret string) (Identity, bool) {
	cred, known := v.keys[accessKeyID]
	// Digests have one length: subtle.ConstantTimeCompare returns at once
	// for inputs of different lengths, which would tell the secret's.
	got, want := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(cred.SecretAccessKey))
	same := subtle.ConstantTimeCompare(got[:], want[:]) == 1
	if !known || !same {
		return Identity{}, false
	}
	return Identity{AccessKeyID: cred.AccessKeyID, Account: cred.Account}, true
}
