//! Why a message was refused, in a fixed vocabulary, and whom the refusal
//! is about: the address, the state of the mailbox, the sender (its
//! address, its servers, its reputation, its message), or the reader who
//! complained.
//!
//! One classifier serves the relay's replies at send time
//! (`deliver::smtp`) and the reports read afterwards (`bounce`): [`Reason::of`] reads the enhanced status code, the SMTP
//! reply code and the words of the diagnostic. Words decide first, since
//! servers give generic codes (`550 5.0.0`, `554 5.7.1`) to very different
//! refusals; a specific status code decides when the words say nothing
//! this vocabulary knows.
//!
//! Only a reason that says the address is gone ([`Side::Address`])
//! suppresses a reader at once. A temporary state of the mailbox or of its
//! server ([`Side::Mailbox`]) is counted. A refusal about the sender
//! ([`Side::Sender`]) never takes a reader off the list: it is the
//! sender's problem, shown to the editor by receiving domain.

/// Why a message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// No such mailbox at that domain (`5.1.1`).
    UserUnknown,
    /// No such domain, or it cannot be routed to (`5.1.2`).
    HostUnknown,
    /// The reader moved and left a new address (`5.1.6`).
    HasMoved,
    /// The domain accepts no mail at all (a null MX, `5.1.10`).
    NoMail,
    /// The mailbox is full (`5.2.2`, `4.2.2`).
    MailboxFull,
    /// The mailbox is disabled, suspended or inactive for now (`5.2.1`).
    Suspended,
    /// The receiving servers could not be reached within the retry window.
    Expired,
    /// Refused by a filter of the receiving server: words of an unknown
    /// user with neither a status (`5.1.1`) nor a moment (the address
    /// named at `RCPT TO`) that says the address is gone, or a refusal
    /// after the message was seen.
    Filtered,
    /// The receiving system failed, is full or misconfigured, or the
    /// network to it did (DNS, routing loops, dropped connections).
    SystemError,
    /// The sender's server or IP is blocked (blocklists, reputation).
    Blocked,
    /// The message was taken for spam.
    SpamDetected,
    /// Refused by the receiver's policy (a content or organisation rule,
    /// `5.7.1` "delivery not authorized").
    Policy,
    /// SPF, DKIM or DMARC failed, or TLS or authentication was required.
    AuthFailed,
    /// The sending server has no reverse DNS (PTR) or a bad HELO.
    RequirePtr,
    /// The receiving server does not relay for the sender.
    NoRelaying,
    /// The message is larger than the receiver takes.
    TooBig,
    /// Too many messages or connections from the sender for now.
    RateLimited,
    /// The sender's address was refused (`5.1.8`, `5.1.7`).
    SenderRejected,
    /// The message's form or content was refused (headers not compliant
    /// with the RFCs, a virus, a filter on its content).
    ContentRejected,
    /// The reader reported the message as spam.
    Complaint,
    /// A failure whose reason cannot be told.
    Undetermined,
}

/// Whom a refusal is about, which decides what is done about the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The address is gone: the reader is suppressed at once.
    Address,
    /// A state of the mailbox or its server that may pass: counted, and
    /// the reader suppressed once the messages of several issues failed so.
    Mailbox,
    /// The sender, its servers, its message or its authentication: never
    /// held against the reader.
    Sender,
    /// The reader complained: unsubscribed.
    Reader,
}

/// Every reason, in the order the documentation lists them.
pub const ALL: [Reason; 21] = [
    Reason::UserUnknown,
    Reason::HostUnknown,
    Reason::HasMoved,
    Reason::NoMail,
    Reason::MailboxFull,
    Reason::Suspended,
    Reason::Expired,
    Reason::Filtered,
    Reason::SystemError,
    Reason::Blocked,
    Reason::SpamDetected,
    Reason::Policy,
    Reason::AuthFailed,
    Reason::RequirePtr,
    Reason::NoRelaying,
    Reason::TooBig,
    Reason::RateLimited,
    Reason::SenderRejected,
    Reason::ContentRejected,
    Reason::Complaint,
    Reason::Undetermined,
];

