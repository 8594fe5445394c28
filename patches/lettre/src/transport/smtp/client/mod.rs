//! SMTP client
//!
//! `SmtpConnection` allows manually sending SMTP commands.
//!
//! ```rust,no_run
//! # use std::error::Error;
//!
//! # #[cfg(feature = "smtp-transport")]
//! # fn main() -> Result<(), Box<dyn Error>> {
//! use lettre::transport::smtp::{
//!     SMTP_PORT, client::SmtpConnection, commands::*, extension::ClientId,
//! };
//!
//! let hello = ClientId::Domain("my_hostname".to_owned());
//! let mut client = SmtpConnection::connect(&("localhost", SMTP_PORT), None, &hello, None, None)?;
//! client.command(Mail::new(Some("user@example.com".parse()?), vec![]))?;
//! client.command(Rcpt::new("user@example.org".parse()?, vec![]))?;
//! client.command(Data)?;
//! client.message("Test email".as_bytes())?;
//! client.command(Quit)?;
//! # Ok(())
//! # }
//! ```

use std::borrow::Cow;
#[cfg(feature = "serde")]
use std::fmt::Debug;

#[cfg(any(feature = "tokio1", feature = "async-std1"))]
pub use self::async_connection::AsyncSmtpConnection;
#[cfg(any(feature = "tokio1", feature = "async-std1"))]
#[allow(deprecated)]
pub use self::async_net::AsyncNetworkStream;
#[cfg(feature = "tokio1")]
pub use self::async_net::AsyncTokioStream;
use self::net::NetworkStream;
#[cfg(any(feature = "native-tls", feature = "rustls", feature = "boring-tls"))]
pub(super) use self::tls::InnerTlsParameters;
#[cfg(any(feature = "native-tls", feature = "rustls", feature = "boring-tls"))]
pub use self::tls::TlsVersion;
pub use self::{
    connection::SmtpConnection,
    tls::{Certificate, CertificateStore, Identity, Tls, TlsParameters, TlsParametersBuilder},
};

#[cfg(any(feature = "tokio1", feature = "async-std1"))]
mod async_connection;
#[cfg(any(feature = "tokio1", feature = "async-std1"))]
mod async_net;
mod connection;
mod net;
mod tls;

/// Total bytes cap on an SMTP response (Postfix `smtp_response_limit`).
pub(super) const MAX_RESPONSE_BYTES: usize = 100_000;

/// Single-line byte cap (Postfix `line_length_limit`).
pub(super) const MAX_RESPONSE_LINE_BYTES: usize = 1000;

/// The codec used for transparency
#[derive(Debug)]
struct ClientCodec {
    status: CodecStatus,
}

impl ClientCodec {
    /// Creates a new client codec
    pub(crate) fn new() -> Self {
        Self {
            status: CodecStatus::StartOfNewLine,
        }
    }

    /// Adds transparency: a line starting with `.` gets another `.`
    /// (RFC 5321 section 4.5.2). Copies everything between two such lines
    /// at once, found with `memchr`'s `memmem` (a digest of 100 KB took a
    /// tenth of a millisecond byte by byte).
    fn encode(&mut self, frame: &[u8], buf: &mut Vec<u8>) {
        let dots = memchr::memmem::find_iter(frame, b"\r\n.");
        self.stuff(frame, dots, buf);
    }

    /// `frame` with transparency added, as [`Self::encode`] writes it: the
    /// frame itself, not copied, when no line in it starts with `.`, else a
    /// copy made at its exact size.
    fn transparent<'f>(&mut self, frame: &'f [u8]) -> Cow<'f, [u8]> {
        let dots: Vec<usize> = memchr::memmem::find_iter(frame, b"\r\n.").collect();
        if dots.is_empty() && !self.dot_first(frame) {
            self.follow(frame);
            return Cow::Borrowed(frame);
        }
        let mut buf = Vec::with_capacity(frame.len() + dots.len() + 1);
        self.stuff(frame, dots, &mut buf);
        Cow::Owned(buf)
    }

    /// Whether `frame` starts a line with `.`, that line's start (or its
    /// `\r\n`) having come in the previous frame.
    fn dot_first(&self, frame: &[u8]) -> bool {
        matches!(
            (self.status, frame),
            (CodecStatus::StartOfNewLine, [b'.', ..])
                | (CodecStatus::StartingNewLine, [b'\n', b'.', ..])
        )
    }

    /// Writes `frame` to `buf` with a `.` added after each `\r\n` at
    /// `dots` (where `\r\n.` is, in order), and at its start if
    /// [`Self::dot_first`].
    fn stuff(&mut self, frame: &[u8], dots: impl IntoIterator<Item = usize>, buf: &mut Vec<u8>) {
        buf.reserve(frame.len() + 1);
        let mut copied = 0;
        if self.dot_first(frame) {
            // After a `\r` that ended the previous frame, the `\n` first.
            copied = usize::from(frame[0] == b'\n');
            buf.extend_from_slice(&frame[..copied]);
            buf.push(b'.');
        }
        for at in dots {
            buf.extend_from_slice(&frame[copied..at + 2]);
            buf.push(b'.');
            copied = at + 2;
        }
        buf.extend_from_slice(&frame[copied..]);
        self.follow(frame);
    }

    /// Where the next frame starts: at the start of a line, after a `\r`,
    /// or in the middle of a line.
    fn follow(&mut self, frame: &[u8]) {
        self.status = match frame {
            [] => self.status,
            [.., b'\r', b'\n'] => CodecStatus::StartOfNewLine,
            [b'\n'] if matches!(self.status, CodecStatus::StartingNewLine) => {
                CodecStatus::StartOfNewLine
            }
            [.., b'\r'] => CodecStatus::StartingNewLine,
            _ => CodecStatus::MiddleOfLine,
        };
    }
}

