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
//!
//! PostgreSQL ([`Db::postgres`]) is reached through a thread of its own
//! per connection (the `postgres` client runs its own small runtime,
//! which cannot run inside the program's), each call a message to it.
//! What SQLite and PostgreSQL write differently is translated there
//! ([`postgres_sql`]): `$N` for `?N`, `pg_temp` for `temp`, `strpos` for
//! `instr`, the row order of `rowid` kept by a column of its own (`seq`).
//! Values go as the column's type asks (an integer to a boolean column,
//! say) and come back as SQLite's kinds of value (a boolean as 0 or 1).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};

use rusqlite::ToSql;
use rusqlite::types::{FromSql, ToSqlOutput, Value, ValueRef};

/// The values a statement takes, in the order of its `?N`.
pub(crate) type Params<'a> = &'a [&'a dyn ToSql];

/// What the store said went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite failed.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("{}", postgres_error(.0))]
    Postgres(#[from] postgres::Error),
    /// A value could not be given to PostgreSQL as its column asks.
    #[error("a value of the ledger: {0}")]
    Value(String),
    /// The settings of TLS to PostgreSQL cannot be made (an authority
    /// that cannot be read).
    #[error("{0}")]
    Tls(String),
    /// The thread of a PostgreSQL connection is gone.
    #[error("the connection to PostgreSQL is gone")]
    Gone,
}

/// PostgreSQL's error in words: its message and detail, when the server
/// gave them, else the client's with its causes ("error performing TLS
/// handshake: invalid peer certificate: UnknownIssuer").
fn postgres_error(error: &postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_owned(),
        },
        None => {
            let mut said = error.to_string();
            let mut cause = std::error::Error::source(error);
            while let Some(e) = cause {
                let more = e.to_string();
                if !said.contains(&more) {
                    said = format!("{said}: {more}");
                }
                cause = e.source();
            }
            said
        }
    }
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

/// One row of a query's answer: SQLite's own, or PostgreSQL's as values.
pub(crate) enum Row<'r> {
    /// A row of SQLite.
    Sqlite(&'r rusqlite::Row<'r>),
    /// A row of PostgreSQL, each column as SQLite's kind of value.
    Values(&'r [Value]),
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
        let index = index.index();
        match self {
            Row::Sqlite(row) => Ok(row.get(index)?),
            Row::Values(values) => {
                let value = values
                    .get(index)
                    .ok_or(rusqlite::Error::InvalidColumnIndex(index))?;
                T::column_result(ValueRef::from(value)).map_err(|e| {
                    StoreError::Sqlite(rusqlite::Error::FromSqlConversionFailure(
                        index,
                        value.data_type(),
                        Box::new(e),
                    ))
                })
            }
        }
    }
}

/// A connection to the ledger's store.
pub(crate) enum Db {
    /// An SQLite file.
    Sqlite(rusqlite::Connection),
    /// A PostgreSQL database.
    Postgres(Postgres),
}

/// Statements kept prepared per connection: more than the ledger has.
const PREPARED: usize = 128;

impl Db {
    /// The SQLite database `connection` holds.
    pub(crate) fn sqlite(connection: rusqlite::Connection) -> Db {
        connection.set_prepared_statement_cache_capacity(PREPARED);
        Db::Sqlite(connection)
    }

    /// A connection to the PostgreSQL database at `url`
    /// (`postgres://user@host/db`; the password from the URL or
    /// `PGPASSWORD`; TLS when the URL asks for it with `sslmode`).
    pub(crate) fn postgres(url: &str) -> Result<Db, StoreError> {
        Ok(Db::Postgres(Postgres::connect(url)?))
    }

    /// The same, its calls run on the thread that makes them: for a
    /// thread that runs no asynchronous code, which opens it itself.
    pub(crate) fn postgres_here(url: &str) -> Result<Db, StoreError> {
        Ok(Db::Postgres(Postgres::connect_here(url)?))
    }

    /// The SQLite connection, for what only SQLite has (its settings, its
    /// file); none for PostgreSQL.
    pub(crate) fn connection(&self) -> Option<&rusqlite::Connection> {
        match self {
            Db::Sqlite(connection) => Some(connection),
            Db::Postgres(_) => None,
        }
    }

