//! One send at a time: a lock file per send, beside the ledger file
//! itself; in PostgreSQL, a lock of the database's held by a connection of
//! its own (released when the connection ends, with the machine too).

use super::{Ledger, LedgerError, Scope};

impl Ledger {
    /// Takes the lock of one send: while it is held, no other process can
    /// send the same issue to the same list. The operating system releases
    /// it when the process ends, however it ends.
    pub fn lock(&self, scope: &Scope) -> Result<SendLock, LedgerError> {
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(db) = self.another_connection()? {
            let key = format!(
                "breves send\n{}\n{}\n{}",
                scope.issue, scope.list, scope.kind
            );
            let taken: bool = db
                .query_row(
                    "SELECT pg_try_advisory_lock(hashtextextended(?1, 0))",
                    rusqlite::params![key],
                    |row| row.get(0),
                )
                .map_err(|e| self.err(e))?;
            if !taken {
                return Err(LedgerError::Busy {
                    issue: scope.issue.clone(),
                    list: scope.list.clone(),
                    path: self.path.clone(),
                });
            }
            return match db {
                super::store::Db::Postgres(connection) => Ok(SendLock {
                    _held: Held::Database(connection),
                }),
                super::store::Db::Sqlite(_) => unreachable!("another connection is PostgreSQL's"),
            };
        }
        let name = format!(
            "{}.{}.{}.{}.lock",
            self.canonical
                .file_name()
                .map_or_else(|| "ledger".into(), |n| n.to_string_lossy().into_owned()),
            scope.issue,
            scope.list,
            scope.kind
        );
        let path = self.canonical.with_file_name(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|source| LedgerError::Lock {
                path: path.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(SendLock {
                _held: Held::File(file),
            }),
            Err(std::fs::TryLockError::WouldBlock) => Err(LedgerError::Busy {
                issue: scope.issue.clone(),
                list: scope.list.clone(),
                path,
            }),
            Err(std::fs::TryLockError::Error(source)) => Err(LedgerError::Lock { path, source }),
        }
    }
}

/// The lock of one send, held until dropped (or the process ends).
pub struct SendLock {
    _held: Held,
}

/// What holds a send's lock, until dropped.
enum Held {
    /// The lock file, locked.
    File(#[allow(dead_code)] std::fs::File),
    /// The connection holding the database's lock.
    Database(#[allow(dead_code)] super::store::Postgres),
}

impl std::fmt::Debug for SendLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SendLock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::tests::each_store;

    #[test]
    fn one_send_at_a_time() {
        each_store(|path| {
            let ledger = Ledger::open(path).expect("open");
            let scope = Scope::list("i", "l");
            let held = ledger.lock(&scope).expect("first lock");
            assert!(matches!(ledger.lock(&scope), Err(LedgerError::Busy { .. })));
            assert!(
                ledger.lock(&Scope::test("i", "l")).is_ok(),
                "a test send is apart"
            );
            drop(held);
            assert!(ledger.lock(&scope).is_ok());
        });
    }
    #[test]
    fn any_path_to_the_ledger_finds_the_same_lock() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir(dir.path().join("sub")).expect("sub");
        let path = dir.path().join("l.sqlite3");
        let ledger = Ledger::open(&path).expect("open");
        let scope = Scope::list("i", "l");
        let _held = ledger.lock(&scope).expect("first lock");
        let link = dir.path().join("link.sqlite3");
        std::os::unix::fs::symlink(&path, &link).expect("symlink");
        let spelled = dir.path().join("sub/../l.sqlite3");
        for other in [link, spelled] {
            let again = Ledger::open(&other).expect("open by another path");
            assert!(
                matches!(again.lock(&scope), Err(LedgerError::Busy { .. })),
                "{} is the same ledger",
                other.display()
            );
        }
        // A hard link is another name that no lock can see: refused.
        let hard = dir.path().join("hard.sqlite3");
        std::fs::hard_link(&path, &hard).expect("hard link");
        assert!(matches!(
            Ledger::open(&hard),
            Err(LedgerError::HardLinked { links: 2, .. })
        ));
    }
}