#[derive(Debug, Copy, Clone)]
#[allow(clippy::enum_variant_names)]
enum CodecStatus {
    /// We are past the first character of the current line
    MiddleOfLine,
    /// We just read a `\r` character
    StartingNewLine,
    /// We are at the start of a new line
    StartOfNewLine,
}

/// Returns the string replacing all the CRLF with "\<CRLF\>"
/// Used for debug displays
#[cfg(feature = "tracing")]
pub(super) fn escape_crlf(string: &str) -> String {
    string.replace("\r\n", "<CRLF>")
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn test_codec() {
        let mut buf = Vec::new();
        let mut codec = ClientCodec::new();

        codec.encode(b".\r\n", &mut buf);
        codec.encode(b"test\r\n", &mut buf);
        codec.encode(b"test\r\n\r\n", &mut buf);
        codec.encode(b".\r\n", &mut buf);
        codec.encode(b"\r\ntest", &mut buf);
        codec.encode(b"te\r\n.\r\nst", &mut buf);
        codec.encode(b"test", &mut buf);
        codec.encode(b"test.", &mut buf);
        codec.encode(b"test\n", &mut buf);
        codec.encode(b".test\n", &mut buf);
        codec.encode(b"test", &mut buf);
        codec.encode(b"test", &mut buf);
        codec.encode(b"test\r\n", &mut buf);
        codec.encode(b".test\r\n", &mut buf);
        codec.encode(b"test.\r\n", &mut buf);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "..\r\ntest\r\ntest\r\n\r\n..\r\n\r\ntestte\r\n..\r\nsttesttest.test\n.test\ntesttesttest\r\n..test\r\ntest.\r\n"
        );
    }

    /// The byte-by-byte state machine the `memmem` `encode` replaced.
    fn encode_bytewise(status: &mut CodecStatus, frame: &[u8], buf: &mut Vec<u8>) {
        for &b in frame {
            buf.push(b);
            match (b, *status) {
                (b'\r', _) => *status = CodecStatus::StartingNewLine,
                (b'\n', CodecStatus::StartingNewLine) => *status = CodecStatus::StartOfNewLine,
                (_, CodecStatus::StartingNewLine) => *status = CodecStatus::MiddleOfLine,
                (b'.', CodecStatus::StartOfNewLine) => {
                    *status = CodecStatus::MiddleOfLine;
                    buf.push(b'.');
                }
                (_, CodecStatus::StartOfNewLine) => *status = CodecStatus::MiddleOfLine,
                _ => {}
            }
        }
    }

    #[test]
    fn test_codec_equals_byte_wise() {
        // Every frame of up to 7 bytes from `.`, `\r`, `\n` and `a`, after
        // every earlier state (reached by a prefix).
        let alphabet = [b'.', b'\r', b'\n', b'a'];
        for prefix in [&b""[..], b"a", b"a\r", b"a\r\n", b"\n"] {
            for len in 0..=7u32 {
                for n in 0..4usize.pow(len) {
                    let frame: Vec<u8> = (0..len)
                        .map(|i| alphabet[(n / 4usize.pow(i)) % 4])
                        .collect();
                    let (mut fast, mut slow, mut unmoved) = (Vec::new(), Vec::new(), Vec::new());
                    let (mut codec, mut other) = (ClientCodec::new(), ClientCodec::new());
                    let mut status = CodecStatus::StartOfNewLine;
                    for part in [prefix, &frame[..frame.len() / 2], &frame[frame.len() / 2..]] {
                        codec.encode(part, &mut fast);
                        encode_bytewise(&mut status, part, &mut slow);
                        unmoved.extend_from_slice(&other.transparent(part));
                    }
                    assert_eq!(fast, slow, "{prefix:?} then {frame:?}");
                    assert_eq!(unmoved, slow, "{prefix:?} then {frame:?}, not copied");
                }
            }
        }
    }

    #[test]
    #[cfg(feature = "tracing")]
    fn test_escape_crlf() {
        assert_eq!(escape_crlf("\r\n"), "<CRLF>");
        assert_eq!(escape_crlf("EHLO my_name\r\n"), "EHLO my_name<CRLF>");
        assert_eq!(
            escape_crlf("EHLO my_name\r\nSIZE 42\r\n"),
            "EHLO my_name<CRLF>SIZE 42<CRLF>"
        );
    }
}
