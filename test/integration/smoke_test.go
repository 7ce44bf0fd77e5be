package integration

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/tributary-data/tributary/internal/testserver"
)

func TestSmoke(t *testing.T) {
	p := testserver.Start(t)
	c := p.Client()
	ctx := testserver.Context(t, 30*time.Second)
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(*out.ShardId, *out.SequenceNumber)
}
