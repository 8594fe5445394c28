//! Delivery through an SMTP relay, one transaction and one recipient per
//! message.
//!
//! A [`RelayConfig`] is read from a URL: `smtps://host:465` (TLS from the
//! first byte), `smtp://host:587` (STARTTLS, required: a relay that does not
//! offer it gets neither credentials nor mail), or
//! `smtp://127.0.0.1:2525?tls=none`, allowed only to a loopback address.
//! Certificates are verified against the system's roots, plus one extra
//! authority when given (an organisation's own, or a test's).
//!
//! breves opens the TCP connections itself to set `TCP_NODELAY`: lettre
//! 0.11.23 does not, and every message then waits about 40 ms for Nagle's
//! algorithm to meet the relay's delayed acknowledgement. It drives each
//! transaction itself (MAIL, RCPT and DATA in one write where EHLO offers
//! `PIPELINING`, each reply read in turn, then the message) so that it can
//! tell a message refused, one never sent, and one whose last line was
//! sent but whose reply never came: that last one is *uncertain*.
//!
//! ```
//! use breves::deliver::smtp::{RelayConfig, Security};
//! let config = RelayConfig::from_url("smtp://relay.example.org", None, None).unwrap();
//! assert_eq!((config.port, config.security), (587, Security::StartTls));
//! assert!(RelayConfig::from_url("smtp://relay.example.org?tls=none", None, None).is_err());
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailParameter};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::{DeliveryError, Receipt, Rejected, Transport};
use crate::message::Letter;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (`smtps://`, port 465).
    Implicit,
    /// Plain connection upgraded with STARTTLS, which is required.
    StartTls,
    /// No encryption: loopback relays only (`?tls=none`).
    None,
}

/// A password that never shows in logs, reports or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a password.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Everything needed to reach the relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayConfig {
    /// The relay's host name or address.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// How the connection is protected.
    pub security: Security,
    /// The user name, from the URL or `BREVES_SMTP_USER`.
    pub user: Option<String>,
    /// The password, from `BREVES_SMTP_PASSWORD` only.
    pub password: Option<Secret>,
    /// The longest breves waits for any one step (connect, a command, the
    /// message's reply).
    pub timeout: Duration,
    /// The name breves gives in EHLO.
    pub hello: String,
    /// An extra certificate authority to trust (PEM file).
    pub extra_ca: Option<PathBuf>,
}

/// Why a relay URL or its setup is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct RelayError(pub String);

impl RelayConfig {
    /// The relay of `text` ([`RelayConfig::from_url`]) for `list`'s
    /// messages: greeted as the list's sending domain.
    pub fn for_list(
        text: &str,
        user: Option<String>,
        password: Option<String>,
        list: &crate::subscribers::List,
    ) -> Result<RelayConfig, RelayError> {
        let mut config = RelayConfig::from_url(text, user, password)?;
        config.hello = list.from.email.domain().to_owned();
        Ok(config)
    }

    /// The same, waiting `timeout` at any one step and trusting
    /// `extra_ca` too.
    pub fn with(mut self, timeout: std::time::Duration, extra_ca: Option<PathBuf>) -> RelayConfig {
        self.timeout = timeout;
        self.extra_ca = extra_ca;
        self
    }

    /// Reads `smtps://host[:port]`, `smtp://host[:port]` or
    /// `smtp://host:port?tls=none`, with an optional `user@` (else `user`,
    /// from `BREVES_SMTP_USER`). A password in the URL is refused: it would
    /// be seen in the shell's history and in process lists.
    pub fn from_url(
        text: &str,
        user: Option<String>,
        password: Option<String>,
    ) -> Result<RelayConfig, RelayError> {
        let shown = redacted(text);
        let url = url::Url::parse(text).map_err(|e| {
            RelayError(format!(
                "`{shown}` is not a relay URL ({e}): write it as smtps://host:465 or smtp://host:587"
            ))
        })?;
        if url.password().is_some() {
            return Err(RelayError(
                "the relay URL holds a password: put it in BREVES_SMTP_PASSWORD instead".into(),
            ));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| RelayError(format!("`{shown}` names no host")))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let mut security = match url.scheme() {
            "smtps" => Security::Implicit,
            "smtp" => Security::StartTls,
            other => {
                return Err(RelayError(format!(
                    "`{other}://` is not a relay scheme: use smtps:// or smtp://"
                )));
            }
        };
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref(), security) {
                ("tls", "none", Security::StartTls) => security = Security::None,
                ("tls", "starttls", Security::StartTls) => {}
                (key, value, _) => {
                    return Err(RelayError(format!(
                        "the relay URL option `{key}={value}` is not understood (only smtp://…?tls=none, for a local relay)"
                    )));
                }
            }
        }
        if security == Security::None
            && let Ok(ip) = host.parse::<IpAddr>()
            && !ip.is_loopback()
        {
            return Err(plain_text_refused(&host));
        }
        if security == Security::None && host.parse::<IpAddr>().is_err() && host != "localhost" {
            return Err(plain_text_refused(&host));
        }
        let port = url.port().unwrap_or(match security {
            Security::Implicit => 465,
            Security::StartTls | Security::None => 587,
        });
        let user = Some(url.username())
            .filter(|u| !u.is_empty())
            .map(percent_decode)
            .or(user.filter(|u| !u.is_empty()));
        Ok(RelayConfig {
            host,
            port,
            security,
            user,
            password: password.filter(|p| !p.is_empty()).map(Secret::new),
            timeout: Duration::from_secs(60),
            hello: "localhost".into(),
            extra_ca: None,
        })
    }

    /// The URL without credentials, for messages.
    pub fn display(&self) -> String {
        let scheme = match self.security {
            Security::Implicit => "smtps",
            _ => "smtp",
        };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let tls = if self.security == Security::None {
            "?tls=none"
        } else {
            ""
        };
        format!("{scheme}://{host}:{}{tls}", self.port)
    }
}

