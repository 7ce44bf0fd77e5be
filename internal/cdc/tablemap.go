package cdc

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// rowPlan decodes the rows of one TABLE_MAP event's table: the table's
// definition as it was when the rows were written, and how to convert
// each column.
type rowPlan struct {
	// body is the TABLE_MAP event's body: the server repeats the event
	// before every statement's rows, and an identical body reuses the
	// plan.
	body  []byte
	table *Table
	cols  []colPlan
	// skip marks a table that is not captured.
	skip bool
}

// convert turns a decoded row into a Row in place.
func (p *rowPlan) convert(row []any) Row {
	for i, v := range row {
		if i < len(p.cols) {
			row[i] = p.cols[i].fromBinlog(v)
		}
	}
	return Row(row)
}

// charsetInfo is a collation's character set.
type charsetInfo struct {
	name   string
	maxLen int
}

// binlogColumn is what a TABLE_MAP event says about one column.
type binlogColumn struct {
	typ    byte // the real type (ENUM and SET unpacked from STRING)
	meta   uint16
	length int // bytes for strings, bits for BIT
}

// realColumn unpacks a column's type and metadata.
func realColumn(tm *replication.TableMapEvent, i int) binlogColumn {
	typ, meta := tm.ColumnType[i], tm.ColumnMeta[i]
	c := binlogColumn{typ: typ, meta: meta}
	switch typ {
	case mysql.MYSQL_TYPE_STRING:
		if meta >= 256 {
			b0, b1 := byte(meta>>8), byte(meta&0xFF)
			if b0&0x30 != 0x30 {
				c.length = int(uint16(b1) | uint16((b0&0x30)^0x30)<<4)
				c.typ = b0 | 0x30
			} else {
				c.length = int(b1)
				c.typ = b0
			}
		} else {
			c.length = int(meta)
		}
	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING:
		c.length = int(meta)
	case mysql.MYSQL_TYPE_BIT:
		c.length = int(meta>>8)*8 + int(meta&0xFF)
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		c.typ = mysql.MYSQL_TYPE_DATE
	}
	return c
}

// buildPlan makes the plan for a TABLE_MAP event. With the server's full
// row metadata (column names and the rest) the event alone defines the
// table as the rows were written; the tracked definition (known) is used
// instead when it describes the same table, since it also has defaults,
// auto-increment and exact type text. Without names, the tracked
// definition must match the event's column count and types.
func buildPlan(tm *replication.TableMapEvent, known *Table, flavor string, collations map[uint64]charsetInfo) (*rowPlan, error) {
	derived, plans := deriveTable(tm, flavor, collations)
	has := metadata{
		names:    len(tm.ColumnName) == int(tm.ColumnCount),
		signs:    len(tm.SignednessBitmap) > 0,
		charsets: len(tm.DefaultCharset) > 0 || len(tm.ColumnCharset) > 0,
	}
	table := derived
	switch {
	case has.names && known != nil && sameTable(known, derived, has):
		table = known
	case has.names:
		// The rows were written under another definition than the one
		// tracked: the event's is the truth for them.
	case known != nil && sameTable(known, derived, has):
		table = known
	default:
		have := "no definition"
		if known != nil {
			have = fmt.Sprintf("a definition with %d columns", len(known.Columns))
		}
		return nil, &Error{Kind: KindSchema,
			Msg: fmt.Sprintf("cannot decode rows of %s.%s: the binary log gives %d columns without names and the reader has %s",
				tm.Schema, tm.Table, tm.ColumnCount, have),
			Hint: "set binlog_row_metadata=FULL on the server (MariaDB 10.5+, MySQL 8.0.1+) so rows carry their own column names"}
	}
	// Fill in what the event did not carry from the tracked definition.
	for i := range plans {
		col := &table.Columns[i]
		p := &plans[i]
		if (p.kind == vEnum || p.kind == vSet) && p.values == nil {
			p.values = col.Values
		}
		if p.kind == vText && !p.charsetKnown {
			p.dec, _ = decoderFor(col.Charset)
		}
		if (p.kind == vSigned || p.kind == vUnsigned) && len(tm.SignednessBitmap) == 0 {
			p.kind = vSigned
			if col.Unsigned {
				p.kind = vUnsigned
			}
		}
		switch col.DataType {
		case "inet4", "inet6", "uuid", "json":
			pad := planFor(col)
			p.kind, p.pad = pad.kind, pad.pad
		}
	}
	return &rowPlan{table: table, cols: plans}, nil
}

