//! Reading one message from a bounce mailbox: a delivery status
//! notification (RFC 3464), a complaint (ARF, RFC 5965), a bounce written
//! as plain text (Exim, qmail, Sendmail, Exchange, Gmail, Yahoo, …), or
//! none of these (left alone).
//!
//! mail-parser reads the message; the report parts' fields, which are
//! headers in blocks (RFC 3464 §2), are read here from their raw text, and
//! so are the words of a plain bounce. Layouts vary more than standards
//! say, so each step has a fallback:
//!
//! - a delivery-status part is found wherever it is (a `multipart/report`,
//!   a `multipart/mixed`, or its fields written in the text when the
//!   boundaries are broken), and every block naming a recipient is read,
//!   the first one too;
//! - a plain bounce is recognised by its sender (a mail system) and its
//!   words, and every address its explanation names that is neither the
//!   bounce's own nor one of the original message's senders is a failed
//!   recipient, with the lines about it as its diagnostic;
//! - a complaint that hides its reader names them in the quoted message's
//!   `To`, or in its unsubscription link.
//!
//! Each finding gets a [`Reason`] from [`Reason::of`].

use mail_parser::{MessageParser, MimeHeaders};

use crate::reason::Reason;

/// How a report was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A delivery status notification (`message/delivery-status`).
    Dsn,
    /// A complaint (`message/feedback-report`).
    Arf,
    /// A bounce in plain text.
    Plain,
}

/// One recipient a report is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The address the report names, when it names one.
    pub address: Option<String>,
    /// Why it failed.
    pub reason: Reason,
    /// The enhanced status code (`5.1.1`), or the feedback type (`abuse`);
    /// empty when the report gives neither.
    pub status: String,
    /// What the remote server said.
    pub diagnostic: String,
}

/// A report, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Its Message-ID (or, without one, a hash of its bytes): each report
    /// is recorded once.
    pub id: String,
    /// Its Date, as written.
    pub date: Option<String>,
    /// How it was written.
    pub format: Format,
    /// The addresses it was sent to (the bounce address, with its VERP
    /// code when the message carried one).
    pub sent_to: Vec<String>,
    /// The Message-IDs quoted from the message that bounced.
    pub original_ids: Vec<String>,
    /// The unsubscription links of the message that bounced, when the
    /// report quotes its headers (complaints often hide the address).
    pub original_links: Vec<String>,
    /// Who failed, and why.
    pub findings: Vec<Finding>,
}

/// What a message of the bounce mailbox is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// A report, about at least one recipient.
    Report(Report),
    /// Not a bounce nor a complaint (a reply, an out-of-office, a delay
    /// warning, a success notice): left alone.
    NotABounce,
    /// It says it is a report, but cannot be read as one.
    Malformed(String),
}

/// The fields of a report part: blocks of `Name: value` lines separated
/// by blank lines, continuation lines unfolded; names in lowercase.
fn field_blocks(text: &str) -> Vec<Vec<(String, String)>> {
    let mut blocks = Vec::new();
    let mut block: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !block.is_empty() {
                blocks.push(std::mem::take(&mut block));
            }
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = block.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':')
            && !name.is_empty()
            && !name.contains(' ')
        {
            block.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    if !block.is_empty() {
        blocks.push(block);
    }
    blocks
}

fn field<'a>(block: &'a [(String, String)], name: &str) -> Option<&'a str> {
    block
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The address in a field's value, or in a line of text: `rfc822;
/// a@example.org`, `<a@example.org>`, `a@example.org<mailto:a@example.org>`,
/// `"Name" <a@example.org>`. None for a pipe, a file or anything that is
/// not an address.
pub fn address_in(value: &str) -> Option<String> {
    let value = match value.split_once(';') {
        Some((kind, rest)) if !kind.contains('@') => rest,
        _ => value,
    };
    let value = value.trim();
    if let Some(start) = value.find('<') {
        let inner = &value[start + 1..];
        let inner = inner.split('>').next().unwrap_or_default();
        let inner = inner.strip_prefix("mailto:").unwrap_or(inner);
        if let Some(a) = plain_address(inner) {
            return Some(a);
        }
        return plain_address(&value[..start]);
    }
    plain_address(value)
}

/// `a@example.org`, alone (surrounding quotes, brackets and punctuation
/// taken off), if it is an address.
fn plain_address(text: &str) -> Option<String> {
    let word = text.trim().trim_matches(|c: char| {
        matches!(
            c,
            '<' | '>' | '"' | '\'' | ':' | ',' | ';' | '(' | ')' | '[' | ']' | '.'
        )
    });
    let word = word.strip_prefix("mailto:").unwrap_or(word);
    let (local, domain) = word.rsplit_once('@')?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with(['|', '/'])
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let domain_ok = domain.contains('.')
        && !domain.starts_with(['.', '-'])
        && !domain.ends_with(['.', '-'])
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    (local_ok && domain_ok).then(|| word.to_owned())
}

/// Every address written in `line`, in order.
fn addresses_in(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    for word in line.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '<' | '>' | '(' | ')' | '[' | ']' | ',' | ';' | '"' | '\''
            )
    }) {
        // `a@example.org:` (qmail), `to=a@example.org`, `mailto:a@…`.
        let word = word.rsplit('=').next().unwrap_or(word);
        let word = word.strip_prefix("mailto:").unwrap_or(word);
        if let Some(a) = plain_address(word)
            && !found.contains(&a)
        {
            found.push(a);
        }
    }
    found
}

/// The first enhanced status code (`5.1.1`) in `text`: a class of 2, 4
/// or 5, not part of a longer run of numbers (a version, an IP address).
pub fn status_code(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if !matches!(b, b'2' | b'4' | b'5')
            || (i > 0 && (bytes[i - 1].is_ascii_digit() || bytes[i - 1] == b'.'))
        {
            continue;
        }
        let rest = &text[i..];
        let mut parts = rest.splitn(3, '.');
        let (Some(class), Some(subject), Some(detail)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let digits: String = detail.chars().take_while(char::is_ascii_digit).collect();
        let after = detail[digits.len()..].chars().next();
        let ok = class.len() == 1
            && (1..=3).contains(&subject.len())
            && subject.bytes().all(|b| b.is_ascii_digit())
            && (1..=3).contains(&digits.len())
            // `10.5.12.3`: a version or an address, not a status.
            && !(after == Some('.') && detail[digits.len() + 1..].starts_with(|c: char| c.is_ascii_digit()));
        if ok {
            return Some(format!("{class}.{subject}.{digits}"));
        }
    }
    None
}

