//! Unsubscription: signed tokens, so that nobody can unsubscribe someone
//! else by editing a URL; the links made of them in every message
//! ([`links`]); the server that answers them ([`server`]).
//!
//! A token names the list, the subscriber's address and, for a section
//! link, the section, under a secret that only the sender and the
//! unsubscription server know (`BREVES_UNSUBSCRIBE_SECRET`). Links carry
//! the short form ([`Signer::sign_short`]): keyed hashes of the list and
//! address (9 bytes) and of the section (2), and a tag over them (6), in
//! base64url, which hides the address and which the server matches with
//! its list ([`Signer::resolve`]). Links sent before it carry the long
//! form ([`Signer::sign`]): the base64url text of the list, address and
//! section, a dot, and the first 128 bits of their HMAC-SHA256; the server
//! still reads them ([`Signer::read`]). Tags are compared in constant time.
//!
//! ```
//! use breves::address::Key;
//! use breves::unsubscribe::{Read, Signer, Token};
//! let signer = Signer::new(b"a secret of at least sixteen bytes").unwrap();
//! let token = Token { list: "londres".into(), address: Key::from_text("a@example.org"), section: None };
//! let short = signer.sign_short(&token);
//! assert_eq!(short.len(), 20);
//! assert!(matches!(signer.read(&short), Ok(Read::Short(_))));
//! let long = signer.sign(&token);
//! assert_eq!(signer.read(&long).unwrap(), Read::Full(token));
//! let forged = long.replacen('.', "x.", 1);
//! assert!(signer.read(&forged).is_err());
//! ```

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};

use crate::address::Key;

pub mod join;
pub mod links;

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

/// A short token: a keyed hash of the list and the address (9 bytes), of
/// the section for a section link (2 bytes), and its tag (6 bytes), in
/// base64url: 20 or 23 characters, from which nobody without the secret
/// can read the address, and which the server matches with its list.
pub const MEMBER_LEN: usize = 9;
/// The length of a short token's section code.
pub const SECTION_LEN: usize = 2;
/// The length of a short token's tag.
pub const SHORT_TAG_LEN: usize = 6;

/// The bytes of a VERP code's issue part, and of its tag.
const VERP_ISSUE_LEN: usize = 2;
const VERP_TAG_LEN: usize = 4;

// A VERP code is as long as the address module leaves room for.
const _: () =
    assert!(2 * (MEMBER_LEN + VERP_ISSUE_LEN + VERP_TAG_LEN) == crate::address::VERP_CODE_LEN);

/// What a bounce's VERP code says: who the message was for (a member
/// code, found in the list) and which issue it carried (a code, found
/// among the ledger's sends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verp {
    /// The recipient's [`Signer::member_code`].
    pub member: [u8; MEMBER_LEN],
    /// The issue's [`Signer::issue_code`].
    pub issue: [u8; VERP_ISSUE_LEN],
}

/// A short token whose tag is right: who and which section, as keyed
/// hashes to find in the list ([`Signer::resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Short {
    member: [u8; MEMBER_LEN],
    section: Option<[u8; SECTION_LEN]>,
}

impl Short {
    /// Who it names: a [`Signer::member_code`].
    pub fn member(&self) -> [u8; MEMBER_LEN] {
        self.member
    }

    /// Who it names, as the ledger keeps it for a reader who joined by
    /// themselves ([`Signer::request_code`]).
    pub fn code(&self) -> String {
        hex(&self.member)
    }

    /// The section it names, for a section link: a [`Signer::section_code`].
    pub fn section(&self) -> Option<[u8; SECTION_LEN]> {
        self.section
    }
}

/// The last segment of the path of a reader's own page: after their token.
pub const MANAGE: &str = "gerer";

/// A token read from a link: today's short form, or the long form of the
/// links sent before it, which names its list and address itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// The long form: what it unsubscribes from.
    Full(Token),
    /// The short form: to find in the list.
    Short(Short),
}

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

