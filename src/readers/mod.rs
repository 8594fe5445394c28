//! The server readers use (`breves serve`): it answers the unsubscription
//! links of [`Signer`] tokens, each reader's own page
//! (`…/TOKEN/gerer`), and the subscription form with its confirmations
//! ([`subscribe`]).
//!
//! A genuine link is always honoured. A client that keeps presenting
//! tokens that do not verify is slowed down: past `BAD_TOKEN_ALLOWANCE`
//! bad tokens within `BAD_TOKEN_WINDOW`, its bad tokens get `429 Too Many
//! Requests` (with `Retry-After`) until the oldest of those falls out of
//! the window. A client is its IP address; behind a proxy the operator
//! names (`trusted_proxies`), the last address of `X-Forwarded-For` that
//! is not one of those proxies. Who a short token names is found in the
//! list's [`Directory`], in constant time.

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

pub mod directory;
pub mod subscribe;

use crate::ledger::Ledger;
use crate::unsubscribe::{MANAGE, Read, Signer, Token};
use directory::Directory;

/// What the server needs: the secret and the ledger, and optionally the
/// topics' labels to name sections.
pub struct Service {
    /// Checks tokens.
    pub signer: Signer,
    /// Records suppressions and opt-outs.
    pub ledger: Arc<Ledger>,
    /// Section ids and their labels, for pages.
    pub labels: Vec<(String, String)>,
    /// The members short links name (links sent before them name their
    /// list and address themselves).
    pub directory: Option<Arc<Directory>>,
    /// The proxies whose `X-Forwarded-For` names the client; from any
    /// other peer, the header is ignored.
    pub trusted_proxies: Vec<IpAddr>,
    /// The subscription form and its confirmations, when the list has a
    /// form (`subscribe_url`) and the server a relay.
    pub joining: Option<subscribe::Joining>,
}

/// The field of an RFC 8058 one-click request (the body of the page's
/// form, and what the server looks for in any form a POST takes).
pub const ONE_CLICK: &str = "List-Unsubscribe=One-Click";

/// Bad tokens one client may present within [`BAD_TOKEN_WINDOW`].
pub const BAD_TOKEN_ALLOWANCE: usize = 10;

/// The window over which bad tokens are counted.
pub const BAD_TOKEN_WINDOW: Duration = Duration::from_secs(600);

/// Clients remembered at most; past this, those quiet for a whole
/// window are forgotten.
const CLIENTS_KEPT: usize = 10_000;

/// What each client did lately (presented a bad token, asked to join):
/// past `allowance` times within `window`, it must wait.
pub(super) struct Throttle {
    allowance: usize,
    window: Duration,
    clients: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl Throttle {
    pub(super) fn new(allowance: usize, window: Duration) -> Throttle {
        Throttle {
            allowance,
            window,
            clients: Mutex::default(),
        }
    }

    fn clients(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, VecDeque<Instant>>> {
        self.clients.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long `client` must wait, if it used up its allowance.
    pub(super) fn wait(&self, client: IpAddr, now: Instant) -> Option<Duration> {
        let mut clients = self.clients();
        let times = clients.get_mut(&client)?;
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() < self.allowance {
            return None;
        }
        let oldest = *times.front()?;
        Some(self.window.saturating_sub(now.duration_since(oldest)))
    }

    /// Counts one time `client` did it.
    pub(super) fn count(&self, client: IpAddr, now: Instant) {
        let mut clients = self.clients();
        if clients.len() >= CLIENTS_KEPT {
            clients.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        let times = clients.entry(client).or_default();
        times.push_back(now);
        while times.len() > self.allowance {
            times.pop_front();
        }
    }
}

/// Who is asking: the peer, or, when the peer is a proxy the operator
/// trusts, the last address of `X-Forwarded-For` that is not one of those
/// proxies (each proxy adds the address it received from at the end).
fn client(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let canonical = |ip: IpAddr| ip.to_canonical();
    let peer_ip = canonical(peer.ip());
    if !trusted.iter().any(|t| canonical(*t) == peer_ip) {
        return peer_ip;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|v| v.trim().parse::<IpAddr>().ok())
        .map(canonical)
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !trusted.iter().any(|t| canonical(*t) == *ip))
        .unwrap_or(peer_ip)
}

struct App {
    service: Service,
    /// Bad tokens, per client.
    throttle: Throttle,
    /// Requests to join, per client.
    requests: Throttle,
}

/// Answers a token that does not verify, slowing down a client that
/// presents many.
fn bad_token(throttle: &Throttle, client: IpAddr) -> Response {
    let now = Instant::now();
    if let Some(wait) = throttle.wait(client, now) {
        return too_many(wait);
    }
    throttle.count(client, now);
    invalid()
}

fn too_many(wait: Duration) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, (wait.as_secs() + 1).to_string())],
        "too many invalid links from this address; try again later\n",
    )
        .into_response()
}

