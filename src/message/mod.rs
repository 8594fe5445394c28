//! One subscriber's email: headers, and the two parts of their digest.
//!
//! Messages are built with lettre as `multipart/alternative`, the plain-text
//! part first and the HTML part second (clients show the last part they
//! understand). Both parts are UTF-8, quoted-printable, so no line carries
//! raw 8-bit bytes; lettre writes headers with accents as RFC 2047 encoded
//! words. An HTML part that shows images goes in a `multipart/related`
//! with them (RFC 2387), each once, base64, by `Content-ID`.
//!
//! lettre formats a variant's message once, with stand-ins where one
//! recipient's differs from another's ([`Skeleton`]); a campaign writes
//! each message from it, the same bytes lettre would give ([`build`],
//! which signed messages and previews still go through).
//!
//! Everything that would differ between two runs on the same input is
//! derived from the input instead: the Message-ID and the MIME boundary come
//! from a hash of the list, the issue and the recipient, and the Date is
//! given by the caller. So a dry run gives byte-identical files every time,
//! and a resent message keeps its Message-ID (receivers can drop the copy).

mod dkim;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, FixedOffset};
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::{
    self, ContentDisposition, ContentId, ContentTransferEncoding, ContentType, HeaderName,
    HeaderValue, Headers,
};
use lettre::message::{Body, Mailbox, Mailboxes, MultiPart, SinglePart};
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
    token_of(list, &issue.id, &Key::of(recipient), purpose)
}

fn token_of(list: &List, issue: &str, recipient: &Key, purpose: &str) -> String {
    let mut h = Sha256::new();
    for part in [purpose, &list.id, issue, recipient.as_str()] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize()[..16])
}

/// The Message-ID of `issue` for `recipient`: the same every time, on the
/// sender's domain, without the address in it.
pub fn message_id(list: &List, issue: &Issue, recipient: &Address) -> String {
    message_id_of(list, &issue.id, &Key::of(recipient))
}