impl Reason {
    /// Its name in the ledger and in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::UserUnknown => "user-unknown",
            Reason::HostUnknown => "host-unknown",
            Reason::HasMoved => "has-moved",
            Reason::NoMail => "no-mail",
            Reason::MailboxFull => "mailbox-full",
            Reason::Suspended => "suspended",
            Reason::Expired => "expired",
            Reason::Filtered => "filtered",
            Reason::SystemError => "system-error",
            Reason::Blocked => "blocked",
            Reason::SpamDetected => "spam-detected",
            Reason::Policy => "policy",
            Reason::AuthFailed => "auth-failed",
            Reason::RequirePtr => "require-ptr",
            Reason::NoRelaying => "no-relaying",
            Reason::TooBig => "too-big",
            Reason::RateLimited => "rate-limited",
            Reason::SenderRejected => "sender-rejected",
            Reason::ContentRejected => "content-rejected",
            Reason::Complaint => "complaint",
            Reason::Undetermined => "undetermined",
        }
    }

    /// The reason of that name.
    pub fn parse(name: &str) -> Option<Reason> {
        ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// Whom it is about.
    pub fn side(self) -> Side {
        match self {
            Reason::UserUnknown | Reason::HostUnknown | Reason::HasMoved | Reason::NoMail => {
                Side::Address
            }
            Reason::MailboxFull
            | Reason::Suspended
            | Reason::Expired
            | Reason::Filtered
            | Reason::SystemError
            | Reason::Undetermined => Side::Mailbox,
            Reason::Blocked
            | Reason::SpamDetected
            | Reason::Policy
            | Reason::AuthFailed
            | Reason::RequirePtr
            | Reason::NoRelaying
            | Reason::TooBig
            | Reason::RateLimited
            | Reason::SenderRejected
            | Reason::ContentRejected => Side::Sender,
            Reason::Complaint => Side::Reader,
        }
    }

    /// Why a message failed, from its enhanced status code (`5.1.1`, or
    /// empty), its SMTP reply code (`550`, or none) and what the server
    /// said. The words decide first; then the status code.
    pub fn of(status: &str, reply: Option<u16>, diagnostic: &str) -> Reason {
        let text = normalise(diagnostic);
        let reason = by_words(&text).or_else(|| by_status(status));
        if let Some(reason) = reason {
            // A temporary status never says an address is gone for good:
            // a server that could not look it up now.
            if status.starts_with('4') && reason.side() == Side::Address {
                return Reason::SystemError;
            }
            return reason;
        }
        match reply {
            Some(552) => Reason::TooBig,
            Some(421) => Reason::SystemError,
            Some(450..=452) => Reason::SystemError,
            _ => Reason::Undetermined,
        }
    }
}

/// Lowercase, every run of white space one space, curly quotes straight,
/// and every address and host name one placeholder: an address's or a
/// host's name is not words (`filtered@example.org`, `mx.akadns.net`).
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for token in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        let bare = token.trim_matches(|c: char| !c.is_alphanumeric());
        if bare.contains('@') {
            out.push_str("<address>");
        } else if is_host(bare) {
            out.push_str("<host>");
        } else {
            for c in token.chars() {
                match c {
                    '\u{2018}' | '\u{2019}' => out.push('\''),
                    c => out.extend(c.to_lowercase()),
                }
            }
        }
    }
    out
}

/// Whether `word` is a host name: labels of letters, digits and hyphens,
/// the last of letters; three labels or more, or two of which the last
/// is a common top-level domain (`mx2.example.org`, `example.com`; not
/// `5.1.1`, `e.g` or two sentences without a space, `unknown.Please`).
fn is_host(word: &str) -> bool {
    const COMMON: &[&str] = &[
        "com", "org", "net", "edu", "gov", "int", "mil", "info", "biz", "io", "fr", "uk", "de",
        "jp", "it", "es", "nl", "be", "ch", "ru", "cn", "br", "au", "ca", "us", "eu",
    ];
    let labels: Vec<&str> = word.split('.').collect();
    let Some(last) = labels.last() else {
        return false;
    };
    labels
        .iter()
        .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        && last.len() >= 2
        && last.bytes().all(|b| b.is_ascii_alphabetic())
        && (labels.len() >= 3
            || (labels.len() == 2 && COMMON.contains(&last.to_ascii_lowercase().as_str())))
}

