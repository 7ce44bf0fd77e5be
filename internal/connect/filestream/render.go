package filestream

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/tributary-data/tributary/internal/connect/data"
	"github.com/tributary-data/tributary/internal/connect/javafmt"
)

// javaDateLayout is java.util.Date.toString's "EEE MMM dd HH:mm:ss zzz
// yyyy", which is how Kafka prints the Date, Time and Timestamp logical
// types (java.util.Date values).
const javaDateLayout = "Mon Jan 02 15:04:05 MST 2006"

// appendValue appends v as Java's String.valueOf renders the matching
// Java value, which is what Kafka's sink writes (PrintStream.println).
// See the package documentation for where it departs from Java.
func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return append(b, x...)
	case []byte:
		return append(b, x...)
	case bool:
		return strconv.AppendBool(b, x)
	case int8:
		return strconv.AppendInt(b, int64(x), 10)
	case int16:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case uint8:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(b, x, 10)
	case uint:
		return strconv.AppendUint(b, uint64(x), 10)
	case float32:
		return append(b, javafmt.Float(float64(x), 32)...)
	case float64:
		return append(b, javafmt.Float(x, 64)...)
	case data.Decimal:
		if x.Unscaled == nil {
			return append(b, "null"...)
		}
		return append(b, x.String()...)
	case time.Time:
		return x.UTC().AppendFormat(b, javaDateLayout)
	case *data.Struct:
		if x == nil {
			return append(b, "null"...)
		}
		return appendStruct(b, x)
	case []any:
		return appendList(b, len(x), func(b []byte, i int) []byte { return appendValue(b, x[i]) })
	case map[any]any:
		return appendMap(b, reflect.ValueOf(x))
	case map[string]any:
		return appendMap(b, reflect.ValueOf(x))
	case fmt.Stringer:
		return append(b, x.String()...)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		return appendList(b, rv.Len(), func(b []byte, i int) []byte { return appendValue(b, rv.Index(i).Interface()) })
	case reflect.Map:
		return appendMap(b, rv)
	case reflect.Pointer:
		if rv.IsNil() {
			return append(b, "null"...)
		}
		return appendValue(b, rv.Elem().Interface())
	}
	return fmt.Append(b, v)
}

// appendStruct is Kafka's Struct.toString: "Struct{" then name=value for
// each non-null field, separated by commas without spaces, then "}".
func appendStruct(b []byte, st *data.Struct) []byte {
	b = append(b, "Struct{"...)
	first := true
	for i, v := range st.Values {
		if v == nil {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		if st.Schema != nil && i < len(st.Schema.Fields) {
			b = append(b, st.Schema.Fields[i].Name...)
		}
		b = append(b, '=')
		b = appendValue(b, v)
	}
	return append(b, '}')
}

// appendList is AbstractCollection.toString: "[a, b]".
func appendList(b []byte, n int, elem func([]byte, int) []byte) []byte {
	b = append(b, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = elem(b, i)
	}
	return append(b, ']')
}

// appendMap is AbstractMap.toString, "{k=v, k2=v2}", with the entries
// sorted by their rendered keys so that the output does not depend on
// map order.
func appendMap(b []byte, m reflect.Value) []byte {
	type entry struct {
		key []byte
		val any
	}
	entries := make([]entry, 0, m.Len())
	for it := m.MapRange(); it.Next(); {
		entries = append(entries, entry{key: appendValue(nil, it.Key().Interface()), val: it.Value().Interface()})
	}
	slices.SortFunc(entries, func(x, y entry) int { return bytes.Compare(x.key, y.key) })
	b = append(b, '{')
	for i, e := range entries {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, e.key...)
		b = append(b, '=')
		b = appendValue(b, e.val)
	}
	return append(b, '}')
}