/// The Message-ID of the issue whose id is `issue` for the address whose
/// key is `recipient`: what a bounce that quotes it is checked against.
pub fn message_id_of(list: &List, issue: &str, recipient: &Key) -> String {
    format!(
        "<{}.{}@{}>",
        issue,
        token_of(list, issue, recipient, "message-id"),
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

thread_local! {
    /// How many digests this thread encoded ([`digests_encoded`]).
    static ENCODED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many digests this thread has encoded: what a test counts to know
/// that a send encodes once per variant, never per member.
pub fn digests_encoded() -> usize {
    ENCODED.with(std::cell::Cell::get)
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
        let encoded: Arc<[u8]> = qp_line(text).into();
        self.0.insert(text.to_owned(), Arc::clone(&encoded));
        encoded
    }
}

/// `text` as quoted-printable with CRLF line ends, as lettre's body
/// encoder writes it (which for a text without `\r` is CRLF, then
/// `quoted_printable::encode`; done here without its other passes, for
/// the pieces of every variant and the lines filled per message).
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

/// How many bytes `text` takes as a quoted-printable part body: an HTML
/// part's size as it travels, which is what Gmail measures before it clips
/// a message.
pub fn encoded_len(text: &str) -> usize {
    qp_line(text).len()
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
        ENCODED.with(|n| n.set(n.get() + 1));
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
    /// Shared with the letters signed on other threads ([`ToSign`]).
    signing: Arc<dkim::Signing>,
    /// Its selector and domain.
    selector: String,
    domain: String,
    /// The TXT record that publishes its public key, and the size of an
    /// RSA key in bits.
    record: String,
    bits: Option<usize>,
    /// The same key over the headers of a plain message of the list's
    /// own (a subscription's confirmation): no list headers.
    plain: DkimConfig,
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
        let mut headers = vec!["From", "To", "Subject", "Date", "Message-ID"];
        if list.reply_to.is_some() {
            headers.push("Reply-To");
        }
        let plain = [headers.as_slice(), &["MIME-Version"]].concat();
        headers.push("List-Id");
        if list.unsubscribe_url.is_some() || list.unsubscribe.is_some() {
            headers.push("List-Unsubscribe");
        }
        if list.unsubscribe_url.is_some() {
            headers.push("List-Unsubscribe-Post");
        }
        // Not Content-Type, as lettre signed them (it wrote a multipart
        // message's Content-Type after signing): the same fields signed.
        headers.push("MIME-Version");
        let plain = dkim_config(key, selector, domain, &plain)?;
        let signing = Arc::new(dkim::Signing::new(key, selector, domain, &headers)?);
        let (record, bits) = public_record(key)?;
        Ok(Dkim {
            signing,
            selector: selector.to_owned(),
            domain: domain.to_owned(),
            record,
            bits,
            plain,
        })
    }

    /// Where its public key is published: `SELECTOR._domainkey.DOMAIN`.
    pub fn record_name(&self) -> String {
        format!("{}._domainkey.{}", self.selector, self.domain)
    }

    /// The domain it signs for (`d=`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The TXT record that publishes its public key.
    pub fn record(&self) -> &str {
        &self.record
    }

    /// The size of an RSA key, in bits (none for Ed25519).
    pub fn bits(&self) -> Option<usize> {
        self.bits
    }

    /// Signs a plain message of the list's own (no list headers).
    pub(crate) fn sign_plain(&self, message: &mut Message) {
        message.sign(&self.plain);
    }
}

/// The TXT record that publishes the public key of `key` (as
/// [`Dkim::new`] takes it), and the size in bits of an RSA key.
fn public_record(key: &str) -> std::result::Result<(String, Option<usize>), String> {
    use base64::Engine as _;
    let key = key.trim();
    let unreadable = |e: &dyn std::fmt::Display| format!("the DKIM key cannot be read: {e}");
    if key.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::pkcs8::EncodePublicKey;
        use rsa::traits::PublicKeyParts;
        let private = rsa::RsaPrivateKey::from_pkcs1_pem(key).map_err(|e| unreadable(&e))?;
        let public = rsa::RsaPublicKey::from(&private);
        let der = public.to_public_key_der().map_err(|e| unreadable(&e))?;
        let p = base64::engine::general_purpose::STANDARD.encode(der.as_bytes());
        return Ok((format!("v=DKIM1; k=rsa; p={p}"), Some(public.n().bits())));
    }
    let seed = base64::engine::general_purpose::STANDARD
        .decode(key)
        .map_err(|e| unreadable(&e))?;
    let seed: [u8; 32] = seed
        .try_into()
        .map_err(|_| "the DKIM key cannot be read: an Ed25519 seed is 32 bytes".to_owned())?;
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    let p = base64::engine::general_purpose::STANDARD.encode(public.to_bytes());
    Ok((format!("v=DKIM1; k=ed25519; p={p}"), None))
}

/// lettre's DKIM settings for `key` over `headers`, relaxed both ways.
fn dkim_config(
    key: &str,
    selector: &str,
    domain: &str,
    headers: &[&'static str],
) -> std::result::Result<DkimConfig, String> {
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
    Ok(DkimConfig::new(
        selector.to_owned(),
        domain.to_owned(),
        signing_key,
        headers
            .iter()
            .map(|h| HeaderName::new_from_ascii_str(h))
            .collect(),
        DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        },
    ))
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

/// Builds the message of a digest for one subscriber with lettre, every
/// header and part formatted anew (signed with `dkim` if given). A
/// campaign builds its messages from a [`Skeleton`] per variant instead,
/// which gives the same bytes.
pub fn build(
    links: &Links<'_>,
    to: &Mailbox,
    digest: &EncodedDigest,
    date: DateTime<FixedOffset>,
    dkim: Option<&Dkim>,
) -> Result<Letter> {
    building(links, to, digest, date, dkim).map(Built::signed)
}

/// A letter as [`build`] makes it: ready, or built and still to be signed.
#[derive(Debug)]
pub enum Built {
    /// Ready to send.
    Ready(Letter),
    /// To sign, on any thread ([`ToSign::sign`]).
    ToSign(ToSign),
}

impl Built {
    /// The letter, signed here if it is to be.
    pub fn signed(self) -> Letter {
        match self {
            Built::Ready(letter) => letter,
            Built::ToSign(to_sign) => to_sign.sign(),
        }
    }
}

/// A message built and not signed yet. It owns all it needs, so that the
/// signature (the slow part of a signed send: hashing and an RSA or
/// Ed25519 operation a message) is made on another thread while the
/// connections go on.
pub struct ToSign {
    /// The letter as it is sent unsigned.
    letter: Letter,
    signing: Arc<dkim::Signing>,
    /// When it is signed (`t=`): the letter's date, so that a dry run
    /// dated alike gives the same bytes.
    time: i64,
}

impl std::fmt::Debug for ToSign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToSign")
            .field("recipient", &self.letter.recipient)
            .finish_non_exhaustive()
    }
}