/// The first basic SMTP reply code of a failure (`550`) in `text`.
pub fn reply_code(text: &str) -> Option<u16> {
    text.split(|c: char| !c.is_ascii_digit() && c != '.')
        .filter(|w| w.len() == 3)
        .filter_map(|w| w.parse::<u16>().ok())
        .find(|code| matches!(code / 100, 4 | 5) && (code % 100) / 10 <= 5)
}

/// A finding from what a server said and the status it gave, if it is a
/// failure: a `2.x.x` status is a success, whatever else it says.
fn finding(
    address: Option<String>,
    status: Option<String>,
    diagnostic: &str,
    context: &str,
) -> Option<Finding> {
    let diagnostic = one_line(diagnostic, 500);
    // A relay that quotes the remote server's reply inside its own words
    // (Amazon SES): the remote server's is what was said.
    let said = quoted_reply(&diagnostic).unwrap_or(&diagnostic);
    let status = match (status, status_code(said)) {
        (Some(given), Some(inner)) if said != diagnostic && given.ends_with(".0.0") => inner,
        (Some(given), _) => given,
        (None, inner) => inner.unwrap_or_default(),
    };
    if status.starts_with('2') {
        return None;
    }
    let reply = reply_code(said);
    let status = if status.is_empty() {
        reply
            .map(|r| format!("{}.0.0", r / 100))
            .unwrap_or_default()
    } else {
        status
    };
    let mut reason = Reason::of(&status, reply, said);
    let address_status = status.split('.').nth(1) == Some("1")
        || address
            .as_deref()
            .is_some_and(|a| summary_says_address(context, a));
    let step = step_of(&diagnostic).or_else(|| step_of(context));
    match step {
        // Refused when the sender was named, before any recipient: the
        // server refused the sender, whatever words it used.
        Some(Step::Mail) if reason.side() != crate::reason::Side::Sender => {
            reason = Reason::SenderRejected;
        }
        // An address refused only once the message was seen (after
        // DATA) was accepted when it was named: what refused it is a
        // filter that words its refusal as an unknown user. An address
        // status (`5.1.x`) says otherwise: a client that pipelines writes
        // DATA before the refusal of RCPT comes back.
        Some(Step::Data) if reason.side() == crate::reason::Side::Address && !address_status => {
            reason = Reason::Filtered;
        }
        _ => {}
    }
    Some(Finding {
        address,
        reason,
        status,
        diagnostic,
    })
}

/// The remote server's reply a relay quotes in its own words, as Amazon
/// SES does: `5.1.0 - Unknown address error 550-'5.7.1 <…>... Access
/// denied' (delivery attempts: 0)`.
fn quoted_reply(diagnostic: &str) -> Option<&str> {
    let (_, rest) = diagnostic.split_once(" - ")?;
    let open = rest.find("-'")?;
    let code = rest.get(open.checked_sub(3)?..open)?;
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let inner = &rest[open + 2..];
    let close = inner.rfind('\'')?;
    Some(inner[..close].trim()).filter(|s| !s.is_empty())
}

/// Whether Sendmail's summary line for `address` gives it an address
/// status (`550 5.1.1 <a@example.org>... User unknown`): a refusal of
/// the recipient, even when a client that pipelines had written DATA
/// before it came back.
fn summary_says_address(context: &str, address: &str) -> bool {
    let lower = context.to_ascii_lowercase();
    let needle = format!(" <{}>", address.to_ascii_lowercase());
    lower.match_indices(&needle).any(|(at, _)| {
        lower[..at]
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .and_then(status_code)
            .is_some_and(|s| s.starts_with("5.1."))
    })
}

/// Japanese text left in ISO-2022-JP, in fields or in a part that did
/// not say so (Lotus Notes, Domino), decoded: its escapes say it is.
fn iso_2022_jp(text: String) -> String {
    match mail_parser::decoders::charsets::map::charset_decoder(b"iso-2022-jp") {
        Some(decode) if text.contains("\u{1b}$B") => decode(text.as_bytes()),
        _ => text,
    }
}

/// The step of the SMTP conversation a refusal answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// `MAIL FROM`: the sender was refused.
    Mail,
    /// `RCPT TO`: the recipient was refused.
    Rcpt,
    /// `DATA` or the end of the data: the message was refused.
    Data,
}

/// The last step of the conversation a server's words name, if any
/// (Postfix's "in reply to end of DATA command", Exim's "after MAIL
/// FROM:<…>", a Sendmail transcript's `>>> RCPT To:<…>`).
fn step_of(text: &str) -> Option<Step> {
    let lower = one_line(text, usize::MAX).to_ascii_lowercase();
    let last = |words: &[&str]| words.iter().filter_map(|w| lower.rfind(w)).max();
    let steps = [
        (
            Step::Mail,
            last(&[
                "mail from command",
                "after mail from",
                ">>> mail from",
                "mail from response",
            ]),
        ),
        (
            Step::Rcpt,
            last(&[
                "rcpt to command",
                "after rcpt to",
                ">>> rcpt to",
                "rcpt to response",
                "rcpt to:<",
            ]),
        ),
        (
            Step::Data,
            last(&[
                "end of data command",
                "reply to data command",
                "after end of data",
                "after data",
                ">>> data",
                "smtp command data",
                "-smtp command data",
                "data response",
                "message text rejected",
            ]),
        ),
    ];
    steps
        .into_iter()
        .filter_map(|(step, at)| at.map(|at| (at, step)))
        .max_by_key(|(at, _)| *at)
        .map(|(_, step)| step)
}

/// `text` on one line, white space runs as one space, at most `max`
/// characters.
fn one_line(text: &str, max: usize) -> String {
    let mut out = String::new();
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        if out.chars().count() >= max {
            return out.chars().take(max).collect();
        }
    }
    out
}

