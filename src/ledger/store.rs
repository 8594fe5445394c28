//! The database that holds the ledger, behind one small interface, so
//! that the ledger's queries are written once: SQL both SQLite and
//! PostgreSQL understand, SQLite's `?N` parameters, values given and read
//! as rusqlite's types (`ToSql`, `FromSql`), whatever the store.
//!
//! [`Db`] runs a statement ([`Db::execute`]), a query of one row
//! ([`Db::query_row`], with [`Optional`] for none) or of many
//! ([`Db::query_map`], collected: the ledger pages what could be large),
//! and a transaction ([`Db::transaction`], rolled back unless committed).
//! Every statement is prepared once per connection and kept.

use rusqlite::ToSql;
use rusqlite::types::FromSql;

/// The values a statement takes, in the order of its `?N`.
pub(crate) type Params<'a> = &'a [&'a dyn ToSql];

/// What the store said went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

impl StoreError {
    /// Whether it says only that a query found no row.
    fn is_no_row(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows)
        )
    }
}

/// [`Db::query_row`]'s "no row" as `None`.
pub(crate) trait Optional<T> {
    /// `None` for no row, the row's value otherwise, or the error.
    fn optional(self) -> Result<Option<T>, StoreError>;
}

impl<T> Optional<T> for Result<T, StoreError> {
    fn optional(self) -> Result<Option<T>, StoreError> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.is_no_row() => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One row of a query's answer.
pub(crate) struct Row<'r> {
    row: &'r rusqlite::Row<'r>,
}

/// A column's place in a row, from 0.
pub(crate) trait Column {
    /// The place.
    fn index(self) -> usize;
}

impl Column for usize {
    fn index(self) -> usize {
        self
    }
}

impl Row<'_> {
    /// The value of column `index` (from 0), as `T`.
    pub(crate) fn get<I: Column, T: FromSql>(&self, index: I) -> Result<T, StoreError> {
        Ok(self.row.get(index.index())?)
    }
}

/// A connection to the ledger's store.
pub(crate) struct Db {
    sqlite: rusqlite::Connection,
}

/// Statements kept prepared per connection: more than the ledger has.
const PREPARED: usize = 128;

impl Db {
    /// The SQLite database `connection` holds.
    pub(crate) fn sqlite(connection: rusqlite::Connection) -> Db {
        connection.set_prepared_statement_cache_capacity(PREPARED);
        Db { sqlite: connection }
    }

    /// The SQLite connection, for what only SQLite has (its settings, its
    /// file).
    pub(crate) fn connection(&self) -> &rusqlite::Connection {
        &self.sqlite
    }

    /// Runs one statement; how many rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: Params<'_>) -> Result<usize, StoreError> {
        Ok(self.sqlite.prepare_cached(sql)?.execute(params)?)
    }

    /// Runs statements given as one text, without parameters.
    pub(crate) fn batch(&self, sql: &str) -> Result<(), StoreError> {
        Ok(self.sqlite.execute_batch(sql)?)
    }

    /// The first row of a query, read by `read`; an error when there is
    /// none ([`Optional`]).
    pub(crate) fn query_row<T>(
        &self,
        sql: &str,
        params: Params<'_>,
        read: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut statement = self.sqlite.prepare_cached(sql)?;
        let mut rows = statement.query(params)?;
        match rows.next()? {
            Some(row) => read(&Row { row }),
            None => Err(rusqlite::Error::QueryReturnedNoRows.into()),
        }
    }

    /// Every row of a query, each read by `read`, in order.
    pub(crate) fn query_map<T>(
        &self,
        sql: &str,
        params: Params<'_>,
        mut read: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut statement = self.sqlite.prepare_cached(sql)?;
        let mut rows = statement.query(params)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(read(&Row { row })?);
        }
        Ok(out)
    }

    /// Reads every row of a query in turn with `read`, holding none.
    pub(crate) fn query_each(
        &self,
        sql: &str,
        params: Params<'_>,
        mut read: impl FnMut(&Row<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut statement = self.sqlite.prepare_cached(sql)?;
        let mut rows = statement.query(params)?;
        while let Some(row) = rows.next()? {
            read(&Row { row })?;
        }
        Ok(())
    }

    /// Begins a transaction, rolled back unless [`Tx::commit`]ted.
    pub(crate) fn transaction(&self) -> Result<Tx<'_>, StoreError> {
        self.execute("BEGIN", &[])?;
        Ok(Tx {
            db: self,
            done: false,
        })
    }
}

/// A transaction of a [`Db`]; the [`Db`]'s methods run in it.
pub(crate) struct Tx<'a> {
    db: &'a Db,
    done: bool,
}

impl std::ops::Deref for Tx<'_> {
    type Target = Db;

    fn deref(&self) -> &Db {
        self.db
    }
}

impl Tx<'_> {
    /// Makes what the transaction did last.
    pub(crate) fn commit(mut self) -> Result<(), StoreError> {
        let committed = self.db.execute("COMMIT", &[]).map(drop);
        self.done = committed.is_ok();
        committed
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done && !self.db.sqlite.is_autocommit() {
            let _ = self.db.batch("ROLLBACK");
        }
    }
}
