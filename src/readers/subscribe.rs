//! Readers who join by themselves, with double opt-in: the subscription
//! form, the message that asks them to confirm, and the link that does.
//!
//! The form (at the path of the list's `subscribe_url`) shows the list's
//! name, its sections ticked, the address, an optional name and the
//! consent sentence of the list file. A request is accepted only with the
//! form's own token (signed, for the client that loaded it, for
//! [`FORM_LIFETIME`](crate::unsubscribe::join::FORM_LIFETIME)), an empty hidden field that robots fill, and within
//! [`REQUESTS_ALLOWANCE`] requests per client each [`REQUESTS_WINDOW`];
//! the ledger mails one address at most once an hour. Whatever happens to
//! the request, the answer is the same page, given before the message is
//! sent: nobody learns from it whether an address is on the list.
//!
//! The message's link (`SUBSCRIBE_URL/confirmer/TOKEN`) names the request
//! by an opaque code (a keyed hash of the list and the address) and when
//! it expires ([`CONFIRM_WITHIN`]), signed; it opens a page whose button
//! confirms (mail scanners that open links do not).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset};
use lettre::message::{Mailbox, SinglePart, header::ContentType};
use lettre::{Address, Message};
use maud::html;

use super::{Service, Throttle, cross_site, page, unavailable};
use crate::address::Key;
use crate::deliver::Transport;
use crate::deliver::smtp::Relay;
use crate::ledger::subscriptions::Request;
use crate::message::{Dkim, Letter};
use crate::render::typography::french_date;
use crate::subscribers::List;
use crate::unsubscribe::TokenError;

/// The segment between the form's path and a confirmation token.
pub const CONFIRM: &str = "confirmer";

/// How long a confirmation link works.
pub const CONFIRM_WITHIN: Duration = Duration::from_secs(7 * 24 * 3600);

/// Requests one client may make within [`REQUESTS_WINDOW`].
pub const REQUESTS_ALLOWANCE: usize = 10;

/// The window over which a client's requests are counted.
pub const REQUESTS_WINDOW: Duration = Duration::from_secs(3600);

/// The longest name a reader may give.
const MAX_NAME: usize = 100;

/// What the server needs to take subscriptions: where the form is, and
/// the relay that mails confirmations (as `send` does, with its DKIM).
pub struct Joining {
    /// The path of the form on this server: that of the list's
    /// `subscribe_url`.
    pub path: String,
    /// Mails the confirmation messages.
    pub relay: Arc<Relay>,
    /// Signs them, when `send` signs the list's messages.
    pub dkim: Option<Arc<Dkim>>,
    /// Told why a confirmation message could not be sent (the reader
    /// may ask again at once).
    pub on_failure: Arc<dyn Fn(String) + Send + Sync>,
}

/// Whether the server takes subscriptions, from the list's form and the
/// relay given.
pub enum Form {
    /// The list has a form and a relay mails its confirmations.
    Served(Joining),
    /// The list has a form (its address) but no relay was given: not served.
    NoRelay(String),
    /// A relay was given but the list has no form: of no use.
    RelayUnused,
    /// Neither.
    None,
}

impl Joining {
    /// What the server does with `list`'s form given `relay` (and `dkim`
    /// to sign its confirmations); `on_failure` is told why a
    /// confirmation could not be sent.
    pub fn of(
        list: &List,
        relay: Option<Relay>,
        dkim: Option<Dkim>,
        on_failure: Arc<dyn Fn(String) + Send + Sync>,
    ) -> Form {
        match (&list.subscribe_url, relay) {
            (Some(url), Some(relay)) => Form::Served(Joining {
                path: form_path(url),
                relay: Arc::new(relay),
                dkim: dkim.map(Arc::new),
                on_failure,
            }),
            (Some(url), None) => Form::NoRelay(url.clone()),
            (None, Some(_)) => Form::RelayUnused,
            (None, None) => Form::None,
        }
    }
}

/// The path of the form at `url` (the list's `subscribe_url`), which a
/// proxy passes on unchanged.
pub fn form_path(url: &str) -> String {
    url::Url::parse(url).map_or_else(
        |_| "/".to_owned(),
        |u| u.path().trim_end_matches('/').to_owned(),
    )
}

