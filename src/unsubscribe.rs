//! Unsubscription tokens: signed, so that nobody can unsubscribe someone
//! else by editing a URL.
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
    key: Vec<u8>,
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
        Ok(Signer {
            key: secret.to_vec(),
        })
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
            key: TEST_SECRET.as_bytes().to_vec(),
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
        let mut m = mac(&self.key);
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
        let mut m = mac(&self.key);
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

/// The unsubscription server: answers the links of [`Signer`] tokens.
///
/// A client that keeps presenting tokens that do not verify is slowed down:
/// past `BAD_TOKEN_ALLOWANCE` bad tokens within `BAD_TOKEN_WINDOW`, it
/// gets `429 Too Many Requests` (with `Retry-After`) and its tokens are not
/// even checked until the oldest of those falls out of the window. A client
/// is its IP address; behind a proxy on the same machine (a loopback peer),
/// the last address of `X-Forwarded-For`.
pub mod server {
    use std::collections::{HashMap, VecDeque};
    use std::net::{IpAddr, SocketAddr};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::{ConnectInfo, State};
    use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
    use axum::response::{IntoResponse, Response};
    use maud::{DOCTYPE, Markup, html};

    use super::{Signer, Token};
    use crate::ledger::Ledger;

    /// What the server needs: the secret and the ledger, and optionally the
    /// topics' labels to name sections.
    pub struct Service {
        /// Checks tokens.
        pub signer: Signer,
        /// Records suppressions and opt-outs.
        pub ledger: Arc<Ledger>,
        /// Section ids and their labels, for pages.
        pub labels: Vec<(String, String)>,
    }

    /// The body of an RFC 8058 one-click request (and of the page's form).
    pub const ONE_CLICK: &str = "List-Unsubscribe=One-Click";

    /// Bad tokens one client may present within [`BAD_TOKEN_WINDOW`].
    pub const BAD_TOKEN_ALLOWANCE: usize = 10;

    /// The window over which bad tokens are counted.
    pub const BAD_TOKEN_WINDOW: Duration = Duration::from_secs(600);

    /// Clients remembered at most; past this, those quiet for a whole
    /// window are forgotten.
    const CLIENTS_KEPT: usize = 10_000;

    /// The bad tokens each client presented lately.
    #[derive(Default)]
    struct Throttle {
        bad: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
    }

    impl Throttle {
        fn clients(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, VecDeque<Instant>>> {
            self.bad.lock().unwrap_or_else(|e| e.into_inner())
        }

        /// How long `client` must wait, if it used up its allowance.
        fn wait(&self, client: IpAddr, now: Instant) -> Option<Duration> {
            let mut clients = self.clients();
            let times = clients.get_mut(&client)?;
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) >= BAD_TOKEN_WINDOW)
            {
                times.pop_front();
            }
            if times.len() < BAD_TOKEN_ALLOWANCE {
                return None;
            }
            let oldest = *times.front()?;
            Some(BAD_TOKEN_WINDOW.saturating_sub(now.duration_since(oldest)))
        }

