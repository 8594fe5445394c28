//! One subscriber's email: headers, and the two parts of their digest.
//!
//! Messages are built with lettre as `multipart/alternative`, the plain-text
//! part first and the HTML part second (clients show the last part they
//! understand). Both parts are UTF-8, quoted-printable, so no line carries
//! raw 8-bit bytes; lettre writes headers with accents as RFC 2047 encoded
//! words. An HTML part that shows images goes in a `multipart/related`
//! with them (RFC 2387), each once, base64, by `Content-ID`.
//!
//! Everything that would differ between two runs on the same input is
//! derived from the input instead: the Message-ID and the MIME boundary come
//! from a hash of the list, the issue and the recipient, and the Date is
//! given by the caller. So a dry run gives byte-identical files every time,
//! and a resent message keeps its Message-ID (receivers can drop the copy).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, FixedOffset};
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::{
    ContentDisposition, ContentId, ContentTransferEncoding, ContentType, HeaderName, HeaderValue,
};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use sha2::{Digest as _, Sha256};

use crate::address::Key;
use crate::image::Image;
use crate::issue::{Issue, hex};
use crate::render::Digest;
use crate::render::slots::{Piece, Slot, pieces};
use crate::render::typography::french;
use crate::subscribers::List;
use crate::unsubscribe::Links;
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
    for part in [purpose, &list.id, &issue.id, Key::of(recipient).as_str()] {
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

/// One part of a digest, encoded once: the shared pieces as quoted-printable
/// bytes, the slots left to fill per message.
#[derive(Debug, Clone)]
enum Encoded {
    Fixed(Arc<[u8]>),
    Slot(Slot),
}

/// The shared pieces already encoded, by their text: a section's pieces
/// are the same in every variant that holds it, and are encoded (and
/// kept in memory) once for them all.
#[derive(Debug, Default)]
pub struct Encodings(HashMap<String, Arc<[u8]>>);

impl Encodings {
    fn qp(&mut self, text: &str) -> Arc<[u8]> {
        if let Some(encoded) = self.0.get(text) {
            return Arc::clone(encoded);
        }
        let encoded: Arc<[u8]> = qp(text).into();
        self.0.insert(text.to_owned(), Arc::clone(&encoded));
        encoded
    }
}

/// `text` as quoted-printable with CRLF line ends, as lettre's body
/// encoder writes it (which for a text without `\r` is CRLF, then
/// `quoted_printable::encode`; done here without its other passes for the
/// lines filled per message).
fn qp_line(text: &str) -> Vec<u8> {
    if text.contains('\r') {
        return qp(text);
    }
    let mut crlf = String::with_capacity(text.len() + 8);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            crlf.push_str("\r\n");
        }
        crlf.push_str(line);
    }
    quoted_printable::encode(crlf)
}

fn qp(text: &str) -> Vec<u8> {
    Body::new_with_encoding(text.to_owned(), ContentTransferEncoding::QuotedPrintable)
        .unwrap_or_else(Body::new)
        .into_vec()
}

fn encode(part: &str, encodings: &mut Encodings) -> Vec<Encoded> {
    pieces(part)
        .into_iter()
        .map(|piece| match piece {
            Piece::Fixed(text) => Encoded::Fixed(encodings.qp(text)),
            Piece::Slot(slot) => Encoded::Slot(slot),
        })
        .collect()
}

/// Assembles one part for a subscriber into `bytes`, each slot's encoded
/// line taken in turn from `lines`; every piece but the last ends at a hard
/// line break, so the encoded pieces join into valid quoted-printable.
fn assemble_into(bytes: &mut Vec<u8>, part: &[Encoded], lines: &[Vec<u8>]) {
    let mut lines = lines.iter();
    for piece in part {
        match piece {
            Encoded::Fixed(encoded) => bytes.extend_from_slice(encoded),
            Encoded::Slot(_) => {
                if let Some(line) = lines.next() {
                    bytes.extend_from_slice(line);
                }
            }
        }
    }
}

