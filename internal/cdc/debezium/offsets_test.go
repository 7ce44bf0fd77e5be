package debezium

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/tributary-data/tributary/internal/cdc"
)

func TestOffset(t *testing.T) {
	at := time.Unix(1700000000, 500)
	tests := []struct {
		name     string
		pos      cdc.Position
		at       time.Time
		serverID uint32
		snapshot bool
		want     map[string]any
	}{
		{"file and position", cdc.Position{File: "mysql-bin.000003", Pos: 154}, time.Time{}, 0, false,
			map[string]any{"file": "mysql-bin.000003", "pos": int64(154)}},
		{"everything", cdc.Position{File: "mysql-bin.000003", Pos: 154, GTIDSet: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n4e11fa47-71ca-11e1-9e33-c80aa9429562:1"}, at, 223344, false,
			map[string]any{"file": "mysql-bin.000003", "pos": int64(154), "gtids": "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,4e11fa47-71ca-11e1-9e33-c80aa9429562:1",
				"ts_sec": int64(1700000000), "server_id": int64(223344)}},
		{"snapshot", cdc.Position{File: "b.000001", Pos: 4}, at, 0, true,
			map[string]any{"file": "b.000001", "pos": int64(4), "ts_sec": int64(1700000000), "snapshot": "INITIAL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Offset(tc.pos, tc.at, tc.serverID, tc.snapshot)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// Offsets come back from storage as JSON decodes them; Debezium's own
// offsets read too.
func TestPositionFromOffset(t *testing.T) {
	tests := []struct {
		name    string
		offset  string
		want    *cdc.Position
		wantErr bool
	}{
		{name: "none", offset: `null`},
		{name: "empty", offset: `{}`},
		{name: "ours", offset: `{"file":"mysql-bin.000003","pos":154,"ts_sec":1700000000,"server_id":1}`,
			want: &cdc.Position{File: "mysql-bin.000003", Pos: 154}},
		{name: "MySQL GTIDs", offset: `{"file":"mysql-bin.000003","pos":154,"gtids":"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"}`,
			want: &cdc.Position{File: "mysql-bin.000003", Pos: 154, GTIDSet: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", Flavor: "mysql"}},
		{name: "MariaDB GTIDs", offset: `{"file":"mariadb-bin.000002","pos":900,"gtids":"0-1-100,1-2-3"}`,
			want: &cdc.Position{File: "mariadb-bin.000002", Pos: 900, GTIDSet: "0-1-100,1-2-3", Flavor: "mariadb"}},
		{name: "Debezium mid-transaction: restart at its start", offset: `{"file":"mysql-bin.000003","pos":154,"row":1,"event":2,"ts_sec":1}`,
			want: &cdc.Position{File: "mysql-bin.000003", Pos: 154}},
		{name: "snapshot INITIAL: not finished", offset: `{"file":"b.000001","pos":4,"snapshot":"INITIAL"}`},
		{name: "snapshot true (Debezium 1.x)", offset: `{"file":"b.000001","pos":4,"snapshot":true}`},
		{name: "snapshot \"true\"", offset: `{"file":"b.000001","pos":4,"snapshot":"true"}`},
		{name: "snapshot completed", offset: `{"file":"b.000001","pos":4,"snapshot":"INITIAL","snapshot_completed":true}`,
			want: &cdc.Position{File: "b.000001", Pos: 4}},
		{name: "incremental snapshot streams on", offset: `{"file":"b.000001","pos":4,"snapshot":"INCREMENTAL"}`,
			want: &cdc.Position{File: "b.000001", Pos: 4}},
		{name: "Debezium's initial offset", offset: `{"file":"","pos":0}`},
		{name: "pos as a string", offset: `{"file":"b.000001","pos":"77"}`, want: &cdc.Position{File: "b.000001", Pos: 77}},
		{name: "no file", offset: `{"pos":4}`, wantErr: true},
		{name: "bad pos", offset: `{"file":"b.000001","pos":"x"}`, wantErr: true},
		{name: "pos out of range", offset: `{"file":"b.000001","pos":4294967296}`, wantErr: true},
		{name: "fractional pos", offset: `{"file":"b.000001","pos":1.5}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var off map[string]any
			if err := json.Unmarshal([]byte(tc.offset), &off); err != nil {
				t.Fatal(err)
			}
			got, err := PositionFromOffset(off)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// An offset survives storage: written, stored as JSON, read back to the
// same position.
func TestOffsetRoundTrip(t *testing.T) {
	for _, pos := range []cdc.Position{
		{File: "mysql-bin.000001", Pos: 4294967295},
		{File: "mysql-bin.000123", Pos: 1, GTIDSet: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-77", Flavor: "mysql"},
		{File: "m.000001", Pos: 345, GTIDSet: "0-1-42", Flavor: "mariadb"},
	} {
		b, err := json.Marshal(Offset(pos, time.Now(), 9, false))
		if err != nil {
			t.Fatal(err)
		}
		var off map[string]any
		if err := json.Unmarshal(b, &off); err != nil {
			t.Fatal(err)
		}
		got, err := PositionFromOffset(off)
		if err != nil || got == nil || *got != pos {
			t.Errorf("%+v came back as %+v (%v)", pos, got, err)
		}
		b, _ = json.Marshal(Offset(pos, time.Now(), 9, true))
		_ = json.Unmarshal(b, &off)
		if got, err := PositionFromOffset(off); got != nil || err != nil {
			t.Errorf("a snapshot offset resumes at %+v (%v)", got, err)
		}
	}
}
