package debezium

import (
	"strings"

	"github.com/tributary-data/tributary/internal/cdc"
	"github.com/tributary-data/tributary/internal/connect/data"
)

// JDBC type codes (java.sql.Types) Debezium's MySQL DDL parser assigns to
// each MySQL type, reported as tableChanges' jdbcType.
var jdbcTypes = map[string]int32{
	"char": 1, "enum": 1, "set": 1,
	"varchar": 12, "tinytext": 12, "text": 12, "mediumtext": 12, "longtext": 12, "long": 12, "long varchar": 12,
	"nchar": -15, "national char": -15, "nvarchar": -9, "national varchar": -9,
	"tinyint": -6, "int1": -6,
	"smallint": 5, "int2": 5,
	"mediumint": 4, "int3": 4, "middleint": 4, "int": 4, "integer": 4, "int4": 4, "year": 4,
	"bigint": -5, "int8": -5, "serial": -5,
	"real": 7, "double": 8, "double precision": 8, "float": 6,
	"decimal": 3, "dec": 3, "fixed": 3, "numeric": 2,
	"bit": -7, "bool": 16, "boolean": 16,
	"time": 92, "timestamp": 2014, "datetime": 93, "date": 91,
	"binary": -2, "varbinary": -3,
	"tinyblob": 2004, "blob": 2004, "mediumblob": 2004, "longblob": 2004, "long varbinary": 2004,
}

// otherJDBCType is java.sql.Types.OTHER: JSON, the spatial types, VECTOR.
const otherJDBCType = 1111

var numericTypes = map[string]bool{
	"tinyint": true, "smallint": true, "mediumint": true, "int": true, "integer": true, "bigint": true,
	"decimal": true, "numeric": true, "float": true, "double": true, "real": true,
}

var textTypes = map[string]bool{
	"char": true, "varchar": true, "tinytext": true, "text": true, "mediumtext": true, "longtext": true,
	"enum": true, "set": true, "nchar": true, "nvarchar": true, "long": true, "long varchar": true,
}

// historyTable describes a table as Debezium's schema change events do
// (ConnectTableChangeSerializer).
func (f *Formatter) historyTable(t *cdc.Table) *data.Struct {
	st := data.NewStruct(f.schemas.historyTable)
	for _, c := range t.Columns {
		if textTypes[dataType(&c)] && c.Charset != "" {
			put(st, "defaultCharsetName", c.Charset)
			break
		}
	}
	pk := make([]any, len(t.PrimaryKey))
	for i, n := range t.PrimaryKey {
		pk[i] = n
	}
	put(st, "primaryKeyColumnNames", pk)
	cols := make([]any, len(t.Columns))
	for i := range t.Columns {
		cols[i] = f.historyColumn(&t.Columns[i], i+1)
	}
	put(st, "columns", cols)
	return st
}

// historyColumn describes a column as Debezium's DDL parser would have
// read it from the CREATE TABLE that information_schema reflects.
func (f *Formatter) historyColumn(c *cdc.Column, ordinal int) *data.Struct {
	st := data.NewStruct(f.schemas.historyColumn)
	t := dataType(c)
	typeName := strings.ToUpper(t)
	if numericTypes[t] {
		lower := strings.ToLower(c.ColumnType)
		switch {
		case strings.Contains(lower, "zerofill"):
			typeName += " UNSIGNED ZEROFILL"
		case c.Unsigned || strings.Contains(lower, "unsigned"):
			typeName += " UNSIGNED"
		}
	}
	jdbc, ok := jdbcTypes[t]
	if !ok {
		jdbc = otherJDBCType
	}
	put(st, "name", c.Name)
	put(st, "jdbcType", jdbc)
	put(st, "typeName", typeName)
	put(st, "typeExpression", typeName)
	if textTypes[t] && c.Charset != "" {
		put(st, "charsetName", c.Charset)
	}
	length, scale := typeParams(c.ColumnType)
	members := enumMembers(c)
	switch t {
	case "enum":
		length = 1
	case "set":
		length = max(0, 2*len(members)-1) // the members and their commas
	}
	if length >= 0 {
		put(st, "length", int32(length))
	}
	if scale >= 0 {
		put(st, "scale", int32(scale))
	}
	pos := c.Position
	if pos == 0 {
		pos = ordinal
	}
	put(st, "position", int32(pos))
	put(st, "optional", c.Nullable)
	put(st, "autoIncremented", c.AutoIncrement)
	put(st, "generated", c.AutoIncrement)
	if expr, ok := defaultExpression(c); ok {
		put(st, "defaultValueExpression", expr)
	}
	if (t == "enum" || t == "set") && len(members) > 0 {
		// As written in the DDL: quoted, quotes doubled.
		vals := make([]any, len(members))
		for i, m := range members {
			vals[i] = "'" + strings.ReplaceAll(m, "'", "''") + "'"
		}
		put(st, "enumValues", vals)
	}
	return st
}
