//! Reading one message from a bounce mailbox: a delivery status
//! notification (RFC 3464), a complaint (ARF, RFC 5965), one of the
//! common bounces written as plain text (Exim, qmail, older Exchange), or
//! none of these (left alone).
//!
//! mail-parser reads the message; the report parts' fields, which are
//! headers in blocks (RFC 3464 §2), are read here from their raw text.

use mail_parser::{MessageParser, MimeHeaders};

/// What a failure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The address cannot be delivered to (5.x.x: no such user).
    Permanent,
    /// Not now (4.x.x: mailbox full, server busy).
    Temporary,
    /// The reader reported the message as spam.
    Complaint,
}

impl Kind {
    /// Its name in the ledger.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Permanent => "permanent",
            Kind::Temporary => "temporary",
            Kind::Complaint => "complaint",
        }
    }
}

/// How a report was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `multipart/report; report-type=delivery-status`.
    Dsn,
    /// `multipart/report; report-type=feedback-report`.
    Arf,
    /// A bounce in plain text.
    Plain,
}

/// One recipient a report is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The address the report names, when it names one.
    pub address: Option<String>,
    /// What happened.
    pub kind: Kind,
    /// The enhanced status code (`5.1.1`), or the feedback type (`abuse`).
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
    /// The Message-ID of the message that bounced, when the report quotes
    /// it.
    pub original_id: Option<String>,
    /// The unsubscription links of the message that bounced, when the
    /// report quotes its headers (complaints often hide the address).
    pub original_links: Vec<String>,
    /// Who failed, and how.
    pub findings: Vec<Finding>,
}

/// What a message of the bounce mailbox is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// A report, about at least one recipient.
    Report(Report),
    /// Not a bounce nor a complaint: left alone.
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
        } else if let Some((name, value)) = line.split_once(':') {
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

/// `rfc822; a@example.org` → `a@example.org`.
fn address_field(value: &str) -> String {
    let value = value.split_once(';').map_or(value, |(_, a)| a);
    value.trim().trim_matches(['<', '>']).to_owned()
}

/// The first enhanced status code (`5.1.1`) in `text`.
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
        let detail: String = detail.chars().take_while(char::is_ascii_digit).collect();
        let ok = class.len() == 1
            && (1..=3).contains(&subject.len())
            && subject.bytes().all(|b| b.is_ascii_digit())
            && (1..=3).contains(&detail.len());
        if ok {
            return Some(format!("{class}.{subject}.{detail}"));
        }
    }
    None
}

/// The first basic SMTP reply code of a failure (`550`), as a status.
fn smtp_code(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 3 && matches!(w.as_bytes()[0], b'4' | b'5'))
        .map(|w| format!("{}.0.0", &w[..1]))
}

fn kind_of(status: &str, action: Option<&str>) -> Kind {
    if status.starts_with('5') && action.is_none_or(|a| a.eq_ignore_ascii_case("failed")) {
        Kind::Permanent
    } else {
        Kind::Temporary
    }
}

/// Message-IDs and unsubscription links quoted from the original message's
/// headers.
fn quoted_original(text: &str) -> (Option<String>, Vec<String>) {
    let blocks = field_blocks(text);
    let headers = blocks.first().map(Vec::as_slice).unwrap_or_default();
    let id = field(headers, "message-id").map(|v| v.trim().to_owned());
    let links = field(headers, "list-unsubscribe")
        .map(|v| {
            v.split(',')
                .map(|l| l.trim().trim_matches(['<', '>']).to_owned())
                .filter(|l| l.starts_with("http"))
                .collect()
        })
        .unwrap_or_default();
    (id, links)
}

/// Words a plain bounce says, in the languages of the servers it comes from.
const FAILURE_WORDS: &[&str] = &[
    "could not be delivered",
    "couldn't be delivered",
    "delivery has failed",
    "undeliverable",
    "undelivered",
    "permanent error",
    "address(es) failed",
    "user unknown",
    "unknown user",
    "does not exist",
    "no such user",
    "mailbox unavailable",
    "mailbox is full",
    "quota exceeded",
    "i'm afraid i wasn't able to deliver",
    "n'a pas pu être remis",
];

