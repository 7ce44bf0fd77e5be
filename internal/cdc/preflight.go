package cdc

import (
	"fmt"
	"strconv"
	"strings"
)

// server is what the reader learns about the server before it reads.
type server struct {
	flavor      string
	version     string
	serverID    uint32
	logBin      bool
	format      string
	rowImage    string
	rowMetadata string
	// gtids is set when positions carry GTIDs: always on MariaDB, with
	// gtid_mode=ON on MySQL.
	gtids bool
	// user is CURRENT_USER(), as 'name'@'host' for GRANT hints.
	user       string
	collations map[uint64]charsetInfo
}

// inspect reads the server's version and binary-log settings.
func inspect(c *conn) (*server, error) {
	r, ok, err := c.row("SELECT VERSION(), @@server_id, @@log_bin, @@binlog_format, CURRENT_USER()")
	if err != nil || !ok {
		return nil, fmt.Errorf("cdc: read server settings: %w", err)
	}
	s := &server{
		version: r[0].s,
		logBin:  r[2].s == "1" || strings.EqualFold(r[2].s, "ON"),
		format:  strings.ToUpper(r[3].s),
		flavor:  flavorMySQL,
	}
	id, _ := strconv.ParseUint(r[1].s, 10, 32)
	s.serverID = uint32(id)
	if name, host, ok := strings.Cut(r[4].s, "@"); ok {
		s.user = quoteString(name) + "@" + quoteString(host)
	} else {
		s.user = quoteString(r[4].s)
	}
	if strings.Contains(strings.ToLower(s.version), "mariadb") {
		s.flavor = flavorMariaDB
		s.gtids = true
	}
	// Variables older servers lack are read one by one.
	variable := func(name string) string {
		r, ok, err := c.row("SELECT @@" + name)
		if err != nil || !ok {
			return ""
		}
		return r[0].s
	}
	s.rowImage = strings.ToUpper(variable("binlog_row_image"))
	s.rowMetadata = strings.ToUpper(variable("binlog_row_metadata"))
	if s.flavor == flavorMySQL {
		s.gtids = strings.EqualFold(variable("gtid_mode"), "ON")
	}
	rows, err := c.rows(`SELECT co.ID, co.CHARACTER_SET_NAME, cs.MAXLEN FROM information_schema.COLLATIONS co
		JOIN information_schema.CHARACTER_SETS cs ON cs.CHARACTER_SET_NAME = co.CHARACTER_SET_NAME
		WHERE co.ID IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("cdc: read collations: %w", err)
	}
	s.collations = make(map[uint64]charsetInfo, len(rows))
	for _, r := range rows {
		id, err := strconv.ParseUint(r[0].s, 10, 64)
		if err != nil {
			continue
		}
		s.collations[id] = charsetInfo{name: r[1].s, maxLen: r[2].int()}
	}
	return s, nil
}

// checkBinlog fails unless the server writes a binary log a row reader
// can use.
func (s *server) checkBinlog() error {
	if !s.logBin {
		return &Error{Kind: KindBinlogDisabled,
			Msg:  "the server does not write a binary log (log_bin is OFF)",
			Hint: "start the server with log_bin (for example --log-bin=mysql-bin) and a unique server_id, binlog_format=ROW and binlog_row_image=FULL; log_bin needs a restart"}
	}
	if s.format != "ROW" {
		return &Error{Kind: KindBinlogFormat,
			Msg: fmt.Sprintf("binlog_format is %s; change data capture needs ROW", s.format),
			Hint: "run SET GLOBAL binlog_format='ROW' and set binlog_format=ROW in the server's configuration; " +
				"sessions already connected keep the old format until they reconnect"}
	}
	if s.rowImage != "" && s.rowImage != "FULL" {
		return &Error{Kind: KindRowImage,
			Msg:  fmt.Sprintf("binlog_row_image is %s; FULL is needed so that updates and deletes carry every column", s.rowImage),
			Hint: "run SET GLOBAL binlog_row_image='FULL' and set binlog_row_image=FULL in the server's configuration"}
	}
	return nil
}

// grants are an account's privileges as SHOW GRANTS lists them.
type grants struct {
	global map[string]bool
	dbs    map[string]map[string]bool   // database pattern → privileges
	tables map[tableKey]map[string]bool // table → privileges
	// roles is set when the account has roles, whose privileges SHOW
	// GRANTS may not list.
	roles bool
}

// parseGrants reads SHOW GRANTS lines.
func parseGrants(lines []string) grants {
	g := grants{global: map[string]bool{}, dbs: map[string]map[string]bool{}, tables: map[tableKey]map[string]bool{}}
	for _, line := range lines {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "GRANT ")
		if !ok {
			continue
		}
		on := indexTopLevel(rest, " ON ")
		if on < 0 {
			g.roles = true // GRANT role TO user
			continue
		}
		privs := splitTopLevel(rest[:on])
		target := strings.TrimSpace(rest[on+4:])
		to := strings.Index(target, " TO ")
		if to < 0 {
			continue
		}
		target = target[:to]
		if strings.HasPrefix(target, "FUNCTION ") || strings.HasPrefix(target, "PROCEDURE ") || strings.HasPrefix(target, "PACKAGE ") {
			continue
		}
		set := map[string]bool{}
		for _, p := range privs {
			p = strings.ToUpper(strings.TrimSpace(p))
			if i := strings.IndexByte(p, '('); i >= 0 {
				continue // column privileges do not cover whole rows
			}
			if p == "ALL" {
				p = "ALL PRIVILEGES"
			}
			set[p] = true
		}
		toks := tokenize(target, 8)
		switch {
		case target == "*.*":
			for p := range set {
				g.global[p] = true
			}
		case len(toks) == 3 && toks[1].text == "." && toks[2].text == "*":
			db := toks[0].text
			if g.dbs[db] == nil {
				g.dbs[db] = map[string]bool{}
			}
			for p := range set {
				g.dbs[db][p] = true
			}
		case len(toks) == 3 && toks[1].text == ".":
			k := tableKey{toks[0].text, toks[2].text}
			if g.tables[k] == nil {
				g.tables[k] = map[string]bool{}
			}
			for p := range set {
				g.tables[k][p] = true
			}
		}
	}
	return g
}

// hasGlobal reports a global privilege (any of the names).
func (g grants) hasGlobal(names ...string) bool {
	if g.global["ALL PRIVILEGES"] {
		return true
	}
	for _, n := range names {
		if g.global[n] {
			return true
		}
	}
	return false
}

// has reports a privilege on a table, granted at any level.
func (g grants) has(priv, db, table string) bool {
	if g.hasGlobal(priv) {
		return true
	}
	for pattern, set := range g.dbs {
		if (set[priv] || set["ALL PRIVILEGES"]) && likeMatch(pattern, db) {
			return true
		}
	}
	set := g.tables[tableKey{db, table}]
	return set[priv] || set["ALL PRIVILEGES"]
}

// hasAny reports a privilege granted anywhere.
func (g grants) hasAny(priv string) bool {
	if g.hasGlobal(priv) {
		return true
	}
	for _, set := range g.dbs {
		if set[priv] || set["ALL PRIVILEGES"] {
			return true
		}
	}
	for _, set := range g.tables {
		if set[priv] || set["ALL PRIVILEGES"] {
			return true
		}
	}
	return false
}

// likeMatch matches a database name against a grant's pattern (% and _
// wildcards, \ escapes).
func likeMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '%':
		for i := 0; i <= len(s); i++ {
			if likeMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '_':
		return s != "" && likeMatch(pattern[1:], s[1:])
	case '\\':
		if len(pattern) > 1 {
			return s != "" && s[0] == pattern[1] && likeMatch(pattern[2:], s[1:])
		}
	}
	return s != "" && s[0] == pattern[0] && likeMatch(pattern[1:], s[1:])
}

// indexTopLevel finds sep outside parentheses and quotes.
func indexTopLevel(s, sep string) int {
	depth, quote := 0, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '`' || c == '\'' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && strings.HasPrefix(s[i:], sep):
			return i
		}
	}
	return -1
}