impl ToSign {
    /// `letter`, as sent unsigned, to be signed by `dkim` at `date`.
    pub(crate) fn new(letter: Letter, dkim: &Dkim, date: DateTime<FixedOffset>) -> ToSign {
        ToSign {
            letter,
            signing: Arc::clone(&dkim.signing),
            time: date.timestamp(),
        }
    }

    /// The letter, its `DKIM-Signature` field before its header: the rest
    /// of its bytes as they were.
    pub fn sign(mut self) -> Letter {
        let mut signed = self.signing.field(&self.letter.bytes, self.time);
        signed.extend_from_slice(&self.letter.bytes);
        self.letter.bytes = signed;
        self.letter
    }
}

/// [`build`], leaving the signature to be made: a letter signed by `dkim`
/// comes back as [`Built::ToSign`].
pub fn building(
    links: &Links<'_>,
    to: &Mailbox,
    digest: &EncodedDigest,
    date: DateTime<FixedOffset>,
    dkim: Option<&Dkim>,
) -> Result<Built> {
    let personal = Personal::of(links, to, digest);
    let [text_lines, html_lines] = fill_slots(links, &personal.member, digest);
    let message = lettre_message(
        links,
        &personal,
        digest,
        date,
        assemble(&digest.text, &text_lines),
        assemble(&digest.html, &html_lines),
    )?;
    let letter = personal.letter(subject(links.issue), digest, message.formatted());
    Ok(match dkim {
        None => Built::Ready(letter),
        Some(dkim) => Built::ToSign(ToSign::new(letter, dkim, date)),
    })
}

/// What one recipient's message holds that no other's does.
struct Personal {
    to: Mailbox,
    /// The envelope sender: the list's bounce address for this recipient.
    sender: Address,
    message_id: String,
    /// The boundary of the `multipart/alternative`.
    boundary: String,
    /// The boundary of the `multipart/related` (empty without images).
    related: String,
    /// The value of `List-Unsubscribe`, if the list has one.
    unsubscribe: Option<String>,
    /// Who the subscriber is in every link's token.
    member: [u8; crate::unsubscribe::MEMBER_LEN],
}

impl Personal {
    fn of(links: &Links<'_>, to: &Mailbox, digest: &EncodedDigest) -> Personal {
        let (list, issue) = (links.list, links.issue);
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
        let related = match digest.images.is_empty() {
            true => String::new(),
            false => format!("=_{}", token(list, issue, &to.email, "related")),
        };
        Personal {
            to: to.clone(),
            sender,
            message_id: message_id(list, issue, &to.email),
            boundary: format!("=_{}", token(list, issue, &to.email, "boundary")),
            related,
            unsubscribe: unsubscribe(links, &member),
            member,
        }
    }

    /// The letter whose bytes are `bytes`.
    fn letter(self, subject: String, digest: &EncodedDigest, bytes: Vec<u8>) -> Letter {
        Letter {
            recipient: self.to.email,
            sender: self.sender,
            message_id: self.message_id,
            subject,
            sections: digest.sections.clone(),
            bytes,
        }
    }
}

/// The value of `List-Unsubscribe` for `member`: the one-click link and
/// the list's unsubscribe address, those the list has.
fn unsubscribe(links: &Links<'_>, member: &[u8; crate::unsubscribe::MEMBER_LEN]) -> Option<String> {
    let mut unsubscribe = Vec::new();
    if let Some(url) = links.url_of(member, None) {
        unsubscribe.push(format!("<{url}>"));
    }
    if let Some(address) = &links.list.unsubscribe {
        unsubscribe.push(format!("<mailto:{address}?subject=unsubscribe>"));
    }
    (!unsubscribe.is_empty()).then(|| unsubscribe.join(", "))
}

