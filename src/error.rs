//! The one error type of the library.

use std::io;
use std::path::PathBuf;

use crate::diagnostics::Problems;

/// Everything that can stop breves, typed so that the binary can choose a
/// message and an exit status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The input files have errors, each with its file, line and column.
    #[error("{0}")]
    Invalid(#[from] Problems),
    /// An output file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The stylesheet could not be applied to the HTML.
    #[error("cannot inline the stylesheet: {0}")]
    Style(String),
    /// lettre refused to build a message.
    #[error("cannot build the message to {recipient}: {reason}")]
    Message {
        /// Whom it was for.
        recipient: String,
        /// lettre's reason.
        reason: String,
    },
    /// A subscriber asked for by address is not in the list.
    #[error("{0} is not a member of the list")]
    NoSuchMember(String),
    /// The ledger could not record or answer.
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// The relay's URL or setup is refused.
    #[error(transparent)]
    Relay(#[from] crate::deliver::smtp::RelayError),
    /// What was asked of the command does not make sense.
    #[error("{0}")]
    Usage(String),
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