// deriveTable makes a table definition and column plans from a TABLE_MAP
// event alone.
func deriveTable(tm *replication.TableMapEvent, flavor string, collations map[uint64]charsetInfo) (*Table, []colPlan) {
	n := int(tm.ColumnCount)
	t := &Table{DB: string(tm.Schema), Name: string(tm.Table), Columns: make([]Column, n)}
	plans := make([]colPlan, n)
	md := tableMapMetadata{
		names: tm.ColumnNameString(), unsigned: tm.UnsignedMap(),
		charsets: tm.CollationMap(), enumCharsets: tm.EnumSetCollationMap(),
		enums: tm.EnumStrValueMap(), sets: tm.SetStrValueMap(), geometries: tm.GeometryTypeMap(),
		mysql8: flavor == flavorMySQL, collations: collations,
	}
	for i := 0; i < n; i++ {
		col, p := &t.Columns[i], &plans[i]
		col.Position = i + 1
		if len(md.names) == n {
			col.Name = md.names[i]
		}
		if ok, null := tm.Nullable(i); ok {
			col.Nullable = null
		}
		md.deriveColumn(col, p, i, realColumn(tm, i))
	}
	if len(md.names) == n {
		for _, k := range tm.PrimaryKey {
			if int(k) < n {
				t.PrimaryKey = append(t.PrimaryKey, md.names[k])
			}
		}
	}
	return t, plans
}

// tableMapMetadata is what a TABLE_MAP event's optional metadata says
// of its columns, by column index, and what reading it needs.
type tableMapMetadata struct {
	names                  []string
	unsigned               map[int]bool
	charsets, enumCharsets map[int]uint64
	enums, sets            map[int][]string
	geometries             map[int]uint64
	mysql8                 bool
	collations             map[uint64]charsetInfo
}