/// The pages' only style: readable on a phone, contrast above 4.5:1, the
/// robots' field out of sight.
const STYLE: &str = "body{font-family:Arial,Helvetica,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;color:#161616;line-height:1.4}button{font-size:1em;padding:.6em 1.2em;background:#000091;color:#fff;border:0;cursor:pointer}fieldset{border:1px solid #666;padding:.5em 1em}input[type=email],input[type=text]{font-size:1em;padding:.4em;width:100%;max-width:24em;box-sizing:border-box;border:1px solid #666}.problem{color:#b00020;font-weight:bold}.note{color:#3a3a3a;font-size:.9em}.trap{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}";

pub(super) fn page(status: StatusCode, title: &str, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="fr" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
                style { (STYLE) }
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

pub(super) fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "the ledger or the list cannot be read now; try again\n",
    )
        .into_response()
}

/// A genuine link whose subscriber the list no longer has: nothing to do,
/// they receive nothing more.
fn not_on_the_list() -> Response {
    page(
        StatusCode::OK,
        "Vous n’êtes plus abonné",
        html! { p { "Cette adresse ne figure plus sur la liste : vous ne recevrez plus cette lettre." } },
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
    let client = client(peer, &headers, &service.trusted_proxies);
    if let Some(joining) = &service.joining {
        let path = uri.path().trim_end_matches('/');
        if path == joining.path {
            let request = (method, &headers, body);
            return subscribe::form(service, joining, &app.requests, client, request).await;
        }
        if let Some(token) = path
            .strip_prefix(joining.path.as_str())
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|rest| rest.strip_prefix(subscribe::CONFIRM))
            .and_then(|rest| rest.strip_prefix('/'))
        {
            return match subscribe::confirm(service, joining, token, (method, &headers)).await {
                Ok(response) => response,
                Err(_) => bad_token(&app.throttle, client),
            };
        }
    }
    // `…/TOKEN` unsubscribes; `…/TOKEN/gerer` is the reader's page.
    let mut segments = uri.path().trim_end_matches('/').rsplit('/');
    let last = segments.next().unwrap_or_default();
    let manage = last == MANAGE;
    let token_text = if manage {
        segments.next().unwrap_or_default()
    } else {
        last
    };
    let token = match service.signer.read(token_text) {
        Ok(Read::Full(token)) => token,
        Ok(Read::Short(short)) => {
            // A genuine link: who it names is found in the list, or
            // among the readers who joined by themselves.
            let Some(directory) = service.directory.clone() else {
                return not_on_the_list();
            };
            let ledger = Arc::clone(&service.ledger);
            match tokio::task::spawn_blocking(move || directory.find(&short, &ledger)).await {
                Ok(Ok(Some(token))) => token,
                Ok(Ok(None)) => return not_on_the_list(),
                _ => return unavailable(),
            }
        }
        // Only bad tokens are slowed down: a genuine link is honoured
        // whoever else shares its client's address.
        Err(_) => return bad_token(&app.throttle, client),
    };
    if manage {
        return manage_page(service, &token, &headers, method, body).await;
    }
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
            if !is_one_click(&headers, body).await {
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
                _ => unavailable(),
            }
        }
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}