/// One part for a subscriber, as a body lettre formats.
fn assemble(part: &[Encoded], lines: &[Vec<u8>]) -> Body {
    let mut bytes = Vec::with_capacity(fixed_len(part) + lines.iter().map(Vec::len).sum::<usize>());
    assemble_into(&mut bytes, part, lines);
    Body::dangerous_pre_encoded(bytes, ContentTransferEncoding::QuotedPrintable)
}

/// The bytes of a part's shared pieces.
fn fixed_len(part: &[Encoded]) -> usize {
    part.iter()
        .map(|piece| match piece {
            Encoded::Fixed(encoded) => encoded.len(),
            Encoded::Slot(_) => 0,
        })
        .sum()
}

/// Stand-ins for the two parts' bodies while lettre formats the rest of a
/// message: bytes no formatted header holds (a NUL is not allowed in one).
const TEXT_MARK: &[u8] = b"\0breves:text\0";
const HTML_MARK: &[u8] = b"\0breves:html\0";

/// Where `mark` first occurs in `bytes`.
fn find(bytes: &[u8], mark: &[u8]) -> Option<usize> {
    bytes.windows(mark.len()).position(|w| w == mark)
}

/// The slots of one subscriber's message, each filled once for both parts
/// (a filled slot carries a signed link), as the encoded lines of each part
/// in order (an empty line is left out).
fn fill_slots<'d>(
    links: &Links<'_>,
    member: &[u8; crate::unsubscribe::MEMBER_LEN],
    digest: &'d EncodedDigest,
) -> [Vec<Vec<u8>>; 2] {
    let mut done: Vec<(&'d Slot, (String, String))> = Vec::new();
    let mut filled = |part: &'d [Encoded], html: bool| -> Vec<Vec<u8>> {
        let mut lines = Vec::new();
        for piece in part {
            let Encoded::Slot(slot) = piece else { continue };
            let i = match done.iter().position(|(s, _)| *s == slot) {
                Some(i) => i,
                None => {
                    done.push((slot, links.fill_of(slot, member)));
                    done.len() - 1
                }
            };
            let (h, t) = &done[i].1;
            let line = if html { h } else { t };
            lines.push(if line.is_empty() {
                Vec::new()
            } else {
                let mut line = line.clone();
                line.push('\n');
                qp_line(&line)
            });
        }
        lines
    };
    let text = filled(&digest.text, false);
    let html = filled(&digest.html, true);
    [text, html]
}

/// The two parts of one digest, encoded once and shared by every message of
/// its variant (encoding ~100 KB as quoted-printable costs more than all the
/// rest of a message); only the slots are encoded per message.
#[derive(Debug, Clone)]
pub struct EncodedDigest {
    text: Vec<Encoded>,
    html: Vec<Encoded>,
    sections: Vec<String>,
    images: Vec<EncodedImage>,
}

/// An image of a digest, encoded once (base64) for every message of its
/// variant.
#[derive(Debug, Clone)]
struct EncodedImage {
    cid: String,
    mime: &'static str,
    name: String,
    body: Body,
}

impl EncodedImage {
    fn new(image: &Image) -> Self {
        EncodedImage {
            cid: image.cid.clone(),
            mime: image.format.mime(),
            // The name a reader who saves it sees: the editor's own.
            name: std::path::Path::new(&image.src)
                .file_name()
                .map_or_else(|| image.file_name(), |n| n.to_string_lossy().into_owned()),
            body: Body::new_with_encoding(image.bytes.to_vec(), ContentTransferEncoding::Base64)
                .unwrap_or_else(Body::new),
        }
    }

    /// Its part: inline, named, with its `Content-ID`.
    fn part(&self) -> std::result::Result<SinglePart, String> {
        let content_type = ContentType::parse(self.mime).map_err(|e| e.to_string())?;
        Ok(SinglePart::builder()
            .header(content_type)
            .header(ContentId::from(format!("<{}>", self.cid)))
            .header(ContentDisposition::inline_with_name(&self.name))
            .body(self.body.clone()))
    }
}

impl EncodedDigest {
    /// Encodes both parts of `digest` as quoted-printable (with CRLF line
    /// ends).
    pub fn new(digest: &Digest) -> Self {
        EncodedDigest::with(digest, &mut Encodings::default())
    }