    /// Whether it is PostgreSQL.
    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// Runs one statement; how many rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: Params<'_>) -> Result<usize, StoreError> {
        match self {
            Db::Sqlite(db) => Ok(db.prepare_cached(sql)?.execute(params)?),
            Db::Postgres(pg) => {
                let values = owned(params)?;
                let sql = sql.to_owned();
                pg.call(move |worker| worker.execute(&sql, &values))
            }
        }
    }

    /// Runs statements given as one text, without parameters.
    pub(crate) fn batch(&self, sql: &str) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(db) => Ok(db.execute_batch(sql)?),
            Db::Postgres(pg) => {
                let sql = postgres_sql(sql);
                pg.call(move |worker| Ok(worker.client.batch_execute(&sql)?))
            }
        }
    }

    /// The first row of a query, read by `read`; an error when there is
    /// none ([`Optional`]).
    pub(crate) fn query_row<T>(
        &self,
        sql: &str,
        params: Params<'_>,
        read: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self {
            Db::Sqlite(db) => {
                let mut statement = db.prepare_cached(sql)?;
                let mut rows = statement.query(params)?;
                match rows.next()? {
                    Some(row) => read(&Row::Sqlite(row)),
                    None => Err(rusqlite::Error::QueryReturnedNoRows.into()),
                }
            }
            Db::Postgres(pg) => match pg.rows(sql, params)?.first() {
                Some(row) => read(&Row::Values(row)),
                None => Err(rusqlite::Error::QueryReturnedNoRows.into()),
            },
        }
    }

    /// Every row of a query, each read by `read`, in order.
    pub(crate) fn query_map<T>(
        &self,
        sql: &str,
        params: Params<'_>,
        mut read: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        self.query_each(sql, params, |row| {
            out.push(read(row)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Reads every row of a query in turn with `read`, holding none
    /// (SQLite; PostgreSQL's rows come at once).
    pub(crate) fn query_each(
        &self,
        sql: &str,
        params: Params<'_>,
        mut read: impl FnMut(&Row<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(db) => {
                let mut statement = db.prepare_cached(sql)?;
                let mut rows = statement.query(params)?;
                while let Some(row) = rows.next()? {
                    read(&Row::Sqlite(row))?;
                }
            }
            Db::Postgres(pg) => {
                for row in pg.rows(sql, params)? {
                    read(&Row::Values(&row))?;
                }
            }
        }
        Ok(())
    }

    /// Begins a transaction, rolled back unless [`Tx::commit`]ted.
    pub(crate) fn transaction(&self) -> Result<Tx<'_>, StoreError> {
        self.execute("BEGIN", &[])?;
        if let Db::Postgres(pg) = self {
            pg.in_transaction.store(true, Ordering::SeqCst);
        }
        Ok(Tx {
            db: self,
            done: false,
        })
    }

    /// Whether a transaction is open.
    fn in_transaction(&self) -> bool {
        match self {
            Db::Sqlite(db) => !db.is_autocommit(),
            Db::Postgres(pg) => pg.in_transaction.load(Ordering::SeqCst),
        }
    }

    /// Ends the open transaction, committed or rolled back.
    fn end(&self, how: &str) -> Result<(), StoreError> {
        let ended = self.execute(how, &[]).map(drop);
        if let Db::Postgres(pg) = self {
            pg.in_transaction.store(false, Ordering::SeqCst);
        }
        ended
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
        let committed = self.db.end("COMMIT");
        self.done = committed.is_ok();
        committed
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done && self.db.in_transaction() {
            let _ = self.db.end("ROLLBACK");
        }
    }
}

/// The values of `params`, owned, to send to another thread.
fn owned(params: Params<'_>) -> Result<Vec<Value>, StoreError> {
    params
        .iter()
        .map(|p| match p.to_sql()? {
            ToSqlOutput::Borrowed(value) => Ok(value.into()),
            ToSqlOutput::Owned(value) => Ok(value),
            _ => Err(StoreError::Value(
                "a kind of value PostgreSQL does not take".into(),
            )),
        })
        .collect()
}

/// A statement of the ledger as PostgreSQL writes it.
pub(crate) fn postgres_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted && chars.peek().is_some_and(char::is_ascii_digit) => out.push('$'),
            _ => out.push(c),
        }
    }
    out.replace("pg_temp.planned", "temp.planned")
        .replace("temp.planned", "pg_temp.planned")
        .replace("instr(", "strpos(")
        .replace(", rowid", ", seq")
}

