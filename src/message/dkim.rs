//! DKIM signatures (RFC 6376) made over a message's bytes as they are
//! sent: relaxed canonicalization of headers and body, RSA-SHA256 or
//! Ed25519-SHA256 (RFC 8463), by `ring`.
//!
//! A signed letter is assembled from its variant's skeleton as an unsigned
//! one is, then signed here: its body hashed once as it stands, its header
//! fields read from its bytes, and the `DKIM-Signature` field put before
//! them. Nothing else of the message changes: a signed letter is the
//! unsigned one with one header field more.

use base64::Engine as _;
use ring::signature;

/// A key that signs, and what its signatures say.
pub(crate) struct Signing {
    key: Key,
    domain: String,
    selector: String,
    /// The header fields signed, in order, lowercase.
    headers: Vec<String>,
}

enum Key {
    Rsa(signature::RsaKeyPair),
    /// An RSA key `ring` refuses (shorter than 2,048 bits, which receivers
    /// no longer take: `check --dns` says so), signed all the same.
    ShortRsa(Box<rsa::RsaPrivateKey>),
    Ed25519(signature::Ed25519KeyPair),
}

/// The longest line of the `DKIM-Signature` field, folding included.
const LINE: usize = 78;

impl Signing {
    /// A signer from a private key's text (an RSA key in PKCS#1 PEM, or an
    /// Ed25519 key as the base64 of its 32-byte seed) for `selector` and
    /// `domain`, over the header fields `headers`.
    pub(crate) fn new(
        key: &str,
        selector: &str,
        domain: &str,
        headers: &[&str],
    ) -> Result<Signing, String> {
        let unreadable = |e: &dyn std::fmt::Display| format!("the DKIM key cannot be read: {e}");
        let key = key.trim();
        let key = if key.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
            use rustls::pki_types::pem::PemObject as _;
            let der = rustls::pki_types::PrivatePkcs1KeyDer::from_pem_slice(key.as_bytes())
                .map_err(|e| unreadable(&e))?;
            match signature::RsaKeyPair::from_der(der.secret_pkcs1_der()) {
                Ok(key) => Key::Rsa(key),
                Err(refused) => {
                    use rsa::pkcs1::DecodeRsaPrivateKey as _;
                    let key = rsa::RsaPrivateKey::from_pkcs1_der(der.secret_pkcs1_der())
                        .map_err(|_| unreadable(&refused))?;
                    Key::ShortRsa(Box::new(key))
                }
            }
        } else if key.starts_with("-----BEGIN") {
            return Err(
                "the DKIM key must be an RSA key in PKCS#1 PEM (BEGIN RSA PRIVATE KEY) or an Ed25519 seed in base64; convert it with `openssl pkey -traditional`".into(),
            );
        } else {
            let seed = base64::engine::general_purpose::STANDARD
                .decode(key)
                .map_err(|e| unreadable(&e))?;
            Key::Ed25519(
                signature::Ed25519KeyPair::from_seed_unchecked(&seed)
                    .map_err(|_| unreadable(&"an Ed25519 seed is 32 bytes"))?,
            )
        };
        Ok(Signing {
            key,
            domain: domain.to_owned(),
            selector: selector.to_owned(),
            headers: headers.iter().map(|h| h.to_ascii_lowercase()).collect(),
        })
    }

    /// The `DKIM-Signature` header field of `message` (its bytes as sent,
    /// CRLF line ends), signed at `time` (seconds since 1970): the whole
    /// field, its line end included, to put before the message's header.
    pub(crate) fn field(&self, message: &[u8], time: i64) -> Vec<u8> {
        let (header, body) = split(message);
        let body_hash = base64(body_hash(body).as_ref());
        let algorithm = match self.key {
            Key::Rsa(_) | Key::ShortRsa(_) => "rsa-sha256",
            Key::Ed25519(_) => "ed25519-sha256",
        };
        let tags = [
            "v=1".to_owned(),
            format!("a={algorithm}"),
            "c=relaxed/relaxed".to_owned(),
            format!("d={}", self.domain),
            format!("s={}", self.selector),
            "q=dns/txt".to_owned(),
            format!("t={time}"),
            format!("h={}", self.headers.join(":")),
            format!("bh={body_hash}"),
        ];
        // Everything up to `b=` is signed as it is written; the signature
        // follows on lines of its own.
        let mut unsigned = fold(&tags);
        unsigned.push_str(";\r\n b=");
        let mut hashed = Vec::with_capacity(1024);
        for name in &self.headers {
            if let Some(value) = last_field(header, name) {
                relaxed_field(name, value, &mut hashed);
                hashed.extend_from_slice(b"\r\n");
            }
        }
        relaxed_field("dkim-signature", unsigned.as_bytes(), &mut hashed);
        let signature = self.sign(&hashed);
        let mut field = format!("DKIM-Signature: {unsigned}");
        let first = LINE - " b=".len();
        let (head, rest) = signature.split_at(first.min(signature.len()));
        field.push_str(head);
        for chunk in rest.as_bytes().chunks(LINE - 1) {
            field.push_str("\r\n ");
            // Base64: ASCII, so every chunk is text.
            field.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        }
        field.push_str("\r\n");
        field.into_bytes()
    }

    /// The signature of the canonicalized header fields `hashed`, in base64.
    fn sign(&self, hashed: &[u8]) -> String {
        match &self.key {
            Key::Rsa(key) => {
                let mut signed = vec![0; key.public().modulus_len()];
                // Signing with a key ring has read cannot fail but for
                // want of memory; then the signature is empty, and the
                // receiver finds it does not verify.
                match key.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &ring::rand::SystemRandom::new(),
                    hashed,
                    &mut signed,
                ) {
                    Ok(()) => base64(&signed),
                    Err(_) => String::new(),
                }
            }
            Key::ShortRsa(key) => {
                let digest = ring::digest::digest(&ring::digest::SHA256, hashed);
                match key.sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), digest.as_ref()) {
                    Ok(signed) => base64(&signed),
                    Err(_) => String::new(),
                }
            }
            // RFC 8463: Ed25519 signs the SHA-256 hash of the data.
            Key::Ed25519(key) => {
                let digest = ring::digest::digest(&ring::digest::SHA256, hashed);
                base64(key.sign(digest.as_ref()).as_ref())
            }
        }
    }

    /// The public key, as a DKIM record's `p=` gives it (the
    /// SubjectPublicKeyInfo of an RSA key; the raw key of an Ed25519 one).
    #[cfg(test)]
    fn public(&self) -> Vec<u8> {
        match &self.key {
            Key::Rsa(key) => key.public().as_ref().to_vec(),
            Key::ShortRsa(_) => Vec::new(),
            Key::Ed25519(key) => {
                use ring::signature::KeyPair as _;
                key.public_key().as_ref().to_vec()
            }
        }
    }
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The tags of a signature, `; ` between them, folded before a tag that
/// would not fit on its line, and within the list of header fields after
/// a colon.
fn fold(tags: &[String]) -> String {
    let mut out = String::new();
    // The field's name and ": " come first on the first line.
    let mut column = "DKIM-Signature: ".len();
    for (i, tag) in tags.iter().enumerate() {
        let sep = if i == 0 { "" } else { "; " };
        // Room for the `;` after it.
        if column + sep.len() + tag.len() < LINE {
            out.push_str(sep);
            out.push_str(tag);
            column += sep.len() + tag.len();
            continue;
        }
        if i > 0 {
            out.push_str(";\r\n ");
            column = 1;
        }
        // A tag longer than a line (the header list) is folded after its
        // colons.
        for (j, part) in tag.split(':').enumerate() {
            let part_len = part.len() + usize::from(j > 0);
            if j > 0 && column + part_len + 1 > LINE {
                out.push_str(":\r\n ");
                column = 1;
            } else if j > 0 {
                out.push(':');
                column += 1;
            }
            out.push_str(part);
            column += part.len();
        }
    }
    out
}