    /// [`EncodedDigest::new`], encoding only the pieces `encodings` does
    /// not hold yet (those of the variants encoded before).
    pub fn with(digest: &Digest, encodings: &mut Encodings) -> Self {
        EncodedDigest {
            text: encode(&digest.text, encodings),
            html: encode(&digest.html, encodings),
            sections: digest.section_ids.clone(),
            images: digest.images.iter().map(EncodedImage::new).collect(),
        }
    }
}

/// Signs messages with DKIM (RFC 6376), RSA-SHA256 or Ed25519-SHA256.
///
/// The signature covers the headers a receiver and RFC 8058 care about:
/// From, To, Subject, Date, Message-ID, Reply-To, the list headers
/// (List-Id, List-Unsubscribe, List-Unsubscribe-Post) and MIME-Version, with
/// relaxed canonicalization of headers and body. The body hash covers both
/// parts and their MIME headers.
pub struct Dkim {
    config: DkimConfig,
}

impl std::fmt::Debug for Dkim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dkim(***)")
    }
}

impl Dkim {
    /// The signer of `list`'s messages, from a key file: the selector and
    /// the domain given override the list's `dkim_selector` and
    /// `dkim_domain`; the domain is the sender's by default.
    pub fn for_list(
        key_file: &std::path::Path,
        selector: Option<&str>,
        domain: Option<&str>,
        list: &List,
    ) -> Result<Dkim> {
        let key = std::fs::read_to_string(key_file).map_err(|source| Error::Read {
            path: key_file.to_path_buf(),
            source,
        })?;
        let selector = selector
            .or(list.dkim_selector.as_deref())
            .ok_or(Error::DkimSelector)?;
        let domain = domain
            .or(list.dkim_domain.as_deref())
            .unwrap_or_else(|| list.from.email.domain());
        Dkim::new(&key, selector, domain, list).map_err(|reason| Error::DkimKey {
            path: key_file.to_path_buf(),
            reason,
        })
    }

    /// A signer from a private key's text: an RSA key in PKCS#1 PEM
    /// (`-----BEGIN RSA PRIVATE KEY-----`), or an Ed25519 key as the base64
    /// of its 32-byte seed. `list` tells which optional headers its
    /// messages have.
    pub fn new(
        key: &str,
        selector: &str,
        domain: &str,
        list: &List,
    ) -> std::result::Result<Dkim, String> {
        let key = key.trim();
        let algorithm = if key.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
            DkimSigningAlgorithm::Rsa
        } else if key.starts_with("-----BEGIN") {
            return Err(
                "the DKIM key must be an RSA key in PKCS#1 PEM (BEGIN RSA PRIVATE KEY) or an Ed25519 seed in base64; convert it with `openssl pkey -traditional`".into(),
            );
        } else {
            DkimSigningAlgorithm::Ed25519
        };
        let signing_key = DkimSigningKey::new(key, algorithm)
            .map_err(|e| format!("the DKIM key cannot be read: {e}"))?;
        let mut headers = vec!["From", "To", "Subject", "Date", "Message-ID"];
        if list.reply_to.is_some() {
            headers.push("Reply-To");
        }
        headers.push("List-Id");
        if list.unsubscribe_url.is_some() || list.unsubscribe.is_some() {
            headers.push("List-Unsubscribe");
        }
        if list.unsubscribe_url.is_some() {
            headers.push("List-Unsubscribe-Post");
        }
        // Not Content-Type: lettre writes a multipart message's Content-Type
        // when it formats the message, after signing, so a signature over it
        // would never verify (seen with dkimpy).
        headers.push("MIME-Version");
        Ok(Dkim {
            config: DkimConfig::new(
                selector.to_owned(),
                domain.to_owned(),
                signing_key,
                headers
                    .into_iter()
                    .map(HeaderName::new_from_ascii_str)
                    .collect(),
                DkimCanonicalization {
                    header: DkimCanonicalizationType::Relaxed,
                    body: DkimCanonicalizationType::Relaxed,
                },
            ),
        })
    }
}

/// A header written as given, on one line where it fits: folding
/// List-Unsubscribe breaks DKIM signatures at some relays.
fn raw_header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::dangerous_new_pre_encoded(
        HeaderName::new_from_ascii_str(name),
        value.clone(),
        value,
    )
}

