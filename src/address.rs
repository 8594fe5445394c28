//! Addresses: checked once as they are read, then compared through one
//! key.
//!
//! [`parse_address`] checks an address as written (syntax, lengths, a full
//! domain, an internationalised domain in its ASCII form). [`Key`] is what
//! makes two addresses *the same subscriber*: the list refuses a member
//! listed twice by it, the selection applies preferences by it, the ledger
//! records deliveries and suppressions under it, the unsubscription tokens
//! carry it and the dispatcher finds a recipient by it. Mail systems ignore
//! the case of domains, and in practice of local parts too, so the key is
//! the address in lowercase.
//!
//! ```
//! use breves::address::{Key, parse_address};
//! let address = parse_address("Alice.Martin@Example.org").unwrap();
//! assert_eq!(Key::of(&address), Key::from_text(" alice.martin@example.ORG "));
//! assert_eq!(Key::of(&address).as_str(), "alice.martin@example.org");
//! ```

use lettre::Address;

/// The length of the code VERP adds to a bounce address, after a `+`
/// (hexadecimal digits).
pub const VERP_CODE_LEN: usize = 30;

/// The longest part before the `@` a bounce address may have: with `+` and
/// the code, an address's local part is at most 64 characters (RFC 5321).
pub const VERP_USER_MAX: usize = 64 - 1 - VERP_CODE_LEN;

/// The most an address may be (RFC 5321: a path of 256 octets, less `<>`).
const MAX_ADDRESS: usize = 254;
/// The most a local part may be (RFC 5321).
const MAX_LOCAL: usize = 64;

/// Checks one address as written; on success the address, else why not.
pub fn parse_address(text: &str) -> std::result::Result<Address, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("it is empty".into());
    }
    if text.len() > MAX_ADDRESS {
        return Err(format!("it is longer than {MAX_ADDRESS} characters"));
    }
    if let Some((local, _)) = text.rsplit_once('@')
        && local.len() > MAX_LOCAL
    {
        return Err(format!(
            "the part before @ is longer than {MAX_LOCAL} characters"
        ));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it contains a space or a control character".into());
    }
    let Some((local, domain)) = text.rsplit_once('@') else {
        return Err("it has no @: write it as name@example.org".into());
    };
    if local.is_empty() || domain.is_empty() {
        return Err("it needs a name before the @ and a domain after it".into());
    }
    // An internationalised domain travels in its ASCII form (IDNA).
    let domain = if domain.is_ascii() {
        domain.to_owned()
    } else {
        idna::domain_to_ascii(domain).map_err(|_| {
            format!("the domain `{domain}` is not a valid internationalised domain name")
        })?
    };
    let normalized = format!("{local}@{domain}");
    let address: Address = normalized.parse().map_err(|e| match e {
        lettre::address::AddressError::InvalidDomain => {
            format!("`{domain}` is not a valid domain")
        }
        lettre::address::AddressError::InvalidUser => {
            format!("`{local}` is not valid before the @")
        }
        other => other.to_string(),
    })?;
    if !address.domain().contains('.') && !address.domain().starts_with('[') {
        return Err(format!(
            "the domain `{}` has no dot: a full domain such as example.org is needed",
            address.domain()
        ));
    }
    Ok(address)
}

/// What makes two addresses the same subscriber: the address in lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Key(String);

impl Key {
    /// The key of a checked address.
    pub fn of(address: &Address) -> Key {
        Key(address.to_string().to_lowercase())
    }