/// What a report quotes of the message that bounced: its Message-IDs,
/// unsubscription links, recipients (`To`) and senders.
#[derive(Debug, Default)]
struct Quoted {
    ids: Vec<String>,
    links: Vec<String>,
    to: Vec<String>,
    senders: Vec<String>,
}

impl Quoted {
    /// Reads the header fields of `text`, a quoted message or its headers.
    fn read(&mut self, text: &str) {
        let Some(headers) = field_blocks(text).into_iter().find(|b| {
            b.iter().any(|(n, _)| {
                matches!(
                    n.as_str(),
                    "message-id" | "from" | "to" | "subject" | "list-unsubscribe" | "received"
                )
            })
        }) else {
            return;
        };
        for (name, value) in &headers {
            match name.as_str() {
                "message-id" => {
                    let id = value.trim().to_owned();
                    if !id.is_empty() && !self.ids.contains(&id) {
                        self.ids.push(id);
                    }
                }
                "list-unsubscribe" => self.links.extend(
                    value
                        .split(',')
                        .map(|l| l.trim().trim_matches(['<', '>']).to_owned())
                        .filter(|l| l.starts_with("http")),
                ),
                // Hotmail's complaints name the reader in a header of
                // their own beside the `To`.
                "to" | "x-hmxmroriginalrecipient" => {
                    for a in addresses_in(value) {
                        if !self.to.iter().any(|t| t.eq_ignore_ascii_case(&a)) {
                            self.to.push(a);
                        }
                    }
                }
                "from" | "return-path" | "sender" | "reply-to" => {
                    self.senders.extend(addresses_in(value));
                }
                _ => {}
            }
        }
    }
}

/// Parts a quoted message is in.
const QUOTED_TYPES: [&str; 4] = [
    "message/rfc822",
    "text/rfc822-headers",
    "message/global",
    "message/global-headers",
];

/// Lines that start the copy of the original message in a plain bounce.
const QUOTE_MARKERS: &[&str] = &[
    "this is a copy of the message",
    "below this line is a copy of the message",
    "original message follows",
    "original message headers",
    "-- original message --",
    "----- original message -----",
    "unsent message below",
    "unsent message follows",
    "below is a copy of the original message",
    "the headers of the message",
    "message headers follow",
    "content-type: message/rfc822",
    "content-type: text/rfc822-headers",
    "---------- forwarded message",
    "original message header",
    "------ a copy of the message",
    "--- the header of the original message",
];

/// Splits a plain bounce's text at the copy of the original message:
/// the explanation, and the copy (empty when there is none).
fn split_quote(text: &str) -> (&str, &str) {
    let mut offset = 0;
    let mut header_run = 0;
    let mut run_start = 0;
    let mut strong = false;
    for line in text.split_inclusive('\n') {
        let lower = line.trim().to_ascii_lowercase();
        if QUOTE_MARKERS.iter().any(|m| lower.contains(m)) {
            return (&text[..offset], &text[offset..]);
        }
        // A run of header lines at the start of their lines (an
        // explanation indents what it quotes), one of them a header only a
        // message has (`Received:`, `Message-ID:`…), is a quoted message
        // without a marker; `Subject:` and `Date:` alone may be the
        // explanation's.
        let at_start = line.to_ascii_lowercase();
        let only_a_message = [
            "received:",
            "message-id:",
            "return-path:",
            "dkim-signature:",
            "mime-version:",
        ]
        .iter()
        .any(|h| at_start.starts_with(h));
        let header = only_a_message
            || ["from:", "to:", "subject:", "date:"]
                .iter()
                .any(|h| at_start.starts_with(h));
        if header {
            if header_run == 0 {
                run_start = offset;
                strong = false;
            }
            header_run += 1;
            strong |= only_a_message;
            if header_run >= 2 && strong {
                return (&text[..run_start], &text[run_start..]);
            }
        } else if !line.starts_with([' ', '\t']) {
            header_run = 0;
        }
        offset += line.len();
    }
    (text, "")
}

/// Subjects mail systems give their bounces.
const BOUNCE_SUBJECTS: &[&str] = &[
    "undeliver",
    "undelivered",
    "delivery status notification",
    "delivery failure",
    "delivery failed",
    "delivery has failed",
    "failure notice",
    "failed delivery",
    "returned mail",
    "return mail",
    "mail delivery",
    "address not found",
    "non remis",
    "non-remis",
    "nondeliverable",
    "non-deliverable",
    "could not send message",
    "message not delivered",
    "delivery notification",
    "not delivered",
    "mail system error",
    "warning: could not",
    "rejected",
    "unzustellbar",
    "message bounced",
    "bounce",
];

/// Words a plain bounce says, in the languages of the servers it comes
/// from.
const FAILURE_WORDS: &[&str] = &[
    "could not be delivered",
    "couldn't be delivered",
    "could not deliver",
    "did not reach",
    "couldn't deliver",
    "was not delivered",
    "wasn't delivered",
    "delivery has failed",
    "delivery failed",
    "delivery to the following",
    "undeliverable",
    "undelivered",
    "permanent error",
    "permanent failure",
    "fatal error",
    "address(es) failed",
    "failed recipient",
    "failed address",
    "user unknown",
    "unknown user",
    "does not exist",
    "doesn't exist",
    "no such user",
    "mailbox unavailable",
    "mailbox is full",
    "quota exceeded",
    "i'm afraid i wasn't able to deliver",
    "i'm sorry to have to inform you",
    "unable to deliver",
    "message could not be",
    "was rejected",
    "has been rejected",
    "were rejected",
    "error occurred while",
    "message was not sent",
    "not be delivered",
    "delivery to the following recipient",
    "delivery problem",
    "weren't able to post",
    "returned to sender",
    "n'a pas pu être remis",
    "n'a pas pu etre remis",
    "konnte nicht zugestellt",
    "smtp error",
    "550 ",
    "554 ",
    "553 ",
    "552 ",
];