// deriveColumn fills in column i's definition and plan from its binlog
// type and metadata.
func (md *tableMapMetadata) deriveColumn(col *Column, p *colPlan, i int, bc binlogColumn) {
	col.Unsigned = md.unsigned[i]
	cs, hasCharset := md.charsets[i]
	if !hasCharset {
		cs, hasCharset = md.enumCharsets[i]
	}
	info := md.collations[cs]
	if hasCharset {
		col.Charset = info.name
		p.dec, _ = decoderFor(info.name)
		p.charsetKnown = true
	}
	switch bc.typ {
	case mysql.MYSQL_TYPE_TINY:
		md.intColumn(col, p, "tinyint", 1, 4)
	case mysql.MYSQL_TYPE_SHORT:
		md.intColumn(col, p, "smallint", 2, 6)
	case mysql.MYSQL_TYPE_INT24:
		md.intColumn(col, p, "mediumint", 3, 9)
	case mysql.MYSQL_TYPE_LONG:
		md.intColumn(col, p, "int", 4, 11)
	case mysql.MYSQL_TYPE_LONGLONG:
		md.intColumn(col, p, "bigint", 8, 20)
	case mysql.MYSQL_TYPE_FLOAT:
		col.DataType, col.ColumnType, p.kind = "float", "float", vFloat
	case mysql.MYSQL_TYPE_DOUBLE:
		col.DataType, col.ColumnType, p.kind = "double", "double", vDouble
	case mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_DECIMAL:
		col.DataType, p.kind = "decimal", vDecimal
		col.Length, col.Scale = int(bc.meta>>8), int(bc.meta&0xFF)
		col.ColumnType = fmt.Sprintf("decimal(%d,%d)", col.Length, col.Scale)
		if col.Unsigned {
			col.ColumnType += " unsigned"
		}
	case mysql.MYSQL_TYPE_BIT:
		col.DataType, p.kind, col.Length = "bit", vBit, bc.length
		col.ColumnType = fmt.Sprintf("bit(%d)", bc.length)
	case mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
		temporal(col, p, "timestamp", vTimestamp, bc)
	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2:
		temporal(col, p, "datetime", vDatetime, bc)
	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		temporal(col, p, "time", vTime, bc)
	case mysql.MYSQL_TYPE_DATE:
		col.DataType, col.ColumnType, p.kind = "date", "date", vDate
	case mysql.MYSQL_TYPE_YEAR:
		col.DataType, col.ColumnType, p.kind = "year", "year", vYear
		if !md.mysql8 {
			col.ColumnType = "year(4)"
		}
	case mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET:
		md.enumColumn(col, p, i, bc)
	case mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING:
		stringColumn(col, p, bc, info)
	case mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_TINY_BLOB, mysql.MYSQL_TYPE_MEDIUM_BLOB, mysql.MYSQL_TYPE_LONG_BLOB:
		prefix := map[uint16]string{1: "tiny", 2: "", 3: "medium", 4: "long"}[bc.meta]
		if hasCharset && col.Charset != charsetBinary {
			col.DataType, p.kind = prefix+"text", vText
		} else {
			col.DataType, p.kind = prefix+"blob", vBlob
		}
		col.ColumnType = col.DataType
	case mysql.MYSQL_TYPE_JSON:
		col.DataType, col.ColumnType, p.kind = "json", "json", vJSON
	case mysql.MYSQL_TYPE_GEOMETRY:
		col.DataType, p.kind = "geometry", vGeometry
		if g, ok := md.geometries[i]; ok && int(g) < len(geometryNames) {
			col.DataType = geometryNames[g]
		}
		col.ColumnType = col.DataType
	case mysql.MYSQL_TYPE_VECTOR:
		col.DataType, col.ColumnType, p.kind = "vector", "vector", vBlob
	default:
		col.DataType, col.ColumnType, p.kind = "unknown", "unknown", vRaw
	}
}

// intColumn fills in an integer column: its size in bytes, and its
// display width (one less when unsigned, but for BIGINT), which MySQL 8
// no longer shows.
func (md *tableMapMetadata) intColumn(col *Column, p *colPlan, name string, size, width int) {
	col.DataType = name
	p.kind, p.size = vSigned, size
	if col.Unsigned {
		p.kind = vUnsigned
		if name != "bigint" {
			width--
		}
	}
	col.ColumnType = name
	if !md.mysql8 {
		col.ColumnType += "(" + strconv.Itoa(width) + ")"
	}
	if col.Unsigned {
		col.ColumnType += " unsigned"
	}
}

// enumColumn fills in an ENUM or SET column with its members, when the
// metadata lists them.
func (md *tableMapMetadata) enumColumn(col *Column, p *colPlan, i int, bc binlogColumn) {
	col.DataType, p.kind = "enum", vEnum
	values := md.enums[i]
	if bc.typ == mysql.MYSQL_TYPE_SET {
		col.DataType, p.kind = "set", vSet
		values = md.sets[i]
	}
	if values != nil {
		col.Values = make([]string, len(values))
		for j, v := range values {
			col.Values[j] = p.dec.textString(v)
		}
		p.values = col.Values
	}
	col.ColumnType = col.DataType + "(" + quotedList(col.Values) + ")"
}