/// The subject of `issue`'s messages, with French spacing like the parts:
/// mail clients show it.
fn subject(issue: &Issue) -> String {
    french(&issue.subject).into_owned()
}

/// The lettre message for `personal`, its two parts' bodies given.
fn lettre_message(
    links: &Links<'_>,
    personal: &Personal,
    digest: &EncodedDigest,
    date: DateTime<FixedOffset>,
    text_body: Body,
    html_body: Body,
) -> Result<Message> {
    let (list, issue) = (links.list, links.issue);
    let fail = |reason: String| Error::Message {
        recipient: personal.to.email.to_string(),
        reason,
    };
    // The envelope given, so that lettre does not parse it back out of the
    // headers it was just given.
    let envelope = lettre::address::Envelope::new(
        Some(personal.sender.clone()),
        vec![personal.to.email.clone()],
    )
    .map_err(|e| fail(e.to_string()))?;
    let mut builder = Message::builder()
        .envelope(envelope)
        .from(list.from.clone())
        .to(personal.to.clone())
        .subject(subject(issue))
        .date(SystemTime::from(date))
        .message_id(Some(personal.message_id.clone()))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Content-Language"),
            issue.language.clone(),
        ));
    if let Some(reply_to) = &list.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    builder = builder.raw_header(raw_header("List-Id", list_id(list)));
    if let Some(unsubscribe) = &personal.unsubscribe {
        builder = builder.raw_header(raw_header("List-Unsubscribe", unsubscribe.clone()));
    }
    if list.unsubscribe_url.is_some() {
        builder = builder.raw_header(raw_header(
            "List-Unsubscribe-Post",
            "List-Unsubscribe=One-Click".to_owned(),
        ));
    }
    let html_part = SinglePart::builder()
        .header(ContentType::TEXT_HTML)
        .body(html_body);
    let alternative = MultiPart::alternative()
        .boundary(personal.boundary.clone())
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(text_body),
        );
    // The images go with the HTML part that shows them, each once
    // (RFC 2387): the text part has no use for them.
    let alternative = if digest.images.is_empty() {
        alternative.singlepart(html_part)
    } else {
        // Its root is the HTML part, which `type` names (RFC 2387 §3.1):
        // some mail programs choose the part to show by it.
        let content_type = ContentType::parse(&format!(
            "multipart/related; boundary=\"{}\"; type=\"text/html\"",
            personal.related
        ))
        .map_err(|e| fail(e.to_string()))?;
        let mut related = MultiPart::builder()
            .header(content_type)
            .singlepart(html_part);
        for image in &digest.images {
            related = related.singlepart(image.part().map_err(fail)?);
        }
        alternative.multipart(related)
    };
    builder
        .multipart(alternative)
        .map_err(|e| fail(e.to_string()))
}

/// A place in a [`Skeleton`] that differs from one recipient to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hole {
    /// The `To` header, whole.
    To,
    /// The `Message-ID` header, whole.
    MessageId,
    /// The `List-Unsubscribe` header, whole.
    Unsubscribe,
    /// The boundary of the `multipart/alternative`.
    Boundary,
    /// The boundary of the `multipart/related`.
    Related,
    /// The body of the text part.
    Text,
    /// The body of the HTML part.
    Html,
}

/// Stand-ins for what differs per recipient while lettre formats a
/// skeleton; a boundary's stand-in is as long as a boundary (`=_` and 32
/// hex digits), so that lettre folds its header the same way.
const TO_STAND_IN: &str = "breves.to.stand-in@breves.invalid";
const MESSAGE_ID_STAND_IN: &str = "<breves.message-id.stand-in@breves.invalid>";
const UNSUBSCRIBE_STAND_IN: &str = "<breves.unsubscribe.stand-in@breves.invalid>";
const BOUNDARY_STAND_IN: &str = "=_breves.alternative.stand-in.zzzz";
const RELATED_STAND_IN: &str = "=_breves.related.stand-in.zzzzzzzz";