/// What servers write, by reason, in the order they are tried: the
/// sender's problems that use words about the recipient come first
/// ("recipient address rejected: access denied" is a policy), then the
/// address gone, the mailbox's states, and the rest.
const WORDS: &[(Reason, &[&str])] = &[
    (
        Reason::AuthFailed,
        &[
            "spf check",
            "spf fail",
            "spf validation",
            "spf record",
            "sender policy framework",
            "dkim fail",
            "dkim signature",
            "dmarc",
            "authentication required",
            "authentication failure",
            "not authenticated",
            "unauthenticated",
            "starttls is required",
            "tls required",
            "must issue a starttls",
            "must be authenticated",
            "5.7.26",
            "5.7.27",
            "5.7.509",
            "5.7.510",
            "5.7.515",
            "sender domain has no valid",
            "did not pass authentication",
            "authenticity of",
        ],
    ),
    (
        Reason::RequirePtr,
        &[
            "reverse dns",
            "reverse lookup",
            "ptr record",
            "no ptr",
            "rdns",
            "cannot find your hostname",
            "cannot resolve your address",
            "unable to resolve your",
            "client host rejected: cannot find",
            "reverse hostname",
            "5.7.25",
            "helo command rejected",
            "invalid helo",
            "bad helo",
        ],
    ),
    (
        Reason::NoRelaying,
        &[
            "relay access denied",
            "relaying denied",
            "relay not permitted",
            "relaying not allowed",
            "relay denied",
            "not permitted to relay",
            "unable to relay",
            "we do not relay",
            "no relaying",
            "not allowed to relay",
            "relay not allowed",
            "relaying mail to",
            "is not allowed to relay",
            "isn't in my list of allowed rcpthosts",
            "not in my list of allowed rcpthosts",
            "5.7.64",
        ],
    ),
    (
        Reason::SenderRejected,
        &[
            "sender address rejected",
            "sender rejected",
            "sender domain",
            "sender address domain",
            "domain of sender address",
            "invalid sender",
            "sender is not allowed",
            "sender verify failed",
            "sender verification",
            "sender address is not",
            "mail from not",
            "from address is not",
            "bogus mail from",
            "envelope blocked",
            "null sender",
            "empty envelope sender",
            "mailbox is not subscribed",
            "not on the recipient's list of senders",
            "list of senders to accept mail from",
            "address not verified",
            "email address is not verified",
            "batv",
            "sender blacklisted",
            "sender is in my black list",
            "5.1.8",
            "5.1.7",
        ],
    ),
    (
        Reason::RateLimited,
        &[
            "rate limit",
            "ratelimit",
            "rate-limit",
            "too many messages",
            "too many connections",
            "too many concurrent",
            "too many recipients",
            "too many emails",
            "too much mail",
            "sending rate",
            "sending too fast",
            "unusual rate",
            "temporarily deferred",
            "temporarily rejected due to high",
            "try again later",
            "exceeded the limit",
            "throttl",
            "4.7.28",
            "4.7.650",
            "5.4.310",
        ],
    ),
    // Blocklists, whose names hold the word "spam".
    (
        Reason::Blocked,
        &[
            "blocked using",
            "spamhaus",
            "spamcop",
            "dnsbl",
            "blocklist",
            "blacklist",
            "listed at",
            "listed in",
        ],
    ),
    (
        Reason::SpamDetected,
        &[
            "spam",
            "junk mail",
            "unsolicited",
            "bulk mail",
            "content filter",
            "content rejected",
            "looks like",
            "message content",
            "suspicious",
            "high probability",
            "scored",
            "phishing",
        ],
    ),
    (
        Reason::Blocked,
        &[
            "blocked using",
            "blocklist",
            "block list",
            "blacklist",
            "black list",
            "banned",
            "dnsbl",
            "rbl",
            "spamhaus",
            "spamcop",
            "barracuda reputation",
            "reputation",
            "client host rejected",
            "client host blocked",
            "your ip",
            "ip address",
            "ip name",
            "sending ip",
            "dynamic ip",
            "listed at",
            "listed in",
            "listed by",
            "access denied",
            "connection refused",
            "connection dropped",
            "not accepting mail from",
            "mail from your",
            "not allowed to send",
            "poor reputation",
            "rejected because of",
            "5.7.606",
            "5.7.1 service unavailable",
            "554 5.7.1 service unavailable",
            "refused to talk",
            "go away",
            "you are not allowed",
            "blocked",
        ],
    ),
    (
        Reason::TooBig,
        &[
            "message too big",
            "message too large",
            "message is too large",
            "message is too big",
            "message size exceeds",
            "message size",
            "size limit",
            "exceeds the maximum size",
            "exceeds size limit",
            "exceeded the maximum message size",
            "larger than",
            "too large",
            "message length exceeds",
            "mail size",
        ],
    ),
    (
        Reason::ContentRejected,
        &[
            "virus",
            "malware",
            "infected",
            "attachment",
            "not compliant with rfc",
            "rfc 5322",
            "rfc5322",
            "rfc 2822",
            "rfc2822",
            "rfc compliant",
            "header error",
            "headers are not",
            "header are not",
            "message-id",
            "duplicate header",
            "multiple addresses in from",
            "syntax error",
            "content",
            "filtered",
            "filter",
            "not accept mail with",
            "executable",
        ],
    ),
    (
        Reason::Policy,
        &[
            "policy",
            "administrative prohibition",
            "prohibited",
            "not authorized",
            "unauthorized",
            "not permitted",
            "denied",
            "refused by",
            "organization",
            "organisation",
            "members-only",
            "closed mailing list",
            "not allowed",
            "restricted",
            "you don't have permission",
            "not have permission",
            "doesn't have permission",
            "does not have permission",
        ],
    ),
];

