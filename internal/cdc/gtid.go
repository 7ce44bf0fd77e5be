package cdc

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/google/uuid"
)

// The server flavors, as Position.Flavor names them.
const (
	flavorMySQL   = "mysql"
	flavorMariaDB = "mariadb"
)

// gtidState is the set of transactions read up to a transaction
// boundary, in the server's syntax: MariaDB's position (the last GTID of
// each replication domain, as gtid_binlog_pos and slave_connect_state
// take it) or MySQL's executed set.
type gtidState struct {
	flavor string
	maria  map[uint32]mysql.MariadbGTID
	my     *mysql.MysqlGTIDSet
	text   string // cached String
	dirty  bool
}

// newGTIDState parses a set; "" is the empty set.
func newGTIDState(flavor, set string) (*gtidState, error) {
	g := &gtidState{flavor: flavor, text: set}
	if flavor == flavorMariaDB {
		g.maria = map[uint32]mysql.MariadbGTID{}
		for _, part := range strings.Split(set, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			id, err := mysql.ParseMariadbGTID(part)
			if err != nil {
				return nil, fmt.Errorf("cdc: GTID position %q: %w", set, err)
			}
			g.maria[id.DomainID] = *id
		}
		g.dirty = true
		return g, nil
	}
	s, err := mysql.ParseMysqlGTIDSet(set)
	if err != nil {
		return nil, fmt.Errorf("cdc: GTID set %q: %w", set, err)
	}
	g.my = s.(*mysql.MysqlGTIDSet)
	g.dirty = true
	return g, nil
}

// addMariaDB records a committed MariaDB transaction.
func (g *gtidState) addMariaDB(id mysql.MariadbGTID) {
	g.maria[id.DomainID] = id
	g.dirty = true
}

// addMySQL records a committed MySQL transaction.
func (g *gtidState) addMySQL(sid []byte, gno int64) error {
	u, err := uuid.FromBytes(sid)
	if err != nil {
		return fmt.Errorf("cdc: GTID source id: %w", err)
	}
	g.my.AddGTID(u, gno)
	g.dirty = true
	return nil
}

// String renders the set.
func (g *gtidState) String() string {
	if !g.dirty {
		return g.text
	}
	g.dirty = false
	if g.flavor == flavorMariaDB {
		domains := make([]uint32, 0, len(g.maria))
		for d := range g.maria {
			domains = append(domains, d)
		}
		sort.Slice(domains, func(i, j int) bool { return domains[i] < domains[j] })
		parts := make([]string, len(domains))
		for i, d := range domains {
			id := g.maria[d]
			parts[i] = mariaGTID(id)
		}
		g.text = strings.Join(parts, ",")
		return g.text
	}
	g.text = g.my.String()
	return g.text
}

// mariaGTID renders one MariaDB GTID, domain-server-sequence.
func mariaGTID(id mysql.MariadbGTID) string {
	return strconv.FormatUint(uint64(id.DomainID), 10) + "-" + strconv.FormatUint(uint64(id.ServerID), 10) + "-" +
		strconv.FormatUint(id.SequenceNumber, 10)
}

// mysqlGTID renders one MySQL GTID, uuid:number.
func mysqlGTID(sid []byte, gno int64) string {
	u, err := uuid.FromBytes(sid)
	if err != nil {
		return ""
	}
	return u.String() + ":" + strconv.FormatInt(gno, 10)
}

// mariaBehind reports the domains in which position pos has not reached
// start (pos lacks the domain or has a lower sequence number): the
// transactions between them are not in the log if start is where the
// oldest binary log begins.
func mariaBehind(pos, start string) ([]string, error) {
	p, err := newGTIDState(flavorMariaDB, pos)
	if err != nil {
		return nil, err
	}
	s, err := newGTIDState(flavorMariaDB, start)
	if err != nil {
		return nil, err
	}
	var behind []string
	for d, first := range s.maria {
		have, ok := p.maria[d]
		if !ok || have.SequenceNumber < first.SequenceNumber {
			behind = append(behind, mariaGTID(first))
		}
	}
	sort.Strings(behind)
	return behind, nil
}