/// A PostgreSQL connection, driven by a thread of its own or by the
/// thread that opened it.
pub(crate) struct Postgres {
    calls: Calls,
    in_transaction: AtomicBool,
}

/// Where a connection's calls run.
enum Calls {
    /// On a thread of its own, which the calls are handed to: a connection
    /// used from asynchronous code, where PostgreSQL's client cannot wait.
    Thread(Mutex<mpsc::Sender<Job>>),
    /// On the thread that makes them, which opened the connection and
    /// runs no asynchronous code (the ledger's writer and flusher): no
    /// hand-over between threads on the way of each commit.
    Here(Box<Mutex<Worker>>),
}

/// The answer of a call to a connection's thread, still to come
/// ([`Postgres::call_later`]).
pub(crate) struct Later<T>(mpsc::Receiver<Result<T, StoreError>>);

impl<T> Later<T> {
    /// The answer, once the call has run.
    pub(crate) fn wait(self) -> Result<T, StoreError> {
        self.0.recv().map_err(|_| StoreError::Gone)?
    }
}

/// One call to a connection's thread.
type Job = Box<dyn FnOnce(&mut Worker) + Send>;

/// What a connection's thread holds: the client, and its statements
/// prepared, by the ledger's text.
pub(crate) struct Worker {
    client: postgres::Client,
    prepared: HashMap<String, postgres::Statement>,
}

impl Worker {
    /// The statement of the ledger's `sql`, translated for PostgreSQL,
    /// prepared once.
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, StoreError> {
        self.prepared_as(sql, postgres_sql)
    }

    /// The statement `sql`, written as `write` makes it, prepared once and
    /// kept under `sql`.
    fn prepared_as(
        &mut self,
        sql: &str,
        write: impl FnOnce(&str) -> String,
    ) -> Result<postgres::Statement, StoreError> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(&write(sql))?;
        self.prepared.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<usize, StoreError> {
        let statement = self.statement(sql)?;
        let params: Vec<PgValue<'_>> = values.iter().map(PgValue).collect();
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let changed = self.client.execute(&statement, &refs)?;
        Ok(usize::try_from(changed).unwrap_or(usize::MAX))
    }

    /// Runs a statement written for PostgreSQL alone (`$N`), with values
    /// of its own types (arrays, say); how many rows it changed.
    pub(crate) fn execute_native(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let statement = self.prepared_as(sql, str::to_owned)?;
        Ok(self.client.execute(&statement, params)?)
    }

    /// The rows of a claim: a query written for PostgreSQL alone that
    /// writes what need not outlive the database server (claims of
    /// senders, whose locks die with it), so that its commit does not wait
    /// for the disk. It is planned once, for every value of its
    /// parameters, and reads its table in the order of its index: the
    /// planner, asked for each claim, took some 0.5 to 1 ms to plan it,
    /// and read an audience of a few thousand rows whole and sorted it
    /// (2 ms a claim, where the index reads a block's rows in 0.2 ms).
    pub(crate) fn query_native_unsynced(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, StoreError> {
        let statement = self.prepared_as(sql, str::to_owned)?;
        self.client.batch_execute(
            "START TRANSACTION; SET LOCAL synchronous_commit = off;
             SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off",
        )?;
        let rows = self.client.query(&statement, params);
        match rows {
            Ok(rows) => {
                self.client.batch_execute("COMMIT")?;
                Ok(rows)
            }
            Err(e) => {
                // Left as it was; the error is the query's.
                let _ = self.client.batch_execute("ROLLBACK");
                Err(e.into())
            }
        }
    }

    fn rows(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Vec<Value>>, StoreError> {
        let statement = self.statement(sql)?;
        let params: Vec<PgValue<'_>> = values.iter().map(PgValue).collect();
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|p| p as &(dyn postgres::types::ToSql + Sync))
            .collect();
        self.client
            .query(&statement, &refs)?
            .iter()
            .map(|row| (0..row.len()).map(|i| value_of(row, i)).collect())
            .collect()
    }
}

impl Postgres {
    fn connect(url: &str) -> Result<Postgres, StoreError> {
        let config = connection_config(url)?;
        let (calls, inbox) = mpsc::channel::<Job>();
        let (ready, started) = mpsc::channel();
        std::thread::Builder::new()
            .name("ledger-postgres".into())
            .spawn(move || {
                let client = match connect(&config) {
                    Ok(client) => {
                        let _ = ready.send(Ok(()));
                        client
                    }
                    Err(e) => {
                        let _ = ready.send(Err(e));
                        return;
                    }
                };
                let mut worker = Worker {
                    client,
                    prepared: HashMap::new(),
                };
                while let Ok(job) = inbox.recv() {
                    job(&mut worker);
                }
            })
            .map_err(|e| StoreError::Value(format!("no thread for PostgreSQL: {e}")))?;
        started.recv().map_err(|_| StoreError::Gone)??;
        Ok(Postgres {
            calls: Calls::Thread(Mutex::new(calls)),
            in_transaction: AtomicBool::new(false),
        })
    }

