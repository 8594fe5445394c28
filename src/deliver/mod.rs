//! Where digests go: one trait, one implementation per destination.
//!
//! A [`Transport`] takes one built [`Letter`] at a time. The dry run's
//! [`files::Outbox`] writes it to a `.eml` file; a relay transport sends it
//! over SMTP. `send` has one code path for both, so a dry run exercises
//! everything but the socket.

pub mod files;

use std::future::Future;

use crate::message::Letter;

/// What a transport says once it has taken a letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Where it went: a file name, or the relay's reply.
    pub detail: String,
}

/// Why a letter could not be handed over.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// The dry run could not write the file.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A destination for letters.
pub trait Transport {
    /// Hands one letter over.
    fn deliver(
        &self,
        letter: &Letter,
    ) -> impl Future<Output = Result<Receipt, DeliveryError>> + Send;
}