/// One variant's message formatted once by lettre, every header and MIME
/// line in place, with holes where one recipient's message differs from
/// another's: the headers `To`, `Message-ID` and `List-Unsubscribe`, the
/// boundaries (derived from the recipient) and the two parts' bodies.
///
/// A message is then written in one pass, its size known beforehand: the
/// skeleton's bytes, and in each hole what lettre would write there for
/// that recipient (each header formatted by lettre on its own). The bytes
/// are those of [`build`] without DKIM (test
/// `messages_from_a_skeleton_are_lettres_own`).
#[derive(Debug)]
pub struct Skeleton {
    date: DateTime<FixedOffset>,
    subject: String,
    bytes: Vec<u8>,
    /// In order, without overlap.
    holes: Vec<(std::ops::Range<usize>, Hole)>,
}

impl Skeleton {
    /// The skeleton of `digest`'s messages dated `date`, or `None` if a
    /// stand-in is not found exactly where it is expected (the messages are
    /// then built by [`build`]).
    pub fn new(
        links: &Links<'_>,
        digest: &EncodedDigest,
        date: DateTime<FixedOffset>,
    ) -> Option<Skeleton> {
        let stand_ins = Personal {
            to: Mailbox::new(None, TO_STAND_IN.parse().ok()?),
            sender: links.list.from.email.clone(),
            message_id: MESSAGE_ID_STAND_IN.to_owned(),
            boundary: BOUNDARY_STAND_IN.to_owned(),
            related: RELATED_STAND_IN.to_owned(),
            unsubscribe: unsubscribe(links, &[0; crate::unsubscribe::MEMBER_LEN])
                .map(|_| UNSUBSCRIBE_STAND_IN.to_owned()),
            member: [0; crate::unsubscribe::MEMBER_LEN],
        };
        let mark = |mark: &[u8]| {
            Body::dangerous_pre_encoded(mark.to_vec(), ContentTransferEncoding::QuotedPrintable)
        };
        let bytes = lettre_message(
            links,
            &stand_ins,
            digest,
            date,
            mark(TEXT_MARK),
            mark(HTML_MARK),
        )
        .ok()?
        .formatted();
        let mut holes = vec![
            (header_at(&bytes, TO_STAND_IN)?, Hole::To),
            (header_at(&bytes, MESSAGE_ID_STAND_IN)?, Hole::MessageId),
            (only(&bytes, TEXT_MARK)?, Hole::Text),
            (only(&bytes, HTML_MARK)?, Hole::Html),
        ];
        if stand_ins.unsubscribe.is_some() {
            holes.push((header_at(&bytes, UNSUBSCRIBE_STAND_IN)?, Hole::Unsubscribe));
        }
        // In its header, before each of its parts, and at its end.
        let boundaries = every(&bytes, BOUNDARY_STAND_IN.as_bytes());
        if boundaries.len() != 4 {
            return None;
        }
        holes.extend(boundaries.into_iter().map(|at| (at, Hole::Boundary)));
        if !digest.images.is_empty() {
            let related = every(&bytes, RELATED_STAND_IN.as_bytes());
            if related.len() != digest.images.len() + 3 {
                return None;
            }
            holes.extend(related.into_iter().map(|at| (at, Hole::Related)));
        }
        holes.sort_by_key(|(at, _)| at.start);
        if holes.windows(2).any(|w| w[0].0.end > w[1].0.start) {
            return None;
        }
        Some(Skeleton {
            date,
            subject: subject(links.issue),
            bytes,
            holes,
        })
    }

    /// The date its messages carry.
    pub fn date(&self) -> DateTime<FixedOffset> {
        self.date
    }