/// A message's header (its lines, the last line end included) and body.
fn split(message: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memmem::find(message, b"\r\n\r\n") {
        Some(at) => (&message[..at + 2], &message[at + 4..]),
        None => (message, &[]),
    }
}

/// The value of the last field named `name` (any case) of `header`, as
/// written (its folding included, its line end not).
fn last_field<'a>(header: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let mut found = None;
    let mut at = 0;
    while at < header.len() {
        // A field runs to the line end not followed by a space or a tab.
        let mut end = at;
        loop {
            match header[end..].windows(2).position(|w| w == b"\r\n") {
                Some(n) => end += n + 2,
                None => end = header.len(),
            }
            if end >= header.len() || !matches!(header[end], b' ' | b'\t') {
                break;
            }
        }
        let field = &header[at..end];
        if let Some(colon) = field.iter().position(|&b| b == b':')
            && field[..colon]
                .trim_ascii()
                .eq_ignore_ascii_case(name.as_bytes())
        {
            let value = &field[colon + 1..];
            found = Some(value.strip_suffix(b"\r\n").unwrap_or(value));
        }
        at = end;
    }
    found
}

/// Writes `name:value` in relaxed canonical form (RFC 6376 §3.4.2): the
/// name in lowercase, the value unfolded, each run of spaces and tabs one
/// space, none at its ends. No line end.
fn relaxed_field(name: &str, value: &[u8], out: &mut Vec<u8>) {
    out.extend(name.bytes().map(|b| b.to_ascii_lowercase()));
    out.push(b':');
    let mut space = false;
    let start = out.len();
    for &b in value {
        match b {
            b'\r' | b'\n' => {}
            b' ' | b'\t' => space = true,
            _ => {
                if space && out.len() > start {
                    out.push(b' ');
                }
                space = false;
                out.push(b);
            }
        }
    }
}