    /// A connection whose calls run on the thread that makes them: to be
    /// opened and used only on a thread that runs no asynchronous code
    /// (PostgreSQL's client waits for its answers by a runtime of its own).
    fn connect_here(url: &str) -> Result<Postgres, StoreError> {
        let client = connect(&connection_config(url)?)?;
        Ok(Postgres {
            calls: Calls::Here(Box::new(Mutex::new(Worker {
                client,
                prepared: HashMap::new(),
            }))),
            in_transaction: AtomicBool::new(false),
        })
    }

    /// Runs `call` on the connection's thread; its answer.
    pub(crate) fn call<T: Send + 'static>(
        &self,
        call: impl FnOnce(&mut Worker) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.call_later(call).wait()
    }

    /// Hands `call` to the connection's thread and returns at once: its
    /// answer comes with [`Later::wait`]. Calls made meanwhile run after it.
    pub(crate) fn call_later<T: Send + 'static>(
        &self,
        call: impl FnOnce(&mut Worker) -> Result<T, StoreError> + Send + 'static,
    ) -> Later<T> {
        let (answer, answered) = mpsc::sync_channel(1);
        match &self.calls {
            Calls::Thread(calls) => {
                let job: Job = Box::new(move |worker| {
                    let _ = answer.send(call(worker));
                });
                // A connection whose thread has ended answers nothing:
                // waiting for it says so.
                let _ = calls.lock().unwrap_or_else(|e| e.into_inner()).send(job);
            }
            Calls::Here(worker) => {
                let _ = answer.send(call(&mut worker.lock().unwrap_or_else(|e| e.into_inner())));
            }
        }
        Later(answered)
    }

    fn rows(&self, sql: &str, params: Params<'_>) -> Result<Vec<Vec<Value>>, StoreError> {
        let values = owned(params)?;
        let sql = sql.to_owned();
        self.call(move |worker| worker.rows(&sql, &values))
    }
}

/// The settings of `url`, with the password of `PGPASSWORD` when the URL
/// gives none.
fn connection_config(url: &str) -> Result<postgres::Config, StoreError> {
    let mut config: postgres::Config = url.parse()?;
    if config.get_password().is_none()
        && let Ok(password) = std::env::var("PGPASSWORD")
    {
        config.password(password);
    }
    if config.get_application_name().is_none() {
        config.application_name("breves");
    }
    Ok(config)
}

/// Connects as `config` says: in TLS (the system's authorities) unless
/// its `sslmode` is `disable`.
fn connect(config: &postgres::Config) -> Result<postgres::Client, StoreError> {
    use postgres::config::SslMode;
    if config.get_ssl_mode() == SslMode::Disable {
        return Ok(config.connect(postgres::NoTls)?);
    }
    let tls = tls_settings()?;
    Ok(config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))?)
}

/// The TLS settings of every connection to PostgreSQL: the system's
/// authorities, and those of the file `PGSSLROOTCERT` names (as libpq
/// reads it: a server whose certificate an authority of its own signed);
/// read once a process (reading and parsing the system's took some 5 ms,
/// for each of the four connections a send opens).
fn tls_settings() -> Result<rustls::ClientConfig, StoreError> {
    static SETTINGS: std::sync::OnceLock<Result<rustls::ClientConfig, String>> =
        std::sync::OnceLock::new();
    SETTINGS
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if let Some(path) = std::env::var_os("PGSSLROOTCERT") {
                add_authorities(&mut roots, Path::new(&path))?;
            }
            let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
            Ok(rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS: {e}"))?
                .with_root_certificates(roots)
                .with_no_client_auth())
        })
        .clone()
        .map_err(StoreError::Tls)
}

