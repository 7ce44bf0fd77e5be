package debezium

import (
	"strings"

	"github.com/tributary-data/tributary/internal/connect/data"
)

// Version is the Debezium release whose MySQL connector output this
// package reproduces; records carry it in source.version, where
// consumers that check it expect a Debezium version.
const Version = "3.6.1.Final"

// ConnectorName is the source block's connector, Debezium's module name.
const ConnectorName = "mysql"

// Schema names and versions, as Debezium's SchemaFactory and semantic
// types define them.
const (
	sourceSchemaName       = "io.debezium.connector.mysql.Source"
	schemaChangeKeyName    = "io.debezium.connector.mysql.SchemaChangeKey"
	schemaChangeValueName  = "io.debezium.connector.mysql.SchemaChangeValue"
	historyChangeName      = "io.debezium.connector.schema.Change"
	historyTableName       = "io.debezium.connector.schema.Table"
	historyColumnName      = "io.debezium.connector.schema.Column"
	heartbeatKeyName       = "io.debezium.connector.common.ServerNameKey"
	heartbeatValueName     = "io.debezium.connector.common.Heartbeat"
	txKeyName              = "io.debezium.connector.common.TransactionMetadataKey"
	txValueName            = "io.debezium.connector.common.TransactionMetadataValue"
	txBlockName            = "event.block"
	txCollectionName       = "event.collection"
	envelopeSchemaVersion  = 2
	enumName               = "io.debezium.data.Enum"
	enumSetName            = "io.debezium.data.EnumSet"
	jsonName               = "io.debezium.data.Json"
	bitsName               = "io.debezium.data.Bits"
	geometryName           = "io.debezium.data.geometry.Geometry"
	pointName              = "io.debezium.data.geometry.Point"
	floatVectorName        = "io.debezium.data.FloatVector"
	dateName               = "io.debezium.time.Date"
	timestampName          = "io.debezium.time.Timestamp"
	microTimestampName     = "io.debezium.time.MicroTimestamp"
	microTimeName          = "io.debezium.time.MicroTime"
	zonedTimestampName     = "io.debezium.time.ZonedTimestamp"
	yearName               = "io.debezium.time.Year"
	decimalPrecisionParam  = "connect.decimal.precision"
	enumAllowedParam       = "allowed"
	bitsLengthParam        = "length"
	snapshotAllowedValues  = "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"
	pkUpdateNewKeyHeader   = "__debezium.newkey"
	pkUpdateOldKeyHeader   = "__debezium.oldkey"
	contextHeaderPrefix    = "__debezium.context."
	contextLogicalName     = contextHeaderPrefix + "connectorLogicalName"
	contextTaskID          = contextHeaderPrefix + "taskId"
	contextConnectorName   = contextHeaderPrefix + "connectorName"
	contextRunID           = contextHeaderPrefix + "runId"
	snapshotTrue           = "true"
	snapshotFirst          = "first"
	snapshotLast           = "last"
	snapshotFirstInTable   = "first_in_data_collection"
	snapshotLastInTable    = "last_in_data_collection"
	schemaChangeTypeCreate = "CREATE"
	schemaChangeTypeAlter  = "ALTER"
	schemaChangeTypeDrop   = "DROP"
)

func prim(t data.Type) *data.Schema    { return &data.Schema{Type: t} }
func optPrim(t data.Type) *data.Schema { return &data.Schema{Type: t, Optional: true} }

func fld(name string, s *data.Schema) data.Field { return data.Field{Name: name, Schema: s} }

// structSchema builds a STRUCT schema with a name and version.
func structSchema(name string, version int, optional bool, fields ...data.Field) *data.Schema {
	s := data.StructSchema(name, fields...)
	s.Version = version
	s.Optional = optional
	return s
}

// schemas holds the schemas every record of a connector shares, built
// once.
type schemas struct {
	source        *data.Schema
	txBlock       *data.Schema
	txKey         *data.Schema
	txValue       *data.Schema
	txCollection  *data.Schema
	heartbeatKey  *data.Schema
	heartbeatVal  *data.Schema
	changeKey     *data.Schema
	changeValue   *data.Schema
	historyChange *data.Schema
	historyTable  *data.Schema
	historyColumn *data.Schema
	headerString  *data.Schema
}

func newSchemas() *schemas {
	s := &schemas{}
	s.source = sourceSchema()
	s.addTransactionSchemas()
	s.heartbeatKey = structSchema(heartbeatKeyName, 1, false, fld("serverName", prim(data.TypeString)))
	s.heartbeatVal = structSchema(heartbeatValueName, 1, false, fld("ts_ms", prim(data.TypeInt64)))
	s.addHistorySchemas()
	s.headerString = prim(data.TypeString)
	return s
}

// sourceSchema is the source block's schema.
func sourceSchema() *data.Schema {
	snapshot := &data.Schema{Type: data.TypeString, Optional: true, Name: enumName, Version: 1,
		Parameters: map[string]string{enumAllowedParam: snapshotAllowedValues}, Default: "false"}
	// Field order is Debezium's: the common block (SchemaFactory's
	// sourceInfoSchemaBuilder), then the binlog connectors' fields.
	return structSchema(sourceSchemaName, 1, false,
		fld("version", prim(data.TypeString)),
		fld("connector", prim(data.TypeString)),
		fld("name", prim(data.TypeString)),
		fld("ts_ms", prim(data.TypeInt64)),
		fld("snapshot", snapshot),
		fld("db", prim(data.TypeString)),
		fld("sequence", optPrim(data.TypeString)),
		fld("ts_us", optPrim(data.TypeInt64)),
		fld("ts_ns", optPrim(data.TypeInt64)),
		fld("table", optPrim(data.TypeString)),
		fld("server_id", prim(data.TypeInt64)),
		fld("gtid", optPrim(data.TypeString)),
		fld("file", prim(data.TypeString)),
		fld("pos", prim(data.TypeInt64)),
		fld("row", prim(data.TypeInt32)),
		fld("thread", optPrim(data.TypeInt64)),
		fld("query", optPrim(data.TypeString)),
	)
}