/// The SHA-256 of `body` in relaxed canonical form (RFC 6376 §3.4.4): in
/// each line, runs of spaces and tabs one space and none at its end; the
/// empty lines at its end left out. Hashed as it is read, never copied
/// whole: the lines the form leaves as they are (nearly all of a message
/// encoded in quoted-printable or base64) are hashed as they stand, many
/// at a time.
fn body_hash(body: &[u8]) -> ring::digest::Digest {
    let mut hash = ring::digest::Context::new(&ring::digest::SHA256);
    // Empty lines seen and not yet hashed: they count only if a line with
    // text follows.
    let mut empty = 0;
    // Lines hashed as they stand, not yet handed to the hash.
    let mut run = 0..0;
    let mut line = Vec::with_capacity(128);
    let double = memchr::memmem::Finder::new(b"  ");
    let mut start = 0;
    while start < body.len() {
        let end = memchr::memchr(b'\n', &body[start..]).map_or(body.len(), |n| start + n + 1);
        let raw = &body[start..end];
        let text = raw.strip_suffix(b"\n").unwrap_or(raw);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let as_it_stands = raw.ends_with(b"\r\n")
            && !text.is_empty()
            && memchr::memchr2(b'\t', b'\r', text).is_none()
            && !text.ends_with(b" ")
            && double.find(text).is_none();
        if as_it_stands && empty == 0 {
            if run.end != start {
                hash.update(&body[run.clone()]);
                run = start..start;
            }
            run.end = end;
        } else {
            hash.update(&body[run.clone()]);
            run = end..end;
            relaxed_line(text, &mut line);
            if line.is_empty() {
                empty += 1;
            } else {
                for _ in 0..empty {
                    hash.update(b"\r\n");
                }
                empty = 0;
                hash.update(&line);
                hash.update(b"\r\n");
            }
        }
        start = end;
    }
    hash.update(&body[run]);
    hash.finish()
}