/// A relay URL as it may be shown: whatever stands before its last `@`
/// (a user, and perhaps a password typed there by mistake) is hidden,
/// even when the URL cannot be parsed; and without an `@`, what follows
/// `//` is hidden unless it reads as a host and a port of digits
/// (`smtps://tester:S3cret` is a user and a password without their `@`).
fn redacted(text: &str) -> String {
    let (scheme, rest) = match text.find("://") {
        Some(i) => text.split_at(i + 3),
        None => ("", text),
    };
    if let Some((_, host)) = rest.rsplit_once('@') {
        return format!("{scheme}***@{host}");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_and_port = match authority.rsplit_once(':') {
        // `[::1]:25`, `[::1]`: an IPv6 address in brackets.
        _ if authority.starts_with('[') => authority
            .rsplit_once(']')
            .is_some_and(|(_, port)| port.is_empty() || is_port(port.trim_start_matches(':'))),
        Some((_, port)) => is_port(port),
        None => true,
    };
    if host_and_port {
        text.to_owned()
    } else {
        format!("{scheme}***")
    }
}

fn is_port(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("u={s}").as_bytes())
        .next()
        .map_or_else(|| s.to_owned(), |(_, v)| v.into_owned())
}

fn plain_text_refused(host: &str) -> RelayError {
    RelayError(format!(
        "tls=none would send mail and credentials unencrypted to {host}: it is allowed only to a loopback address (127.0.0.1, ::1)"
    ))
}

/// A relay, resolved and ready to open connections.
pub struct Relay {
    config: RelayConfig,
    addresses: Vec<SocketAddr>,
    starttls: Option<TlsParameters>,
    implicit: Option<tokio_rustls::TlsConnector>,
    hello: ClientId,
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("config", &self.config)
            .field("addresses", &self.addresses)
            .finish()
    }
}

fn read_ca(path: &PathBuf) -> Result<Vec<u8>, RelayError> {
    std::fs::read(path).map_err(|e| {
        RelayError(format!(
            "cannot read the certificate authority {}: {e}",
            path.display()
        ))
    })
}

