//! Reading a bounce mailbox over IMAP (`imaps://user@host/INBOX`, the
//! password from `BREVES_IMAP_PASSWORD`): every message of the folder is
//! fetched, read and acted on; those whose decisions are recorded in the
//! ledger are then moved to another folder (`breves-processed`), never
//! before, so that a run stopped halfway leaves every unrecorded report
//! where it was. Messages that are not reports stay where they are.

use std::path::Path;

use futures_util::TryStreamExt as _;
use tokio::net::TcpStream;

use super::source::Raw;
use super::{Options, Outcome, decide, reading};
use crate::ledger::Ledger;
use crate::subscribers::List;
use crate::unsubscribe::Signer;
use crate::{Error, Result};

/// The folder processed reports are moved to, made if needed.
pub const PROCESSED: &str = "breves-processed";

/// Where the mailbox is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// The server's name or address.
    pub host: String,
    /// Its port (993 by default).
    pub port: u16,
    /// Who logs in.
    pub user: String,
    /// The folder read.
    pub folder: String,
}

impl Mailbox {
    /// Reads `imaps://user@host[:port]/FOLDER` (the folder is INBOX when
    /// none is given); `None` when `text` is not an IMAP address.
    pub fn parse(text: &str) -> Option<Result<Mailbox>> {
        if !text.starts_with("imaps://") && !text.starts_with("imap://") {
            return None;
        }
        let wrong = |why: &str| Error::Imap(format!("{text}: {why}"));
        let url = match url::Url::parse(text) {
            Ok(url) => url,
            Err(e) => return Some(Err(wrong(&e.to_string()))),
        };
        if url.scheme() != "imaps" {
            return Some(Err(wrong(
                "only imaps:// is read (IMAP over TLS): a password must not cross the network in clear",
            )));
        }
        let user = percent_decoded(url.username()).unwrap_or_default();
        let Some(host) = url.host_str() else {
            return Some(Err(wrong("no server")));
        };
        if user.is_empty() {
            return Some(Err(wrong("no user: write imaps://user@host/INBOX")));
        }
        let folder = percent_decoded(url.path().trim_start_matches('/'))
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| "INBOX".to_owned());
        Some(Ok(Mailbox {
            host: host.trim_matches(['[', ']']).to_owned(),
            port: url.port().unwrap_or(993),
            user,
            folder,
        }))
    }
}

fn percent_decoded(text: &str) -> Option<String> {
    let bytes: Vec<u8> =
        url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned().into_bytes())?;
    String::from_utf8(bytes).ok()
}

fn imap_error(what: &str) -> impl Fn(async_imap::error::Error) -> Error + '_ {
    move |e| Error::Imap(format!("{what}: {e}"))
}

/// Reads the mailbox, acts on it for `list`, and moves the reports whose
/// decisions are recorded to [`PROCESSED`].
pub async fn read(
    mailbox: &Mailbox,
    password: &str,
    extra_ca: Option<&Path>,
    list: &List,
    ledger: &Ledger,
    signer: Option<&Signer>,
    options: Options,
) -> Result<Outcome> {
    let ca = match extra_ca {
        Some(path) => Some(std::fs::read(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?),
        None => None,
    };
    let connector = crate::deliver::smtp::implicit_tls(ca.as_deref())
        .map_err(|e| Error::Imap(e.to_string()))?;
    let tcp = TcpStream::connect((mailbox.host.as_str(), mailbox.port))
        .await
        .map_err(|e| {
            Error::Imap(format!(
                "cannot reach {}:{}: {e}",
                mailbox.host, mailbox.port
            ))
        })?;
    let name = rustls::pki_types::ServerName::try_from(mailbox.host.clone())
        .map_err(|e| Error::Imap(format!("{}: {e}", mailbox.host)))?;
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| Error::Imap(format!("TLS with {}: {e}", mailbox.host)))?;
    let client = async_imap::Client::new(tls);
    let mut session = client
        .login(&mailbox.user, password)
        .await
        .map_err(|(e, _)| Error::Imap(format!("cannot log in as {}: {e}", mailbox.user)))?;
    session
        .select(&mailbox.folder)
        .await
        .map_err(imap_error(&format!(
            "cannot open the folder {}",
            mailbox.folder
        )))?;
    let mut uids: Vec<u32> = session
        .uid_search("ALL")
        .await
        .map_err(imap_error("cannot list the messages"))?
        .into_iter()
        .collect();
    uids.sort_unstable();
    // Each message is read as its chunk arrives, and only its reading kept.
    let mut readings = Vec::with_capacity(uids.len());
    let mut order = Vec::with_capacity(uids.len());
    for chunk in uids.chunks(200) {
        let set = chunk
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let fetched: Vec<_> = session
            .uid_fetch(&set, "(UID BODY.PEEK[])")
            .await
            .map_err(imap_error("cannot fetch the messages"))?
            .try_collect()
            .await
            .map_err(imap_error("cannot fetch the messages"))?;
        for fetch in fetched {
            let (Some(uid), Some(body)) = (fetch.uid, fetch.body()) else {
                continue;
            };
            let too_large = body.len() > super::source::MAX_MESSAGE;
            readings.push(reading(Raw {
                place: format!("{}/{} (UID {uid})", mailbox.folder, mailbox.host),
                bytes: if too_large { Vec::new() } else { body.to_vec() },
                too_large,
            }));
            order.push(uid);
        }
    }
    let outcome = decide(list, ledger, signer, readings, options)?;
    // Every decision is committed: the reports can leave the folder.
    let done: Vec<String> = outcome
        .handled
        .iter()
        .map(|&i| order[i].to_string())
        .collect();
    if !done.is_empty() {
        // It may exist already.
        let _ = session.create(PROCESSED).await;
        session
            .uid_mv(done.join(","), PROCESSED)
            .await
            .map_err(imap_error(&format!(
                "cannot move the reports read to {PROCESSED}"
            )))?;
    }
    let _ = session.logout().await;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_imap_address_names_the_server_the_user_and_the_folder() {
        let parsed = |t: &str| Mailbox::parse(t).map(|r| r.map_err(|e| e.to_string()));
        assert_eq!(
            parsed("imaps://rebonds%40example.fr@imap.example.fr/Rebonds%20re%C3%A7us"),
            Some(Ok(Mailbox {
                host: "imap.example.fr".into(),
                port: 993,
                user: "rebonds@example.fr".into(),
                folder: "Rebonds reçus".into(),
            }))
        );
        assert_eq!(
            parsed("imaps://u+tag@127.0.0.1:10993"),
            Some(Ok(Mailbox {
                host: "127.0.0.1".into(),
                port: 10993,
                user: "u+tag".into(),
                folder: "INBOX".into(),
            }))
        );
        assert_eq!(parsed("/var/mail/rebonds"), None);
        assert_eq!(
            parsed("imap://u@host/INBOX"),
            Some(Err("IMAP: imap://u@host/INBOX: only imaps:// is read (IMAP over TLS): a password must not cross the network in clear".into()))
        );
        assert!(matches!(parsed("imaps://host/INBOX"), Some(Err(_))));
    }
}