/// Adds the certificates of the PEM file at `path` to `roots`.
fn add_authorities(roots: &mut rustls::RootCertStore, path: &Path) -> Result<(), String> {
    use rustls::pki_types::pem::PemObject as _;
    let shown = path.display();
    let pem = std::fs::read(path)
        .map_err(|e| format!("PGSSLROOTCERT names {shown}, which cannot be read: {e}"))?;
    let mut found = 0;
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| {
            format!("PGSSLROOTCERT names {shown}, which is not a PEM certificate: {e}")
        })?;
        roots.add(cert).map_err(|e| {
            format!("PGSSLROOTCERT names {shown}, whose certificate is not usable: {e}")
        })?;
        found += 1;
    }
    match found {
        0 => Err(format!(
            "PGSSLROOTCERT names {shown}, which holds no PEM certificate"
        )),
        _ => Ok(()),
    }
}

/// A value given to PostgreSQL as the parameter's type asks.
#[derive(Debug)]
struct PgValue<'a>(&'a Value);

impl postgres::types::ToSql for PgValue<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use postgres::types::ToSql as P;
        use postgres::types::Type;
        match (self.0, ty) {
            (Value::Null, _) => Ok(postgres::types::IsNull::Yes),
            (Value::Integer(i), &Type::BOOL) => P::to_sql(&(*i != 0), ty, out),
            (Value::Integer(i), &Type::INT8) => P::to_sql(&i, ty, out),
            (Value::Integer(i), &Type::INT4) => P::to_sql(&i32::try_from(*i)?, ty, out),
            (Value::Integer(i), &Type::INT2) => P::to_sql(&i16::try_from(*i)?, ty, out),
            (Value::Integer(i), &Type::FLOAT8) => P::to_sql(&(*i as f64), ty, out),
            (Value::Integer(i), _) => P::to_sql(&i.to_string(), ty, out),
            (Value::Real(f), &Type::FLOAT4) => P::to_sql(&(*f as f32), ty, out),
            (Value::Real(f), _) => P::to_sql(&f, ty, out),
            (Value::Text(text), &Type::INT8) => P::to_sql(&text.parse::<i64>()?, ty, out),
            (Value::Text(text), _) => P::to_sql(&text.as_str(), ty, out),
            (Value::Blob(bytes), _) => P::to_sql(&bytes.as_slice(), ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// Column `i` of `row` as SQLite's kind of value.
fn value_of(row: &postgres::Row, i: usize) -> Result<Value, StoreError> {
    use postgres::types::Type;
    let ty = row.columns()[i].type_();
    let value = match *ty {
        Type::VOID => Value::Null,
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)?
            .map_or(Value::Null, |b| Value::Integer(i64::from(b))),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map_or(Value::Null, |n| Value::Integer(i64::from(n))),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map_or(Value::Null, |n| Value::Integer(i64::from(n))),
        Type::INT8 => row
            .try_get::<_, Option<i64>>(i)?
            .map_or(Value::Null, Value::Integer),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(i)?
            .map_or(Value::Null, |f| Value::Real(f64::from(f))),
        Type::FLOAT8 => row
            .try_get::<_, Option<f64>>(i)?
            .map_or(Value::Null, Value::Real),
        Type::BYTEA => row
            .try_get::<_, Option<Vec<u8>>>(i)?
            .map_or(Value::Null, Value::Blob),
        _ => row
            .try_get::<_, Option<String>>(i)?
            .map_or(Value::Null, Value::Text),
    };
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledgers_statements_are_written_as_postgresql_reads_them() {
        assert_eq!(
            postgres_sql(
                "SELECT instr(address, '@'), '?1' FROM temp.planned WHERE a = ?1 AND b = ?12 ORDER BY at, rowid"
            ),
            "SELECT strpos(address, '@'), '?1' FROM pg_temp.planned WHERE a = $1 AND b = $12 ORDER BY at, seq"
        );
        assert_eq!(
            postgres_sql("ANALYZE pg_temp.planned"),
            "ANALYZE pg_temp.planned"
        );
    }
}
