//! Where digests go: one trait, one implementation per destination.
//!
//! A [`Transport`] opens sessions (an SMTP connection; nothing for files)
//! and hands letters over through them, one at a time per session. The dry
//! run's [`files::Outbox`] writes `.eml` files; [`smtp::Relay`] sends over
//! SMTP. [`crate::dispatch`] drives both the same way (for
//! [`crate::plan::Plan::run`]), so a dry run exercises everything but the
//! socket.

pub mod files;
pub mod smtp;

use std::future::Future;

use crate::message::Letter;

/// What a transport says once it has taken a letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Where it went: a file name, or the relay's reply.
    pub detail: String,
}

/// Why a letter was not handed over, in the terms that decide what to do
/// next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// The dry run could not write the file: the run stops.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The relay answered no. A 4xx reply is worth another try later; a 5xx
    /// reply is final for this recipient. The session stays usable.
    #[error("{reply}")]
    Refused {
        /// The relay's reply, code first.
        reply: String,
        /// Whether it is a permanent (5xx) refusal.
        permanent: bool,
    },
    /// One recipient's message refused after its content, for a reason
    /// of the sender or the message (spam, content, policy): final for
    /// them, unless the same comes for many in a row, even at one domain,
    /// which makes it the relay's or the sender's (see
    /// [`crate::dispatch::RELAY_STREAK`]).
    #[error("{reply}")]
    MessageRefused {
        /// The relay's reply, code first.
        reply: String,
    },
    /// The connection failed (dropped, timed out, TLS error). If it failed
    /// after the whole message was written (`after_data`), the relay may
    /// have taken it: the outcome is unknown. The session is gone.
    #[error("{reason}")]
    Connection {
        /// What happened.
        reason: String,
        /// Whether the message's last line had been sent.
        after_data: bool,
    },
    /// The relay refused what every recipient would be sent: the sender
    /// (at MAIL FROM) or the message itself (too large, refused for its
    /// content or by policy). No retry and no other recipient can fare
    /// better: the run stops, and the recipient is not charged with it.
    #[error("{reply}")]
    Rejected {
        /// The relay's reply, or why breves did not even try.
        reply: String,
        /// What was refused.
        what: Rejected,
    },
    /// The letter was held back before its content left, because the
    /// caller's `ready` said no. Its session is not usable any more.
    #[error("held back before its content left")]
    Withheld,
    /// No session can be opened in a way breves accepts (no STARTTLS,
    /// a certificate that does not verify, credentials refused): the run
    /// stops, since every message would meet the same.
    #[error("{0}")]
    Setup(String),
}

/// What the relay refused, when it is not the recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// The envelope sender (a relay that will not send as `From`).
    Sender,
    /// The message (its size, its content, a policy).
    Message,
}

impl Rejected {
    /// What was refused, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Rejected::Sender => "the sender",
            Rejected::Message => "the message",
        }
    }
}

/// A destination for letters.
pub trait Transport: Sync {
    /// One channel to the destination, used by one worker at a time.
    type Session: Send;

    /// Opens a session.
    fn open(&self) -> impl Future<Output = Result<Self::Session, DeliveryError>> + Send;

    /// Hands one letter over. It is complete (an SMTP message's final dot,
    /// a file's rename) only once `ready` says yes (the ledger has made
    /// durable that it is leaving), so that the transport can go through
    /// what comes first (the envelope, the content) meanwhile; when `ready`
    /// says no, the letter is not completed and the answer is
    /// [`DeliveryError::Withheld`]. A letter refused before that point
    /// drops `ready` unpolled: the caller settles what it stands for.
    fn deliver(
        &self,
        session: &mut Self::Session,
        letter: &Letter,
        ready: impl Future<Output = bool> + Send + 'static,
    ) -> impl Future<Output = Result<Receipt, DeliveryError>> + Send;

    /// Whether a session can carry another letter after what happened on it.
    fn usable(&self, session: &Self::Session) -> bool;

    /// Ends a session politely (SMTP QUIT).
    fn close(&self, session: Self::Session) -> impl Future<Output = ()> + Send;
}