/// A filled form, read from a request's body.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Filled {
    email: String,
    name: String,
    sections: Vec<String>,
    consent: bool,
    token: String,
    /// The field robots fill and people do not see.
    trap: String,
}

impl Filled {
    fn read(body: &[u8], list: &List) -> Filled {
        let mut filled = Filled::default();
        for (key, value) in url::form_urlencoded::parse(body) {
            match key.as_ref() {
                "email" => filled.email = value.trim().to_owned(),
                "name" => filled.name = value.into_owned(),
                "section" => filled.sections.push(value.into_owned()),
                "consent" => filled.consent = value == "oui",
                "jeton" => filled.token = value.into_owned(),
                "site" => filled.trap = value.into_owned(),
                _ => {}
            }
        }
        // Only the list's sections, in its order.
        filled.sections = list
            .topics
            .iter()
            .filter(|t| filled.sections.contains(&t.id))
            .map(|t| t.id.clone())
            .collect();
        filled
    }

    /// The name, on one line and bounded, if one was given.
    fn name(&self) -> Option<String> {
        let name: String = self
            .name
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(MAX_NAME)
            .collect();
        (!name.is_empty()).then_some(name)
    }
}

/// The form, filled as given (every section ticked when new), with what
/// is wrong with it, if anything.
fn form_page(list: &List, token: &str, filled: Option<&Filled>, problem: Option<&str>) -> Response {
    let name = list.name.as_deref().unwrap_or(&list.id);
    let consent = list.consent.as_deref().unwrap_or_default();
    let ticked = |id: &String| filled.is_none_or(|f| f.sections.contains(id));
    let status = match problem {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    page(
        status,
        &format!("S’abonner à « {name} »"),
        html! {
            @if let Some(problem) = problem {
                p.problem role="alert" { (problem) }
            }
            form method="post" {
                fieldset {
                    legend { "Les rubriques que vous souhaitez recevoir, avec le fait marquant de chaque lettre :" }
                    @for topic in &list.topics {
                        p {
                            label {
                                input type="checkbox" name="section" value=(topic.id) checked[ticked(&topic.id)];
                                " " (topic.label)
                            }
                        }
                    }
                }
                p {
                    label for="email" { "Votre adresse électronique" }
                    br;
                    input #email type="email" name="email" required autocomplete="email" maxlength="254"
                        value=(filled.map(|f| f.email.as_str()).unwrap_or_default());
                }
                p {
                    label for="name" { "Votre nom (facultatif)" }
                    br;
                    input #name type="text" name="name" autocomplete="name" maxlength=(MAX_NAME)
                        value=(filled.map(|f| f.name.as_str()).unwrap_or_default());
                }
                p.trap aria-hidden="true" {
                    label for="site" { "Ne remplissez pas ce champ" }
                    input #site type="text" name="site" tabindex="-1" autocomplete="off";
                }
                p {
                    label {
                        input type="checkbox" name="consent" value="oui" required;
                        " " (consent)
                    }
                }
                input type="hidden" name="jeton" value=(token);
                button type="submit" { "Je m’abonne" }
            }
            p.note { "Un message vous sera envoyé pour confirmer : sans confirmation, vous ne recevrez rien. Chaque lettre permet de choisir ses rubriques ou de se désabonner." }
        },
    )
}

/// The page every accepted request gets, whatever became of it.
fn check_your_mail(address: &str) -> Response {
    page(
        StatusCode::OK,
        "Vérifiez votre messagerie",
        html! {
            p { "Si l’adresse " strong { (address) } " peut être abonnée, un message vient d’y être envoyé. Ouvrez le lien qu’il contient dans les 7 jours pour confirmer votre abonnement." }
            p { "Sans confirmation, vous ne recevrez rien. Si rien n’arrive, regardez dans les indésirables, ou refaites la demande dans une heure." }
        },
    )
}

/// The client's requests this window, and a page if it made too many.
fn too_many_requests(wait: Duration) -> Response {
    let mut response = page(
        StatusCode::TOO_MANY_REQUESTS,
        "Trop de demandes",
        html! { p { "Trop de demandes sont venues de votre connexion. Réessayez dans une heure." } },
    );
    if let Ok(value) = (wait.as_secs() + 1).to_string().parse() {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, value);
    }
    response
}