/// The address gone, the mailbox's states, the receiving system: read
/// after the sender's problems when the words name no recipient first,
/// and before them when they do (see [`by_words`]).
const RECIPIENT_WORDS: &[(Reason, &[&str])] = &[
    // How some systems say an address does not exist, in words that
    // elsewhere mean a state of the mailbox.
    (
        Reason::UserUnknown,
        &["inactive email address", "check if address is correct"],
    ),
    // A group that "may not exist, or may not let you post" (Google
    // Groups): no proof that the address is gone.
    (
        Reason::Policy,
        &[
            "may not exist, or you may not have permission",
            "ou que vous ne soyez pas autoris",
        ],
    ),
    // A name server that failed to answer, or a delivery program that
    // failed to write: whatever else the line says of the address.
    (
        Reason::SystemError,
        &[
            "host not found, try again",
            "malformed or unexpected name server reply",
            "couldn't create",
            "could not create",
            "cannot create",
        ],
    ),
    (
        Reason::HasMoved,
        &[
            "has moved",
            "address changed",
            "is now at",
            "forwarding address",
        ],
    ),
    (
        Reason::NoMail,
        &[
            "does not accept mail",
            "doesn't accept mail",
            "null mx",
            "nullmx",
            "accepts no mail",
            "mail receiving disabled",
            "indicated no smtp service",
        ],
    ),
    (
        Reason::Suspended,
        &[
            "account suspended",
            "mailbox suspended",
            "user suspended",
            "suspended account",
            "has been suspended",
            "is suspended",
            "currently suspended",
            "disabled",
            "deactivated",
            "inactive",
            "not active",
            "is locked",
            "account locked",
            "temporarily locked",
            "temporary locked",
            "frozen",
            "archived",
            "expired account",
            "account has expired",
            "account expired",
            "terminated",
            "discontinued",
            "blocked mailbox",
            "is unavailable for",
        ],
    ),
    (
        Reason::MailboxFull,
        &[
            "mailbox full",
            "mailbox is full",
            "is full",
            "quota",
            "over quota",
            "insufficient disk",
            "insufficient storage",
            "not enough space",
            "not enough storage",
            "storage space",
            "disk space",
            "out of storage",
            "storage allocation",
            "mailfolder is full",
            "full mailbox",
            "exceeds the limit of the mailbox",
            "mailbox size limit",
            "mailbox has exceeded",
        ],
    ),
    (
        Reason::UserUnknown,
        &[
            "user unknown",
            "unknown user",
            "no such user",
            "no such mailbox",
            "no such recipient",
            "no such address",
            "no such person",
            "unknown recipient",
            "recipient unknown",
            "unknown mailbox",
            "unknown address",
            "address unknown",
            "invalid recipient",
            "invalid mailbox",
            "invalid address",
            "invalid user",
            "user invalid",
            "mailbox not found",
            "mailbox unavailable",
            "mailbox is unavailable",
            "mailbox does not exist",
            "mailbox doesn't exist",
            "mailbox not available",
            "recipient not found",
            "recipient does not exist",
            "recipient doesn't exist",
            "recipient address rejected",
            "recipient rejected",
            "recipient not exist",
            "user not found",
            "user does not exist",
            "user doesn't exist",
            "user not exist",
            "user not known",
            "user not local",
            "not a valid mailbox",
            "not a valid user",
            "not a valid recipient",
            "is not a known user",
            "address does not exist",
            "address doesn't exist",
            "account does not exist",
            "account doesn't exist",
            "does not exist",
            "doesn't exist",
            "no longer valid",
            "no longer exists",
            "no longer in use",
            "no longer accepts",
            "no mailbox",
            "no account",
            "not found in directory",
            "couldn't be found",
            "address wasn't found",
            "address was not found",
            "illegal alias",
            "invalid final delivery userid",
            "user doesn't have a",
            "ディレクトリには見つかりません",
            "ディレクトリのリストにありません",
            "could not be found",
            "recipnotfound",
            "recipient notfound",
            "address rejected",
            "bad address",
            "bad recipient",
            "badrcptto",
            "not listed in",
            "no valid recipients",
            "unrouteable address",
            "unknown local part",
            "there is no one at this address",
            "utilisateur inconnu",
            "adresse inconnue",
            "n'existe pas",
            "destinataire inconnu",
            "nessun utente",
            "existiert nicht",
            "unbekannt",
        ],
    ),
    (
        Reason::HostUnknown,
        &[
            "host unknown",
            "unknown host",
            "couldn't find a mail exchanger",
            "could not find a mail exchanger",
            "host not found",
            "domain not found",
            "no such domain",
            "domain does not exist",
            "domain doesn't exist",
            "domain name not found",
            "name or service not known",
            "unroutable",
            "unrouteable",
            "domain is not reachable",
            "mail domain mentioned",
            "unknown domain",
            "no mx",
            "hostname not found",
            "nxdomain",
            "domain must exist",
            "host or domain name not found",
            "non-existent host",
        ],
    ),
    (
        Reason::Expired,
        &[
            "expired",
            "retry timeout",
            "retry time not reached",
            "too long in the queue",
            "in the queue too long",
            "been delayed",
            "timed out",
            "timeout",
            "giving up",
            "gave up",
            "could not be delivered for",
            "have been failing for a long time",
            "failing for a long time",
            "not reachable within",
            "after multiple retries",
            "delivery time",
            "message expired",
        ],
    ),
    (
        Reason::SystemError,
        &[
            "system error",
            "local error",
            "internal error",
            "server error",
            "temporary failure",
            "temporary error",
            "temporarily unavailable",
            "service unavailable",
            "system not accepting",
            "insufficient system",
            "mail loop",
            "routing loop",
            "too many hops",
            "loops back",
            "loop detected",
            "dns error",
            "dns failure",
            "dns lookup",
            "dns query",
            "dns problem",
            "dns server",
            "name server",
            "connection reset",
            "lost connection",
            "network",
            "unable to connect",
            "could not connect",
            "can't connect",
            "cannot connect",
            "mailer error",
            "pipe to",
            "command died",
            "exit code",
            "i/o error",
            "configuration error",
            "misconfigured",
            "not available",
        ],
    ),
];

