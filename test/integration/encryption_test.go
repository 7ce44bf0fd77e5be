package integration

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/tributary-data/tributary/internal/testserver"
	"github.com/tributary-data/tributary/internal/testserver/inproc"
)

// onDisk reports whether any file under dir contains b.
func onDisk(t *testing.T, dir string, b []byte) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || found {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found = bytes.Contains(data, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestStreamEncryption checks that StartStreamEncryption really encrypts
// at rest: a record of an encrypted stream cannot be found in the data
// directory's files, while one of an unencrypted stream can. Records come
// back intact and marked KMS, also after a restart and after
// StopStreamEncryption, which leaves new records unencrypted.
func TestStreamEncryption(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	flags := []string{"-data-dir", dir, "-durability", "sync"}
	p := inproc.Start(t, flags...)
	c := p.Client()
	ctx := testserver.Context(t, time.Minute)
	for _, name := range []string{"plain", "secret"} {
		if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
	}
	const key = "alias/aws/kinesis"
	if _, err := c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: aws.String("secret"),
		EncryptionType: types.EncryptionTypeKms, KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeStream(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String("secret")})
	if err != nil || d.StreamDescription.EncryptionType != types.EncryptionTypeKms || aws.ToString(d.StreamDescription.KeyId) != key {
		t.Fatalf("describe: %+v, %v", d, err)
	}
	plainMarker := []byte("visible-marker-7f3a9c-plain")
	secretMarker := []byte("hidden-marker-7f3a9c-secret")
	if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("plain"), PartitionKey: aws.String("k"), Data: plainMarker}); err != nil {
		t.Fatal(err)
	}
	put, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("secret"), PartitionKey: aws.String("k"), Data: secretMarker})
	if err != nil || put.EncryptionType != types.EncryptionTypeKms {
		t.Fatalf("put: %+v, %v", put, err)
	}
	if !onDisk(t, dir, plainMarker) {
		t.Fatal("the unencrypted record is not in the data directory: the scan cannot see records")
	}
	if onDisk(t, dir, secretMarker) {
		t.Fatal("the encrypted stream's record is in the data directory in plaintext")
	}

	read := func(c *kinesis.Client) []types.Record {
		return readAll(t, c, iterator(t, c, &kinesis.GetShardIteratorInput{StreamName: aws.String("secret"),
			ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}))
	}
	p.Stop()
	p = inproc.Start(t, flags...)
	c = p.Client()
	recs := read(c)
	if len(recs) != 1 || !bytes.Equal(recs[0].Data, secretMarker) || recs[0].EncryptionType != types.EncryptionTypeKms {
		t.Fatalf("after restart: %+v", recs)
	}

	_, err = c.StopStreamEncryption(ctx, &kinesis.StopStreamEncryptionInput{StreamName: aws.String("secret"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("other-key")})
	wantAPIError(t, err, "InvalidArgumentException", "The KeyId other-key does not match the key alias/aws/kinesis that encrypts stream secret under account 000000000000.")
	if _, err := c.StopStreamEncryption(ctx, &kinesis.StopStreamEncryptionInput{StreamName: aws.String("secret"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if put, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("secret"), PartitionKey: aws.String("k"), Data: []byte("after")}); err != nil || put.EncryptionType != types.EncryptionTypeNone {
		t.Fatalf("put after stop: %+v, %v", put, err)
	}
	recs = read(c)
	if len(recs) != 2 || recs[0].EncryptionType != types.EncryptionTypeKms || recs[1].EncryptionType == types.EncryptionTypeKms || string(recs[1].Data) != "after" {
		t.Fatalf("after stop: %+v", recs)
	}
}
