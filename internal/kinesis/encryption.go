package kinesis

import (
	"context"
	"time"

	"github.com/tributary-data/tributary/internal/seal"
)

// Server-side encryption: StartStreamEncryption and StopStreamEncryption.
//
// While a stream's encryption is on, every record batch it stores is
// sealed with AES-256-GCM before it reaches JetStream, so its bytes on disk
// are ciphertext. There is no KMS here: the data key of a KMS KeyId is
// derived from the server's master key (HMAC-SHA256 of the KeyId), which
// is either generated once and kept in the metadata bucket or, with
// Config.MasterKey, supplied from outside the data directory. Batches
// carry their KeyId, so records written before a change of key, or before
// encryption stopped, stay readable.

// encryptedBatchVersion marks a sealed batch: version byte, uvarint length
// and KeyId, nonce, then the AES-GCM ciphertext of a plain batch.
const encryptedBatchVersion = 2

// dataKeyLabel is the label of stream data keys in the master key's
// derivation (seal.NewKeyring).
const dataKeyLabel = "tributary data key"

// keyring seals and opens record batches, with the server's shared
// sealing (internal/seal) and the batch's version byte.
type keyring struct{ keys *seal.Keyring }

func newKeyring(master []byte) *keyring { return &keyring{keys: seal.NewKeyring(master, dataKeyLabel)} }

// seal encrypts a plain batch under keyID.
func (k *keyring) seal(keyID string, plain []byte) ([]byte, error) {
	return k.keys.Seal(encryptedBatchVersion, keyID, plain)
}

// open returns the plain batch of a stored message, decrypting it if it
// is sealed, and whether it was.
func (k *keyring) open(p []byte) (plain []byte, encrypted bool, err error) {
	return k.keys.Open(encryptedBatchVersion, p)
}

type streamEncryptionInput struct {
	streamIDInput
	EncryptionType *Str `json:"EncryptionType"`
	KeyId          *Str `json:"KeyId"`
}

func (in *streamEncryptionInput) check(v *validation) {
	if v.notNull("encryptionType", in.EncryptionType != nil) {
		v.enum("encryptionType", string(*in.EncryptionType), "NONE", "KMS")
	}
	if v.notNull("keyId", in.KeyId != nil) {
		v.lenRange("keyId", string(*in.KeyId), 1, 2048)
	}
	in.streamIDInput.check(v)
}

// changeEncryption starts or stops encryption. Like AWS it makes the
// stream UPDATING for a while; new writes follow the new setting at once.
func (s *Service) changeEncryption(ctx context.Context, c caller, in *streamEncryptionInput, start bool) (any, *Error) {
	var v validation
	in.check(&v)
	if err := v.err(); err != nil {
		return nil, err
	}
	if string(*in.EncryptionType) != "KMS" {
		return nil, errInvalidArgument("Encryption type %s is not supported. The only supported encryption type is KMS.", *in.EncryptionType)
	}
	ref, e, aerr := in.find(s, c)
	if aerr != nil {
		return nil, aerr
	}
	now := time.Now()
	if st := e.meta.effectiveStatus(now); st != statusActive {
		return nil, errNotActive(ref, st)
	}
	keyID := string(*in.KeyId)
	_, err := s.cat.update(ctx, ref.key(), func(m *streamMeta) error {
		// Another request may have changed the status since the check
		// above (see reshard).
		if st := m.effectiveStatus(now); st != statusActive {
			return errNotActive(ref, st)
		}
		if !start {
			if m.KeyID == "" {
				return errInvalidArgument("Stream %s under account %s is not encrypted.", m.Name, m.Account)
			}
			if m.KeyID != keyID {
				return errInvalidArgument("The KeyId %s does not match the key %s that encrypts stream %s under account %s.", keyID, m.KeyID, m.Name, m.Account)
			}
			m.KeyID = ""
		} else {
			m.KeyID = keyID
		}
		s.beginUpdate(m, now)
		return nil
	})
	if err != nil {
		return nil, mapStoreErr(ref, err)
	}
	return nil, nil
}

func (s *Service) startStreamEncryption(ctx context.Context, c caller, in *streamEncryptionInput) (any, *Error) {
	return s.changeEncryption(ctx, c, in, true)
}

func (s *Service) stopStreamEncryption(ctx context.Context, c caller, in *streamEncryptionInput) (any, *Error) {
	return s.changeEncryption(ctx, c, in, false)
}

// encryptionType is what responses report for a stream's new writes.
func encryptionType(m *streamMeta) string {
	if m.KeyID != "" {
		return "KMS"
	}
	return "NONE"
}

// masterKey returns the configured master key, or the one kept in the
// metadata bucket, creating it once.
func masterKey(ctx context.Context, s *Service) ([]byte, error) {
	return seal.MasterKey(ctx, s.st, s.cfg.MasterKey)
}