/// Reads one message of a bounce mailbox.
pub fn read(bytes: &[u8]) -> Reading {
    // Line ends written as CR alone (old Macs) are read as line ends.
    let normalised;
    let bytes = if bytes.contains(&b'\r') && !bytes.contains(&b'\n') {
        normalised = bytes
            .iter()
            .map(|&b| if b == b'\r' { b'\n' } else { b })
            .collect::<Vec<u8>>();
        &normalised[..]
    } else {
        bytes
    };
    let Some(message) = MessageParser::default().parse(bytes) else {
        return Reading::Malformed("not a message".into());
    };
    if message.parts.is_empty() || message.headers().is_empty() {
        return Reading::Malformed("not a message".into());
    }
    let id = message.message_id().map_or_else(
        || {
            use sha2::{Digest as _, Sha256};
            let hash = Sha256::digest(bytes);
            format!("sha256:{}", crate::issue::hex(&hash[..16]))
        },
        |id| format!("<{id}>"),
    );
    let date = message.date().map(|d| d.to_rfc3339());
    let sent_to = sent_to(&message);
    let raw = |part: &mail_parser::MessagePart<'_>| {
        let (start, end) = (
            part.raw_body_offset() as usize,
            part.raw_end_offset() as usize,
        );
        String::from_utf8_lossy(bytes.get(start..end).unwrap_or_default()).into_owned()
    };
    let part_of = |types: &[&str]| {
        message
            .parts
            .iter()
            .find(|p| types.contains(&type_of(p).as_str()))
    };
    let report_type = message
        .content_type()
        .and_then(|ct| ct.attribute("report-type").map(str::to_ascii_lowercase));
    let mut quoted = Quoted::default();
    for part in message.parts.iter().skip(1) {
        if QUOTED_TYPES.contains(&type_of(part).as_str()) {
            quoted.read(&raw(part));
        }
    }
    let mut report = Report {
        id,
        date,
        format: Format::Plain,
        sent_to,
        original_ids: Vec::new(),
        original_links: Vec::new(),
        findings: Vec::new(),
    };
    let feedback = part_of(&["message/feedback-report"]);
    if let Some(part) = feedback {
        report.format = Format::Arf;
        return complaint(report, &raw(part), quoted);
    }
    if report_type.as_deref() == Some("feedback-report") {
        return Reading::Malformed("a complaint without its message/feedback-report part".into());
    }
    // A complaint from before ARF (Hotmail's): a mail system's message
    // that says so, with the message complained about attached.
    let subject = message.subject().unwrap_or_default().to_lowercase();
    if subject.contains("complaint")
        && part_of(&["message/rfc822"]).is_some()
        && from_a_system(&message)
    {
        report.format = Format::Arf;
        return complaint(report, "Feedback-Type: abuse\n", quoted);
    }
    let status_part = part_of(&["message/delivery-status", "message/global-delivery-status"]);
    let mut human = iso_2022_jp(for_people(&message));
    let fields = match status_part {
        Some(part) => Some(raw(part)),
        None => fields_in_text(bytes, &mut human),
    };
    if let Some(fields) = fields.map(iso_2022_jp) {
        report.format = Format::Dsn;
        let (explanation, copy) = split_quote(&human);
        quoted.read(copy);
        if quoted.ids.is_empty() {
            // A DSN written whole in text: the copy follows the fields.
            let (_, copy) = split_quote(&fields);
            quoted.read(copy);
        }
        return dsn(report, &fields, explanation, quoted);
    }
    if report_type.as_deref() == Some("delivery-status") && !from_a_system(&message) {
        return Reading::Malformed(
            "a delivery report without its message/delivery-status part".into(),
        );
    }
    plain(&message, report, &human, quoted)
}

/// The addresses the message was delivered to, as its headers say, each
/// once.
fn sent_to(message: &mail_parser::Message<'_>) -> Vec<String> {
    let mut sent_to: Vec<String> = Vec::new();
    for name in ["Delivered-To", "X-Original-To", "Envelope-To", "To"] {
        for value in message.header_values(name) {
            let text = match value {
                mail_parser::HeaderValue::Address(a) => a
                    .iter()
                    .filter_map(|a| a.address().map(str::to_owned))
                    .collect::<Vec<_>>(),
                mail_parser::HeaderValue::Text(t) => addresses_in(t),
                _ => Vec::new(),
            };
            for a in text {
                if !sent_to.contains(&a) {
                    sent_to.push(a);
                }
            }
        }
    }
    sent_to
}

/// A part's type, in lowercase; a part without a Content-Type is
/// text/plain (RFC 2045 §5.2).
fn type_of(part: &mail_parser::MessagePart<'_>) -> String {
    part.content_type()
        .map(|ct| {
            format!(
                "{}/{}",
                ct.ctype().to_ascii_lowercase(),
                ct.subtype().unwrap_or_default().to_ascii_lowercase()
            )
        })
        .unwrap_or_else(|| "text/plain".to_owned())
}

/// The explanation written for people: the first text part, as text.
fn for_people(message: &mail_parser::Message<'_>) -> String {
    message
        .parts
        .iter()
        .find(|p| type_of(p) == "text/plain" || type_of(p) == "text/html")
        .map(|p| match p.text_contents() {
            Some(text) if type_of(p) == "text/html" => {
                mail_parser::decoders::html::html_to_text(text)
            }
            Some(text) => text.to_owned(),
            None => String::new(),
        })
        .unwrap_or_default()
}

/// A report whose boundaries are broken, or sent without its
/// delivery-status part: the fields written in the text, if any, and the
/// words before them as the explanation for people when `human` is empty.
fn fields_in_text(bytes: &[u8], human: &mut String) -> Option<String> {
    let whole = String::from_utf8_lossy(bytes);
    let lower = whole.to_ascii_lowercase();
    lower
        .find("\nfinal-recipient:")
        .or_else(|| lower.find("\noriginal-recipient:"))
        .map(|at| {
            // Back to the start of the per-message block, if any.
            let start = lower[..at].rfind("\nreporting-mta:").unwrap_or(at);
            if human.trim().is_empty() {
                let body = lower[..start]
                    .find("\n\n")
                    .or_else(|| lower[..start].find("\r\n\r\n"))
                    .unwrap_or(start);
                *human = whole[body..start].to_owned();
            }
            whole[start..].to_owned()
        })
}