/// Reads one message of a bounce mailbox.
pub fn read(bytes: &[u8]) -> Reading {
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
    let mut sent_to: Vec<String> = Vec::new();
    for name in ["Delivered-To", "X-Original-To", "Envelope-To", "To"] {
        for value in message.header_values(name) {
            let text = match value {
                mail_parser::HeaderValue::Address(a) => a
                    .iter()
                    .filter_map(|a| a.address().map(str::to_owned))
                    .collect::<Vec<_>>(),
                mail_parser::HeaderValue::Text(t) => {
                    vec![t.trim().trim_matches(['<', '>']).to_owned()]
                }
                _ => Vec::new(),
            };
            sent_to.extend(text);
        }
    }
    let report_type = message
        .content_type()
        .filter(|ct| {
            ct.ctype().eq_ignore_ascii_case("multipart")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("report"))
        })
        .and_then(|ct| ct.attribute("report-type").map(str::to_ascii_lowercase));
    let raw = |part: &mail_parser::MessagePart<'_>| {
        let (start, end) = (
            part.raw_body_offset() as usize,
            part.raw_end_offset() as usize,
        );
        String::from_utf8_lossy(bytes.get(start..end).unwrap_or_default()).into_owned()
    };
    let part_of = |subtypes: &[&str]| {
        message.parts.iter().find(|p| {
            p.content_type().is_some_and(|ct| {
                let sub = ct.subtype().unwrap_or_default().to_ascii_lowercase();
                subtypes
                    .iter()
                    .any(|s| *s == format!("{}/{sub}", ct.ctype().to_ascii_lowercase()))
            })
        })
    };
    let (original_id, original_links) = part_of(&[
        "message/rfc822",
        "text/rfc822-headers",
        "message/global",
        "message/global-headers",
    ])
    .map(|p| quoted_original(&raw(p)))
    .unwrap_or_default();
    let mut report = Report {
        id,
        date,
        format: Format::Plain,
        sent_to,
        original_id,
        original_links,
        findings: Vec::new(),
    };
    match report_type.as_deref() {
        Some("delivery-status") => {
            let Some(part) =
                part_of(&["message/delivery-status", "message/global-delivery-status"])
            else {
                return Reading::Malformed(
                    "a delivery report without its message/delivery-status part".into(),
                );
            };
            report.format = Format::Dsn;
            let blocks = field_blocks(&raw(part));
            // The first block is about the message; the others, one per
            // recipient.
            for block in blocks.iter().skip(1) {
                let Some(recipient) =
                    field(block, "final-recipient").or_else(|| field(block, "original-recipient"))
                else {
                    continue;
                };
                let action = field(block, "action");
                if action.is_some_and(|a| {
                    ["delivered", "relayed", "expanded"]
                        .iter()
                        .any(|x| a.eq_ignore_ascii_case(x))
                }) {
                    continue;
                }
                let diagnostic = field(block, "diagnostic-code")
                    .map(address_field)
                    .unwrap_or_default();
                let Some(status) = field(block, "status").and_then(status_code) else {
                    return Reading::Malformed(format!(
                        "the report about {} has no status code",
                        address_field(recipient)
                    ));
                };
                report.findings.push(Finding {
                    address: Some(address_field(recipient)),
                    kind: kind_of(&status, action),
                    status,
                    diagnostic,
                });
            }
            if report.findings.is_empty() {
                if blocks.len() < 2 {
                    return Reading::Malformed("a delivery report that names no recipient".into());
                }
                // Delivered, relayed: a success notice, not a bounce.
                return Reading::NotABounce;
            }
            Reading::Report(report)
        }
        Some("feedback-report") => {
            let Some(part) = part_of(&["message/feedback-report"]) else {
                return Reading::Malformed(
                    "a complaint without its message/feedback-report part".into(),
                );
            };
            report.format = Format::Arf;
            let blocks = field_blocks(&raw(part));
            let fields = blocks.first().map(Vec::as_slice).unwrap_or_default();
            let Some(feedback) = field(fields, "feedback-type") else {
                return Reading::Malformed("a complaint without its Feedback-Type".into());
            };
            report.findings.push(Finding {
                address: field(fields, "original-rcpt-to").map(address_field),
                kind: Kind::Complaint,
                status: feedback.to_ascii_lowercase(),
                diagnostic: field(fields, "arrival-date").unwrap_or_default().to_owned(),
            });
            Reading::Report(report)
        }
        _ => plain(&message, report),
    }
}