/// The first reason of `table` whose words `text` holds.
fn first_match(text: &str, table: &[(Reason, &[&str])]) -> Option<Reason> {
    table
        .iter()
        .find(|(_, words)| words.iter().any(|w| text.contains(w)))
        .map(|(reason, _)| *reason)
}

/// The reason the words of a diagnostic give, if any.
fn by_words(text: &str) -> Option<Reason> {
    if text.is_empty() {
        return None;
    }
    let sender = first_match(text, WORDS);
    let recipient = first_match(text, RECIPIENT_WORDS);
    match (sender, recipient) {
        (None, recipient) => recipient,
        (sender, None) => sender,
        (Some(sender), Some(recipient)) => {
            // Both speak: whichever phrase comes first in the diagnostic
            // is what the server refused, unless the sender's is about
            // authentication, relaying or the sender's address, which
            // servers often word with the recipient's.
            // Words of the receiving system's state ("service
            // unavailable", "timed out") only frame the sender's.
            if matches!(
                sender,
                Reason::AuthFailed
                    | Reason::RequirePtr
                    | Reason::NoRelaying
                    | Reason::SenderRejected
            ) || matches!(recipient, Reason::SystemError | Reason::Expired)
            {
                return Some(sender);
            }
            let at = |table: &[(Reason, &[&str])], reason: Reason| {
                table
                    .iter()
                    .filter(|(r, _)| *r == reason)
                    .flat_map(|(_, words)| words.iter())
                    .filter_map(|w| text.find(w))
                    .min()
                    .unwrap_or(usize::MAX)
            };
            if at(RECIPIENT_WORDS, recipient) <= at(WORDS, sender) {
                Some(recipient)
            } else {
                Some(sender)
            }
        }
    }
}

