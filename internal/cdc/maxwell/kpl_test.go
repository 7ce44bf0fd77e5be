package maxwell

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tributary-data/tributary/internal/connect"
	"github.com/tributary-data/tributary/internal/testserver"
)

// The KPL's aggregated record, byte for byte: magic, the proto2
// AggregatedRecord (partition_key_table = ["k"], two records with
// partition_key_index 0 and data "a", "b"), then the protobuf's MD5.
func TestEncodeAggregated(t *testing.T) {
	pb := []byte{
		0x0A, 0x01, 'k', // partition_key_table: "k"
		0x1A, 0x05, 0x08, 0x00, 0x1A, 0x01, 'a', // records: {partition_key_index: 0, data: "a"}
		0x1A, 0x05, 0x08, 0x00, 0x1A, 0x01, 'b',
	}
	sum := md5.Sum(pb)
	want := append(append([]byte{0xF3, 0x89, 0x9A, 0xC2}, pb...), sum[:]...)
	if got := encodeAggregated("k", [][]byte{[]byte("a"), []byte("b")}); !bytes.Equal(got, want) {
		t.Errorf("encoded\n% x\nwant\n% x", got, want)
	}
}

func TestAggregate(t *testing.T) {
	rec := func(key, data string) connect.StreamRecord {
		return connect.StreamRecord{PartitionKey: key, Data: []byte(data)}
	}
	big := strings.Repeat("x", 200)
	cases := []struct {
		name string
		agg  Aggregation
		in   []connect.StreamRecord
		want []string // each output record: "key:data" raw, or "key:[data data ...]" aggregated
	}{
		{"one key", Aggregation{true, 100, 51200}, []connect.StreamRecord{rec("db", "1"), rec("db", "2"), rec("db", "3")},
			[]string{"db:[1 2 3]"}},
		{"keys apart, order kept", Aggregation{true, 100, 51200}, []connect.StreamRecord{rec("a", "1"), rec("b", "2"), rec("a", "3")},
			[]string{"a:[1 3]", "b:2"}},
		{"max count", Aggregation{true, 2, 51200}, []connect.StreamRecord{rec("a", "1"), rec("a", "2"), rec("a", "3")},
			[]string{"a:[1 2]", "a:3"}},
		{"max size", Aggregation{true, 100, 64}, []connect.StreamRecord{rec("a", "1"), rec("a", "2"), rec("a", big), rec("a", "4"), rec("a", "5")},
			[]string{"a:[1 2]", "a:" + big, "a:[4 5]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, r := range c.agg.aggregate(c.in) {
				if !bytes.HasPrefix(r.Data, kplMagic) {
					got = append(got, r.PartitionKey+":"+string(r.Data))
					continue
				}
				keys, datas, _, err := testserver.KPLUserRecords(r.Data)
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range keys {
					if k != r.PartitionKey {
						t.Errorf("user record key %q in an aggregate under %q", k, r.PartitionKey)
					}
				}
				if len(r.Data) > c.agg.MaxSize {
					t.Errorf("aggregate of %d bytes, over %d", len(r.Data), c.agg.MaxSize)
				}
				got = append(got, fmt.Sprintf("%s:%v", r.PartitionKey, datas))
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %q\nwant %q", got, c.want)
			}
		})
	}
}