/// Answers the subscription form: shows it (GET), or takes a request
/// (POST).
pub(super) async fn form(
    service: &Service,
    joining: &Joining,
    requests: &Throttle,
    client: IpAddr,
    request: (Method, &HeaderMap, Bytes),
) -> Response {
    let (method, headers, body) = request;
    let Some(directory) = service.directory.clone() else {
        return unavailable();
    };
    let list = directory.list();
    let now = SystemTime::now();
    let token = service.signer.form_token(&list.id, client, now);
    match method {
        Method::GET | Method::HEAD => return form_page(&list, &token, None, None),
        Method::POST => {}
        _ => return StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
    if cross_site(headers) {
        return (StatusCode::FORBIDDEN, "a request from another site\n").into_response();
    }
    let filled = Filled::read(&body, &list);
    let fix = |problem: &str| form_page(&list, &token, Some(&filled), Some(problem));
    if !service
        .signer
        .form_token_is_good(&list.id, client, &filled.token, now)
    {
        return fix(
            "Le formulaire a expiré ou vient d’ailleurs : vérifiez vos choix et envoyez-le à nouveau.",
        );
    }
    let address = match crate::address::parse_address(&filled.email) {
        Ok(address) => address,
        Err(_) => return fix("Cette adresse électronique n’est pas valide."),
    };
    if filled.sections.is_empty() {
        return fix("Cochez au moins une rubrique.");
    }
    if !filled.consent {
        return fix("Cochez la case de consentement pour vous abonner.");
    }
    let instant = std::time::Instant::now();
    if let Some(wait) = requests.wait(client, instant) {
        return too_many_requests(wait);
    }
    requests.count(client, instant);
    if filled.trap.is_empty() {
        take(service, joining, &list, &address, &filled).await;
    }
    check_your_mail(address.as_ref())
}

/// Records a request and, when the ledger says so, mails its
/// confirmation in the background (so that the answer comes as fast
/// whatever happens).
async fn take(
    service: &Service,
    joining: &Joining,
    list: &Arc<List>,
    address: &Address,
    filled: &Filled,
) {
    let key = Key::of(address);
    let code = service.signer.request_code(&list.id, &key);
    let expires = SystemTime::now() + CONFIRM_WITHIN;
    let token = service.signer.confirm_token(&list.id, &key, expires);
    let Some(directory) = service.directory.clone() else {
        return;
    };
    let ledger = Arc::clone(&service.ledger);
    let (list_id, consent, evidence) = (
        list.id.clone(),
        list.consent.clone().unwrap_or_default(),
        list.subscribe_url.clone().unwrap_or_default(),
    );
    let (name, sections) = (filled.name(), filled.sections.clone());
    let decided = {
        let key = key.clone();
        tokio::task::spawn_blocking(move || {
            // A reader the list serves already is not mailed.
            let held = ledger.held(&list_id, &key)?;
            let member = directory.interests(&key)?.is_some();
            if member && held.left.is_none() && held.forgotten.is_none() {
                return Ok(false);
            }
            let request = Request {
                name: name.as_deref(),
                sections: &sections,
                consent: &consent,
                evidence: &evidence,
                code: &code,
            };
            ledger
                .request_subscription(&list_id, &key, &request)
                .map_err(crate::Error::from)
        })
        .await
    };
    let Ok(Ok(true)) = decided else {
        if let Ok(Err(e)) = decided {
            (joining.on_failure)(e.to_string());
        }
        return;
    };
    let link = format!(
        "{}/{CONFIRM}/{token}",
        list.subscribe_url.as_deref().unwrap_or_default()
    );
    let date = chrono::Local::now().fixed_offset();
    let letter = confirmation(
        list,
        address,
        &filled.sections,
        &link,
        date,
        joining.dkim.as_deref(),
    );
    let (relay, ledger, on_failure) = (
        Arc::clone(&joining.relay),
        Arc::clone(&service.ledger),
        Arc::clone(&joining.on_failure),
    );
    let list_id = list.id.clone();
    tokio::spawn(async move {
        let sent = match letter {
            Ok(letter) => mail(&relay, &letter).await,
            Err(e) => Err(e.to_string()),
        };
        if let Err(reason) = sent {
            on_failure(format!("a confirmation message was not sent: {reason}"));
            let _ = tokio::task::spawn_blocking(move || ledger.confirmation_unsent(&list_id, &key))
                .await;
        }
    });
}

/// Hands one letter to the relay on a connection of its own.
async fn mail(relay: &Relay, letter: &Letter) -> Result<(), String> {
    let mut session = relay.open().await.map_err(|e| e.to_string())?;
    let sent = relay
        .deliver(&mut session, letter, async { true })
        .await
        .map_err(|e| e.to_string());
    relay.close(session).await;
    sent.map(|_| ())
}

/// The message that asks `to` to confirm: plain text, short, from the
/// list's sender, signed as the list's messages are.
pub fn confirmation(
    list: &List,
    to: &Address,
    sections: &[String],
    link: &str,
    date: DateTime<FixedOffset>,
    dkim: Option<&Dkim>,
) -> crate::Result<Letter> {
    let fail = |reason: String| crate::Error::Message {
        recipient: to.to_string(),
        reason,
    };
    let name = list.name.as_deref().unwrap_or(&list.id);
    let labels: Vec<String> = sections
        .iter()
        .map(|id| {
            list.topics
                .iter()
                .find(|t| &t.id == id)
                .map_or_else(|| id.clone(), |t| t.label.clone())
        })
        .collect();
    let until = french_date((date + chrono::Duration::days(7)).date_naive());
    let mut text = format!(
        "Bonjour,\r\n\r\nVous avez demandé à recevoir « {name} » à l’adresse {to}, avec le fait marquant de chaque lettre et les rubriques :\r\n\r\n"
    );
    for label in &labels {
        text.push_str(&format!("  - {label}\r\n"));
    }
    text.push_str(&format!(
        "\r\nPour confirmer votre abonnement, ouvrez ce lien d’ici le {until} :\r\n\r\n{link}\r\n\r\nSi vous n’avez rien demandé, ne faites rien : sans confirmation, cette adresse ne reçoit rien et n’est inscrite sur aucune liste.\r\n\r\n-- \r\n{name}\r\n"
    ));
    let sender = list
        .bounce_address
        .clone()
        .unwrap_or_else(|| list.from.email.clone());
    let envelope = lettre::address::Envelope::new(Some(sender.clone()), vec![to.clone()])
        .map_err(|e| fail(e.to_string()))?;
    let key = Key::of(to);
    let stamp = date.timestamp().to_string();
    let message_id = format!(
        "<confirmation.{}@{}>",
        &crate::issue::hex(&sha2_of(&[&list.id, key.as_str(), &stamp]))[..32],
        list.from.email.domain()
    );
    let mut builder = Message::builder()
        .envelope(envelope)
        .from(list.from.clone())
        .to(Mailbox::new(None, to.clone()))
        .subject(format!("Confirmez votre abonnement à « {name} »"))
        .date(SystemTime::from(date))
        .message_id(Some(message_id.clone()));
    if let Some(reply_to) = &list.reply_to {
        builder = builder.reply_to(reply_to.clone());
    }
    let mut message = builder
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(text),
        )
        .map_err(|e| fail(e.to_string()))?;
    if let Some(dkim) = dkim {
        dkim.sign_plain(&mut message);
    }
    Ok(Letter {
        recipient: to.clone(),
        sender,
        message_id,
        subject: format!("Confirmez votre abonnement à « {name} »"),
        sections: sections.to_vec(),
        bytes: message.formatted(),
    })
}