    /// The message of `digest` (the one this skeleton was made from) for
    /// `to`.
    pub fn letter(&self, links: &Links<'_>, to: &Mailbox, digest: &EncodedDigest) -> Letter {
        let personal = Personal::of(links, to, digest);
        let [text_lines, html_lines] = fill_slots(links, &personal.member, digest);
        let to_line = header_line(|h| h.set(header::To::from(Mailboxes::from(to.clone()))));
        let id_line = header_line(|h| h.set(header::MessageId::from(personal.message_id.clone())));
        let unsubscribe_line = personal
            .unsubscribe
            .as_ref()
            .map_or_else(String::new, |value| {
                header_line(|h| h.insert_raw(raw_header("List-Unsubscribe", value.clone())))
            });
        let fill = |hole: Hole| -> &[u8] {
            match hole {
                Hole::To => to_line.as_bytes(),
                Hole::MessageId => id_line.as_bytes(),
                Hole::Unsubscribe => unsubscribe_line.as_bytes(),
                Hole::Boundary => personal.boundary.as_bytes(),
                Hole::Related => personal.related.as_bytes(),
                Hole::Text | Hole::Html => &[],
            }
        };
        let body = |hole: Hole| match hole {
            Hole::Text => Some((&digest.text, &text_lines)),
            Hole::Html => Some((&digest.html, &html_lines)),
            _ => None,
        };
        // The exact size, so that the ~100 KB are never moved to grow.
        let size = self.bytes.len()
            + self
                .holes
                .iter()
                .map(|(at, hole)| match body(*hole) {
                    Some((part, lines)) => {
                        fixed_len(part) + lines.iter().map(Vec::len).sum::<usize>()
                    }
                    None => fill(*hole).len(),
                } as isize
                    - at.len() as isize)
                .sum::<isize>() as usize;
        let mut bytes = Vec::with_capacity(size);
        let mut from = 0;
        for (at, hole) in &self.holes {
            bytes.extend_from_slice(&self.bytes[from..at.start]);
            match body(*hole) {
                Some((part, lines)) => assemble_into(&mut bytes, part, lines),
                None => bytes.extend_from_slice(fill(*hole)),
            }
            from = at.end;
        }
        bytes.extend_from_slice(&self.bytes[from..]);
        personal.letter(self.subject.clone(), digest, bytes)
    }
}

/// One header as lettre writes it, with its line end (and its folds).
fn header_line(set: impl FnOnce(&mut Headers)) -> String {
    let mut headers = Headers::with_capacity(1);
    set(&mut headers);
    headers.to_string()
}

/// Where the one header whose value holds `stand_in` is, from the start of
/// its line to the end of its last folded line.
fn header_at(bytes: &[u8], stand_in: &str) -> Option<std::ops::Range<usize>> {
    let at = only(bytes, stand_in.as_bytes())?;
    let start = bytes[..at.start]
        .windows(2)
        .rposition(|w| w == b"\r\n")
        .map_or(0, |i| i + 2);
    let mut end = at.end;
    loop {
        end += find(&bytes[end..], b"\r\n")? + 2;
        if !matches!(bytes.get(end), Some(b' ' | b'\t')) {
            return Some(start..end);
        }
    }
}

/// Where `mark` is in `bytes`, if it is there exactly once.
fn only(bytes: &[u8], mark: &[u8]) -> Option<std::ops::Range<usize>> {
    match every(bytes, mark).as_slice() {
        [at] => Some(at.clone()),
        _ => None,
    }
}