/// A bounce written as plain text, if it is one: from a mail system (an
/// empty envelope sender, MAILER-DAEMON or postmaster, or Auto-Submitted),
/// saying that delivery failed.
fn plain(message: &mail_parser::Message<'_>, mut report: Report) -> Reading {
    let from = message
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let return_path = message
        .header_raw("Return-Path")
        .map(|r| r.trim().to_owned())
        .unwrap_or_default();
    let automatic = message
        .header_raw("Auto-Submitted")
        .is_some_and(|a| !a.trim().eq_ignore_ascii_case("no"));
    let from_a_system = from.starts_with("mailer-daemon@")
        || from.starts_with("postmaster@")
        || return_path == "<>"
        || automatic;
    let text = message
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default();
    let lower = text.to_lowercase();
    if !from_a_system || !FAILURE_WORDS.iter().any(|w| lower.contains(w)) {
        return Reading::NotABounce;
    }
    // The address that failed: on the line after Exim's "failed:", or
    // qmail's `<address>:`, or any address in angle brackets that is not
    // the bounce's own.
    let mut address = None;
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let l = line.trim();
        let lower_line = l.to_lowercase();
        if lower_line.contains("address(es) failed")
            || lower_line.contains("failed to these recipients")
        {
            address = lines[i + 1..]
                .iter()
                .map(|l| l.trim())
                .find(|l| !l.is_empty())
                .map(|l| {
                    l.split_whitespace()
                        .next()
                        .unwrap_or(l)
                        .trim_matches(['<', '>', ':'])
                        .to_owned()
                });
            break;
        }
        if l.starts_with('<') && l.contains(">:") {
            address = l
                .split_once(">:")
                .map(|(a, _)| a.trim_start_matches('<').to_owned());
            break;
        }
    }
    let status = status_code(&text)
        .or_else(|| smtp_code(&text))
        .unwrap_or_else(|| {
            if lower.contains("permanent") {
                "5.0.0"
            } else {
                "4.0.0"
            }
            .to_owned()
        });
    let diagnostic = lines
        .iter()
        .map(|l| l.trim())
        .find(|l| status_code(l).is_some() || smtp_code(l).is_some())
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    report.findings.push(Finding {
        address,
        kind: kind_of(&status, None),
        status,
        diagnostic,
    });
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
        assert_eq!(
            smtp_code("Remote host said: 552 too big").as_deref(),
            Some("5.0.0")
        );
    }

    #[test]
    fn any_cut_of_any_report_of_the_corpus_is_read_without_a_panic() {
        let corpus =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bounces");
        let mut read = 0;
        for entry in std::fs::read_dir(corpus).expect("the corpus") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "eml") {
                continue;
            }
            let bytes = std::fs::read(&path).expect("a report");
            for cut in (0..bytes.len()).step_by(7) {
                let _ = super::read(&bytes[..cut]);
                let mut flipped = bytes.clone();
                flipped[cut] ^= 0x80;
                let _ = super::read(&flipped);
            }
            read += 1;
        }
        assert_eq!(read, 12);
    }

    #[test]
    fn an_exchange_report_in_plain_text_names_the_address_after_its_sentence() {
        let text = "From: postmaster@example.com\r\nAuto-Submitted: auto-replied\r\nSubject: Undeliverable: Breves\r\nMessage-ID: <x@example.com>\r\n\r\nDelivery has failed to these recipients or groups:\r\n\r\nkim@example.org\r\nThe e-mail address you entered couldn't be found.\r\n#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##\r\n";
        let Reading::Report(report) = super::read(text.as_bytes()) else {
            panic!("a report");
        };
        assert_eq!(
            report.findings[0].address.as_deref(),
            Some("kim@example.org")
        );
        assert_eq!(report.findings[0].status, "5.1.1");
        assert_eq!(report.findings[0].kind, Kind::Permanent);
    }

    /// A report of `fields` (the per-message block, then per-recipient
    /// ones), as a mail system sends it.
    fn dsn(content_type: &str, fields: &str) -> String {
        format!(
            "From: MAILER-DAEMON@mx.example.org\r\nTo: rebonds@example.fr\r\nMessage-ID: <r@mx.example.org>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nWords.\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n{fields}\r\n--b--\r\n"
        )
    }

    #[test]
    fn a_report_must_be_a_multipart_report_that_names_a_recipient() {
        let one = "Reporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; a@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n";
        assert!(matches!(
            super::read(dsn("multipart/report", one).as_bytes()),
            Reading::Report(_)
        ));
        // A delivery-status part in a multipart/mixed is not a report.
        assert_eq!(
            super::read(dsn("multipart/mixed", one).as_bytes()),
            Reading::NotABounce
        );
        // No recipient at all: broken; only delivered ones: a success notice.
        assert_eq!(
            super::read(
                dsn("multipart/report", "Reporting-MTA: dns; mx.example.org\r\n").as_bytes()
            ),
            Reading::Malformed("a delivery report that names no recipient".into())
        );
        let delivered = one
            .replace("Action: failed", "Action: delivered")
            .replace("5.1.1", "2.0.0");
        assert_eq!(
            super::read(dsn("multipart/report", &delivered).as_bytes()),
            Reading::NotABounce
        );
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
            "From: postmaster@mx.example.org\r\n",
            "From: Someone <someone@example.org>\r\nReturn-Path: <>\r\n",
            "From: Someone <someone@example.org>\r\nAuto-Submitted: auto-generated\r\n",
        ] {
            let Reading::Report(report) = bounce(system) else {
                panic!("{system}: a bounce");
            };
            let finding = &report.findings[0];
            // qmail's `<address>:`, not a transcript's `<<<` line.
            assert_eq!(
                finding.address.as_deref(),
                Some("kim@example.org"),
                "{system}"
            );
            assert_eq!(
                (finding.status.as_str(), finding.kind),
                ("5.0.0", Kind::Permanent)
            );
            assert_eq!(
                finding.diagnostic,
                "<<< 550 Requested action not taken: mailbox unavailable"
            );
        }
        // A person, or a message that says it is not automatic: not a bounce.
        assert_eq!(
            bounce("From: Someone <someone@example.org>\r\n"),
            Reading::NotABounce
        );
        assert_eq!(
            bounce("From: Someone <someone@example.org>\r\nAuto-Submitted: no\r\n"),
            Reading::NotABounce
        );
    }

    #[test]
    fn only_a_5_that_failed_is_permanent() {
        assert_eq!(kind_of("5.1.1", Some("failed")), Kind::Permanent);
        assert_eq!(kind_of("5.0.0", None), Kind::Permanent);
        // Postfix gives up on a 4.4.7 with `Action: failed`: still a
        // temporary failure, counted.
        assert_eq!(kind_of("4.4.7", Some("failed")), Kind::Temporary);
        assert_eq!(kind_of("4.2.2", None), Kind::Temporary);
        assert_eq!(kind_of("5.2.2", Some("delayed")), Kind::Temporary);
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
            address_field(field(&blocks[1], "final-recipient").unwrap_or_default()),
            "a@example.org"
        );
    }
}