/// The reason a status code gives when it is specific, none when it is
/// generic (`x.0.0`, `5.7.1`).
fn by_status(status: &str) -> Option<Reason> {
    let mut parts = status.splitn(3, '.');
    let (class, subject, detail) = (parts.next()?, parts.next()?, parts.next()?);
    let detail: u16 = detail.parse().ok()?;
    let permanent = class == "5";
    Some(match (subject, detail) {
        ("1", 1 | 3) => {
            if permanent {
                Reason::UserUnknown
            } else {
                // A 4.1.1 is a server that could not check the address now.
                Reason::SystemError
            }
        }
        ("1", 2) => Reason::HostUnknown,
        ("1", 4 | 5) => Reason::UserUnknown,
        ("1", 6) => Reason::HasMoved,
        ("1", 7 | 8) => Reason::SenderRejected,
        ("1", 10) => Reason::NoMail,
        ("2", 1) => Reason::Suspended,
        ("2", 2) => Reason::MailboxFull,
        ("2", 3) | ("3", 4) => Reason::TooBig,
        ("3", _) => Reason::SystemError,
        ("4", 1 | 2 | 3 | 5 | 6) => Reason::SystemError,
        ("4", 4) => Reason::HostUnknown,
        ("4", 7) => Reason::Expired,
        ("5", _) => Reason::SystemError,
        ("6", _) => Reason::ContentRejected,
        ("7", 0..=3) => Reason::Policy,
        ("7", 7) => Reason::ContentRejected,
        ("7", 23..=27) => Reason::AuthFailed,
        ("7", _) => Reason::Policy,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_one_name_and_one_side() {
        for reason in ALL {
            assert_eq!(Reason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(Reason::parse("nothing"), None);
    }

    #[test]
    fn words_decide_first_then_the_status_and_a_temporary_status_never_says_gone() {
        use Reason::*;
        for (status, reply, said, reason) in [
            // The address gone.
            (
                "5.1.1",
                Some(550),
                "550 5.1.1 <a@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
                UserUnknown,
            ),
            (
                "5.0.0",
                Some(550),
                "550 Unknown user a@example.org",
                UserUnknown,
            ),
            (
                "5.1.2",
                None,
                "Host or domain name not found. Name service error",
                HostUnknown,
            ),
            (
                "5.1.10",
                Some(556),
                "556 5.1.10 Recipient address has null MX: the domain does not accept mail",
                NoMail,
            ),
            ("5.1.6", None, "550 5.1.6 recipient has moved", HasMoved),
            // States of the mailbox.
            ("5.2.2", Some(552), "552 5.2.2 Mailbox full", MailboxFull),
            (
                "5.2.1",
                Some(550),
                "550 5.2.1 The email account that you tried to reach is disabled.",
                Suspended,
            ),
            ("4.4.7", None, "delivery time expired", Expired),
            // A temporary status is never the address gone.
            (
                "4.1.1",
                Some(450),
                "450 4.1.1 <a@example.org>: Recipient address rejected: User unknown",
                SystemError,
            ),
            // The sender, in words about the recipient too.
            (
                "5.7.1",
                Some(554),
                "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
                Blocked,
            ),
            (
                "5.7.1",
                Some(550),
                "550 5.7.1 Message rejected as spam by Content Filtering.",
                SpamDetected,
            ),
            (
                "5.7.26",
                Some(550),
                "550 5.7.26 This message does not have authentication information or fails to pass authentication checks (SPF or DKIM)",
                AuthFailed,
            ),
            (
                "5.7.1",
                Some(554),
                "554 5.7.1 <a@example.org>: Relay access denied",
                NoRelaying,
            ),
            (
                "5.1.8",
                Some(553),
                "553 5.1.8 <breves@example.fr>: Sender address rejected: Domain not found",
                SenderRejected,
            ),
            (
                "5.3.4",
                Some(552),
                "552 5.3.4 Message size exceeds fixed limit",
                TooBig,
            ),
            (
                "4.7.28",
                Some(421),
                "421 4.7.28 Our system has detected an unusual rate of unsolicited mail",
                RateLimited,
            ),
            (
                "5.7.25",
                Some(550),
                "550 5.7.25 The IP address sending this message does not have a PTR record setup",
                RequirePtr,
            ),
            (
                "5.7.1",
                Some(550),
                "550 5.7.1 Delivery not authorized, message refused by policy",
                Policy,
            ),
            // No words known: the status, then the reply code.
            ("5.1.1", None, "", UserUnknown),
            ("5.2.2", None, "#5.2.2 X", MailboxFull),
            ("", Some(552), "552 whatever", TooBig),
            ("5.0.0", Some(550), "550 rejected", Undetermined),
        ] {
            assert_eq!(Reason::of(status, reply, said), reason, "{status} {said}");
        }
    }

    #[test]
    fn addresses_and_host_names_are_not_read_as_words() {
        // `filtered@…` is no filter, `….akadns.net` no DNS failure.
        assert_eq!(
            Reason::of(
                "5.2.1",
                Some(550),
                "550 5.2.1 <filtered@example.org>... User Unknown"
            ),
            Reason::UserUnknown
        );
        assert_eq!(
            Reason::of(
                "5.1.1",
                Some(550),
                "host mx2.mail.example.com.akadns.net [192.0.2.1]: 550 5.1.1 unknown or illegal alias"
            ),
            Reason::UserUnknown
        );
        assert_eq!(
            normalise("User unknown.Please see e.g. example.org and mx.example.co.jp."),
            "user unknown.please see e.g. <host> and <host>"
        );
    }
}