/// The recipients of a delivery status notification: every block that
/// names one, the first too (some servers write a single block).
fn dsn(mut report: Report, fields: &str, explanation: &str, quoted: Quoted) -> Reading {
    let blocks = field_blocks(fields);
    let recipients = blocks
        .iter()
        .filter(|b| {
            field(b, "final-recipient").is_some() || field(b, "original-recipient").is_some()
        })
        .count();
    let recipient_of = |block: &[(String, String)]| {
        [
            "final-recipient",
            "original-recipient",
            "x-actual-recipient",
        ]
        .iter()
        .filter_map(|n| field(block, n))
        .find_map(address_in)
    };
    // Every recipient the report names: the lines about one end where
    // another's begin.
    let all: Vec<String> = blocks
        .iter()
        .filter_map(|b| recipient_of(b))
        .map(|a| a.to_ascii_lowercase())
        .collect();
    // A report about one recipient whose field is not an address
    // (`Final-Recipient: rfc822; @mx.example.org`): the one address its
    // words name, if they name one.
    let named_in_words = || {
        let mut found: Vec<String> = Vec::new();
        for a in explanation.lines().flat_map(addresses_in) {
            if !found.iter().any(|f| f.eq_ignore_ascii_case(&a)) {
                found.push(a);
            }
        }
        (found.len() == 1).then(|| found.remove(0))
    };
    let mut named = 0;
    for block in &blocks {
        let recipient = recipient_of(block).or_else(|| {
            if recipients == 1 {
                named_in_words()
            } else {
                None
            }
        });
        let names_one = ["final-recipient", "original-recipient"]
            .iter()
            .any(|n| field(block, n).is_some());
        if !names_one {
            continue;
        }
        named += 1;
        // `failed`, `failed (bad address)`; `delayed`, `delivered`,
        // `relayed` and `expanded` are no failure.
        let action = field(block, "action").map(|a| {
            a.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        });
        if action
            .as_deref()
            .is_some_and(|a| ["delivered", "relayed", "expanded", "delayed"].contains(&a))
        {
            continue;
        }
        let mut diagnostic = field(block, "diagnostic-code")
            .map(|d| match d.split_once(';') {
                Some((kind, rest)) if !kind.contains(' ') => rest.trim(),
                _ => d,
            })
            .unwrap_or_default()
            .to_owned();
        if diagnostic.is_empty()
            && let Some(address) = &recipient
        {
            diagnostic = about(explanation, address, &all);
        }
        if diagnostic.is_empty() {
            diagnostic = one_line(explanation, 500);
        }
        let status = field(block, "status").and_then(status_code);
        // The explanation for people says at which step it failed: all of
        // it when it is about one recipient.
        let context = match &recipient {
            Some(_) if recipients == 1 => explanation.to_owned(),
            Some(a) => format!(
                "{} {}",
                before(explanation, a, &all),
                about(explanation, a, &all)
            ),
            None => String::new(),
        };
        if let Some(found) = finding(recipient, status, &diagnostic, &context) {
            report.findings.push(found);
        }
    }
    report.original_ids = quoted.ids;
    report.original_links = quoted.links;
    if report.findings.is_empty() {
        if named == 0 {
            return Reading::Malformed("a delivery report that names no recipient".into());
        }
        // Delivered, relayed, delayed: a notice, not a bounce.
        return Reading::NotABounce;
    }
    Reading::Report(report)
}

/// A complaint: the reader is its `Original-Rcpt-To`, else the quoted
/// message's `To` (when not redacted), else, left to the caller, the
/// quoted unsubscription link.
fn complaint(mut report: Report, fields: &str, quoted: Quoted) -> Reading {
    let blocks = field_blocks(fields);
    let fields = blocks.first().map(Vec::as_slice).unwrap_or_default();
    let Some(feedback) = field(fields, "feedback-type") else {
        return Reading::Malformed("a complaint without its Feedback-Type".into());
    };
    let feedback = feedback.to_ascii_lowercase();
    let mut readers: Vec<Option<String>> = fields
        .iter()
        .filter(|(n, _)| n == "original-rcpt-to" || n == "removal-recipient")
        .filter_map(|(_, v)| address_in(v))
        .fold(Vec::new(), |mut all, a| {
            if !all.contains(&Some(a.clone())) {
                all.push(Some(a));
            }
            all
        });
    if readers.is_empty() {
        readers.push(match quoted.to.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        });
    }
    let arrival = field(fields, "arrival-date")
        .or_else(|| field(fields, "received-date"))
        .unwrap_or_default();
    for address in readers {
        report.findings.push(Finding {
            address,
            reason: Reason::Complaint,
            status: feedback.clone(),
            diagnostic: arrival.to_owned(),
        });
    }
    report.original_ids = quoted.ids;
    report.original_links = quoted.links;
    Reading::Report(report)
}

/// Whether a message comes from a mail system: an empty envelope sender,
/// MAILER-DAEMON or postmaster (with an address or without one), another
/// name mail systems write from, Auto-Submitted, or Exim's
/// X-Failed-Recipients. A person's message is not one, whatever its
/// subject says.
fn from_a_system(message: &mail_parser::Message<'_>) -> bool {
    let from_raw = message
        .header_raw("From")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let return_path = message
        .header_raw("Return-Path")
        .map(|r| r.trim().to_owned())
        .unwrap_or_default();
    let automatic = message
        .header_raw("Auto-Submitted")
        .is_some_and(|a| !a.trim().eq_ignore_ascii_case("no"));
    let system_names = [
        "mailer-daemon",
        "postmaster",
        "post_master",
        "mail delivery",
        "mail administrator",
        "mailadmin",
        "mail-daemon",
        "maildaemon",
        "no-reply@",
        "noreply@",
        "bounce",
        "mmdf",
        "smtp gateway",
        "internet mail",
        "microsoftexchange",
        "mail system",
        "nobody@",
        "root@",
        "daemon@",
        "staff@",
        "notify@",
        "notification",
    ];
    return_path == "<>"
        || automatic
        || message.header_raw("X-Failed-Recipients").is_some()
        || system_names.iter().any(|n| from_raw.contains(n))
        || from_raw.trim().is_empty()
        || from_raw.contains("<>")
}

/// The lines of `text`, and the index of the first that names `address`
/// (lowercase), if one does.
fn line_about<'t>(text: &'t str, address: &str) -> Option<(Vec<&'t str>, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.to_ascii_lowercase().contains(address))?;
    Some((lines, at))
}

