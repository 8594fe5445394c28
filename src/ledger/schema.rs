//! The ledger's tables, and how an older ledger is brought up to date.
//!
//! `PRAGMA user_version` holds the version of the schema a ledger file has.
//! A new file gets every table; a file from an older breves is migrated one
//! version at a time, in one transaction, before anything else reads it.

use rusqlite::Connection;

/// The version of the schema this breves writes.
pub const VERSION: i64 = 6;

/// Every table, as version [`VERSION`] has them.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sends (
    issue TEXT NOT NULL,
    list TEXT NOT NULL,
    kind TEXT NOT NULL,
    issue_fingerprint TEXT NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    boot TEXT,
    PRIMARY KEY (issue, list, kind)
);
CREATE TABLE IF NOT EXISTS deliveries (
    issue TEXT NOT NULL,
    list TEXT NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    position INTEGER NOT NULL,
    sections TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'uncertain', 'gave-up', 'removed', 'suppressed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    reply TEXT,
    updated_at TEXT NOT NULL,
    held INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (issue, list, kind, recipient)
);
CREATE TABLE IF NOT EXISTS suppressions (
    list TEXT NOT NULL,
    address TEXT NOT NULL,
    source TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (list, address)
);
CREATE TABLE IF NOT EXISTS section_opt_outs (
    list TEXT NOT NULL,
    address TEXT NOT NULL,
    section TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (list, address, section)
);
CREATE TABLE IF NOT EXISTS reports (
    list TEXT NOT NULL,
    report TEXT NOT NULL,
    address TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('permanent', 'temporary', 'complaint', 'sender', 'unproven')),
    status TEXT NOT NULL,
    diagnostic TEXT NOT NULL,
    issue TEXT,
    reported_at TEXT,
    read_at TEXT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT,
    PRIMARY KEY (list, report, address)
);
CREATE TABLE IF NOT EXISTS forgotten (
    list TEXT NOT NULL,
    hash BLOB NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (list, hash)
);
CREATE TABLE IF NOT EXISTS choices (
    list TEXT NOT NULL,
    address TEXT NOT NULL,
    sections TEXT NOT NULL,
    at TEXT NOT NULL,
    evidence TEXT NOT NULL,
    PRIMARY KEY (list, address)
);
CREATE TABLE IF NOT EXISTS subscriptions (
    list TEXT NOT NULL,
    address TEXT NOT NULL,
    name TEXT,
    sections TEXT NOT NULL,
    consent TEXT NOT NULL,
    evidence TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    mailed_at TEXT,
    confirmed_at TEXT,
    code TEXT,
    PRIMARY KEY (list, address)
);
CREATE TABLE IF NOT EXISTS keys (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
";

/// Version 4 widens what a report's `kind` may be (a refusal of the
/// sender, a report that proves nothing) and adds its `reason`: the table
/// of an older file is set aside, made again by [`SCHEMA`], and given its
/// rows back.
const REPORTS_V4_BEFORE: &str = "ALTER TABLE reports RENAME TO reports_v3;";
const REPORTS_V4_AFTER: &str = "
INSERT INTO reports SELECT list, report, address, kind, status, diagnostic, issue, reported_at, read_at, decision, NULL FROM reports_v3;
DROP TABLE reports_v3;
";

/// Columns added since version 1, to tables an older file already has.
const ADDED: [(&str, &str, &str); 3] = [
    // Version 3: the machine's boot a send last ran under, and the
    // recipients a run has durably set aside to send next (`held`).
    ("sends", "boot", "TEXT"),
    ("deliveries", "held", "INTEGER NOT NULL DEFAULT 0"),
    // Version 6: the code a confirmation link names a request by.
    ("subscriptions", "code", "TEXT"),
];

/// Indexes on columns [`ADDED`] may have just made.
const INDEXES: &str = "
CREATE INDEX IF NOT EXISTS subscriptions_by_code ON subscriptions (list, code);
";

/// Every table of a ledger in PostgreSQL, as version [`VERSION`] has them:
/// those of SQLite in PostgreSQL's types (integers of 64 bits, booleans
/// where SQLite keeps 0 and 1, bytes), and `seq`, the order reports were
/// recorded in (SQLite's `rowid`).
const POSTGRES_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS breves_schema (version BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS sends (
    issue TEXT NOT NULL,
    list TEXT NOT NULL,
    kind TEXT NOT NULL,
    issue_fingerprint TEXT NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    boot TEXT,
    PRIMARY KEY (issue, list, kind)
);
CREATE TABLE IF NOT EXISTS deliveries (
    issue TEXT NOT NULL,
    list TEXT NOT NULL,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    position BIGINT NOT NULL,
    sections TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'uncertain', 'gave-up', 'removed', 'suppressed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    reply TEXT,
    updated_at TEXT NOT NULL,
    held BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (issue, list, kind, recipient)
);
ALTER TABLE deliveries DROP COLUMN IF EXISTS claimed_by;
CREATE TABLE IF NOT EXISTS claims (
    issue TEXT NOT NULL,
    list TEXT NOT NULL,
    kind TEXT NOT NULL,
    block BIGINT NOT NULL,
    claimer BIGINT NOT NULL,
    PRIMARY KEY (issue, list, kind, block)
);
CREATE INDEX IF NOT EXISTS deliveries_in_order ON deliveries (issue, list, kind, position);
CREATE TABLE IF NOT EXISTS suppressions (
    list TEXT NOT NULL,
    address TEXT NOT NULL,
    source TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (list, address)
);
CREATE TABLE IF NOT EXISTS section_opt_outs (
    list TEXT NOT NULL,
    address TEXT NOT NULL,
    section TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (list, address, section)
);
CREATE TABLE IF NOT EXISTS reports (
    list TEXT NOT NULL,
    report TEXT NOT NULL,
    address TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('permanent', 'temporary', 'complaint', 'sender', 'unproven')),
    status TEXT NOT NULL,
    diagnostic TEXT NOT NULL,
    issue TEXT,
    reported_at TEXT,
    read_at TEXT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT,
    seq BIGSERIAL,
    PRIMARY KEY (list, report, address)
);
CREATE TABLE IF NOT EXISTS forgotten (
    list TEXT NOT NULL,
    hash BYTEA NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (list, hash)
);
CREATE TABLE IF NOT EXISTS choices (
    list TEXT NOT NULL,
    address TEXT NOT NULL,
    sections TEXT NOT NULL,
    at TEXT NOT NULL,
    evidence TEXT NOT NULL,
    PRIMARY KEY (list, address)
);
CREATE TABLE IF NOT EXISTS subscriptions (
    list TEXT NOT NULL,
    address TEXT NOT NULL,
    name TEXT,
    sections TEXT NOT NULL,
    consent TEXT NOT NULL,
    evidence TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    mailed_at TEXT,
    confirmed_at TEXT,
    code TEXT,
    PRIMARY KEY (list, address)
);
CREATE INDEX IF NOT EXISTS subscriptions_by_code ON subscriptions (list, code);
CREATE TABLE IF NOT EXISTS keys (
    name TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
";

/// Creates the tables of a ledger in PostgreSQL, or brings them up to
/// date, in one transaction under a lock of the database's, so that two
/// machines starting at once make them once. The version is kept in
/// `breves_schema`; PostgreSQL ledgers start at version 6.
pub(crate) fn migrate_postgres(db: &super::store::Db) -> Result<(), super::StoreError> {
    let tx = db.transaction()?;
    tx.query_row("SELECT pg_advisory_xact_lock(6268)", &[], |_| Ok(()))?;
    tx.batch(POSTGRES_SCHEMA)?;
    let version: Option<i64> =
        tx.query_row("SELECT MAX(version) FROM breves_schema", &[], |row| {
            row.get(0)
        })?;
    match version {
        None => {
            tx.execute(
                "INSERT INTO breves_schema VALUES (?1)",
                rusqlite::params![VERSION],
            )?;
        }
        Some(v) if v < VERSION => {
            tx.execute(
                "UPDATE breves_schema SET version = ?1",
                rusqlite::params![VERSION],
            )?;
        }
        Some(_) => {}
    }
    tx.commit()
}

/// Creates the tables of a new ledger, or brings an older one up to date.
pub fn migrate(db: &Connection) -> rusqlite::Result<()> {
    let version: i64 = db.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version >= VERSION {
        return Ok(());
    }
    // Version 0 is a new file, or one from before versions were recorded,
    // whose tables are those of version 1; version 2 adds `reports` (the
    // bounces and complaints read): `IF NOT EXISTS` makes each right.
    // Version 3 adds columns to tables an older file has; version 4 makes
    // `reports` again; version 5 adds `forgotten`, `choices`, `subscriptions` and `keys`;
    // version 6 adds the `code` of `subscriptions`.
    let (reports, with_reason): (bool, bool) = db.query_row(
        "SELECT COUNT(*) > 0, COALESCE(SUM(name = 'reason'), 0) > 0 FROM pragma_table_info('reports')",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let mut sql = String::from("BEGIN;");
    let remake = reports && !with_reason;
    if remake {
        sql.push_str(REPORTS_V4_BEFORE);
    }
    sql.push_str(SCHEMA);
    if remake {
        sql.push_str(REPORTS_V4_AFTER);
    }
    for (table, column, kind) in ADDED {
        // A table of an older file without the column; a new file's
        // tables are made with it.
        let (exists, present): (bool, bool) = db.query_row(
            "SELECT COUNT(*) > 0, COALESCE(SUM(name = ?2), 0) > 0 FROM pragma_table_info(?1)",
            [table, column],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        if exists && !present {
            sql.push_str(&format!("ALTER TABLE {table} ADD COLUMN {column} {kind};"));
        }
    }
    sql.push_str(INDEXES);
    sql.push_str(&format!("PRAGMA user_version = {VERSION}; COMMIT;"));
    db.execute_batch(&sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ledger_of_version_2_gains_the_columns_of_version_3_and_keeps_its_rows() {
        let db = Connection::open_in_memory().expect("db");
        // The two tables as version 2 made them, with a send recorded.
        db.execute_batch(
            "CREATE TABLE sends (issue TEXT NOT NULL, list TEXT NOT NULL, kind TEXT NOT NULL,
                issue_fingerprint TEXT NOT NULL, started_at TEXT NOT NULL, updated_at TEXT NOT NULL,
                PRIMARY KEY (issue, list, kind));
             CREATE TABLE deliveries (issue TEXT NOT NULL, list TEXT NOT NULL, kind TEXT NOT NULL,
                recipient TEXT NOT NULL, position INTEGER NOT NULL, sections TEXT NOT NULL,
                state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, reply TEXT,
                updated_at TEXT NOT NULL, PRIMARY KEY (issue, list, kind, recipient));
             INSERT INTO sends VALUES ('i', 'l', 'list', 'f', 't', 't');
             INSERT INTO deliveries VALUES ('i', 'l', 'list', 'a@x.org', 0, 's', 'sending', 1, NULL, 't');
             PRAGMA user_version = 2;",
        )
        .expect("version 2");
        migrate(&db).expect("migrated");
        let row: (String, bool, Option<String>) = db
            .query_row(
                "SELECT d.state, d.held, s.boot FROM deliveries d JOIN sends s USING (issue, list, kind)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("the row, with the new columns");
        assert_eq!(row, ("sending".to_owned(), false, None));
        let version: i64 = db
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(version, VERSION);
        migrate(&db).expect("a second time changes nothing");

        // A new file gets them at once.
        let new = Connection::open_in_memory().expect("db");
        migrate(&new).expect("made");
        let columns: i64 = new
            .query_row(
                "SELECT (SELECT COUNT(*) FROM pragma_table_info('sends') WHERE name = 'boot')
                      + (SELECT COUNT(*) FROM pragma_table_info('deliveries') WHERE name = 'held')",
                [],
                |r| r.get(0),
            )
            .expect("columns");
        assert_eq!(columns, 2);
    }

    #[test]
    fn a_ledger_of_version_3_keeps_its_reports_and_takes_the_new_kinds() {
        let db = Connection::open_in_memory().expect("db");
        db.execute_batch(
            "CREATE TABLE reports (list TEXT NOT NULL, report TEXT NOT NULL, address TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('permanent', 'temporary', 'complaint')),
                status TEXT NOT NULL, diagnostic TEXT NOT NULL, issue TEXT, reported_at TEXT,
                read_at TEXT NOT NULL, decision TEXT NOT NULL, PRIMARY KEY (list, report, address));
             INSERT INTO reports VALUES ('l', '<r@x>', 'a@x.org', 'permanent', '5.1.1', 'gone', NULL, NULL, 't', 'suppressed');
             PRAGMA user_version = 3;",
        )
        .expect("version 3");
        migrate(&db).expect("migrated");
        let kept: (String, Option<String>) = db
            .query_row("SELECT decision, reason FROM reports", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("the row kept");
        assert_eq!(kept, ("suppressed".to_owned(), None));
        db.execute(
            "INSERT INTO reports VALUES ('l', '<s@x>', 'a@x.org', 'sender', '5.7.1', 'blocked', NULL, NULL, 't', 'kept', 'blocked')",
            [],
        )
        .expect("a refusal of the sender is a kind the table takes");
    }

    #[test]
    fn a_ledger_of_version_5_keeps_its_requests_and_gains_their_code() {
        let db = Connection::open_in_memory().expect("db");
        db.execute_batch(
            "CREATE TABLE subscriptions (list TEXT NOT NULL, address TEXT NOT NULL, name TEXT,
                sections TEXT NOT NULL, consent TEXT NOT NULL, evidence TEXT NOT NULL,
                requested_at TEXT NOT NULL, mailed_at TEXT, confirmed_at TEXT,
                PRIMARY KEY (list, address));
             INSERT INTO subscriptions VALUES ('l', 'a@x.org', NULL, 'spatial', 'oui', 'form', 't', NULL, 't');
             PRAGMA user_version = 5;",
        )
        .expect("version 5");
        migrate(&db).expect("migrated");
        let kept: (String, Option<String>) = db
            .query_row("SELECT sections, code FROM subscriptions", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("the row kept, with a code column");
        assert_eq!(kept, ("spatial".to_owned(), None));
        let indexed: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'subscriptions_by_code'",
                [],
                |r| r.get(0),
            )
            .expect("index");
        assert_eq!(indexed, 1);
    }
}
