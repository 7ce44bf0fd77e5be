package kinesis

import (
	"context"

	"github.com/tributary-data/tributary/internal/streams"
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
	ref, _, aerr := in.find(s, c, &v)
	if aerr != nil {
		return nil, aerr
	}
	keyID := string(*in.KeyId)
	return nil, awsError(ref, s.eng.Change(ctx, ref.id(), func(m *streams.Meta) error {
		if start {
			m.KeyID = keyID
			return nil
		}
		if m.KeyID == "" {
			return errInvalidArgument("Stream %s under account %s is not encrypted.", m.Name, m.Account)
		}
		if m.KeyID != keyID {
			return errInvalidArgument("The KeyId %s does not match the key %s that encrypts stream %s under account %s.", keyID, m.KeyID, m.Name, m.Account)
		}
		m.KeyID = ""
		return nil
	}))
}

func (s *Service) startStreamEncryption(ctx context.Context, c caller, in *streamEncryptionInput) (any, *Error) {
	return s.changeEncryption(ctx, c, in, true)
}

func (s *Service) stopStreamEncryption(ctx context.Context, c caller, in *streamEncryptionInput) (any, *Error) {
	return s.changeEncryption(ctx, c, in, false)
}

// encryptionType is what responses report for a stream's new writes.
func encryptionType(m *streams.Meta) string {
	if m.KeyID != "" {
		return "KMS"
	}
	return "NONE"
}