/// Everywhere `mark` is in `bytes`.
fn every(bytes: &[u8], mark: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = find(&bytes[from..], mark) {
        found.push(from + at..from + at + mark.len());
        from += at + mark.len();
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Renderer;
    use crate::select::Selection;
    use crate::unsubscribe::{Labels, Signer};

    #[test]
    fn pieces_and_lines_filled_per_message_are_encoded_as_lettre_would() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (issue, _) = Issue::load(&root.join("issues/2026-03-royaume-uni.toml")).expect("issue");
        let (list, _) = List::load(&root.join("subscribers/londres.toml")).expect("list");
        let renderer = Renderer::new();
        let mut selections = vec![Selection::for_interests(&issue, &[])];
        for section in &issue.sections {
            selections.push(Selection::for_interests(
                &issue,
                std::slice::from_ref(&section.id),
            ));
        }
        let mut compared = 0;
        for selection in &selections {
            let digest = renderer
                .render(&issue, Some(&list), selection)
                .expect("render");
            for part in [&digest.text, &digest.html] {
                for piece in pieces(part) {
                    if let Piece::Fixed(text) = piece {
                        assert_eq!(qp_line(text), qp(text), "{text}");
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 2 * selections.len(), "{compared} pieces");
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

    /// Every message of `issue` to `list`, and to mailboxes whose `To`
    /// lettre encodes and folds, from its variant's skeleton and from
    /// lettre alone.
    fn skeleton_and_lettre(issue: &str, list: &str) -> usize {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (issue, _) = Issue::load(&root.join(issue)).expect("issue");
        let (list, _) = List::load(&root.join(list)).expect("list");
        let signer = Signer::test();
        let labels = Labels::new(&issue);
        let links = Links {
            list: &list,
            issue: &issue,
            signer: &signer,
            labels: &labels,
        };
        let renderer = Renderer::new();
        let others: Vec<Mailbox> = [
            "Zoé d'Arcy-Lefèvre <zoe@example.org>",
            "\"Dupont, Jean (Direction générale du Trésor, Service économique régional)\" <jean.dupont.direction-generale@example.fr>",
            "A \"quoted\" name <quoted@example.com>",
            "bare@example.org",
        ]
        .iter()
        .map(|m| m.parse().expect("a mailbox"))
        .collect();
        let mut compared = 0;
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
            let date = issue.default_date();
            let skeleton = Skeleton::new(&links, &digest, date).expect("a skeleton");
            for to in std::iter::once(member.mailbox()).chain(others.iter().cloned()) {
                let whole = build(&links, &to, &digest, date, None).expect("lettre's");
                let from_skeleton = skeleton.letter(&links, &to, &digest);
                assert!(
                    from_skeleton == whole,
                    "{to}: the message differs from lettre's own:\n{}\n---\n{}",
                    String::from_utf8_lossy(
                        &from_skeleton.bytes[..2000.min(from_skeleton.bytes.len())]
                    ),
                    String::from_utf8_lossy(&whole.bytes[..2000.min(whole.bytes.len())]),
                );
                assert!(!from_skeleton.bytes.contains(&0), "no stand-in is left");
                compared += 1;
            }
        }
        compared
    }

    #[test]
    fn a_name_with_control_characters_never_ends_a_header() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (issue, _) = Issue::load(&root.join("tests/fixtures/small/issue.toml")).expect("issue");
        let (list, _) = List::load(&root.join("tests/fixtures/small/list.toml")).expect("list");
        let signer = Signer::test();
        let labels = Labels::new(&issue);
        let links = Links {
            list: &list,
            issue: &issue,
            signer: &signer,
            labels: &labels,
        };
        let everything = Selection::for_interests(&issue, &[]);
        let digest = Renderer::new()
            .render(&issue, Some(&list), &everything)
            .expect("render");
        let digest = EncodedDigest::new(&digest);
        // A member made without the list's reading, which cleans names.
        let eve = crate::subscribers::Member {
            email: "eve@example.org".parse().expect("address"),
            name: Some("Eve\r\nBcc: mallory@example.org\u{0}".into()),
            interests: Vec::new(),
            origin: None,
        };
        let letter = build(&links, &eve.mailbox(), &digest, issue.default_date(), None)
            .expect("built, no panic");
        let text = String::from_utf8_lossy(&letter.bytes);
        assert!(
            text.lines().all(|l| !l.starts_with("Bcc:")),
            "{}",
            &text[..600]
        );
        let parsed = mail_parser::MessageParser::default()
            .parse(&letter.bytes)
            .expect("parsed");
        let to = parsed.to().and_then(|a| a.first()).expect("a To");
        assert_eq!(to.name(), Some("Eve Bcc: mallory@example.org"));
        assert_eq!(to.address(), Some("eve@example.org"));
        assert!(parsed.header("Bcc").is_none());
    }

    #[test]
    fn messages_from_a_skeleton_are_lettres_own() {
        assert!(
            skeleton_and_lettre(
                "issues/2026-03-royaume-uni.toml",
                "subscribers/londres.toml"
            ) > 10
        );
        assert!(
            skeleton_and_lettre(
                "tests/fixtures/images/issue.toml",
                "tests/fixtures/images/list.toml"
            ) > 0
        );
    }

    #[test]
    fn a_stand_in_found_twice_gives_no_skeleton() {
        let bytes = b"To: a\r\nX: breves.to.stand-in@breves.invalid\r\n folded\r\nY: b\r\n";
        assert_eq!(header_at(bytes, TO_STAND_IN), Some(7..54));
        let twice = [&bytes[..], &bytes[..]].concat();
        assert_eq!(header_at(&twice, TO_STAND_IN), None);
    }
}
