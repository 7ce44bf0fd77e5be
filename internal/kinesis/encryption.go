package kinesis

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"
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

// keyring derives and caches the AEAD of each KeyId.
type keyring struct {
	master []byte
	mu     sync.Mutex
	aeads  map[string]cipher.AEAD
}

func (k *keyring) aead(keyID string) (cipher.AEAD, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if a, ok := k.aeads[keyID]; ok {
		return a, nil
	}
	mac := hmac.New(sha256.New, k.master)
	mac.Write([]byte("tributary data key\x00" + keyID))
	block, err := aes.NewCipher(mac.Sum(nil))
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if k.aeads == nil {
		k.aeads = map[string]cipher.AEAD{}
	}
	k.aeads[keyID] = a
	return a, nil
}

// seal encrypts a plain batch under keyID.
func (k *keyring) seal(keyID string, plain []byte) ([]byte, error) {
	a, err := k.aead(keyID)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 1+binary.MaxVarintLen64+len(keyID)+a.NonceSize()+len(plain)+a.Overhead())
	out = append(out, encryptedBatchVersion)
	out = appendString(out, keyID)
	nonceAt := len(out)
	out = out[:nonceAt+a.NonceSize()]
	_, _ = rand.Read(out[nonceAt:])
	return a.Seal(out, out[nonceAt:], plain, out[:nonceAt]), nil
}

var errSealedBatch = errors.New("sealed batch does not open")

// open returns the plain batch of a stored message, decrypting it if it
// is sealed, and whether it was.
func (k *keyring) open(p []byte) (plain []byte, encrypted bool, err error) {
	if len(p) == 0 || p[0] != encryptedBatchVersion {
		return p, false, nil
	}
	n, w := binary.Uvarint(p[1:])
	if w <= 0 || uint64(len(p)-1-w) < n {
		return nil, true, errSealedBatch
	}
	keyID := string(p[1+w : 1+w+int(n)])
	a, err := k.aead(keyID)
	if err != nil {
		return nil, true, err
	}
	head := 1 + w + int(n)
	if len(p) < head+a.NonceSize()+a.Overhead() {
		return nil, true, errSealedBatch
	}
	plain, err = a.Open(nil, p[head:head+a.NonceSize()], p[head+a.NonceSize():], p[:head])
	if err != nil {
		return nil, true, errSealedBatch
	}
	return plain, true, nil
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
	if len(s.cfg.MasterKey) > 0 {
		if len(s.cfg.MasterKey) < 32 {
			return nil, fmt.Errorf("master key: want at least 32 bytes, have %d", len(s.cfg.MasterKey))
		}
		return s.cfg.MasterKey, nil
	}
	return storedKey(ctx, s.st, "server.master-key")
}