        /// Counts one bad token from `client`.
        fn bad(&self, client: IpAddr, now: Instant) {
            let mut clients = self.clients();
            if clients.len() >= CLIENTS_KEPT {
                clients.retain(|_, times| {
                    times
                        .back()
                        .is_some_and(|t| now.duration_since(*t) < BAD_TOKEN_WINDOW)
                });
            }
            let times = clients.entry(client).or_default();
            times.push_back(now);
            while times.len() > BAD_TOKEN_ALLOWANCE {
                times.pop_front();
            }
        }
    }

    /// Who is asking: the peer, or the address a local proxy names.
    fn client(peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        if peer.ip().is_loopback()
            && let Some(forwarded) = headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok())
        {
            return forwarded;
        }
        peer.ip()
    }

    struct App {
        service: Service,
        throttle: Throttle,
    }

    fn too_many(wait: Duration) -> Response {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, (wait.as_secs() + 1).to_string())],
            "too many invalid links from this address; try again later\n",
        )
            .into_response()
    }

    fn page(status: StatusCode, title: &str, body: Markup) -> Response {
        let markup = html! {
            (DOCTYPE)
            html lang="fr" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="robots" content="noindex";
                    title { (title) }
                    style { "body{font-family:Arial,Helvetica,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;color:#161616}button{font-size:1em;padding:.6em 1.2em;background:#000091;color:#fff;border:0;cursor:pointer}" }
                }
                body { h1 { (title) } (body) }
            }
        };
        (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
                (header::REFERRER_POLICY, "no-referrer"),
            ],
            markup.into_string(),
        )
            .into_response()
    }

    fn invalid() -> Response {
        page(
            StatusCode::BAD_REQUEST,
            "Ce lien n’est pas valide",
            html! { p { "Il a peut-être été coupé ou modifié. Utilisez le lien de désabonnement d’une lettre reçue, ou répondez à celle-ci." } },
        )
    }

    impl Service {
        fn label(&self, section: &str) -> String {
            self.labels
                .iter()
                .find(|(id, _)| id == section)
                .map_or_else(|| section.to_owned(), |(_, label)| label.clone())
        }

        fn what(&self, token: &Token) -> String {
            match &token.section {
                Some(section) => format!("la rubrique « {} »", self.label(section)),
                None => "cette lettre".to_owned(),
            }
        }
    }

    async fn handle(
        State(app): State<Arc<App>>,
        ConnectInfo(peer): ConnectInfo<SocketAddr>,
        headers: HeaderMap,
        method: Method,
        uri: Uri,
        body: Bytes,
    ) -> Response {
        let service = &app.service;
        let client = client(peer, &headers);
        if let Some(wait) = app.throttle.wait(client, Instant::now()) {
            return too_many(wait);
        }
        let token_text = uri.path().rsplit('/').next().unwrap_or_default();
        let Ok(token) = service.signer.verify(token_text) else {
            app.throttle.bad(client, Instant::now());
            return invalid();
        };
        let what = service.what(&token);
        match method {
            Method::GET | Method::HEAD => page(
                StatusCode::OK,
                "Se désabonner",
                html! {
                    p { "Ne plus recevoir " (what) " à l’adresse " strong { (token.address) } " ?" }
                    form method="post" {
                        input type="hidden" name="List-Unsubscribe" value="One-Click";
                        button type="submit" { "Confirmer" }
                    }
                },
            ),
            Method::POST => {
                if body.as_ref() != ONE_CLICK.as_bytes() {
                    return (
                        StatusCode::BAD_REQUEST,
                        "expected List-Unsubscribe=One-Click\n",
                    )
                        .into_response();
                }
                let ledger = Arc::clone(&service.ledger);
                let recorded = {
                    let token = token.clone();
                    tokio::task::spawn_blocking(move || match &token.section {
                        Some(section) => ledger.opt_out(&token.list, &token.address, section),
                        None => ledger.suppress(&token.list, &token.address, "one-click"),
                    })
                    .await
                };
                match recorded {
                    Ok(Ok(_)) => page(
                        StatusCode::OK,
                        "C’est fait",
                        html! { p { "Vous ne recevrez plus " (what) " à l’adresse " strong { (token.address) } "." } },
                    ),
                    _ => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "the ledger cannot record this now; try again\n",
                    )
                        .into_response(),
                }
            }
            _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
        }
    }

    /// Serves until the listener closes.
    pub async fn serve(listener: tokio::net::TcpListener, service: Service) -> std::io::Result<()> {
        let app = Router::new().fallback(handle).with_state(Arc::new(App {
            service,
            throttle: Throttle::default(),
        }));
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_client_is_slowed_down_past_its_allowance_of_bad_tokens() {
            let throttle = Throttle::default();
            let start = Instant::now();
            let attacker: IpAddr = [192, 0, 2, 1].into();
            let neighbour: IpAddr = [192, 0, 2, 2].into();
            for i in 0..BAD_TOKEN_ALLOWANCE {
                assert_eq!(throttle.wait(attacker, start), None, "bad token {i}");
                throttle.bad(attacker, start + Duration::from_secs(i as u64));
            }
            let now = start + Duration::from_secs(60);
            // Ten bad tokens: the next waits until the first leaves the window.
            assert_eq!(
                throttle.wait(attacker, now),
                Some(BAD_TOKEN_WINDOW - Duration::from_secs(60))
            );
            assert_eq!(throttle.wait(neighbour, now), None, "others are not slowed");
            // Once the first bad token is a window old, one more try is allowed.
            let later = start + BAD_TOKEN_WINDOW;
            assert_eq!(throttle.wait(attacker, later), None);
            throttle.bad(attacker, later);
            assert!(throttle.wait(attacker, later).is_some());
        }

        #[test]
        fn behind_a_local_proxy_the_forwarded_address_is_the_client() {
            let mut headers = HeaderMap::new();
            headers.insert(
                "x-forwarded-for",
                "203.0.113.9, 198.51.100.7".parse().expect("header"),
            );
            let local: SocketAddr = "127.0.0.1:4000".parse().expect("addr");
            let remote: SocketAddr = "192.0.2.1:4000".parse().expect("addr");
            assert_eq!(
                client(local, &headers),
                "198.51.100.7".parse::<IpAddr>().expect("ip")
            );
            // A remote peer cannot choose its own identity.
            assert_eq!(client(remote, &headers), remote.ip());
            assert_eq!(client(local, &HeaderMap::new()), local.ip());
        }
    }
}