    /// The key of an address as text that was written from a key (the
    /// ledger, a token) or typed on the command line: trimmed, lowercase.
    pub fn from_text(text: &str) -> Key {
        let text = text.trim();
        // An internationalised domain typed as it reads is the same
        // address as in its ASCII form, as [`parse_address`] writes it.
        if let Some((local, domain)) = text.rsplit_once('@')
            && !domain.is_ascii()
            && let Ok(ascii) = idna::domain_to_ascii(domain)
        {
            return Key(format!("{local}@{ascii}").to_lowercase());
        }
        Key(text.to_lowercase())
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A keyed hash of the key on `list` (the first 128 bits of
    /// HMAC-SHA256 under `secret`): what is kept of a reader forgotten,
    /// enough to know them again, not to read their address.
    pub fn keyed_hash(&self, secret: &[u8], list: &str) -> [u8; 16] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(list.as_bytes());
        mac.update(b"\0");
        mac.update(self.0.as_bytes());
        let mut out = [0u8; 16];
        out.copy_from_slice(&mac.finalize().into_bytes()[..16]);
        out
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for Key {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&Address> for Key {
    fn from(address: &Address) -> Key {
        Key::of(address)
    }
}

impl rusqlite::ToSql for Key {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        self.0.to_sql()
    }
}

impl rusqlite::types::FromSql for Key {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        String::column_result(value).map(Key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> String {
        parse_address(text).expect_err(text)
    }

    #[test]
    fn addresses_are_checked_and_refused_with_their_reason() {
        assert_eq!(
            parse_address("  alice@example.org ").map(|a| a.to_string()),
            Ok("alice@example.org".to_owned())
        );
        for (bad, why) in [
            ("", "it is empty"),
            ("   ", "it is empty"),
            ("alice", "it has no @: write it as name@example.org"),
            (
                "alice@",
                "it needs a name before the @ and a domain after it",
            ),
            (
                "@example.org",
                "it needs a name before the @ and a domain after it",
            ),
            (
                "a b@example.org",
                "it contains a space or a control character",
            ),
            (
                "a\u{7}b@example.org",
                "it contains a space or a control character",
            ),
            (
                "alice@localhost",
                "the domain `localhost` has no dot: a full domain such as example.org is needed",
            ),
            ("a@b@example.org", "`a@b` is not valid before the @"),
            ("alice@example..org", "`example..org` is not a valid domain"),
            (
                "anne@bü cher.example.org",
                "it contains a space or a control character",
            ),
        ] {
            assert_eq!(reason(bad), why, "{bad:?}");
        }
        let idn = parse_address("anne@bücher.example.org").expect("an IDN");
        assert_eq!(idn.to_string(), "anne@xn--bcher-kva.example.org");
        assert_eq!(
            parse_address("rené@example.org").map(|a| a.to_string()),
            Ok("rené@example.org".to_owned())
        );
        assert!(
            parse_address("root@[192.0.2.1]").is_ok(),
            "an address literal"
        );
    }

    #[test]
    fn the_length_limits_hold_exactly_at_their_boundaries() {
        let local = |n: usize| "a".repeat(n);
        assert!(parse_address(&format!("{}@example.org", local(64))).is_ok());
        assert_eq!(
            reason(&format!("{}@example.org", local(65))),
            "the part before @ is longer than 64 characters"
        );
        // 64 + 1 + 189 = 254 characters in all, the most RFC 5321 allows.
        let domain = |last: usize| {
            format!(
                "{}.{}.{}.org",
                "b".repeat(63),
                "c".repeat(63),
                "d".repeat(last)
            )
        };
        let longest = format!("{}@{}", local(64), domain(57));
        assert_eq!(longest.len(), 254);
        assert!(parse_address(&longest).is_ok(), "{longest}");
        let over = format!("{}@{}", local(64), domain(58));
        assert_eq!(reason(&over), "it is longer than 254 characters");
    }

    #[test]
    fn a_key_is_the_address_in_lowercase() {
        let address = parse_address("Alice.Martin@Example.ORG").expect("valid");
        let key = Key::of(&address);
        assert_eq!(key.as_str(), "alice.martin@example.org");
        assert_eq!(key.to_string(), "alice.martin@example.org");
        assert_eq!(Key::from(&address), key);
        assert_eq!(Key::from_text("  ALICE.martin@example.org\n"), key);
        let set: std::collections::HashSet<Key> = [key.clone()].into();
        assert!(
            set.contains("alice.martin@example.org"),
            "looked up by text"
        );
        assert!(Key::from_text("a@example.org") < Key::from_text("b@example.org"));
        // An internationalised domain, typed as it reads or in ASCII, is
        // the same member's.
        let anne = Key::of(&parse_address("anne@bücher.example.org").expect("valid"));
        assert_eq!(anne.as_str(), "anne@xn--bcher-kva.example.org");
        for typed in [
            "anne@bücher.example.org",
            " Anne@BÜCHER.example.org ",
            "anne@xn--bcher-kva.example.org",
        ] {
            assert_eq!(Key::from_text(typed), anne, "{typed}");
        }
    }
}