// stringColumn fills in a CHAR, VARCHAR, BINARY or VARBINARY column:
// binary by its character set, its length in characters (the binlog's
// is in bytes).
func stringColumn(col *Column, p *colPlan, bc binlogColumn, info charsetInfo) {
	fixed := bc.typ == mysql.MYSQL_TYPE_STRING
	switch {
	case col.Charset == charsetBinary && fixed:
		col.DataType, p.kind, p.pad = "binary", vBinary, bc.length
		col.Length = bc.length
	case col.Charset == charsetBinary:
		col.DataType, p.kind = "varbinary", vBlob
		col.Length = bc.length
	default:
		col.DataType, p.kind = "varchar", vText
		if fixed {
			col.DataType = "char"
		}
		col.Length = bc.length
		if info.maxLen > 1 {
			col.Length = bc.length / info.maxLen
		}
	}
	col.ColumnType = fmt.Sprintf("%s(%d)", col.DataType, col.Length)
}

// geometryNames are the GEOMETRY_TYPE metadata's codes.
var geometryNames = []string{"geometry", "point", "linestring", "polygon", "multipoint",
	"multilinestring", "multipolygon", "geometrycollection"}

// temporal fills in a temporal column; its metadata is the fractional
// digits (the pre-5.6 forms have none).
func temporal(col *Column, p *colPlan, name string, kind valueKind, bc binlogColumn) {
	col.DataType, p.kind = name, kind
	switch bc.typ {
	case mysql.MYSQL_TYPE_TIMESTAMP2, mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIME2:
		col.Length = int(bc.meta)
	}
	p.fsp = col.Length
	col.ColumnType = name
	if col.Length > 0 {
		col.ColumnType = fmt.Sprintf("%s(%d)", name, col.Length)
	}
}

// quotedList renders ENUM or SET members as SQL.
func quotedList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return strings.Join(q, ",")
}

// metadata says which optional metadata a TABLE_MAP event carries.
type metadata struct{ names, signs, charsets bool }

// sameTable reports whether a tracked definition describes the table a
// TABLE_MAP event was made from: same columns in the same order with the
// same types. What the event does not carry is not compared.
func sameTable(known, derived *Table, has metadata) bool {
	if len(known.Columns) != len(derived.Columns) {
		return false
	}
	for i := range known.Columns {
		k, d := &known.Columns[i], &derived.Columns[i]
		if has.names && (!strings.EqualFold(k.Name, d.Name) || k.Nullable != d.Nullable) {
			return false
		}
		if !sameType(k, d, has) {
			return false
		}
	}
	if has.names && len(derived.PrimaryKey) > 0 && !equalFoldSlices(known.PrimaryKey, derived.PrimaryKey) {
		return false
	}
	return true
}

// sameType compares a column's type as information_schema and as the
// binary log describe it.
func sameType(k, d *Column, has metadata) bool {
	switch k.DataType {
	case "inet4", "inet6", "uuid":
		// MariaDB's own types travel as BINARY.
		return d.DataType == "binary" || !has.charsets && d.DataType == "char"
	case "json":
		return d.DataType == "json" || d.DataType == "longtext" || d.DataType == "longblob"
	}
	kt, dt := k.DataType, d.DataType
	if !has.charsets {
		// Without character sets text and binary types look alike.
		kt, dt = binaryTwin(kt), binaryTwin(dt)
	}
	if kt != dt {
		return false
	}
	if has.signs {
		switch k.DataType {
		case "tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float", "double":
			if k.Unsigned != d.Unsigned {
				return false
			}
		}
	}
	switch k.DataType {
	case "decimal":
		return k.Length == d.Length && k.Scale == d.Scale
	case "char", "varchar":
		return !has.charsets || k.Length == d.Length
	case "binary", "varbinary", "bit", "datetime", "timestamp", "time":
		return k.Length == d.Length || !has.charsets && (kt == "binary" || kt == "varbinary")
	case "enum", "set":
		return d.Values == nil || equalSlices(k.Values, d.Values)
	}
	return true
}

// binaryTwin maps a text type to the binary type the binary log cannot
// tell it from without character sets.
func binaryTwin(t string) string {
	switch t {
	case "char":
		return "binary"
	case "varchar":
		return "varbinary"
	case "tinytext", "text", "mediumtext", "longtext":
		return strings.TrimSuffix(t, "text") + "blob"
	}
	return t
}

func equalSlices(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalFoldSlices(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}