/// The SHA-256 of `parts`, each ended by a zero byte.
fn sha2_of(parts: &[&str]) -> Vec<u8> {
    use sha2::{Digest as _, Sha256};
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.finalize().to_vec()
}

/// Answers a confirmation link: a page with its button (GET), or the
/// confirmation itself (POST).
pub(super) async fn confirm(
    service: &Service,
    joining: &Joining,
    text: &str,
    request: (Method, &HeaderMap),
) -> Result<Response, TokenError> {
    let (method, headers) = request;
    let _ = joining;
    let Some(directory) = service.directory.clone() else {
        return Ok(unavailable());
    };
    let list = directory.list();
    let (code, expires) = service.signer.read_confirm_token(&list.id, text)?;
    let form = list.subscribe_url.clone().unwrap_or_default();
    if SystemTime::now() > expires {
        return Ok(page(
            StatusCode::GONE,
            "Ce lien a expiré",
            html! {
                p { "Un lien de confirmation sert 7 jours. Pour vous abonner, refaites la demande : un nouveau message vous sera envoyé." }
                p { a href=(form) { "Le formulaire d’abonnement" } }
            },
        ));
    }
    let ledger = Arc::clone(&service.ledger);
    let list_id = list.id.clone();
    let pending = {
        let ledger = Arc::clone(&ledger);
        let list_id = list_id.clone();
        tokio::task::spawn_blocking(move || ledger.pending(&list_id, &code)).await
    };
    let pending = match pending {
        Ok(Ok(Some(pending))) => pending,
        Ok(Ok(None)) => {
            return Ok(page(
                StatusCode::NOT_FOUND,
                "Cette demande n’existe plus",
                html! {
                    p { "Elle a été effacée. Pour vous abonner, refaites la demande." }
                    p { a href=(form) { "Le formulaire d’abonnement" } }
                },
            ));
        }
        _ => return Ok(unavailable()),
    };
    let labels = |sections: &[String]| -> Vec<String> {
        list.topics
            .iter()
            .filter(|t| sections.contains(&t.id))
            .map(|t| t.label.clone())
            .collect()
    };
    let name = list.name.clone().unwrap_or_else(|| list.id.clone());
    match method {
        Method::GET | Method::HEAD => Ok(page(
            StatusCode::OK,
            "Confirmer votre abonnement",
            html! {
                p { "Recevoir « " (name) " » à l’adresse " strong { (pending.address) } ", avec le fait marquant et les rubriques :" }
                ul { @for label in labels(&pending.sections) { li { (label) } } }
                form method="post" {
                    button type="submit" { "Je confirme mon abonnement" }
                }
            },
        )),
        Method::POST => {
            if cross_site(headers) {
                return Ok((StatusCode::FORBIDDEN, "a request from another site\n").into_response());
            }
            let address = pending.address.clone();
            let confirmed = tokio::task::spawn_blocking(move || {
                ledger.confirm_subscription(&list_id, &address)
            })
            .await;
            match confirmed {
                Ok(Ok(true)) => Ok(page(
                    StatusCode::OK,
                    "Vous êtes abonné",
                    html! {
                        p { "Dès la prochaine lettre, " strong { (pending.address) } " recevra le fait marquant et :" }
                        ul { @for label in labels(&pending.sections) { li { (label) } } }
                        p { "Chaque lettre vous permettra de changer de rubriques ou de vous désabonner." }
                    },
                )),
                _ => Ok(unavailable()),
            }
        }
        _ => Ok(StatusCode::METHOD_NOT_ALLOWED.into_response()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliver::smtp::RelayConfig;

    fn list(form: bool) -> List {
        let form = match form {
            true => {
                "subscribe_url = \"https://breves.example.fr/abonnement/\"\nconsent = \"Oui.\"\n"
            }
            false => "",
        };
        let text = format!(
            "[list]\nid = \"l\"\nfrom = \"X <x@example.org>\"\n{form}topics = {{ a = \"A\" }}\n[[member]]\nemail = \"a@example.org\"\n"
        );
        let file = Arc::new(crate::diagnostics::SourceFile::new("l.toml", text));
        List::parse(&file).0.expect("a list")
    }

    #[tokio::test]
    async fn the_form_is_served_only_with_a_form_and_a_relay_at_its_own_path() {
        let relay = || async {
            let config =
                RelayConfig::for_list("smtp://127.0.0.1:2525?tls=none", None, None, &list(true))
                    .expect("config");
            assert_eq!(config.hello, "example.org", "greeted as the list's domain");
            Some(Relay::new(config).await.expect("relay"))
        };
        let quiet: Arc<dyn Fn(String) + Send + Sync> = Arc::new(|_| {});
        match Joining::of(&list(true), relay().await, None, Arc::clone(&quiet)) {
            Form::Served(joining) => assert_eq!(joining.path, "/abonnement"),
            _ => panic!("served"),
        }
        assert!(matches!(
            Joining::of(&list(true), None, None, Arc::clone(&quiet)),
            Form::NoRelay(url) if url == "https://breves.example.fr/abonnement"
        ));
        assert!(matches!(
            Joining::of(&list(false), relay().await, None, Arc::clone(&quiet)),
            Form::RelayUnused
        ));
        assert!(matches!(
            Joining::of(&list(false), None, None, quiet),
            Form::None
        ));
    }
}