/// The lines of `text` about `address`: from its line on, until a blank
/// line or another of `others` (at most twelve lines), on one line.
fn about(text: &str, address: &str, others: &[String]) -> String {
    let lower_address = address.to_ascii_lowercase();
    let Some((lines, at)) = line_about(text, &lower_address) else {
        return String::new();
    };
    let mut taken = vec![lines[at]];
    // Sendmail's summary gives each recipient and each host a line of its
    // own that starts with a reply code: the next such line is another's.
    let summary = starts_with_code(lines[at]);
    for line in lines.iter().skip(at + 1).take(12) {
        let lower = line.to_ascii_lowercase();
        let trimmed = line.trim();
        if others
            .iter()
            .any(|o| *o != lower_address && lower.contains(o.as_str()))
            || (summary && starts_with_code(line))
        {
            break;
        }
        if trimmed.is_empty() {
            if taken.len() > 1 {
                break;
            }
            continue;
        }
        taken.push(line);
    }
    one_line(&taken.join(" "), 500)
}

/// Whether `line` starts, unindented, with a reply code and a space
/// (`550 <a@example.org>... User unknown`).
fn starts_with_code(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 4 && b[..3].iter().all(u8::is_ascii_digit) && b[3] == b' '
}

/// The lines of `text` just before the line about `address`, back to a
/// blank line or a line about another of `others` (at most six): where a
/// transcript names the step the server refused
/// (`>>> RCPT To:<a@example.org>`, `<<< 550 …`).
fn before(text: &str, address: &str, others: &[String]) -> String {
    let lower_address = address.to_ascii_lowercase();
    let Some((lines, at)) = line_about(text, &lower_address) else {
        return String::new();
    };
    let mut taken = Vec::new();
    for line in lines[..at].iter().rev().take(6) {
        let lower = line.to_ascii_lowercase();
        if line.trim().is_empty()
            || others
                .iter()
                .any(|o| *o != lower_address && lower.contains(o.as_str()))
        {
            break;
        }
        taken.push(*line);
    }
    taken.reverse();
    one_line(&taken.join(" "), 500)
}

