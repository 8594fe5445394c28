//! One subscriber's email: headers, and the two parts of their digest.
//!
//! Messages are built with lettre as `multipart/alternative`, the plain-text
//! part first and the HTML part second (clients show the last part they
//! understand). Both parts are UTF-8, quoted-printable, so no line carries
//! raw 8-bit bytes; lettre writes headers with accents as RFC 2047 encoded
//! words.
//!
//! Everything that would differ between two runs on the same input is
//! derived from the input instead: the Message-ID and the MIME boundary come
//! from a hash of the list, the issue and the recipient, and the Date is
//! given by the caller. So a dry run gives byte-identical files every time,
//! and a resent message keeps its Message-ID (receivers can drop the copy).

use std::time::SystemTime;

use chrono::{DateTime, FixedOffset};
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use sha2::{Digest as _, Sha256};

use crate::issue::{Issue, hex};
use crate::render::Digest;
use crate::render::typography::french;
use crate::subscribers::List;
use crate::{Error, Result};

/// A built message, ready to be written or sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// The one address it goes to (the SMTP envelope recipient).
    pub recipient: Address,
    /// The sender's address (the SMTP envelope sender).
    pub sender: Address,
    /// Its Message-ID, with angle brackets.
    pub message_id: String,
    /// The subject, as people read it.
    pub subject: String,
    /// The ids of the sections it holds.
    pub sections: Vec<String>,
    /// The whole message in RFC 5322 form, CRLF line ends.
    pub bytes: Vec<u8>,
}

/// A stable, opaque token for a list, an issue and an address: the address
/// cannot be read back from it.
fn token(list: &List, issue: &Issue, recipient: &Address, purpose: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        purpose,
        &list.id,
        &issue.id,
        &recipient.to_string().to_lowercase(),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize()[..16])
}

/// The Message-ID of `issue` for `recipient`: the same every time, on the
/// sender's domain, without the address in it.
pub fn message_id(list: &List, issue: &Issue, recipient: &Address) -> String {
    format!(
        "<{}.{}@{}>",
        issue.id,
        token(list, issue, recipient, "message-id"),
        list.from.email.domain()
    )
}

/// The two parts of one digest, encoded once and shared by every message of
/// its variant: encoding ~100 KB as quoted-printable costs more than all the
/// rest of a message.
#[derive(Debug, Clone)]
pub struct EncodedDigest {
    text: Body,
    html: Body,
    sections: Vec<String>,
}

impl EncodedDigest {
    /// Encodes both parts of `digest` as quoted-printable (with CRLF line
    /// ends).
    pub fn new(digest: &Digest) -> Self {
        let qp = |s: &str| {
            Body::new_with_encoding(s.to_owned(), ContentTransferEncoding::QuotedPrintable)
                .unwrap_or_else(Body::new)
        };
        EncodedDigest {
            text: qp(&digest.text),
            html: qp(&digest.html),
            sections: digest.section_ids.clone(),
        }
    }
}

/// Builds the message of a digest for one subscriber.
pub fn build(
    list: &List,
    issue: &Issue,
    to: &Mailbox,
    digest: &EncodedDigest,
    date: DateTime<FixedOffset>,
) -> Result<Letter> {
    let fail = |reason: String| Error::Message {
        recipient: to.email.to_string(),
        reason,
    };
    let id = message_id(list, issue, &to.email);
    // The subject gets French spacing like the parts: mail clients show it.
    let subject = french(&issue.subject).into_owned();
    let boundary = format!("=_{}", token(list, issue, &to.email, "boundary"));
    let mut builder = Message::builder()
        .from(list.from.clone())
        .to(to.clone())
        .subject(subject.clone())
        .date(SystemTime::from(date))
        .message_id(Some(id.clone()))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Content-Language"),
            issue.language.clone(),
        ));
    if let Some(reply_to) = &list.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(digest.text.clone());
    let html = SinglePart::builder()
        .header(ContentType::TEXT_HTML)
        .body(digest.html.clone());
    let message = builder
        .multipart(
            MultiPart::alternative()
                .boundary(boundary)
                .singlepart(text)
                .singlepart(html),
        )
        .map_err(|e| fail(e.to_string()))?;
    Ok(Letter {
        recipient: to.email.clone(),
        sender: list.from.email.clone(),
        message_id: id,
        subject,
        sections: digest.sections.clone(),
        bytes: message.formatted(),
    })
}