/// Whether two tags are the same, in a time that does not say where
/// they differ.
fn same_tag(expected: &[u8], given: &[u8]) -> bool {
    expected.len() == given.len()
        && expected
            .iter()
            .zip(given)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Bytes in lowercase hexadecimal.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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

    /// The first bytes of the HMAC of `parts`, each ended by a line end
    /// (so that no two lists of parts hash alike).
    fn keyed<const N: usize>(&self, parts: &[&str]) -> [u8; N] {
        let mut m = self.mac.clone();
        for part in parts {
            m.update(part.as_bytes());
            m.update(b"\n");
        }
        let full = m.finalize().into_bytes();
        let mut out = [0u8; N];
        out.copy_from_slice(&full[..N]);
        out
    }

    /// Who a short token names: a keyed hash of the list and the address.
    pub fn member_code(&self, list: &str, address: &Key) -> [u8; MEMBER_LEN] {
        self.keyed(&["breves-v2", "member", list, address.as_str()])
    }

    /// Which section a short token names.
    pub fn section_code(&self, list: &str, section: &str) -> [u8; SECTION_LEN] {
        self.keyed(&["breves-v2", "section", list, section])
    }

    fn short_tag(&self, body: &[u8]) -> [u8; SHORT_TAG_LEN] {
        self.keyed(&["breves-v2", "tag", &URL_SAFE_NO_PAD.encode(body)])
    }

    /// Which issue a VERP code names.
    pub fn issue_code(&self, list: &str, issue: &str) -> [u8; VERP_ISSUE_LEN] {
        self.keyed(&["breves-v2", "issue", list, issue])
    }

    fn verp_tag(&self, body: &[u8]) -> [u8; VERP_TAG_LEN] {
        self.keyed(&["breves-v2", "verp", &hex(body)])
    }

    /// The envelope sender of `member`'s message of `issue`: the list's
    /// bounce address with the signed code after a `+`, in lowercase
    /// hexadecimal (servers may change the case of an address).
    pub fn verp_address(
        &self,
        bounce: &lettre::Address,
        member: &[u8; MEMBER_LEN],
        list: &str,
        issue: &str,
    ) -> Option<lettre::Address> {
        let mut body = member.to_vec();
        body.extend(self.issue_code(list, issue));
        let tag = self.verp_tag(&body);
        body.extend(tag);
        let user = format!("{}+{}", bounce.user(), hex(&body));
        lettre::Address::new(user, bounce.domain()).ok()
    }

    /// The VERP code of an address a bounce was sent to
    /// (`rebonds+CODE@…`), if it is one and its tag is right.
    pub fn read_verp(&self, address: &str) -> Option<Verp> {
        let user = address.trim().trim_matches(['<', '>']).rsplit_once('@')?.0;
        let code = user.rsplit_once('+')?.1;
        if code.len() != 2 * (MEMBER_LEN + VERP_ISSUE_LEN + VERP_TAG_LEN) {
            return None;
        }
        let bytes: Vec<u8> = (0..code.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(code.get(i..i + 2)?, 16).ok())
            .collect::<Option<_>>()?;
        let (body, tag) = bytes.split_at(MEMBER_LEN + VERP_ISSUE_LEN);
        if !same_tag(&self.verp_tag(body), tag) {
            return None;
        }
        let mut verp = Verp {
            member: [0; MEMBER_LEN],
            issue: [0; VERP_ISSUE_LEN],
        };
        verp.member.copy_from_slice(&body[..MEMBER_LEN]);
        verp.issue.copy_from_slice(&body[MEMBER_LEN..]);
        Some(verp)
    }

    /// The token's short text, safe in a URL path: what links are made of.
    pub fn sign_short(&self, token: &Token) -> String {
        let member = self.member_code(&token.list, &token.address);
        self.sign_short_of(&member, &token.list, token.section.as_deref())
    }

    /// The same for the member whose code is `member` ([`Signer::member_code`],
    /// worked out once for all the links of a message).
    pub fn sign_short_of(
        &self,
        member: &[u8; MEMBER_LEN],
        list: &str,
        section: Option<&str>,
    ) -> String {
        let mut bytes = member.to_vec();
        if let Some(section) = section {
            bytes.extend(self.section_code(list, section));
        }
        let tag = self.short_tag(&bytes);
        bytes.extend(tag);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A link's token, short or long, if its signature is right. A short
    /// one is checked with the secret alone; who it names is found in the
    /// list ([`Signer::resolve`]).
    pub fn read(&self, text: &str) -> Result<Read, TokenError> {
        let text = text.trim();
        if text.contains('.') {
            return self.verify(text).map(Read::Full);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| TokenError::Malformed)?;
        let body_len = match bytes.len().checked_sub(SHORT_TAG_LEN) {
            Some(n) if n == MEMBER_LEN || n == MEMBER_LEN + SECTION_LEN => n,
            _ => return Err(TokenError::Malformed),
        };
        let (body, tag) = bytes.split_at(body_len);
        // Constant time, as `verify` compares.
        if !same_tag(&self.short_tag(body), tag) {
            return Err(TokenError::Forged);
        }
        let mut member = [0u8; MEMBER_LEN];
        member.copy_from_slice(&body[..MEMBER_LEN]);
        let section = (body.len() > MEMBER_LEN).then(|| {
            let mut code = [0u8; SECTION_LEN];
            code.copy_from_slice(&body[MEMBER_LEN..]);
            code
        });
        Ok(Read::Short(Short { member, section }))
    }

    /// Who a short token names in `list`, reading its members: none when
    /// nobody on the list (any more) has that code, or the section is not
    /// one of the list's topics.
    pub fn resolve(
        &self,
        short: &Short,
        list: &crate::subscribers::List,
    ) -> crate::Result<Option<Token>> {
        let section = match short.section {
            None => None,
            Some(code) => match list
                .topics
                .iter()
                .find(|t| self.section_code(&list.id, &t.id) == code)
            {
                Some(topic) => Some(topic.id.clone()),
                None => return Ok(None),
            },
        };
        for member in list.members() {
            let address = Key::of(&member?.email);
            if self.member_code(&list.id, &address) == short.member {
                return Ok(Some(Token {
                    list: list.id.clone(),
                    address,
                    section,
                }));
            }
        }
        Ok(None)
    }

    /// The token's long text, as links were made before short tokens
    /// (still read by [`Signer::read`]).
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
    fn a_signer_shown_for_debugging_shows_nothing_of_its_secret() {
        let secret = "a secret of at least sixteen bytes";
        let signer = Signer::new(secret.as_bytes()).expect("long enough");
        assert_eq!(format!("{signer:?}"), "Signer(***)");
        assert_eq!(format!("{signer:#?}"), "Signer(***)");
    }

    #[test]
    fn a_verp_address_names_member_and_issue_and_cannot_be_forged() {
        let signer = Signer::test();
        let bounce: lettre::Address = "rebonds@example.fr".parse().expect("address");
        let member = signer.member_code("londres", &Key::from_text("ada@example.org"));
        let address = signer
            .verp_address(&bounce, &member, "londres", "2026-03")
            .expect("an address");
        let text = address.to_string();
        assert_eq!(
            text.len(),
            "rebonds+".len() + 30 + "@example.fr".len(),
            "{text}"
        );
        let read = signer.read_verp(&text).expect("read back");
        assert_eq!(read.member, member);
        assert_eq!(read.issue, signer.issue_code("londres", "2026-03"));
        // Each issue of each list has a code of its own, which a report
        // is tied to.
        let codes = [
            signer.issue_code("londres", "2026-03"),
            signer.issue_code("londres", "2026-04"),
            signer.issue_code("paris", "2026-03"),
        ];
        assert!(codes[0] != codes[1] && codes[0] != codes[2] && codes[1] != codes[2]);
        // Servers may change its case, or write it between angle brackets.
        assert_eq!(
            signer.read_verp(&format!("<{}>", text.to_uppercase())),
            Some(read)
        );
        // A digit changed, another secret, or no code: nothing.
        let mut forged: Vec<char> = text.chars().collect();
        let at = "rebonds+".len();
        forged[at] = if forged[at] == '0' { '1' } else { '0' };
        let forged: String = forged.into_iter().collect();
        assert_eq!(signer.read_verp(&forged), None);
        let other = Signer::new(b"another secret of sixteen bytes").expect("signer");
        assert_eq!(other.read_verp(&text), None);
        assert_eq!(signer.read_verp("rebonds@example.fr"), None);
        assert_eq!(signer.read_verp("rebonds+zz@example.fr"), None);
        // The tag changed in one byte, and in two by the same bits (which
        // a comparison folding differences with `^` would let through):
        // nothing, every time.
        let (user, domain) = text.rsplit_once('@').expect("an address");
        let (base, code) = user.rsplit_once('+').expect("a code");
        let bytes: Vec<u8> = (0..code.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&code[i..i + 2], 16).expect("hex"))
            .collect();
        let tag_at = bytes.len() - VERP_TAG_LEN;
        for flips in [vec![0usize], vec![0, 1], vec![0, VERP_TAG_LEN - 1]] {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut forged = bytes.clone();
                for f in &flips {
                    forged[tag_at + f] ^= mask;
                }
                let address = format!("{base}+{}@{domain}", hex(&forged));
                assert_eq!(signer.read_verp(&address), None, "{flips:?} {mask:#x}");
            }
        }
        assert!(same_tag(&[1, 2, 3], &[1, 2, 3]));
        for other in [[1u8 ^ 5, 2 ^ 5, 3], [1, 2, 4], [0, 0, 0]] {
            assert!(!same_tag(&[1, 2, 3], &other), "{other:?}");
        }
        assert!(!same_tag(&[1, 2, 3], &[1, 2]));
    }

    #[test]
    fn a_token_signed_without_a_list_or_an_address_is_malformed() {
        let signer = Signer::test();
        let good = Token {
            list: "londres".into(),
            address: Key::from_text("ada@example.org"),
            section: None,
        };
        assert_eq!(signer.verify(&signer.sign(&good)), Ok(good.clone()));
        let no_list = Token {
            list: String::new(),
            ..good.clone()
        };
        let no_address = Token {
            address: Key::from_text("ada"),
            ..good
        };
        for token in [no_list, no_address] {
            assert_eq!(
                signer.verify(&signer.sign(&token)),
                Err(TokenError::Malformed),
                "{token:?}"
            );
        }
    }

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
    fn a_short_token_hides_the_address_and_is_found_in_the_list() {
        let dir = tempfile::tempdir().expect("a folder");
        let path = dir.path().join("l.toml");
        std::fs::write(
            &path,
            "[list]\nid = \"londres\"\nfrom = \"X <x@example.org>\"\ntopics = { spatial = \"S\", ia = \"IA\" }\n\
             [[member]]\nemail = \"bob@example.org\"\n[[member]]\nemail = \"Alice.Martin@Example.org\"\n",
        )
        .expect("the list");
        let (list, _) = crate::subscribers::List::load(&path).expect("a list");
        let signer = Signer::new(b"0123456789abcdef-secret").expect("secret");
        let alice = Key::from_text("alice.martin@example.org");
        for section in [None, Some("spatial".to_owned())] {
            let token = Token {
                list: "londres".into(),
                address: alice.clone(),
                section: section.clone(),
            };
            let text = signer.sign_short(&token);
            assert_eq!(
                text.len(),
                if section.is_some() { 23 } else { 20 },
                "{text}"
            );
            for secret in ["alice", "martin", "example", "londres", "spatial"] {
                assert!(!text.to_lowercase().contains(secret), "{text}");
            }
            assert!(
                !text.contains(&URL_SAFE_NO_PAD.encode("alice.martin@example.org")[..8]),
                "{text}"
            );
            let Ok(Read::Short(short)) = signer.read(&text) else {
                panic!("{text} reads as a short token");
            };
            assert_eq!(signer.resolve(&short, &list).expect("read"), Some(token));
            // Another secret, or a byte changed anywhere: refused.
            assert_eq!(Signer::test().read(&text), Err(TokenError::Forged));
            let mut bytes = URL_SAFE_NO_PAD.decode(&text).expect("base64");
            for i in 0..bytes.len() {
                bytes[i] ^= 1;
                assert_eq!(
                    signer.read(&URL_SAFE_NO_PAD.encode(&bytes)),
                    Err(TokenError::Forged),
                    "byte {i}"
                );
                bytes[i] ^= 1;
            }
            bytes.pop();
            assert_eq!(
                signer.read(&URL_SAFE_NO_PAD.encode(&bytes)),
                Err(TokenError::Malformed)
            );
        }
        // Someone no longer on the list, or a section the list no longer
        // offers: nobody.
        let gone = signer.sign_short(&Token {
            list: "londres".into(),
            address: Key::from_text("carol@example.org"),
            section: None,
        });
        let Ok(Read::Short(short)) = signer.read(&gone) else {
            panic!("short");
        };
        assert_eq!(signer.resolve(&short, &list).expect("read"), None);
        let old_section = signer.sign_short(&Token {
            list: "londres".into(),
            address: alice.clone(),
            section: Some("agenda".into()),
        });
        let Ok(Read::Short(short)) = signer.read(&old_section) else {
            panic!("short");
        };
        assert_eq!(signer.resolve(&short, &list).expect("read"), None);
        // A link sent before short tokens still reads, as it was.
        let long = Token {
            list: "londres".into(),
            address: alice,
            section: None,
        };
        assert_eq!(signer.read(&signer.sign(&long)), Ok(Read::Full(long)));
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