/// The List-Id of a list: its name, and its id on the sender's domain.
pub fn list_id(list: &List) -> String {
    let id = format!("<{}.{}>", list.id, list.from.email.domain());
    match &list.name {
        Some(name) if name.is_ascii() && !name.contains(['"', '\\']) => format!("\"{name}\" {id}"),
        _ => id,
    }
}

/// Builds the message of a digest for one subscriber.
pub fn build(
    links: &Links<'_>,
    to: &Mailbox,
    digest: &EncodedDigest,
    date: DateTime<FixedOffset>,
    dkim: Option<&Dkim>,
) -> Result<Letter> {
    compose(links, to, digest, date, dkim, dkim.is_none())
}

/// [`build`], with the parts written in place after lettre formats the
/// rest (`splice`), or handed to lettre whole (needed to sign them).
fn compose(
    links: &Links<'_>,
    to: &Mailbox,
    digest: &EncodedDigest,
    date: DateTime<FixedOffset>,
    dkim: Option<&Dkim>,
    splice: bool,
) -> Result<Letter> {
    let (list, issue) = (links.list, links.issue);
    let fail = |reason: String| Error::Message {
        recipient: to.email.to_string(),
        reason,
    };
    let id = message_id(list, issue, &to.email);
    // The subject gets French spacing like the parts: mail clients show it.
    let subject = french(&issue.subject).into_owned();
    let boundary = format!("=_{}", token(list, issue, &to.email, "boundary"));
    // The envelope given, so that lettre does not parse it back out of the
    // headers it was just given.
    // Who the subscriber is in every link's token, worked out once.
    let member = links.code(&to.email);
    // Bounces come back to the list's bounce address, the recipient's
    // signed code after a `+` (VERP); the From stays the list's.
    let sender = list
        .bounce_address
        .as_ref()
        .and_then(|bounce| {
            links
                .signer
                .verp_address(bounce, &member, &list.id, &issue.id)
        })
        .unwrap_or_else(|| list.from.email.clone());
    let envelope = lettre::address::Envelope::new(Some(sender.clone()), vec![to.email.clone()])
        .map_err(|e| fail(e.to_string()))?;
    let mut builder = Message::builder()
        .envelope(envelope)
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
    builder = builder.raw_header(raw_header("List-Id", list_id(list)));
    let mut unsubscribe = Vec::new();
    if let Some(url) = links.url_of(&member, None) {
        unsubscribe.push(format!("<{url}>"));
    }
    if let Some(address) = &list.unsubscribe {
        unsubscribe.push(format!("<mailto:{address}?subject=unsubscribe>"));
    }
    if !unsubscribe.is_empty() {
        builder = builder.raw_header(raw_header("List-Unsubscribe", unsubscribe.join(", ")));
    }
    if list.unsubscribe_url.is_some() {
        builder = builder.raw_header(raw_header(
            "List-Unsubscribe-Post",
            "List-Unsubscribe=One-Click".to_owned(),
        ));
    }
    let [text_lines, html_lines] = fill_slots(links, &member, digest);
    // Without DKIM, lettre formats the headers around two stand-ins, and
    // each part's ~50 KB are written once, straight into the message (with
    // DKIM, lettre needs the bodies to hash them).
    let (text_body, html_body) = match splice {
        true => (
            Body::dangerous_pre_encoded(
                TEXT_MARK.to_vec(),
                ContentTransferEncoding::QuotedPrintable,
            ),
            Body::dangerous_pre_encoded(
                HTML_MARK.to_vec(),
                ContentTransferEncoding::QuotedPrintable,
            ),
        ),
        false => (
            assemble(&digest.text, &text_lines),
            assemble(&digest.html, &html_lines),
        ),
    };
    let html_part = SinglePart::builder()
        .header(ContentType::TEXT_HTML)
        .body(html_body);
    let alternative = MultiPart::alternative().boundary(boundary).singlepart(
        SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(text_body),
    );
    // The images go with the HTML part that shows them, each once
    // (RFC 2387): the text part has no use for them.
    let alternative = if digest.images.is_empty() {
        alternative.singlepart(html_part)
    } else {
        let mut related = MultiPart::related()
            .boundary(format!("=_{}", token(list, issue, &to.email, "related")))
            .singlepart(html_part);
        for image in &digest.images {
            related = related.singlepart(image.part().map_err(fail)?);
        }
        alternative.multipart(related)
    };
    let mut message = builder
        .multipart(alternative)
        .map_err(|e| fail(e.to_string()))?;
    if let Some(dkim) = dkim {
        message.sign(&dkim.config);
    }
    let mut bytes = message.formatted();
    if splice {
        bytes = fill_in(&bytes, digest, &text_lines, &html_lines)
            .ok_or_else(|| fail("the parts' places were not found in the message".into()))?;
    }
    Ok(Letter {
        recipient: to.email.clone(),
        sender,
        message_id: id,
        subject,
        sections: digest.sections.clone(),
        bytes,
    })
}