/// A bounce written as plain text, if it is one: from a mail system,
/// saying that delivery failed.
fn plain(
    message: &mail_parser::Message<'_>,
    mut report: Report,
    human: &str,
    mut quoted: Quoted,
) -> Reading {
    if !from_a_system(message) {
        return Reading::NotABounce;
    }
    let (explanation, copy) = split_quote(human);
    quoted.read(copy);
    // A copy given as a part of its own after the text.
    if quoted.ids.is_empty() {
        for part in message.parts.iter().skip(1) {
            if let Some(text) = part.text_contents() {
                let (_, copy) = split_quote(text);
                quoted.read(copy);
            }
        }
    }
    let lower = explanation.to_lowercase();
    let subject = message.subject().unwrap_or_default().to_lowercase();
    let says_failed = FAILURE_WORDS.iter().any(|w| lower.contains(w))
        || BOUNCE_SUBJECTS.iter().any(|s| subject.contains(s));
    if !says_failed {
        return Reading::NotABounce;
    }
    // Delay warnings say that nothing needs doing yet.
    let warning = [
        "will continue trying",
        "will retry",
        "will be retried",
        "still trying",
        "no action is required",
        "delivery attempts will continue",
        "this is only a warning",
        "not yet been delivered",
        "has been delayed",
    ];
    if warning.iter().any(|w| lower.contains(w))
        && !["permanent", "failed:", "could not be delivered"]
            .iter()
            .any(|w| lower.contains(w))
    {
        return Reading::NotABounce;
    }
    // The addresses that are not of a failed recipient: the bounce's
    // own, the original's senders, mail systems'.
    let own: Vec<String> = report
        .sent_to
        .iter()
        .chain(quoted.senders.iter())
        .map(|a| a.to_ascii_lowercase())
        .chain(
            message
                .from()
                .into_iter()
                .flat_map(|f| f.iter())
                .filter_map(|a| a.address().map(str::to_ascii_lowercase)),
        )
        .collect();
    let is_recipient = |a: &str| {
        let a = a.to_ascii_lowercase();
        let local = a.split('@').next().unwrap_or_default();
        !own.contains(&a)
            && ![
                "postmaster",
                "mailer-daemon",
                "abuse",
                "hostmaster",
                "webmaster",
                "noreply",
                "no-reply",
            ]
            .contains(&local)
    };
    let mut recipients: Vec<String> = Vec::new();
    for value in message.header_values("X-Failed-Recipients") {
        if let mail_parser::HeaderValue::Text(t) = value {
            recipients.extend(addresses_in(t));
        }
    }
    if recipients.is_empty() {
        for line in explanation.lines() {
            for a in addresses_in(line) {
                let key = a.to_ascii_lowercase();
                if is_recipient(&a) && !recipients.iter().any(|r| r.eq_ignore_ascii_case(&key)) {
                    recipients.push(a);
                }
            }
        }
    }
    if recipients.is_empty() {
        // Only the copy names them: its `To`.
        recipients.extend(quoted.to.iter().filter(|a| is_recipient(a)).cloned());
    }
    let lowered: Vec<String> = recipients.iter().map(|r| r.to_ascii_lowercase()).collect();
    let whole = one_line(explanation, 2000);
    let mut findings = Vec::new();
    for address in &recipients {
        let mut diagnostic = about(explanation, address, &lowered);
        // The whole text speaks for the address when the lines about it
        // give no code or no reason this vocabulary knows, and it is about
        // this address alone; or when they give neither.
        let no_code = status_code(&diagnostic).is_none() && reply_code(&diagnostic).is_none();
        let undetermined = Reason::of(
            &status_code(&diagnostic).unwrap_or_default(),
            reply_code(&diagnostic),
            &diagnostic,
        ) == Reason::Undetermined;
        if (recipients.len() == 1 && (no_code || undetermined)) || (no_code && undetermined) {
            diagnostic = whole.clone();
        }
        let context = if recipients.len() == 1 {
            explanation.to_owned()
        } else {
            format!(
                "{} {}",
                before(explanation, address, &lowered),
                about(explanation, address, &lowered)
            )
        };
        if let Some(found) = finding(Some(address.clone()), None, &diagnostic, &context) {
            findings.push(found);
        }
    }
    if recipients.is_empty()
        && let Some(found) = finding(None, None, &whole, "")
    {
        findings.push(found);
    }
    if findings.is_empty() {
        return Reading::NotABounce;
    }
    report.findings = findings;
    report.original_ids = quoted.ids;
    report.original_links = quoted.links;
    Reading::Report(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_found_in_what_servers_write() {
        assert_eq!(
            status_code("550 5.1.1 <a@b.fr>: user unknown").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(
            status_code("Status: 4.2.2 (mailbox full)").as_deref(),
            Some("4.2.2")
        );
        assert_eq!(status_code("version 10.5.12.3 of 2026"), None);
        assert_eq!(status_code("IP 192.0.2.5 refused"), None);
        assert_eq!(status_code("X-Mailman-Version: 2.1.5.1"), None);
        assert_eq!(reply_code("Remote host said: 552 too big"), Some(552));
        assert_eq!(reply_code("from 192.0.2.250"), None);
    }

    #[test]
    fn addresses_are_read_as_servers_write_them() {
        for (written, address) in [
            ("rfc822; a@example.org", Some("a@example.org")),
            ("rfc822;<a@example.org>", Some("a@example.org")),
            ("a@example.org<mailto:a@example.org>", Some("a@example.org")),
            ("\"Ann\" <a@example.org>", Some("a@example.org")),
            ("X-Unix; |/usr/bin/procmail", None),
            ("rfc822; /var/mail/ann", None),
            ("rfc822; ann", None),
        ] {
            assert_eq!(address_in(written).as_deref(), address, "{written}");
        }
        assert_eq!(
            addresses_in("<<< 550 <a@example.org>: no such user, to=b@example.org."),
            ["a@example.org", "b@example.org"]
        );
    }

    #[test]
    fn any_cut_of_any_report_of_the_corpus_is_read_without_a_panic() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bounces");
        let mut read = 0;
        // The corpus of the integration tests finely, every mail system's
        // layout more coarsely.
        for (corpus, step) in [(root.clone(), 7), (root.join("systems"), 29)] {
            for entry in std::fs::read_dir(corpus).expect("the corpus") {
                let path = entry.expect("entry").path();
                if path.extension().is_none_or(|e| e != "eml") {
                    continue;
                }
                let bytes = std::fs::read(&path).expect("a report");
                for cut in (0..bytes.len()).step_by(step) {
                    let _ = super::read(&bytes[..cut]);
                    let mut flipped = bytes.clone();
                    flipped[cut] ^= 0x80;
                    let _ = super::read(&flipped);
                }
                read += 1;
            }
        }
        assert!(read >= 12 + 80, "{read}");
    }

    /// A report of `fields` (the per-message block, then per-recipient
    /// ones), as a mail system sends it.
    fn dsn(content_type: &str, fields: &str) -> String {
        format!(
            "From: MAILER-DAEMON@mx.example.org\r\nTo: rebonds@example.fr\r\nMessage-ID: <r@mx.example.org>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nWords.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n{fields}\r\n--b--\r\n"
        )
    }

    fn findings(text: &str) -> Vec<(Option<String>, Reason, String)> {
        match super::read(text.as_bytes()) {
            Reading::Report(r) => r
                .findings
                .into_iter()
                .map(|f| (f.address, f.reason, f.status))
                .collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_delivery_report_is_read_wherever_its_fields_are() {
        let one = "Reporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; a@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n";
        let expected = vec![(
            Some("a@example.org".to_owned()),
            Reason::UserUnknown,
            "5.1.1".to_owned(),
        )];
        assert_eq!(findings(&dsn("multipart/report", one)), expected);
        // In a multipart/mixed, as some servers send it.
        assert_eq!(findings(&dsn("multipart/mixed", one)), expected);
        // One block only, naming the recipient.
        let single = "Reporting-MTA: dns; mx.example.org\r\nFinal-Recipient: rfc822; a@example.org\r\nAction: failed (bad address)\r\nStatus: 5.1.1\r\n";
        assert_eq!(findings(&dsn("multipart/report", single)), expected);
        // No recipient at all: broken; only delivered or delayed ones, or
        // a 2.x.x status: a notice, not a bounce.
        assert_eq!(
            super::read(
                dsn("multipart/report", "Reporting-MTA: dns; mx.example.org\r\n").as_bytes()
            ),
            Reading::Malformed("a delivery report that names no recipient".into())
        );
        for notice in [
            one.replace("Action: failed", "Action: delivered")
                .replace("5.1.1", "2.0.0"),
            one.replace("Action: failed", "Action: delayed")
                .replace("5.1.1", "4.4.7"),
            one.replace("5.1.1", "2.1.5"),
        ] {
            assert_eq!(
                super::read(dsn("multipart/report", &notice).as_bytes()),
                Reading::NotABounce,
                "{notice}"
            );
        }
        assert_eq!(
            super::read(b"\r\n\r\nA body and no header."),
            Reading::Malformed("not a message".into())
        );
        assert_eq!(super::read(b""), Reading::Malformed("not a message".into()));
    }

    #[test]
    fn the_bounce_address_is_read_from_delivered_to_and_from_to() {
        let body = "\r\nThis message could not be delivered: 550 5.1.1 user unknown\r\n";
        for header in [
            "Delivered-To: rebonds+abc@example.fr",
            "To: Rebonds <rebonds+abc@example.fr>",
        ] {
            let text = format!(
                "From: MAILER-DAEMON@mx.example.org\r\n{header}\r\nSubject: failure\r\n{body}"
            );
            let Reading::Report(report) = super::read(text.as_bytes()) else {
                panic!("{header}: a report");
            };
            assert_eq!(report.sent_to, ["rebonds+abc@example.fr"], "{header}");
        }
    }

    #[test]
    fn a_plain_bounce_comes_from_a_mail_system_and_says_delivery_failed() {
        let failed = "\r\nYour message could not be delivered.\r\n\r\n<<< 550 Requested action not taken: mailbox unavailable\r\n<kim@example.org>:\r\nGiving up.\r\n";
        let bounce = |headers: &str| {
            super::read(
                format!("{headers}Subject: Returned mail\r\nMessage-ID: <m@x>\r\n{failed}")
                    .as_bytes(),
            )
        };
        for system in [
            "From: MAILER-DAEMON@mx.example.org\r\n",
            "From: MAILER-DAEMON <>\r\n",
            "From: postmaster@mx.example.org\r\n",
            "From: Someone <someone@example.org>\r\nReturn-Path: <>\r\n",
            "From: Someone <someone@example.org>\r\nAuto-Submitted: auto-generated\r\n",
        ] {
            let Reading::Report(report) = bounce(system) else {
                panic!("{system}: a bounce");
            };
            let finding = &report.findings[0];
            assert_eq!(
                finding.address.as_deref(),
                Some("kim@example.org"),
                "{system}"
            );
            assert_eq!(
                (finding.status.as_str(), finding.reason),
                ("5.0.0", Reason::UserUnknown)
            );
        }
        // A person, or a message that says it is not automatic: not a bounce.
        assert_eq!(
            super::read(
                format!("From: Someone <someone@example.org>\r\nSubject: Re: Breves\r\nIn-Reply-To: <a@b>\r\n{failed}").as_bytes()
            ),
            Reading::NotABounce
        );
        assert_eq!(
            super::read(
                format!("From: Someone <someone@example.org>\r\nAuto-Submitted: no\r\nSubject: Hello\r\n{failed}").as_bytes()
            ),
            Reading::NotABounce
        );
    }

    #[test]
    fn line_ends_of_cr_alone_are_read() {
        let text = "From: MAILER-DAEMON@mx.example.org\rSubject: Undelivered Mail\r\rThis message could not be delivered.\r<kim@example.org>: 550 5.1.1 user unknown\r";
        assert_eq!(
            findings(text),
            [(
                Some("kim@example.org".to_owned()),
                Reason::UserUnknown,
                "5.1.1".to_owned()
            )]
        );
    }

    #[test]
    fn report_fields_are_read_in_blocks_and_unfolded() {
        let blocks = field_blocks(
            "Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; a@example.org\nAction: failed\nDiagnostic-Code: smtp; 550 5.1.1\n  user unknown\n",
        );
        assert_eq!(blocks.len(), 2);
        assert_eq!(
            field(&blocks[1], "diagnostic-code"),
            Some("smtp; 550 5.1.1 user unknown")
        );
        assert_eq!(
            address_in(field(&blocks[1], "final-recipient").unwrap_or_default()).as_deref(),
            Some("a@example.org")
        );
    }

    #[test]
    fn an_unknown_user_said_only_after_the_message_was_seen_is_a_filter() {
        let report = |moment: &str| {
            format!(
                "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\r\nTo: rebonds@example.fr\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <r@mx.example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n<a@example.org>: host mx.example.org[192.0.2.1] said: 550 Unknown user\r\n    a@example.org (in reply to {moment}\r\n    command)\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.fr\r\n\r\nFinal-Recipient: rfc822; a@example.org\r\nAction: failed\r\nStatus: 5.0.0\r\nDiagnostic-Code: smtp; 550 Unknown user a@example.org\r\n--b--\r\n"
            )
        };
        let a = Some("a@example.org".to_owned());
        assert_eq!(
            findings(&report("RCPT TO")),
            [(a.clone(), Reason::UserUnknown, "5.0.0".to_owned())]
        );
        assert_eq!(
            findings(&report("end of DATA")),
            [(a, Reason::Filtered, "5.0.0".to_owned())]
        );
    }

    #[test]
    fn a_complaint_names_each_reader_else_the_quoted_recipient() {
        let complaint = |fields: &str, to: &str| {
            format!(
                "From: fbl@example.net\r\nTo: rebonds@example.fr\r\nMessage-ID: <c@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nA complaint.\r\n--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nVersion: 1\r\n{fields}\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: breves@example.fr\r\nTo: {to}\r\nMessage-ID: <m@example.fr>\r\n\r\n--b--\r\n"
            )
        };
        let readers = |text: &str| -> Vec<Option<String>> {
            findings(text).into_iter().map(|(a, _, _)| a).collect()
        };
        assert_eq!(
            readers(&complaint(
                "Original-Rcpt-To: a@example.org\r\nOriginal-Rcpt-To: b@example.org\r\n",
                "x@example.org"
            )),
            [
                Some("a@example.org".to_owned()),
                Some("b@example.org".to_owned())
            ]
        );
        assert_eq!(
            readers(&complaint("", "Ann <a@example.org>")),
            [Some("a@example.org".to_owned())]
        );
        // Redacted: nobody named (the link is the caller's to read).
        assert_eq!(readers(&complaint("", "[redacted]")), [None]);
        // Before ARF, Hotmail's: the message attached, the reader in a
        // header of its own.
        let hotmail = "From: staff@hotmail.com\r\nSubject: complaint about message from 192.0.2.1\r\nTo: rebonds@example.fr\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nX-HmXmrOriginalRecipient: a@example.org\r\nFrom: breves@example.fr\r\nTo: a@example.org\r\nSubject: Breves\r\n\r\nText.\r\n--b--\r\n";
        assert_eq!(
            findings(hotmail),
            [(
                Some("a@example.org".to_owned()),
                Reason::Complaint,
                "abuse".to_owned()
            )]
        );
    }

    #[test]
    fn a_plain_bounce_names_every_failed_recipient_and_none_of_the_senders() {
        let text = "From: MAILER-DAEMON <>\r\nTo: rebonds@example.fr\r\nSubject: failure notice\r\nMessage-ID: <p@mx.example.net>\r\n\r\nI'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n<a@example.org>:\r\n550 5.1.1 no mailbox here by that name\r\n\r\n<b@example.org>:\r\n552 5.2.2 mailbox is full\r\n\r\n--- Below this line is a copy of the message.\r\n\r\nReturn-Path: <breves@example.fr>\r\nMessage-ID: <m@example.fr>\r\nFrom: Breves <breves@example.fr>\r\nTo: a@example.org, b@example.org\r\n\r\nHello c@example.org\r\n";
        assert_eq!(
            findings(text),
            [
                (
                    Some("a@example.org".to_owned()),
                    Reason::UserUnknown,
                    "5.1.1".to_owned()
                ),
                (
                    Some("b@example.org".to_owned()),
                    Reason::MailboxFull,
                    "5.2.2".to_owned()
                ),
            ]
        );
    }
}
