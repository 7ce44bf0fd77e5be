package cdc

import (
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// charsetBinary is the character set of BINARY, VARBINARY and BLOB
// columns.
const charsetBinary = "binary"

// textDecoder converts a column's bytes in its character set to UTF-8.
// Both the binary log and the snapshot (which asks the server not to
// convert, character_set_results=NULL) hand over a column's bytes as
// stored, so the same conversion makes both sides equal.
type textDecoder struct {
	enc encoding.Encoding // nil: the bytes are UTF-8 already
}

// decoderFor returns the decoder of a MySQL character set name; known is
// false for a character set with no conversion here, whose bytes are
// passed on as they are.
func decoderFor(charset string) (d textDecoder, known bool) {
	switch charset {
	case "", "utf8", "utf8mb3", "utf8mb4", "ascii":
		return textDecoder{}, true
	}
	enc := charsetEncodings(charset)
	if enc == nil {
		return textDecoder{}, false
	}
	return textDecoder{enc: enc}, true
}

// charsetEncodings maps MySQL's character set names to their encodings.
func charsetEncodings(charset string) encoding.Encoding {
	switch charset {
	case "latin1": // MySQL's latin1 is Windows-1252
		return charmap.Windows1252
	case "latin2":
		return charmap.ISO8859_2
	case "latin5":
		return charmap.ISO8859_9
	case "latin7":
		return charmap.ISO8859_13
	case "greek":
		return charmap.ISO8859_7
	case "hebrew":
		return charmap.ISO8859_8
	case "cp1250":
		return charmap.Windows1250
	case "cp1251":
		return charmap.Windows1251
	case "cp1256":
		return charmap.Windows1256
	case "cp1257":
		return charmap.Windows1257
	case "cp850":
		return charmap.CodePage850
	case "cp852":
		return charmap.CodePage852
	case "cp866":
		return charmap.CodePage866
	case "koi8r":
		return charmap.KOI8R
	case "koi8u":
		return charmap.KOI8U
	case "macroman":
		return charmap.Macintosh
	case "tis620":
		return charmap.Windows874
	case "gbk", "gb2312":
		return simplifiedchinese.GBK
	case "gb18030":
		return simplifiedchinese.GB18030
	case "big5":
		return traditionalchinese.Big5
	case "sjis", "cp932":
		return japanese.ShiftJIS
	case "ujis", "eucjpms":
		return japanese.EUCJP
	case "euckr":
		return korean.EUCKR
	case "ucs2", "utf16":
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	case "utf16le":
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	case "utf32":
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM)
	}
	return nil
}

// text converts bytes to a string.
func (d textDecoder) text(b []byte) string {
	if d.enc == nil {
		return string(b)
	}
	out, err := d.enc.NewDecoder().Bytes(b)
	if err != nil {
		return string(b)
	}
	return string(out)
}

// textString converts a string holding the column's bytes.
func (d textDecoder) textString(s string) string {
	if d.enc == nil {
		return s
	}
	out, err := d.enc.NewDecoder().String(s)
	if err != nil {
		return s
	}
	return out
}