// addTransactionSchemas adds provide.transaction.metadata's schemas: the
// envelope's transaction block and the BEGIN/END records'.
func (s *schemas) addTransactionSchemas() {
	s.txBlock = structSchema(txBlockName, 1, true,
		fld("id", prim(data.TypeString)),
		fld("total_order", prim(data.TypeInt64)),
		fld("data_collection_order", prim(data.TypeInt64)),
	)
	s.txCollection = structSchema(txCollectionName, 1, true,
		fld("data_collection", prim(data.TypeString)),
		fld("event_count", prim(data.TypeInt64)),
	)
	s.txKey = structSchema(txKeyName, 1, false, fld("id", prim(data.TypeString)))
	s.txValue = structSchema(txValueName, 1, false,
		fld("status", prim(data.TypeString)),
		fld("id", prim(data.TypeString)),
		fld("event_count", optPrim(data.TypeInt64)),
		fld("data_collections", &data.Schema{Type: data.TypeArray, Optional: true, Elem: s.txCollection}),
		fld("ts_ms", prim(data.TypeInt64)),
	)
}

// addHistorySchemas adds the schema-change (history) records' schemas.
func (s *schemas) addHistorySchemas() {
	s.historyColumn = structSchema(historyColumnName, 1, false,
		fld("name", prim(data.TypeString)),
		fld("jdbcType", prim(data.TypeInt32)),
		fld("nativeType", optPrim(data.TypeInt32)),
		fld("typeName", prim(data.TypeString)),
		fld("typeExpression", optPrim(data.TypeString)),
		fld("charsetName", optPrim(data.TypeString)),
		fld("length", optPrim(data.TypeInt32)),
		fld("scale", optPrim(data.TypeInt32)),
		fld("position", prim(data.TypeInt32)),
		fld("optional", optPrim(data.TypeBoolean)),
		fld("autoIncremented", optPrim(data.TypeBoolean)),
		fld("generated", optPrim(data.TypeBoolean)),
		fld("comment", optPrim(data.TypeString)),
		fld("defaultValueExpression", optPrim(data.TypeString)),
		fld("enumValues", &data.Schema{Type: data.TypeArray, Optional: true, Elem: prim(data.TypeString)}),
	)
	s.historyTable = structSchema(historyTableName, 1, true,
		fld("defaultCharsetName", optPrim(data.TypeString)),
		fld("primaryKeyColumnNames", &data.Schema{Type: data.TypeArray, Optional: true, Elem: prim(data.TypeString)}),
		fld("columns", &data.Schema{Type: data.TypeArray, Elem: s.historyColumn}),
		fld("comment", optPrim(data.TypeString)),
	)
	s.historyChange = structSchema(historyChangeName, 1, false,
		fld("type", prim(data.TypeString)),
		fld("id", prim(data.TypeString)),
		fld("table", s.historyTable),
	)
	s.changeKey = structSchema(schemaChangeKeyName, 1, false, fld("databaseName", prim(data.TypeString)))
	s.changeValue = structSchema(schemaChangeValueName, 1, false,
		fld("source", s.source),
		fld("ts_ms", prim(data.TypeInt64)),
		fld("databaseName", optPrim(data.TypeString)),
		fld("schemaName", optPrim(data.TypeString)),
		fld("ddl", optPrim(data.TypeString)),
		fld("tableChanges", &data.Schema{Type: data.TypeArray, Elem: s.historyChange}),
	)
}

// envelopeSchema is a table's value schema: Debezium's Envelope, with the
// row schema as before and after.
func (s *schemas) envelopeSchema(name string, row *data.Schema) *data.Schema {
	return structSchema(name, envelopeSchemaVersion, false,
		fld("before", row),
		fld("after", row),
		fld("source", s.source),
		fld("transaction", s.txBlock),
		fld("op", prim(data.TypeString)),
		fld("ts_ms", optPrim(data.TypeInt64)),
		fld("ts_us", optPrim(data.TypeInt64)),
		fld("ts_ns", optPrim(data.TypeInt64)),
	)
}

// put sets a field of a struct built here. Values are produced with
// their schema's Go types by construction, so put skips the per-value
// validation of data.Struct.Put (the tests validate every record); a
// name the schema lacks is ignored.
func put(st *data.Struct, name string, v any) {
	if f := st.Schema.Field(name); f != nil {
		st.Values[f.Index] = v
	}
}

// enumAllowed renders ENUM and SET members as the "allowed" parameter: a
// comma inside a member is escaped as "\,", as Debezium does.
func enumAllowed(values []string) string {
	escaped := make([]string, len(values))
	for i, v := range values {
		escaped[i] = strings.ReplaceAll(v, ",", `\,`)
	}
	return strings.Join(escaped, ",")
}