// splitTopLevel splits on commas outside parentheses.
func splitTopLevel(s string) []string {
	var out []string
	for {
		i := indexTopLevel(s, ",")
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s = s[i+1:]
	}
}

// checkPrivileges fails naming the privileges the account lacks for
// reading the log (REPLICATION SLAVE, REPLICATION CLIENT / BINLOG
// MONITOR), the tables (SELECT) and, when the snapshot locks, RELOAD or
// LOCK TABLES. An account with roles only gets warnings: SHOW GRANTS does
// not list what the roles give.
func (r *runner) checkPrivileges(c *conn, tables []*Table, needLock bool) error {
	rows, err := c.rows("SHOW GRANTS")
	if err != nil {
		return fmt.Errorf("cdc: read grants: %w", err)
	}
	lines := make([]string, len(rows))
	for i, row := range rows {
		lines[i] = row[0].s
	}
	g := parseGrants(lines)
	var missing, why []string
	if !g.hasGlobal("REPLICATION SLAVE") {
		missing = append(missing, "REPLICATION SLAVE")
		why = append(why, "REPLICATION SLAVE to read the binary log")
	}
	if !g.hasGlobal("REPLICATION CLIENT", "BINLOG MONITOR") {
		name := "REPLICATION CLIENT"
		if r.srv.flavor == flavorMariaDB {
			name = "BINLOG MONITOR"
		}
		missing = append(missing, name)
		why = append(why, name+" to list the binary logs and their position")
	}
	if !g.hasAny("SELECT") {
		missing = append(missing, "SELECT")
		why = append(why, "SELECT to read the tables")
	} else {
		var denied []string
		for _, t := range tables {
			if !g.has("SELECT", t.DB, t.Name) {
				denied = append(denied, t.DB+"."+t.Name)
			}
		}
		if len(denied) > 0 && !g.roles {
			return &Error{Kind: KindPrivilege,
				Msg:  "the account lacks SELECT on " + strings.Join(denied, ", "),
				Hint: fmt.Sprintf("run GRANT SELECT ON <db>.* TO %s for each database, or exclude the tables", r.srv.user)}
		}
	}
	if needLock && !g.hasGlobal("RELOAD") && !g.hasAny("LOCK TABLES") {
		missing = append(missing, "RELOAD")
		why = append(why, "RELOAD (or LOCK TABLES) to lock the tables while the snapshot reads its binlog position")
	}
	if len(missing) == 0 {
		return nil
	}
	if g.roles {
		r.log.Warn("the account may lack privileges; it has roles, whose privileges SHOW GRANTS does not list",
			"missing", strings.Join(missing, ", "))
		return nil
	}
	return &Error{Kind: KindPrivilege,
		Msg:  "the account lacks " + strings.Join(why, "; "),
		Hint: fmt.Sprintf("run GRANT %s ON *.* TO %s", strings.Join(missing, ", "), r.srv.user)}
}