/// The message whose parts lettre formatted as stand-ins, with the parts
/// written in their place.
fn fill_in(
    skeleton: &[u8],
    digest: &EncodedDigest,
    text_lines: &[Vec<u8>],
    html_lines: &[Vec<u8>],
) -> Option<Vec<u8>> {
    let text_at = find(skeleton, TEXT_MARK)?;
    let html_at =
        text_at + TEXT_MARK.len() + find(&skeleton[text_at + TEXT_MARK.len()..], HTML_MARK)?;
    let lines: usize = text_lines.iter().chain(html_lines).map(Vec::len).sum();
    // The exact size, so that the ~100 KB are never moved to grow.
    let mut bytes = Vec::with_capacity(
        skeleton.len() - TEXT_MARK.len() - HTML_MARK.len()
            + fixed_len(&digest.text)
            + fixed_len(&digest.html)
            + lines,
    );
    bytes.extend_from_slice(&skeleton[..text_at]);
    assemble_into(&mut bytes, &digest.text, text_lines);
    bytes.extend_from_slice(&skeleton[text_at + TEXT_MARK.len()..html_at]);
    assemble_into(&mut bytes, &digest.html, html_lines);
    bytes.extend_from_slice(&skeleton[html_at + HTML_MARK.len()..]);
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Renderer;
    use crate::select::Selection;
    use crate::unsubscribe::{Labels, Signer};

    #[test]
    fn lines_filled_per_message_are_encoded_as_lettre_would() {
        for line in [
            "Se désabonner : https://breves.example.fr/desabonnement/abc\n",
            "<a href=\"https://breves.example.fr/d/eyJsaXN0IjoibG9uZHJlcyIsImFkZHJlc3MiOiJhQGV4YW1wbGUub3JnIn0.c2lnbmF0dXJl\" style=\"color:#1a5c8a\">Ne plus recevoir la rubrique « Cybersécurité »</a>\n",
            "deux\nlignes = égales\n",
            "fin sans saut",
            "avec\r\nun retour\n",
        ] {
            assert_eq!(qp_line(line), qp(line), "{line}");
        }
    }

    #[test]
    fn parts_written_in_place_give_the_bytes_lettre_would() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (issue, _) = Issue::load(&root.join("issues/2026-03-royaume-uni.toml")).expect("issue");
        let (list, _) = List::load(&root.join("subscribers/londres.toml")).expect("list");
        let signer = Signer::test();
        let labels = Labels::new(&issue);
        let links = Links {
            list: &list,
            issue: &issue,
            signer: &signer,
            labels: &labels,
        };
        let renderer = Renderer::new();
        for member in list.members() {
            let member = member.expect("a member");
            let selection = Selection::for_interests(&issue, &member.interests);
            if selection.is_empty() {
                continue;
            }
            let digest = renderer
                .render(&issue, Some(&list), &selection)
                .expect("render");
            let digest = EncodedDigest::new(&digest);
            let to = member.mailbox();
            let date = issue.default_date();
            let spliced = compose(&links, &to, &digest, date, None, true).expect("spliced");
            let whole = compose(&links, &to, &digest, date, None, false).expect("whole");
            assert!(
                spliced.bytes == whole.bytes,
                "{}: the message differs from lettre's own",
                member.email
            );
            assert!(!spliced.bytes.contains(&0), "no stand-in is left");
        }
    }
}