impl Relay {
    /// Resolves the relay's address, refuses plain text to anything but a
    /// loopback address, and prepares TLS.
    pub async fn new(config: RelayConfig) -> Result<Relay, RelayError> {
        let addresses: Vec<SocketAddr> =
            tokio::net::lookup_host((config.host.as_str(), config.port))
                .await
                .map_err(|e| RelayError(format!("cannot find the relay {}: {e}", config.host)))?
                .collect();
        if addresses.is_empty() {
            return Err(RelayError(format!(
                "the relay {} has no address",
                config.host
            )));
        }
        if config.security == Security::None && addresses.iter().any(|a| !a.ip().is_loopback()) {
            return Err(plain_text_refused(&config.host));
        }
        let ca = config.extra_ca.as_ref().map(read_ca).transpose()?;
        let (starttls, implicit) = match config.security {
            Security::StartTls => {
                let mut builder = TlsParameters::builder(config.host.clone());
                if let Some(pem) = &ca {
                    let cert = Certificate::from_pem(pem).map_err(|e| {
                        RelayError(format!(
                            "the certificate authority is not a PEM certificate: {e}"
                        ))
                    })?;
                    builder = builder.add_root_certificate(cert);
                }
                let params = builder
                    .build_rustls()
                    .map_err(|e| RelayError(format!("cannot prepare TLS: {e}")))?;
                (Some(params), None)
            }
            Security::Implicit => (None, Some(implicit_tls(ca.as_deref())?)),
            Security::None => (None, None),
        };
        let hello = ClientId::Domain(config.hello.clone());
        Ok(Relay {
            config,
            addresses,
            starttls,
            implicit,
            hello,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &RelayConfig {
        &self.config
    }

    async fn timed<T>(
        &self,
        step: &str,
        after_data: bool,
        fut: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
    ) -> Result<T, DeliveryError> {
        match tokio::time::timeout(self.config.timeout, fut).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(classify(step, &e, after_data)),
            Err(_) => Err(DeliveryError::Connection {
                reason: format!(
                    "no answer to {step} within {} s",
                    self.config.timeout.as_secs()
                ),
                after_data,
            }),
        }
    }

    async fn connect_tcp(&self) -> Result<TcpStream, DeliveryError> {
        let mut last = None;
        for address in &self.addresses {
            match tokio::time::timeout(self.config.timeout, TcpStream::connect(address)).await {
                Ok(Ok(stream)) => {
                    stream
                        .set_nodelay(true)
                        .map_err(|e| DeliveryError::Connection {
                            reason: format!("cannot set TCP_NODELAY: {e}"),
                            after_data: false,
                        })?;
                    return Ok(stream);
                }
                Ok(Err(e)) => last = Some(format!("cannot connect to {address}: {e}")),
                Err(_) => {
                    last = Some(format!(
                        "no connection to {address} within {} s",
                        self.config.timeout.as_secs()
                    ))
                }
            }
        }
        Err(DeliveryError::Connection {
            reason: last.unwrap_or_else(|| "the relay has no address".into()),
            after_data: false,
        })
    }
}

/// The rustls configuration for implicit TLS: the system's roots and the
/// extra authority, if any.
pub(crate) fn implicit_tls(
    extra_ca: Option<&[u8]>,
) -> Result<tokio_rustls::TlsConnector, RelayError> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(pem) = extra_ca {
        let mut reader = io::Cursor::new(pem);
        for cert in rustls::pki_types::pem::PemObject::pem_reader_iter(&mut reader) {
            let cert: rustls::pki_types::CertificateDer<'static> = cert.map_err(|e| {
                RelayError(format!(
                    "the certificate authority is not a PEM certificate: {e}"
                ))
            })?;
            roots
                .add(cert)
                .map_err(|e| RelayError(format!("the certificate authority is not usable: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| RelayError(format!("cannot prepare TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// A TLS stream lettre can drive (lettre cannot wrap a socket it did not
/// open in TLS before the greeting).
#[derive(Debug)]
struct ImplicitTls(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncRead for ImplicitTls {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

// (Mutation testing: `poll_flush` and `poll_shutdown` answering at once
// survive. tokio-rustls writes each record out as `poll_write` makes it,
// so a flush has nothing left to do; a shutdown only sends TLS's
// close_notify before the connection is dropped, which no relay needs.)
impl AsyncWrite for ImplicitTls {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

/// What a message's final dot waits for, once set: the caller's `ready`.
type Gate = Pin<Box<dyn Future<Output = bool> + Send>>;

/// The gate of one connection's final dots, shared by the session and the
/// stream lettre writes to.
#[derive(Default)]
struct DotGate {
    gate: std::sync::Mutex<Option<Gate>>,
    /// Set when the gate said no: the dot was not written.
    held: std::sync::atomic::AtomicBool,
}

impl DotGate {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Gate>> {
        self.gate.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A stream whose writes lettre makes in the clear (a plain socket, or
/// TLS from the first byte), so that the write ending a message (`CRLF .
/// CRLF`, which dot-stuffing keeps out of any message's content) can wait
/// for the gate while the content before it is already on its way.
struct Gated<S> {
    inner: S,
    dot: Arc<DotGate>,
}

/// The end of a message's content in SMTP.
const END_OF_DATA: &[u8] = b"\r\n.\r\n";

impl<S: AsyncRead + Unpin> AsyncRead for Gated<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Gated<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.ends_with(END_OF_DATA) {
            let mut slot = this.dot.slot();
            if let Some(gate) = slot.as_mut() {
                match gate.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(go) => {
                        *slot = None;
                        if !go {
                            this.dot
                                .held
                                .store(true, std::sync::atomic::Ordering::SeqCst);
                            return Poll::Ready(Err(io::Error::other(
                                "the message was held back before its final dot",
                            )));
                        }
                    }
                }
            }
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl<S: AsyncTokioStream> AsyncTokioStream for Gated<S> {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }
}

impl<S> fmt::Debug for Gated<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Gated")
    }
}

/// Turns lettre's error into what decides the next step.
fn classify(step: &str, e: &lettre::transport::smtp::Error, after_data: bool) -> DeliveryError {
    use std::error::Error as _;
    if let Some(code) = e.status() {
        let text = e.source().map(|s| s.to_string()).unwrap_or_default();
        return DeliveryError::Refused {
            reply: format!("{code} {}", text.trim()).trim().to_owned(),
            permanent: e.is_permanent(),
        };
    }
    let detail = e
        .source()
        .map_or_else(|| e.to_string(), |s| format!("{e} ({s})"));
    DeliveryError::Connection {
        reason: format!("{step}: {detail}"),
        after_data,
    }
}

/// One connection to the relay.
pub struct Session {
    connection: AsyncSmtpConnection,
    /// Set once the connection cannot carry another transaction.
    lost: bool,
    /// The largest message the relay takes (EHLO `SIZE`), if it says.
    size_limit: Option<usize>,
    /// Whether the relay takes MAIL, RCPT and DATA in one write (EHLO
    /// `PIPELINING`, RFC 2920): one round trip for the envelope, not three.
    pipelining: bool,
    /// The gate of final dots, where lettre writes in the clear (not
    /// after STARTTLS, where it writes through its own TLS layer: there
    /// the content itself waits).
    dot: Option<Arc<DotGate>>,
}

/// The enhanced status code of a reply (RFC 3463), such as `5.1.1`.
pub fn enhanced_status(reply: &str) -> Option<&str> {
    let code = reply.split_whitespace().nth(1)?;
    let mut parts = code.split('.');
    let ok = parts.next().is_some_and(|c| matches!(c, "2" | "4" | "5"))
        && parts
            .by_ref()
            .take(2)
            .filter(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
            .count()
            == 2
        && parts.next().is_none();
    ok.then_some(code)
}

/// Whether a reply's enhanced status is about the recipient's address or
/// mailbox (`X.1.x`, `X.2.x`), rather than the message, the relay or policy.
pub fn about_the_recipient(reply: &str) -> bool {
    enhanced_status(reply).is_some_and(|s| s[1..].starts_with(".1.") || s[1..].starts_with(".2."))
}

/// Whether a relay's EHLO reply offers `PIPELINING` (RFC 2920).
pub fn offers_pipelining<'a>(ehlo: impl IntoIterator<Item = &'a str>) -> bool {
    ehlo.into_iter().any(|line| {
        line.split_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("PIPELINING"))
    })
}

/// The largest message a relay takes, from its EHLO reply's `SIZE`
/// (RFC 1870); `SIZE 0`, or none, sets no limit.
pub fn size_limit<'a>(ehlo: impl IntoIterator<Item = &'a str>) -> Option<usize> {
    ehlo.into_iter().find_map(|line| {
        let mut words = line.split_whitespace();
        words
            .next()
            .filter(|w| w.eq_ignore_ascii_case("SIZE"))
            .and_then(|_| words.next())
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n > 0)
    })
}

/// Whether a message of `len` bytes is more than a relay's EHLO `SIZE`
/// takes: the limit is the largest size it accepts (RFC 1870).
fn over_the_limit(limit: usize, len: usize) -> bool {
    len > limit
}

/// Whether a refusal said at RCPT is about the sender whatever the
/// recipient, by the reason the words and status give (the one vocabulary
/// of [`crate::reason`]): the sender's address or domain refused, relaying
/// denied, authentication or reverse DNS required, the sending host
/// blocked. A policy about one mailbox stays the recipient's.
fn about_the_sender(reply: &str) -> bool {
    use crate::reason::Reason;
    let code = reply.get(..3).and_then(|c| c.parse::<u16>().ok());
    matches!(
        Reason::of(enhanced_status(reply).unwrap_or_default(), code, reply),
        Reason::SenderRejected
            | Reason::NoRelaying
            | Reason::AuthFailed
            | Reason::RequirePtr
            | Reason::Blocked
    )
}

/// A permanent refusal at `step` charged to what it is about: at MAIL FROM,
/// or at RCPT with a reason that is the sender's, the sender; at DATA
/// (before any content), or after the message for its size, the message;
/// otherwise (RCPT, or after this recipient's message for any other
/// reason) the recipient: one message refused is theirs, and the same
/// refusal for many in a row is found to be the relay's by the dispatcher.
fn charge(error: DeliveryError, step: Step) -> DeliveryError {
    match error {
        DeliveryError::Refused {
            reply,
            permanent: true,
        } => match step {
            Step::Mail => DeliveryError::Rejected {
                reply,
                what: Rejected::Sender,
            },
            Step::Rcpt if about_the_sender(&reply) => DeliveryError::Rejected {
                reply,
                what: Rejected::Sender,
            },
            Step::Data => DeliveryError::Rejected {
                reply,
                what: Rejected::Message,
            },
            Step::End if too_big(&reply) => DeliveryError::Rejected {
                reply,
                what: Rejected::Message,
            },
            Step::End if about_the_sender_or_message(&reply) => {
                DeliveryError::MessageRefused { reply }
            }
            Step::Rcpt | Step::End => DeliveryError::Refused {
                reply,
                permanent: true,
            },
        },
        other => other,
    }
}

/// The reason of a reply, in the one vocabulary of [`crate::reason`].
fn reason_of(reply: &str) -> crate::reason::Reason {
    let code = reply.get(..3).and_then(|c| c.parse::<u16>().ok());
    crate::reason::Reason::of(enhanced_status(reply).unwrap_or_default(), code, reply)
}

/// Whether a refusal says the message is too large (`552 5.3.4`).
fn too_big(reply: &str) -> bool {
    reason_of(reply) == crate::reason::Reason::TooBig
}

/// Whether a refusal's reason is the sender's or the message's, not the
/// recipient's (spam, content, policy, a blocked sender).
pub fn about_the_sender_or_message(reply: &str) -> bool {
    !about_the_recipient(reply) && reason_of(reply).side() == crate::reason::Side::Sender
}

/// The steps of one transaction.
#[derive(Debug, Clone, Copy)]
enum Step {
    Mail,
    Rcpt,
    Data,
    End,
}

/// What a message completed without passing its gate (its recipient's
/// mark in the ledger) is: of unknown outcome, as if the connection had
/// dropped after it, so that it is counted and sent again, and a run of
/// them stops the send. It would mean lettre no longer ends a message
/// with the final dot; checked in every build, not only in debug ones.
fn bypassed_gate(gate_left: bool, sent: bool) -> Option<DeliveryError> {
    (gate_left && sent).then(|| DeliveryError::Connection {
        reason: "the message was completed without waiting for its mark in the ledger (the final dot was not held): its outcome is counted as unknown".into(),
        after_data: true,
    })
}

/// A refusal before any transaction (a greeting of `421` or `554`, `454`
/// to AUTH) is about the relay, never a recipient's: when it may pass, the
/// connection failed, to be tried again, and the run stops after as many
/// attempts as a relay out of reach; when it will not, the run stops.
fn refused_before_any_transaction(error: DeliveryError) -> DeliveryError {
    match error {
        DeliveryError::Refused {
            reply,
            permanent: false,
        } => DeliveryError::Connection {
            reason: format!("it answered but would not open a session for now: {reply}"),
            after_data: false,
        },
        DeliveryError::Refused {
            reply,
            permanent: true,
        } => DeliveryError::Setup(format!("the relay refused to open a session: {reply}")),
        other => other,
    }
}

impl Relay {
    /// A connection ready for transactions: greeted, in TLS, logged in,
    /// and what the relay offers known.
    async fn session(&self) -> Result<Session, DeliveryError> {
        let tcp = self.connect_tcp().await?;
        let dot = self
            .starttls
            .is_none()
            .then(|| Arc::new(DotGate::default()));
        let stream: Box<dyn AsyncTokioStream> = match &self.implicit {
            Some(connector) => {
                let name = rustls::pki_types::ServerName::try_from(self.config.host.clone())
                    .map_err(|e| {
                        DeliveryError::Setup(format!(
                            "`{}` cannot be checked against a certificate: {e}",
                            self.config.host
                        ))
                    })?;
                let tls = tokio::time::timeout(self.config.timeout, connector.connect(name, tcp))
                    .await
                    .map_err(|_| DeliveryError::Connection {
                        reason: "no TLS handshake within the time-out".into(),
                        after_data: false,
                    })?
                    .map_err(|e| tls_error(&e.to_string()))?;
                let tls = ImplicitTls(tls);
                match &dot {
                    Some(dot) => Box::new(Gated {
                        inner: tls,
                        dot: Arc::clone(dot),
                    }),
                    None => Box::new(tls),
                }
            }
            None => match &dot {
                Some(dot) => Box::new(Gated {
                    inner: tcp,
                    dot: Arc::clone(dot),
                }),
                None => Box::new(tcp),
            },
        };
        let mut connection = self
            .timed(
                "the greeting",
                false,
                AsyncSmtpConnection::connect_with_transport(stream, &self.hello),
            )
            .await?;
        if let Some(params) = &self.starttls {
            if !connection.can_starttls() {
                connection.abort().await;
                return Err(DeliveryError::Setup(format!(
                    "the relay {} does not offer STARTTLS: breves sends neither credentials nor mail in plain text (use smtps:// if it speaks TLS on another port)",
                    self.config.display()
                )));
            }
            match tokio::time::timeout(
                self.config.timeout,
                connection.starttls(params.clone(), &self.hello),
            )
            .await
            {
                Ok(Ok(())) => {}
                Ok(Err(e)) if e.status().is_some() => {
                    return Err(DeliveryError::Setup(format!(
                        "the relay refused STARTTLS ({}): breves sends neither credentials nor mail in plain text",
                        classify("STARTTLS", &e, false)
                    )));
                }
                Ok(Err(e)) => {
                    let detail = std::error::Error::source(&e)
                        .map_or_else(|| e.to_string(), |s| s.to_string());
                    return Err(tls_error(&detail));
                }
                Err(_) => {
                    return Err(DeliveryError::Connection {
                        reason: "no answer to STARTTLS within the time-out".into(),
                        after_data: false,
                    });
                }
            }
        }
        if let (Some(user), Some(password)) = (&self.config.user, &self.config.password) {
            let credentials = Credentials::new(user.clone(), password.expose().to_owned());
            match tokio::time::timeout(
                self.config.timeout,
                connection.auth(&[Mechanism::Plain, Mechanism::Login], &credentials),
            )
            .await
            {
                Ok(Ok(_)) => {}
                Ok(Err(e)) if e.is_transient() => {
                    return Err(classify("AUTH", &e, false));
                }
                Ok(Err(e)) => {
                    connection.abort().await;
                    return Err(DeliveryError::Setup(format!(
                        "the relay refused the credentials of {user}: {}",
                        classify("AUTH", &e, false)
                    )));
                }
                Err(_) => {
                    return Err(DeliveryError::Connection {
                        reason: "no answer to AUTH within the time-out".into(),
                        after_data: false,
                    });
                }
            }
        } else if self.config.user.is_some() {
            return Err(DeliveryError::Setup(
                "a user name is given but no password: set BREVES_SMTP_PASSWORD".into(),
            ));
        }
        // lettre keeps only the extensions it uses from EHLO; SIZE and
        // PIPELINING are asked for again (one round trip per connection).
        let (size_limit, pipelining) = match self
            .timed(
                "EHLO",
                false,
                connection.command(Ehlo::new(self.hello.clone())),
            )
            .await
        {
            Ok(reply) => (
                size_limit(reply.message()),
                offers_pipelining(reply.message()),
            ),
            Err(_) => (None, false),
        };
        Ok(Session {
            connection,
            lost: false,
            size_limit,
            pipelining,
            dot,
        })
    }
}

impl Transport for Relay {
    type Session = Session;

    async fn open(&self) -> Result<Session, DeliveryError> {
        self.session().await.map_err(refused_before_any_transaction)
    }

    async fn deliver(
        &self,
        session: &mut Session,
        letter: &Letter,
        ready: impl Future<Output = bool> + Send + 'static,
    ) -> Result<Receipt, DeliveryError> {
        let c = &mut session.connection;
        let dot = session.dot.clone();
        // A UTF-8 address needs a relay that takes it (SMTPUTF8, RFC 6531).
        let mut mail_parameters = Vec::new();
        if !letter.recipient.to_string().is_ascii() {
            if !c.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Err(DeliveryError::Refused {
                    reply: format!(
                        "the relay {} does not offer SMTPUTF8, which the address {} needs",
                        self.config.display(),
                        letter.recipient
                    ),
                    permanent: true,
                });
            }
            mail_parameters.push(MailParameter::SmtpUtfEight);
        }
        if let Some(limit) = session.size_limit
            && over_the_limit(limit, letter.bytes.len())
        {
            return Err(DeliveryError::Rejected {
                reply: format!(
                    "the relay {} takes messages of at most {limit} bytes (EHLO SIZE); this one is {} bytes: nothing was uploaded",
                    self.config.display(),
                    letter.bytes.len()
                ),
                what: Rejected::Message,
            });
        }
        let pipelining = session.pipelining;
        // Set when the relay waits for content that will not come (DATA
        // taken though MAIL or RCPT was refused, in one pipelined write):
        // the connection is dropped, and the relay discards the transaction.
        let mut abandoned = false;
        let result = async {
            let mail = Mail::new(Some(letter.sender.clone()), mail_parameters);
            let rcpt = Rcpt::new(letter.recipient.clone(), vec![]);
            if pipelining {
                self.timed("MAIL FROM", false, c.pipeline(&[&mail, &rcpt, &Data]))
                    .await?;
                let mail = self.timed("MAIL FROM", false, c.read_response()).await;
                let rcpt = self.timed("RCPT TO", false, c.read_response()).await;
                let data = self.timed("DATA", false, c.read_response()).await;
                abandoned = data.is_ok() && (mail.is_err() || rcpt.is_err());
                mail.map_err(|e| charge(e, Step::Mail))?;
                rcpt.map_err(|e| charge(e, Step::Rcpt))?;
                data.map_err(|e| charge(e, Step::Data))?;
            } else {
                self.timed("MAIL FROM", false, c.command(mail))
                    .await
                    .map_err(|e| charge(e, Step::Mail))?;
                self.timed("RCPT TO", false, c.command(rcpt))
                    .await
                    .map_err(|e| charge(e, Step::Rcpt))?;
                self.timed("DATA", false, c.command(Data))
                    .await
                    .map_err(|e| charge(e, Step::Data))?;
            }
            // The message is not complete before the ledger holds that it
            // is leaving: where breves sees lettre's writes, the content
            // goes meanwhile and only the final dot waits; otherwise the
            // content waits. Held back, the session is dropped without the
            // final dot, so the relay discards the transaction.
            match &dot {
                Some(dot) => *dot.slot() = Some(Box::pin(ready)),
                None => {
                    if !ready.await {
                        return Err(DeliveryError::Withheld);
                    }
                }
            }
            // From here on, a lost connection may have delivered the message.
            let sent = self
                .timed("the end of the message", true, c.message(&letter.bytes))
                .await;
            if let Some(dot) = &dot {
                if dot.held.swap(false, std::sync::atomic::Ordering::SeqCst) {
                    return Err(DeliveryError::Withheld);
                }
                // Never got as far as the dot: the gate is the caller's to
                // settle, not the next message's. (A message lettre
                // completed without passing the gate would mean lettre no
                // longer ends a write with the final dot.)
                let left = dot.slot().take();
                if let Some(error) = bypassed_gate(left.is_some(), sent.is_ok()) {
                    return Err(error);
                }
            }
            let reply = sent.map_err(|e| charge(e, Step::End))?;
            let text: Vec<&str> = reply.message().collect();
            Ok(Receipt {
                detail: format!("{} {}", reply.code(), text.join(" "))
                    .trim()
                    .to_owned(),
            })
        }
        .await;
        match &result {
            Err(_) if abandoned => session.lost = true,
            Err(
                DeliveryError::Refused { .. }
                | DeliveryError::Rejected { .. }
                | DeliveryError::MessageRefused { .. },
            ) => {
                // Start the next transaction afresh; a relay that cannot
                // even do that loses the session.
                if self.timed("RSET", false, c.command(Rset)).await.is_err() {
                    session.lost = true;
                }
            }
            Err(_) => session.lost = true,
            Ok(_) => {}
        }
        result
    }

    fn usable(&self, session: &Session) -> bool {
        !session.lost && !session.connection.has_broken()
    }

    async fn close(&self, mut session: Session) {
        let _ = tokio::time::timeout(Duration::from_secs(2), session.connection.quit()).await;
    }
}

fn tls_error(detail: &str) -> DeliveryError {
    DeliveryError::Setup(format!(
        "the relay's TLS certificate cannot be trusted or TLS failed ({detail}); give its authority with --smtp-ca if it is an organisation's own"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_completed_past_its_gate_is_of_unknown_outcome_in_every_build() {
        assert!(bypassed_gate(false, true).is_none(), "passed the gate");
        assert!(
            bypassed_gate(true, false).is_none(),
            "failed before the dot"
        );
        assert!(bypassed_gate(false, false).is_none());
        assert!(matches!(
            bypassed_gate(true, true),
            Some(DeliveryError::Connection {
                after_data: true,
                ..
            })
        ));
    }

    #[tokio::test]
    async fn the_final_dot_waits_for_the_gate_and_is_never_written_when_it_says_no() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (client, mut server) = tokio::io::duplex(1 << 16);
        let dot = Arc::new(DotGate::default());
        let mut gated = Gated {
            inner: client,
            dot: Arc::clone(&dot),
        };
        let (open, opened) = tokio::sync::oneshot::channel::<bool>();
        *dot.slot() = Some(Box::pin(async move { opened.await.unwrap_or(false) }));
        let content = b"Subject: x\r\n\r\n..a stuffed line\r\n";
        gated
            .write_all(content)
            .await
            .expect("the content goes at once");
        let mut got = vec![0; content.len()];
        server.read_exact(&mut got).await.expect("read");
        assert_eq!(got, content);
        {
            let mut ending = std::pin::pin!(gated.write_all(END_OF_DATA));
            let early = tokio::time::timeout(Duration::from_millis(100), &mut ending).await;
            assert!(early.is_err(), "the dot waits while the gate is closed");
            open.send(true).expect("open");
            ending.await.expect("the dot once the gate opens");
        }
        let mut got = vec![0; END_OF_DATA.len()];
        server.read_exact(&mut got).await.expect("read");
        assert_eq!(got, END_OF_DATA);
        assert!(dot.slot().is_none(), "a gate serves one message");

        *dot.slot() = Some(Box::pin(async { false }));
        let held = gated.write_all(END_OF_DATA).await;
        assert!(held.is_err());
        assert!(dot.held.load(std::sync::atomic::Ordering::SeqCst));
        drop(gated);
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.expect("read");
        assert!(rest.is_empty(), "nothing after a closed gate: {rest:?}");
    }

    #[tokio::test]
    async fn a_gated_stream_passes_flushes_and_shutdowns_to_the_stream_under_it() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
        let (client, mut server) = tokio::io::duplex(1 << 10);
        let mut gated = Gated {
            inner: BufWriter::new(client),
            dot: Arc::new(DotGate::default()),
        };
        assert_eq!(format!("{gated:?}"), "Gated");
        gated.write_all(b"EHLO x\r\n").await.expect("write");
        gated.flush().await.expect("flush");
        let mut got = vec![0; 8];
        tokio::time::timeout(Duration::from_secs(5), server.read_exact(&mut got))
            .await
            .expect("a flushed write arrives")
            .expect("read");
        assert_eq!(got, b"EHLO x\r\n");
        gated.shutdown().await.expect("shutdown");
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), server.read_to_end(&mut rest))
            .await
            .expect("a shut down stream ends")
            .expect("read");
        assert!(rest.is_empty());
    }

    #[test]
    fn a_refusal_before_any_transaction_is_the_relays() {
        let refused = |reply: &str, permanent| DeliveryError::Refused {
            reply: reply.into(),
            permanent,
        };
        assert!(matches!(
            refused_before_any_transaction(refused("421 4.3.2 busy", false)),
            DeliveryError::Connection { reason, after_data: false }
                if reason == "it answered but would not open a session for now: 421 4.3.2 busy"
        ));
        assert!(matches!(
            refused_before_any_transaction(refused("554 5.7.1 no service", true)),
            DeliveryError::Setup(reason)
                if reason == "the relay refused to open a session: 554 5.7.1 no service"
        ));
        assert!(matches!(
            refused_before_any_transaction(DeliveryError::Setup("x".into())),
            DeliveryError::Setup(reason) if reason == "x"
        ));
    }

    #[test]
    fn urls() {
        let c = RelayConfig::from_url("smtps://mail.example.org", None, None).expect("smtps");
        assert_eq!((c.port, c.security), (465, Security::Implicit));
        // As messages show a relay: its scheme, host and port, and whether
        // it is reached in plain text, never its user or password.
        assert_eq!(c.display(), "smtps://mail.example.org:465");
        let relay = tokio::runtime::Runtime::new()
            .expect("runtime")
            .block_on(Relay::new(
                RelayConfig::from_url(
                    "smtp://127.0.0.1:2525?tls=none",
                    Some("u".into()),
                    Some("S3cret".into()),
                )
                .expect("a local relay"),
            ))
            .expect("resolved");
        let shown = format!("{relay:?}");
        assert!(
            shown.starts_with("Relay { config: ") && shown.contains("addresses: [127.0.0.1:2525]"),
            "{shown}"
        );
        assert!(!shown.contains("S3cret"), "{shown}");
        assert_eq!(format!("{:?}", Secret::new("pw")), "Secret(***)");
        for (url, shown) in [
            ("smtp://jo@mail.example.org", "smtp://mail.example.org:587"),
            ("smtp://[::1]:2525?tls=none", "smtp://[::1]:2525?tls=none"),
            (
                "smtp://127.0.0.1:2525?tls=none",
                "smtp://127.0.0.1:2525?tls=none",
            ),
        ] {
            let c = RelayConfig::from_url(url, None, None).expect(url);
            assert_eq!(c.display(), shown, "{url}");
        }
        let c = RelayConfig::from_url(
            "smtp://jo%40x@mail.example.org:2587",
            None,
            Some("pw".into()),
        )
        .expect("smtp");
        assert_eq!(
            (c.port, c.security, c.user.as_deref()),
            (2587, Security::StartTls, Some("jo@x"))
        );
        assert!(!format!("{c:?}").contains("pw"), "the password never shows");
        let c = RelayConfig::from_url("smtp://127.0.0.1:2525?tls=none", Some("u".into()), None)
            .expect("none");
        assert_eq!((c.security, c.user.as_deref()), (Security::None, Some("u")));
        assert!(RelayConfig::from_url("smtp://[::1]:2525?tls=none", None, None).is_ok());
        let plain = |host: &str| {
            format!(
                "tls=none would send mail and credentials unencrypted to {host}: it is allowed only to a loopback address (127.0.0.1, ::1)"
            )
        };
        for (bad, why) in [
            ("smtp://mail.example.org?tls=none", plain("mail.example.org")),
            ("smtp://192.0.2.1:25?tls=none", plain("192.0.2.1")),
            (
                "smtp://u:secret@mail.example.org",
                "the relay URL holds a password: put it in BREVES_SMTP_PASSWORD instead".into(),
            ),
            (
                "http://mail.example.org",
                "`http://` is not a relay scheme: use smtps:// or smtp://".into(),
            ),
            (
                "smtps://mail.example.org?tls=none",
                "the relay URL option `tls=none` is not understood (only smtp://…?tls=none, for a local relay)".into(),
            ),
            (
                "smtp://mail.example.org?foo=bar",
                "the relay URL option `foo=bar` is not understood (only smtp://…?tls=none, for a local relay)".into(),
            ),
            (
                "relay",
                "`relay` is not a relay URL (relative URL without a base): write it as smtps://host:465 or smtp://host:587".into(),
            ),
        ] {
            assert_eq!(
                RelayConfig::from_url(bad, None, None),
                Err(RelayError(why)),
                "{bad}"
            );
        }
    }

    #[test]
    fn replies_are_charged_to_what_they_are_about() {
        assert_eq!(
            enhanced_status("550 5.1.1 <a@x.org>: unknown"),
            Some("5.1.1")
        );
        assert_eq!(enhanced_status("550 mailbox unavailable"), None);
        assert_eq!(enhanced_status("550 5.1 nope"), None);
        assert_eq!(enhanced_status("550 5.1.1000 nope"), None);
        assert!(about_the_recipient("550 5.1.1 no such user"));
        assert!(about_the_recipient("552 5.2.2 mailbox full"));
        assert!(!about_the_recipient("552 5.3.4 message too big"));
        assert!(!about_the_recipient("554 5.7.1 refused by policy"));
        assert!(!about_the_recipient("550 refused"));
        let refused = |reply: &str| DeliveryError::Refused {
            reply: reply.into(),
            permanent: true,
        };
        let rejected = |e: DeliveryError| match e {
            DeliveryError::Rejected { what, .. } => Some(what),
            _ => None,
        };
        assert_eq!(
            rejected(charge(refused("553 5.7.1 not yours"), Step::Mail)),
            Some(Rejected::Sender)
        );
        assert_eq!(
            rejected(charge(refused("554 no"), Step::Data)),
            Some(Rejected::Message)
        );
        assert_eq!(
            rejected(charge(refused("552 5.3.4 too big"), Step::End)),
            Some(Rejected::Message)
        );
        assert!(matches!(
            charge(refused("550 5.1.1 unknown"), Step::End),
            DeliveryError::Refused {
                permanent: true,
                ..
            }
        ));
        // After the content, only a reason of the sender's or the
        // message's is not the recipient's, whether or not the reply
        // gives an enhanced status.
        assert!(about_the_sender_or_message(
            "554 5.7.1 message content rejected"
        ));
        assert!(about_the_sender_or_message("554 spam detected"));
        assert!(!about_the_sender_or_message("550 5.1.1 user unknown"));
        assert!(!about_the_sender_or_message("552 mailbox full"));
        assert!(!about_the_sender_or_message("550 5.1.8 bad address"));
        // One message refused after its content is its recipient's.
        assert!(matches!(
            charge(refused("554 5.7.1 message content rejected"), Step::End),
            DeliveryError::MessageRefused { .. }
        ));
        assert_eq!(
            rejected(charge(refused("550 5.7.1 denied"), Step::Rcpt)),
            None
        );
        // At RCPT, a refusal whose reason is the sender's stops the run
        // whatever the list's domains; one about the mailbox does not.
        for about_the_sender in [
            "553 5.1.8 <breves@example.fr>: Sender address rejected: Domain not found",
            "554 5.7.1 <a@example.org>: Relay access denied",
            "550 5.7.1 Client host rejected: cannot find your reverse hostname",
            "530 5.7.0 Authentication required",
        ] {
            assert_eq!(
                rejected(charge(refused(about_the_sender), Step::Rcpt)),
                Some(Rejected::Sender),
                "{about_the_sender}"
            );
        }
        for about_the_mailbox in [
            "550 5.1.1 <a@example.org>: Recipient address rejected: User unknown",
            "552 5.2.2 <a@example.org>: Mailbox full",
            "550 5.7.1 <a@example.org>: Recipient address rejected: Access denied",
        ] {
            assert_eq!(
                rejected(charge(refused(about_the_mailbox), Step::Rcpt)),
                None,
                "{about_the_mailbox}"
            );
        }
        // A transient refusal is retried wherever it comes.
        let transient = DeliveryError::Refused {
            reply: "451 4.3.0 later".into(),
            permanent: false,
        };
        assert_eq!(rejected(charge(transient, Step::Mail)), None);
        assert_eq!(
            size_limit(["relay.example.org", "SIZE 1000", "8BITMIME"]),
            Some(1000)
        );
        assert_eq!(size_limit(["SIZE 0"]), None);
        assert!(!over_the_limit(1000, 1000), "the limit itself is taken");
        assert!(over_the_limit(1000, 1001));
        assert_eq!(size_limit(["SIZE"]), None);
        assert_eq!(size_limit(["PIPELINING"]), None);
    }

    #[test]
    fn a_malformed_url_is_never_echoed_with_its_password() {
        for bad in [
            "smtp://editeur:S3cret@127.0.0.1:99999",
            "smtp://editeur:S3c/ret@mail.example.org:25x",
            "editeur:S3cret@mail example.org",
            "smtps://editeur:S3cret@",
            "smtps://editeur:S3cret",
            "smtp://editeur:S3cret/",
            "editeur:S3cret",
            "smtp://[::1]:S3cret",
        ] {
            let Err(RelayError(message)) = RelayConfig::from_url(bad, None, None) else {
                panic!("{bad} is refused");
            };
            assert!(!message.contains("S3c"), "{bad}: {message}");
        }
        assert_eq!(
            redacted("smtp://u:p@x@relay.example.org:99999"),
            "smtp://***@relay.example.org:99999"
        );
        assert_eq!(
            redacted("smtp://relay.example.org"),
            "smtp://relay.example.org"
        );
        assert_eq!(redacted("smtps://tester:S3cret"), "smtps://***");
        assert_eq!(
            redacted("smtp://relay.example.org:99999"),
            "smtp://relay.example.org:99999"
        );
        assert_eq!(redacted("smtp://[::1]:2525"), "smtp://[::1]:2525");
        assert_eq!(redacted("smtp://[::1]"), "smtp://[::1]");
        assert_eq!(redacted("smtp://[::1]:pw"), "smtp://***");
    }
}