// binlogFiles lists the server's binary logs, oldest first, with sizes.
func binlogFiles(c *conn) ([]string, []uint64, error) {
	rows, err := c.rows("SHOW BINARY LOGS")
	if err != nil {
		return nil, nil, fmt.Errorf("cdc: list binary logs: %w", err)
	}
	names := make([]string, len(rows))
	sizes := make([]uint64, len(rows))
	for i, r := range rows {
		names[i] = r[0].s
		if len(r) > 1 {
			sizes[i], _ = strconv.ParseUint(r[1].s, 10, 64)
		}
	}
	return names, sizes, nil
}

// currentPosition is the end of the binary log now.
func (r *runner) currentPosition(c *conn) (Position, error) {
	row, ok, err := c.row("SHOW MASTER STATUS")
	if err != nil && r.srv.flavor == flavorMySQL {
		row, ok, err = c.row("SHOW BINARY LOG STATUS") // MySQL 8.4
	}
	if err != nil {
		return Position{}, fmt.Errorf("cdc: read binlog position: %w", err)
	}
	if !ok {
		return Position{}, &Error{Kind: KindBinlogDisabled, Msg: "the server reports no binary log position (SHOW MASTER STATUS is empty)",
			Hint: "start the server with log_bin"}
	}
	pos := Position{File: row[0].s, Flavor: r.srv.flavor}
	p, _ := strconv.ParseUint(row[1].s, 10, 32)
	pos.Pos = uint32(p)
	switch {
	case r.srv.flavor == flavorMariaDB:
		g, err := r.gtidAt(c, pos.File, pos.Pos)
		if err != nil {
			return Position{}, err
		}
		pos.GTIDSet = g
	case r.srv.gtids && len(row) > 4:
		pos.GTIDSet = strings.ReplaceAll(row[4].s, "\n", "")
	}
	return pos, nil
}

