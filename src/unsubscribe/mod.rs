//! Unsubscription: signed tokens, so that nobody can unsubscribe someone
//! else by editing a URL; the links made of them in every message
//! ([`links`]); the server that answers them ([`server`]).
//!
//! A token names the list, the subscriber's address and, for a section
//! link, the section. It is the base64url text of those, a dot, and the
//! first 128 bits of their HMAC-SHA256 under a secret that only the sender
//! and the unsubscription server know (`BREVES_UNSUBSCRIBE_SECRET`).
//! Verification compares in constant time.
//!
//! ```
//! use breves::address::Key;
//! use breves::unsubscribe::{Signer, Token};
//! let signer = Signer::new(b"a secret of at least sixteen bytes").unwrap();
//! let token = Token { list: "londres".into(), address: Key::from_text("a@example.org"), section: None };
//! let text = signer.sign(&token);
//! assert_eq!(signer.verify(&text).unwrap(), token);
//! let forged = text.replacen('.', "x.", 1);
//! assert!(signer.verify(&forged).is_err());
//! ```

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};

use crate::address::Key;

pub mod links;
pub mod server;

pub use links::{Labels, Links};
use sha2::Sha256;

/// The secret used for dry runs and previews, which are never sent: its
/// tokens are worthless to a real server, which has another secret.
pub const TEST_SECRET: &str =
    "breves-test-secret: for dry runs and previews only, never for sending";

/// The shortest secret accepted.
pub const MIN_SECRET: usize = 16;

/// The length of a token's tag: the first 128 bits of the HMAC. A tag of
/// any other length is refused, so that guessing stays a 2^128 affair.
pub const TAG_LEN: usize = 16;

/// What a link unsubscribes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The list's id.
    pub list: String,
    /// The subscriber.
    pub address: Key,
    /// The section, for a "ne plus recevoir la rubrique" link; `None`
    /// for the whole list.
    pub section: Option<String>,
}

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// It is not of the token's form.
    #[error("this link is not a breves unsubscription link")]
    Malformed,
    /// Its signature does not match: edited, or signed with another secret.
    #[error("this link's signature does not match")]
    Forged,
}

/// Signs and checks tokens with one secret.
#[derive(Clone)]
pub struct Signer {
    /// HMAC-SHA256 keyed with the secret, cloned for each token (keying
    /// costs two SHA-256 blocks, and a message signs eight links).
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(***)")
    }
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

impl Signer {
    /// A signer with this secret, which must be at least [`MIN_SECRET`]
    /// bytes long.
    pub fn new(secret: &[u8]) -> Result<Signer, crate::Error> {
        if secret.len() < MIN_SECRET {
            return Err(crate::Error::WeakSecret { min: MIN_SECRET });
        }
        Ok(Signer { mac: mac(secret) })
    }

    /// The signer of a real send or of the server, from the secret they
    /// share (`BREVES_UNSUBSCRIBE_SECRET`), which must be set.
    pub fn from_secret(secret: Option<&str>) -> Result<Signer, crate::Error> {
        match secret.filter(|s| !s.is_empty()) {
            Some(secret) => Signer::new(secret.as_bytes()),
            None => Err(crate::Error::NoSecret),
        }
    }

    /// The signer of a real send to `list`: the list must give the address
    /// of its unsubscription server, since Gmail and Yahoo require
    /// one-click unsubscription from bulk senders.
    pub fn for_send(
        list: &crate::subscribers::List,
        secret: Option<&str>,
    ) -> Result<Signer, crate::Error> {
        if list.unsubscribe_url.is_none() {
            return Err(crate::Error::NoUnsubscribeUrl {
                list: list.id.clone(),
            });
        }
        Signer::from_secret(secret)
    }

    /// The signer of dry runs and previews.
    pub fn test() -> Signer {
        Signer {
            mac: mac(TEST_SECRET.as_bytes()),
        }
    }

    fn payload(token: &Token) -> String {
        format!(
            "v1\n{}\n{}\n{}",
            token.list,
            token.address,
            token.section.as_deref().unwrap_or_default()
        )
    }