/// A line of a body in relaxed form, into `out`: each run of spaces and
/// tabs one space, none at its end.
fn relaxed_line(text: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut space = false;
    for &b in text {
        match b {
            b' ' | b'\t' => space = true,
            _ => {
                if space {
                    out.push(b' ');
                }
                space = false;
                out.push(b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_of(d: ring::digest::Digest) -> String {
        crate::issue::hex(d.as_ref())
    }

    #[test]
    fn the_body_is_hashed_in_relaxed_form() {
        // RFC 6376 §3.4.6's example, and the body of nothing.
        let canonical = hex_of(ring::digest::digest(
            &ring::digest::SHA256,
            b" C\r\nD E\r\n",
        ));
        assert_eq!(hex_of(body_hash(b" C \r\nD \t E\r\n\r\n\r\n")), canonical);
        assert_eq!(hex_of(body_hash(b" C\r\nD E")), canonical);
        let empty = hex_of(ring::digest::digest(&ring::digest::SHA256, b""));
        assert_eq!(hex_of(body_hash(b"")), empty);
        assert_eq!(hex_of(body_hash(b"\r\n\r\n")), empty);
        // Empty lines inside the body stay.
        let inside = hex_of(ring::digest::digest(
            &ring::digest::SHA256,
            b"a\r\n\r\nb\r\n",
        ));
        assert_eq!(hex_of(body_hash(b"a\r\n\r\nb\r\n\r\n")), inside);
    }

    /// Relaxed body canonicalization written plainly, line by line.
    fn reference(body: &[u8]) -> String {
        let text = String::from_utf8_lossy(body).replace("\r\n", "\n");
        let mut lines: Vec<String> = text
            .split('\n')
            .map(|l| {
                let words: Vec<&str> = l.split([' ', '\t']).collect();
                let joined = words.join(" ");
                let mut out = String::new();
                let mut space = false;
                for c in joined.chars() {
                    if c == ' ' {
                        space = true;
                    } else {
                        if space {
                            out.push(' ');
                        }
                        space = false;
                        out.push(c);
                    }
                }
                out
            })
            .collect();
        while lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        lines.iter().map(|l| format!("{l}\r\n")).collect()
    }

    #[test]
    fn the_body_hashed_many_lines_at_a_time_is_hashed_as_line_by_line() {
        let bodies: [&[u8]; 6] = [
            b"une ligne\r\ndeux  espaces\r\n\r\ntrois\t\r\nquatre=\r\n",
            b"\r\n\r\ntexte apr\xc3\xa8s deux lignes vides\r\n \r\n\t\r\nfin\r\n\r\n",
            b"sans fin de ligne",
            b"a\r\nb\r\n  \r\nc  d \r\ne\r\n",
            b" commence par un espace\r\nfin par un espace \r\n",
            b"--=_boundary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCorps=C3=A9\r\n--=_boundary--\r\n",
        ];
        for body in bodies {
            let expected = ring::digest::digest(&ring::digest::SHA256, reference(body).as_bytes());
            assert_eq!(
                hex_of(body_hash(body)),
                hex_of(expected),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn header_fields_are_read_unfolded_in_relaxed_form() {
        let header = b"From: A <a@example.org>\r\nSubject:  Un \r\n\t sujet  \r\nTo: b@example.org\r\nsubject: second\r\n";
        let mut out = Vec::new();
        relaxed_field(
            "Subject",
            last_field(&header[..], "subject").expect("found"),
            &mut out,
        );
        assert_eq!(out, b"subject:second");
        out.clear();
        let first = &header[..header.len() - b"subject: second\r\n".len()];
        relaxed_field(
            "subject",
            last_field(first, "SUBJECT").expect("found"),
            &mut out,
        );
        assert_eq!(out, b"subject:Un sujet");
        assert_eq!(last_field(&header[..], "Cc"), None);
    }

    #[test]
    fn a_signature_field_keeps_to_its_lines_and_verifies() {
        let seed = [7u8; 32];
        let signing = Signing::new(
            &base64(&seed),
            "breves",
            "example.fr",
            &[
                "From",
                "To",
                "Subject",
                "List-Unsubscribe-Post",
                "MIME-Version",
            ],
        )
        .expect("a key");
        let message = b"From: a@example.fr\r\nTo: b@example.org\r\nSubject: Essai\r\nMIME-Version: 1.0\r\n\r\nCorps\r\n";
        let field = signing.field(message, 1_775_552_400);
        let text = String::from_utf8(field.clone()).expect("ASCII");
        assert!(
            text.ends_with("\r\n") && text.starts_with("DKIM-Signature: v=1; a=ed25519-sha256;")
        );
        assert!(text.lines().all(|l| l.len() <= LINE), "{text}");
        assert!(text.contains("t=1775552400"), "{text}");
        // The signature verifies over what a receiver hashes: the fields
        // named, then this one with `b=` emptied.
        let at = text.find(" b=").expect("b=") + " b=".len();
        let mut hashed = Vec::new();
        for (name, value) in [
            ("from", "a@example.fr"),
            ("to", "b@example.org"),
            ("subject", "Essai"),
            ("mime-version", "1.0"),
        ] {
            hashed.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
        }
        relaxed_field("dkim-signature", &field[16..at], &mut hashed);
        let b: String = text[at..].split_whitespace().collect();
        let b = base64::engine::general_purpose::STANDARD
            .decode(b)
            .expect("base64");
        let digest = ring::digest::digest(&ring::digest::SHA256, &hashed);
        signature::UnparsedPublicKey::new(&signature::ED25519, signing.public())
            .verify(digest.as_ref(), &b)
            .expect("verifies");
    }
}
