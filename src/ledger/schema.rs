//! The ledger's tables, and how an older ledger is brought up to date.
//!
//! `PRAGMA user_version` holds the version of the schema a ledger file has.
//! A new file gets every table; a file from an older breves is migrated one
//! version at a time, in one transaction, before anything else reads it.

use rusqlite::Connection;

/// The version of the schema this breves writes.
pub const VERSION: i64 = 2;

/// Every table, as version [`VERSION`] has them.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sends (
    issue TEXT NOT NULL,
    list TEXT NOT NULL,
    kind TEXT NOT NULL,
    issue_fingerprint TEXT NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
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
    kind TEXT NOT NULL CHECK (kind IN ('permanent', 'temporary', 'complaint')),
    status TEXT NOT NULL,
    diagnostic TEXT NOT NULL,
    issue TEXT,
    reported_at TEXT,
    read_at TEXT NOT NULL,
    decision TEXT NOT NULL,
    PRIMARY KEY (list, report, address)
);
";

/// Creates the tables of a new ledger, or brings an older one up to date.
pub fn migrate(db: &Connection) -> rusqlite::Result<()> {
    let version: i64 = db.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version >= VERSION {
        return Ok(());
    }
    // Version 0 is a new file, or one from before versions were recorded,
    // whose tables are those of version 1; version 2 adds `reports` (the
    // bounces and complaints read): `IF NOT EXISTS` makes each right.
    db.execute_batch(&format!(
        "BEGIN; {SCHEMA} PRAGMA user_version = {VERSION}; COMMIT;"
    ))
}