    /// The token's text, safe in a URL path.
    pub fn sign(&self, token: &Token) -> String {
        let payload = Signer::payload(token);
        let mut m = self.mac.clone();
        m.update(payload.as_bytes());
        let tag = m.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload.as_bytes()),
            URL_SAFE_NO_PAD.encode(&tag[..TAG_LEN])
        )
    }

    /// The token a text names, if its signature is right.
    pub fn verify(&self, text: &str) -> Result<Token, TokenError> {
        let (payload, tag) = text.trim().split_once('.').ok_or(TokenError::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Malformed)?;
        if tag.len() != TAG_LEN {
            return Err(TokenError::Forged);
        }
        let mut m = self.mac.clone();
        m.update(&payload);
        m.verify_truncated_left(&tag)
            .map_err(|_| TokenError::Forged)?;
        let payload = String::from_utf8(payload).map_err(|_| TokenError::Malformed)?;
        let mut fields = payload.split('\n');
        match (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) {
            (Some("v1"), Some(list), Some(address), Some(section), None)
                if !list.is_empty() && address.contains('@') =>
            {
                Ok(Token {
                    list: list.to_owned(),
                    address: Key::from_text(address),
                    section: (!section.is_empty()).then(|| section.to_owned()),
                })
            }
            _ => Err(TokenError::Malformed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_resist_edits() {
        let signer = Signer::new(b"0123456789abcdef-secret").expect("secret");
        let token = Token {
            list: "londres".into(),
            address: Key::from_text("Alice@Example.org"),
            section: Some("spatial".into()),
        };
        let text = signer.sign(&token);
        assert!(
            text.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "{text}"
        );
        let back = signer.verify(&text).expect("valid");
        assert_eq!(back.address.as_str(), "alice@example.org");
        assert_eq!(back.section.as_deref(), Some("spatial"));
        // Someone else's address in the same link: refused.
        let other = Token {
            address: Key::from_text("bob@example.org"),
            ..token.clone()
        };
        let (_, tag) = text.split_once('.').expect("dot");
        let (payload, _) = signer
            .sign(&other)
            .split_once('.')
            .map(|(p, t)| (p.to_owned(), t.to_owned()))
            .expect("dot");
        assert_eq!(
            signer.verify(&format!("{payload}.{tag}")),
            Err(TokenError::Forged)
        );
        // Another secret: refused; the test secret is not a real one.
        assert_eq!(Signer::test().verify(&text), Err(TokenError::Forged));
        assert_eq!(signer.verify("nonsense"), Err(TokenError::Malformed));
        assert!(Signer::new(b"short").is_err());
    }

    #[test]
    fn only_a_tag_of_the_signed_length_is_accepted() {
        let signer = Signer::new(b"0123456789abcdef-secret").expect("secret");
        let token = Token {
            list: "londres".into(),
            address: Key::from_text("alice@example.org"),
            section: None,
        };
        let text = signer.sign(&token);
        let (payload, tag) = text.split_once('.').expect("dot");
        let tag = URL_SAFE_NO_PAD.decode(tag).expect("base64");
        assert_eq!(tag.len(), TAG_LEN);
        // A genuine tag cut short, to any length, is a forgery.
        for len in 1..TAG_LEN {
            let short = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(&tag[..len]));
            assert_eq!(
                signer.verify(&short),
                Err(TokenError::Forged),
                "{len} bytes"
            );
        }
        // Every one-byte tag: none passes, though one of them is the
        // genuine tag's first byte.
        for byte in 0..=255u8 {
            let guess = format!("{payload}.{}", URL_SAFE_NO_PAD.encode([byte]));
            assert_eq!(signer.verify(&guess), Err(TokenError::Forged), "{byte}");
        }
        // Longer than signed: refused too.
        let mut long = tag.clone();
        long.push(0);
        let long = format!("{payload}.{}", URL_SAFE_NO_PAD.encode(&long));
        assert_eq!(signer.verify(&long), Err(TokenError::Forged));
    }
}