// gtidAt is MariaDB's GTID position at a binlog file and offset.
func (r *runner) gtidAt(c *conn, file string, pos uint32) (string, error) {
	row, _, err := c.row(fmt.Sprintf("SELECT BINLOG_GTID_POS(%s, %d)", quoteString(file), pos))
	if err != nil {
		return "", fmt.Errorf("cdc: GTID position at %s:%d: %w", file, pos, err)
	}
	return row[0].s, nil
}

// oldestPosition is the start of the oldest binary log the server has.
func (r *runner) oldestPosition(c *conn) (Position, error) {
	files, _, err := binlogFiles(c)
	if err != nil {
		return Position{}, err
	}
	if len(files) == 0 {
		return Position{}, &Error{Kind: KindBinlogDisabled, Msg: "the server lists no binary logs", Hint: "start the server with log_bin"}
	}
	pos := Position{File: files[0], Pos: 4, Flavor: r.srv.flavor}
	switch {
	case r.srv.flavor == flavorMariaDB:
		if pos.GTIDSet, err = r.gtidAt(c, files[0], 4); err != nil {
			return Position{}, err
		}
	case r.srv.gtids:
		row, _, err := c.row("SELECT @@GLOBAL.gtid_purged")
		if err != nil {
			return Position{}, fmt.Errorf("cdc: read gtid_purged: %w", err)
		}
		pos.GTIDSet = strings.ReplaceAll(row[0].s, "\n", "")
	}
	return pos, nil
}

// unavailable says why the server can no longer stream from a stored
// position ("" when it can).
func (r *runner) unavailable(c *conn, pos Position) (string, error) {
	files, sizes, err := binlogFiles(c)
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "the server lists no binary logs", nil
	}
	if pos.GTIDSet != "" && r.useGTID(pos) {
		if r.srv.flavor == flavorMariaDB {
			start, err := r.gtidAt(c, files[0], 4)
			if err != nil {
				return "", err
			}
			behind, err := mariaBehind(pos.GTIDSet, start)
			if err != nil {
				return "", err
			}
			if len(behind) > 0 {
				return fmt.Sprintf("the oldest binary log %s starts after GTID position %s (it begins at %s)", files[0], pos.GTIDSet, start), nil
			}
			row, _, err := c.row("SELECT @@GLOBAL.gtid_binlog_pos")
			if err != nil {
				return "", fmt.Errorf("cdc: read gtid_binlog_pos: %w", err)
			}
			ahead, err := mariaBehind(row[0].s, pos.GTIDSet)
			if err != nil {
				return "", err
			}
			if len(ahead) > 0 {
				return fmt.Sprintf("the server's binary log has not reached GTID %s (it is at %q): the position is from another server, or this one was reset",
					strings.Join(ahead, ","), row[0].s), nil
			}
			return "", nil
		}
		row, _, err := c.row(fmt.Sprintf("SELECT GTID_SUBSET(@@GLOBAL.gtid_purged, %s), GTID_SUBSET(%s, @@GLOBAL.gtid_executed)",
			quoteString(pos.GTIDSet), quoteString(pos.GTIDSet)))
		if err != nil {
			return "", fmt.Errorf("cdc: compare GTID sets: %w", err)
		}
		if row[0].s != "1" {
			return fmt.Sprintf("transactions after GTID set %s were purged from the binary log", pos.GTIDSet), nil
		}
		if row[1].s != "1" {
			return fmt.Sprintf("GTID set %s has transactions the server never executed (another server, or a reset one)", pos.GTIDSet), nil
		}
		return "", nil
	}
	for i, f := range files {
		if f == pos.File {
			if uint64(pos.Pos) > sizes[i] && sizes[i] > 0 {
				return fmt.Sprintf("position %d is past the end of %s (%d bytes)", pos.Pos, f, sizes[i]), nil
			}
			return "", nil
		}
	}
	if pos.File < files[0] {
		return fmt.Sprintf("binary log %s was purged (the oldest is %s)", pos.File, files[0]), nil
	}
	return fmt.Sprintf("binary log %s is not on the server (it has %s to %s)", pos.File, files[0], files[len(files)-1]), nil
}

// purgedError is the error for a stored position the server no longer
// has.
func purgedError(pos Position, why string, keys Keys, err error) *Error {
	return &Error{Kind: KindPositionPurged,
		Msg: fmt.Sprintf("cannot resume from the stored position %s: %s", pos, why),
		Err: err,
		Hint: "changes after that position are lost to the binary log: " + keys.Recover +
			"; keep binary logs longer (binlog_expire_logs_seconds) to avoid this"}
}