/// The reader's page (`…/TOKEN/gerer`): their sections as check boxes,
/// ticked as the next send would serve them, any of which they tick or
/// untick (one stopped earlier too), or they leave the list. A change is
/// recorded in the ledger with its evidence and takes effect at the next
/// send. The link carries the secret token: no other site can make the
/// request, and a browser's cross-site POST is refused all the same.
async fn manage_page(
    service: &Service,
    token: &Token,
    headers: &HeaderMap,
    method: Method,
    body: Bytes,
) -> Response {
    let Some(directory) = service.directory.clone() else {
        return not_on_the_list();
    };
    let list = token.list.clone();
    let address = token.address.clone();
    let ledger = Arc::clone(&service.ledger);
    let read = {
        let (list, address, ledger) = (list.clone(), address.clone(), Arc::clone(&ledger));
        tokio::task::spawn_blocking(move || {
            let interests = directory.interests(&address)?;
            let held = ledger.held(&list, &address)?;
            Ok::<_, crate::Error>((interests, held))
        })
        .await
    };
    let (interests, held) = match read {
        Ok(Ok((Some(interests), held))) => (interests, held),
        // A reader who joined by themselves: their sections are their
        // choice.
        Ok(Ok((None, held))) if held.has_joined() => (Vec::new(), held),
        Ok(Ok((None, _))) => return not_on_the_list(),
        _ => return unavailable(),
    };
    if held.left.is_some() || held.forgotten.is_some() {
        return not_on_the_list();
    }
    let current: Vec<String> = match &held.chose {
        Some((sections, _, _)) => sections.split_whitespace().map(str::to_owned).collect(),
        None => interests,
    }
    .into_iter()
    .filter(|s| !held.stopped.iter().any(|(stopped, _)| stopped == s))
    .collect();
    match method {
        Method::GET | Method::HEAD => page(
            StatusCode::OK,
            "Gérer mon abonnement",
            html! {
                p { "Les rubriques que reçoit " strong { (address) } " :" }
                form method="post" {
                    @for (id, label) in &service.labels {
                        p {
                            label {
                                input type="checkbox" name="section" value=(id) checked[current.contains(id)];
                                " " (label)
                            }
                        }
                    }
                    button type="submit" name="action" value="choose" { "Enregistrer" }
                }
                form method="post" {
                    p { "Ou ne plus rien recevoir :" }
                    button type="submit" name="action" value="leave" { "Me désabonner de cette lettre" }
                }
            },
        ),
        Method::POST => {
            if cross_site(headers) {
                return (StatusCode::FORBIDDEN, "a request from another site\n").into_response();
            }
            let fields: Vec<(String, String)> = url::form_urlencoded::parse(&body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let leave = fields.iter().any(|(k, v)| k == "action" && v == "leave");
            let chosen: Vec<String> = service
                .labels
                .iter()
                .filter(|(id, _)| fields.iter().any(|(k, v)| k == "section" && v == id))
                .map(|(id, _)| id.clone())
                .collect();
            if !leave && chosen.is_empty() {
                return page(
                    StatusCode::BAD_REQUEST,
                    "Aucune rubrique choisie",
                    html! { p { "Cochez au moins une rubrique, ou désabonnez-vous de cette lettre." } },
                );
            }
            let recorded = {
                let (chosen, address) = (chosen.clone(), address.clone());
                tokio::task::spawn_blocking(move || {
                    if leave {
                        ledger
                            .suppress(&list, &address, "the manage page")
                            .map(|_| ())
                    } else {
                        ledger.choose(&list, &address, &chosen, "the manage page")
                    }
                })
                .await
            };
            match recorded {
                Ok(Ok(())) if leave => page(
                    StatusCode::OK,
                    "C’est fait",
                    html! { p { "Vous ne recevrez plus cette lettre à l’adresse " strong { (address) } "." } },
                ),
                Ok(Ok(())) => page(
                    StatusCode::OK,
                    "C’est enregistré",
                    html! {
                        p { "Dès la prochaine lettre, " strong { (address) } " recevra :" }
                        ul { @for id in &chosen { li { (service.label(id)) } } }
                    },
                ),
                _ => unavailable(),
            }
        }
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}

/// Whether a browser says the request comes from another site's page.
pub(super) fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
}

/// Whether a POST's body asks to unsubscribe in one click (RFC 8058): the
/// field `List-Unsubscribe` with the value `One-Click`, among any others, as
/// `application/x-www-form-urlencoded` (what mailbox providers send, a
/// trailing line end allowed) or as `multipart/form-data` (RFC 8058's own
/// example). A body without a type is read as the first.
async fn is_one_click(headers: &HeaderMap, body: Bytes) -> bool {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let (field, value) = ONE_CLICK.split_once('=').unwrap_or_default();
    match essence.as_str() {
        "" | "application/x-www-form-urlencoded" => {
            let text = body.trim_ascii_end();
            url::form_urlencoded::parse(text).any(|(k, v)| k == field && v == value)
        }
        "multipart/form-data" => {
            let Ok(boundary) = multer::parse_boundary(content_type) else {
                return false;
            };
            let chunks = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
            let mut form = multer::Multipart::new(chunks, boundary);
            while let Ok(Some(part)) = form.next_field().await {
                if part.name() == Some(field) {
                    return part
                        .text()
                        .await
                        .is_ok_and(|v| v.trim_end_matches(['\r', '\n']) == value);
                }
            }
            false
        }
        _ => false,
    }
}

/// Serves until the process ends, within `limits` (connections, time
/// and size: [`crate::http`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Service,
    limits: crate::http::Limits,
) -> std::io::Result<()> {
    let app = Router::new().fallback(handle).with_state(Arc::new(App {
        service,
        throttle: Throttle::new(BAD_TOKEN_ALLOWANCE, BAD_TOKEN_WINDOW),
        requests: Throttle::new(subscribe::REQUESTS_ALLOWANCE, subscribe::REQUESTS_WINDOW),
    }));
    crate::http::serve(listener, app, limits).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_slowed_down_past_its_allowance_of_bad_tokens() {
        let throttle = Throttle::new(BAD_TOKEN_ALLOWANCE, BAD_TOKEN_WINDOW);
        let start = Instant::now();
        let attacker: IpAddr = [192, 0, 2, 1].into();
        let neighbour: IpAddr = [192, 0, 2, 2].into();
        for i in 0..BAD_TOKEN_ALLOWANCE {
            assert_eq!(throttle.wait(attacker, start), None, "bad token {i}");
            throttle.count(attacker, start + Duration::from_secs(i as u64));
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
        throttle.count(attacker, later);
        assert!(throttle.wait(attacker, later).is_some());
    }

    async fn one_click(content_type: Option<&str>, body: &str) -> bool {
        let mut headers = HeaderMap::new();
        if let Some(t) = content_type {
            headers.insert(header::CONTENT_TYPE, t.parse().expect("header"));
        }
        is_one_click(&headers, Bytes::from(body.to_owned())).await
    }

    #[tokio::test]
    async fn one_click_is_taken_in_every_form_rfc_8058_allows_and_only_then() {
        let form = "application/x-www-form-urlencoded";
        let multipart = "multipart/form-data; boundary=XyZ";
        let part = |name: &str, value: &str| {
            format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
        };
        for (content_type, body) in [
            (Some(form), "List-Unsubscribe=One-Click".to_owned()),
            (None, "List-Unsubscribe=One-Click".to_owned()),
            (Some(form), "List-Unsubscribe=One-Click\r\n".to_owned()),
            (Some(form), "List-Unsubscribe=One-Click\n".to_owned()),
            (
                Some("Application/X-WWW-Form-Urlencoded; charset=UTF-8"),
                "List-Unsubscribe=One-Click".to_owned(),
            ),
            (Some(form), "a=1&List-Unsubscribe=One-Click&b=2".to_owned()),
            (Some(form), "List-Unsubscribe=One%2DClick".to_owned()),
            (
                Some(multipart),
                format!("{}--XyZ--\r\n", part("List-Unsubscribe", "One-Click")),
            ),
            (
                Some(multipart),
                format!(
                    "{}{}--XyZ--\r\n",
                    part("autre", "x"),
                    part("List-Unsubscribe", "One-Click")
                ),
            ),
        ] {
            assert!(
                one_click(content_type, &body).await,
                "{content_type:?} {body:?}"
            );
        }
        for (content_type, body) in [
            (Some(form), "".to_owned()),
            (Some(form), "List-Unsubscribe=Two-Clicks".to_owned()),
            (Some(form), "list-unsubscribe=One-Click".to_owned()),
            (Some(form), "List-Unsubscribe=One-Click=".to_owned()),
            (Some("text/plain"), "List-Unsubscribe=One-Click".to_owned()),
            (
                Some("application/json"),
                "{\"List-Unsubscribe\":\"One-Click\"}".to_owned(),
            ),
            (
                Some(multipart),
                format!("{}--XyZ--\r\n", part("List-Unsubscribe", "Non")),
            ),
            (
                Some(multipart),
                format!("{}--XyZ--\r\n", part("autre", "One-Click")),
            ),
            (
                Some("multipart/form-data"),
                format!("{}--XyZ--\r\n", part("List-Unsubscribe", "One-Click")),
            ),
            (Some(multipart), "List-Unsubscribe=One-Click".to_owned()),
        ] {
            assert!(
                !one_click(content_type, &body).await,
                "{content_type:?} {body:?}"
            );
        }
    }

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7, 10.0.0.2"
                .parse()
                .expect("header"),
        );
        let proxy: SocketAddr = "127.0.0.1:4000".parse().expect("addr");
        let remote: SocketAddr = "192.0.2.1:4000".parse().expect("addr");
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        // Behind two proxies the operator names: the first address that
        // is not one of them, from the end.
        assert_eq!(
            client(proxy, &headers, &[ip("127.0.0.1"), ip("10.0.0.2")]),
            ip("198.51.100.7")
        );
        // A peer the operator did not name cannot choose its identity, not
        // even from loopback.
        assert_eq!(client(proxy, &headers, &[]), proxy.ip());
        assert_eq!(client(remote, &headers, &[ip("127.0.0.1")]), remote.ip());
        assert_eq!(
            client(proxy, &HeaderMap::new(), &[ip("127.0.0.1")]),
            proxy.ip()
        );
        // An IPv4 peer seen as IPv6 (`::ffff:127.0.0.1`) is the same peer.
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:4000".parse().expect("addr");
        assert_eq!(
            client(mapped, &headers, &[ip("127.0.0.1"), ip("10.0.0.2")]),
            ip("198.51.100.7")
        );
    }
}
