//! Moving a ledger from one store to another (an SQLite file into
//! PostgreSQL): every row of every table, then each table read back from
//! both in the same order and compared, row for row.

use rusqlite::types::Value;

use super::store::{Db, StoreError};
use super::{Ledger, LedgerError};

/// The tables of a ledger: name, columns, and the order rows are read in
/// (the primary key; reports in the order they were recorded).
const TABLES: [(&str, &str, &str); 9] = [
    ("keys", "name, value", "name"),
    (
        "sends",
        "issue, list, kind, issue_fingerprint, started_at, updated_at, boot",
        "issue, list, kind",
    ),
    (
        "deliveries",
        "issue, list, kind, recipient, position, sections, state, attempts, reply, updated_at, held",
        "issue, list, kind, recipient",
    ),
    ("suppressions", "list, address, source, at", "list, address"),
    (
        "section_opt_outs",
        "list, address, section, at",
        "list, address, section",
    ),
    (
        "reports",
        "list, report, address, kind, status, diagnostic, issue, reported_at, read_at, decision, reason",
        "list, report, address",
    ),
    ("forgotten", "list, hash, at", "list, hash"),
    (
        "choices",
        "list, address, sections, at, evidence",
        "list, address",
    ),
    (
        "subscriptions",
        "list, address, name, sections, consent, evidence, requested_at, mailed_at, confirmed_at, code",
        "list, address",
    ),
];

/// Rows read, or written, at once.
const PAGE: usize = 2_000;

/// What a copy moved: each table's rows, in [`TABLES`]' order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Copied {
    /// Each table and how many rows it holds in both stores.
    pub tables: Vec<(&'static str, usize)>,
}

impl Copied {
    /// Rows in all.
    pub fn rows(&self) -> usize {
        self.tables.iter().map(|(_, n)| n).sum()
    }
}

/// Why a copy stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CopyError {
    /// One of the two ledgers failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The ledger copied to holds rows already.
    #[error("{to} holds a ledger already ({table} has rows): copy into an empty database")]
    NotEmpty {
        /// The ledger copied to.
        to: String,
        /// A table with rows.
        table: &'static str,
    },
    /// Read back, a table differs between the two.
    #[error(
        "{table} differs between the two ledgers at row {row} after the copy: nothing is to be trusted in {to}"
    )]
    Differs {
        /// The ledger copied to.
        to: String,
        /// The table.
        table: &'static str,
        /// The first row that differs, from 1.
        row: usize,
    },
}

/// Copies every row of `from` into `to`, which must hold none, in one
/// transaction of `to`, then reads both back and compares them row for
/// row.
pub fn copy(from: &Ledger, to: &Ledger) -> Result<Copied, CopyError> {
    let source = from.db();
    let target = to.db();
    let shown = to.path().display().to_string();
    for (table, _, _) in TABLES {
        let rows: i64 = target
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), &[], |row| {
                row.get(0)
            })
            .map_err(|e| to.err(e))?;
        if rows > 0 {
            return Err(CopyError::NotEmpty { to: shown, table });
        }
    }
    let tx = target.transaction().map_err(|e| to.err(e))?;
    for (table, columns, order) in TABLES {
        let order = source_order(&source, table, order);
        let mut offset = 0;
        loop {
            let page =
                read_page(&source, table, columns, &order, offset).map_err(|e| from.err(e))?;
            if page.is_empty() {
                break;
            }
            insert(&tx, table, columns, &page).map_err(|e| to.err(e))?;
            offset += page.len();
        }
    }
    tx.commit().map_err(|e| to.err(e))?;
    let mut copied = Copied::default();
    for (table, columns, order) in TABLES {
        let rows = compare(from, &source, to, &target, (table, columns, order))?;
        copied.tables.push((table, rows));
    }
    Ok(copied)
}

/// The order rows of `table` are read in from `db`: reports in the order
/// they were recorded (SQLite's `rowid`, PostgreSQL's `seq`).
fn source_order(db: &Db, table: &str, order: &str) -> String {
    match (table, db.is_postgres()) {
        ("reports", true) => "seq".to_owned(),
        ("reports", false) => "rowid".to_owned(),
        _ => order.to_owned(),
    }
}

fn read_page(
    db: &Db,
    table: &str,
    columns: &str,
    order: &str,
    offset: usize,
) -> Result<Vec<Vec<Value>>, StoreError> {
    let width = columns.split(',').count();
    db.query_map(
        &format!("SELECT {columns} FROM {table} ORDER BY {order} LIMIT {PAGE} OFFSET {offset}"),
        &[],
        |row| (0..width).map(|i| row.get::<_, Value>(i)).collect(),
    )
}

/// Inserts `rows` into `table` of `db`, in statements of many rows.
fn insert(db: &Db, table: &str, columns: &str, rows: &[Vec<Value>]) -> Result<(), StoreError> {
    let width = columns.split(',').count();
    // PostgreSQL takes at most 65,535 values a statement.
    for chunk in rows.chunks((60_000 / width).max(1)) {
        let mut sql = format!("INSERT INTO {table} ({columns}) VALUES ");
        let mut n = 0;
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..width {
                if c > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                sql.push_str(&format!("?{n}"));
            }
            sql.push(')');
        }
        let values: Vec<&dyn rusqlite::ToSql> = chunk
            .iter()
            .flatten()
            .map(|v| v as &dyn rusqlite::ToSql)
            .collect();
        db.execute(&sql, &values)?;
    }
    Ok(())
}

/// Reads `table` back from both ledgers in the same order and compares
/// them row for row: how many rows each holds.
fn compare(
    from: &Ledger,
    source: &Db,
    to: &Ledger,
    target: &Db,
    (table, columns, order): (&'static str, &str, &str),
) -> Result<usize, CopyError> {
    let (source_order, target_order) = (
        source_order(source, table, order),
        source_order(target, table, order),
    );
    let mut offset = 0;
    loop {
        let a =
            read_page(source, table, columns, &source_order, offset).map_err(|e| from.err(e))?;
        let b = read_page(target, table, columns, &target_order, offset).map_err(|e| to.err(e))?;
        if let Some(i) = (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i)) {
            return Err(CopyError::Differs {
                to: to.path().display().to_string(),
                table,
                row: offset + i + 1,
            });
        }
        if a.is_empty() {
            return Ok(offset);
        }
        offset += a.len();
    }
}
