//! The subscription list: its settings and its members.
//!
//! A list file is TOML. Its `[list]` table names the list, the sender, the
//! topics a subscriber can choose, and optionally a CSV file of members;
//! members can also be written inline as `[[member]]` tables. Both are read
//! into one [`List`], every address checked and every member written twice
//! found: with the same interests, a warning and one message; with other
//! interests, an error (or, with `--skip-invalid`, left out), so that nobody
//! is mailed twice.
//!
//! ```
//! use breves::subscribers::List;
//! use breves::diagnostics::SourceFile;
//! use std::sync::Arc;
//!
//! let text = r#"
//! [list]
//! id = "londres"
//! from = "SER de Londres <breves@example.fr>"
//! topics = { spatial = "Spatial", cybersecurite = "Cybersécurité" }
//!
//! [[member]]
//! email = "alice@example.org"
//! name = "Alice Martin"
//! interests = ["spatial"]
//! "#;
//! let file = Arc::new(SourceFile::new("subscribers/londres.toml", text));
//! let (list, problems) = List::parse(&file);
//! let list = list.expect("valid");
//! assert!(problems.is_empty());
//! let first = list.members().next().expect("a member").expect("readable");
//! assert_eq!(first.email.to_string(), "alice@example.org");
//! assert_eq!(list.topics[1].id, "cybersecurite");
//! ```

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lettre::Address;
use lettre::message::Mailbox;
use serde::Deserialize;
use toml::Spanned;

mod rows;

use crate::address::{Key, parse_address};
use crate::diagnostics::{
    Location, Problem, ProblemKind, Problems, SourceFile, load_file, parse_toml,
};
use crate::{Error, Result};

use crate::issue::is_slug;
pub use rows::{MAX_MEMBERS_FILE, MAX_ROW};

/// A subscription list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List {
    /// A stable id, such as `londres`.
    pub id: String,
    /// The list's name, for people.
    pub name: Option<String>,
    /// Who the digests come from.
    pub from: Mailbox,
    /// Where replies go, when not to the sender.
    pub reply_to: Option<Mailbox>,
    /// The address that takes unsubscription requests.
    pub unsubscribe: Option<Address>,
    /// The HTTPS address of the unsubscription server, to which each
    /// subscriber's signed token is added.
    pub unsubscribe_url: Option<String>,
    /// The public address of the subscription form (`breves serve`), where
    /// readers join by themselves; confirmation links add
    /// `/confirmer/TOKEN` to it.
    pub subscribe_url: Option<String>,
    /// The sentence a reader ticks to consent on the subscription form,
    /// kept in the ledger as shown with each subscription.
    pub consent: Option<String>,
    /// The address of the web archive (`breves archive`), without a final
    /// slash: each digest links to its issue's page there.
    pub archive_url: Option<String>,
    /// Where bounces go: each message's envelope sender is this address
    /// with the recipient's signed code after a `+` (VERP), so that a
    /// bounce names its recipient whatever the remote server writes.
    pub bounce_address: Option<Address>,
    /// The masthead's logo of every issue that gives none.
    pub logo: Option<crate::image::Logo>,
    /// The DKIM selector its messages are signed under, when they are.
    pub dkim_selector: Option<String>,
    /// The DKIM signing domain (default: the sender's).
    pub dkim_domain: Option<String>,
    /// The interests a member can choose, in the list's order.
    pub topics: Vec<Topic>,
    /// How many members it has, inline and in its members file.
    pub size: usize,
    /// The members left out because they are written wrong, each error
    /// with its place: empty unless the list was read with
    /// [`Invalid::Skip`].
    pub left_out: Problems,
    /// Where the members are ([`List::members`] reads them).
    roster: Roster,
}

/// What reading a list does with a member written wrong (an address that
/// is not one, a row the CSV reader cannot read, a member written again
/// with other interests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Invalid {
    /// An error: the list is not read (the default, and what `check` does).
    #[default]
    Stop,
    /// Left out, with its error in [`List::left_out`]; the other members
    /// are read (`send --skip-invalid`). Errors in the list itself still
    /// stop it.
    Skip,
}

impl Invalid {
    /// [`Invalid::Skip`] when `skip`, else [`Invalid::Stop`].
    pub fn skip_if(skip: bool) -> Invalid {
        if skip { Invalid::Skip } else { Invalid::Stop }
    }
}

/// An interest the list offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    /// The id, which is also a section id in issues.
    pub id: String,
    /// What people read.
    pub label: String,
}

/// One subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Their address.
    pub email: Address,
    /// Their name, if known.
    pub name: Option<String>,
    /// The topic ids they chose; empty means every section.
    pub interests: Vec<String>,
    /// Where they are written, for messages about them (none for an
    /// address given on the command line).
    pub origin: Option<Location>,
}

impl Member {
    /// Someone outside the list (a test send's recipient): every section.
    pub fn outsider(email: Address) -> Member {
        Member {
            email,
            name: None,
            interests: Vec::new(),
            origin: None,
        }
    }

    /// Where they are written, as messages about them say it: the file,
    /// line and column, or "the list" (an address not read from a file).
    pub fn place(&self) -> String {
        self.origin
            .as_ref()
            .map_or_else(|| "the list".to_owned(), ToString::to_string)
    }

    /// The `To` mailbox: name and address.
    pub fn mailbox(&self) -> Mailbox {
        // The list's reading cleans names already ([`clean_name`]); a member
        // made otherwise is cleaned here too, so that no name can end a
        // header, or make lettre panic mid-send.
        let name = self.name.as_deref().map(|n| clean_name(n).0);
        Mailbox::new(name.filter(|n| !n.is_empty()), self.email.clone())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    list: RawList,
    #[serde(default)]
    member: Vec<Spanned<RawMember>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawList {
    id: Spanned<String>,
    name: Option<Spanned<String>>,
    from: Spanned<String>,
    reply_to: Option<Spanned<String>>,
    unsubscribe: Option<Spanned<String>>,
    unsubscribe_url: Option<Spanned<String>>,
    subscribe_url: Option<Spanned<String>>,
    consent: Option<Spanned<String>>,
    archive_url: Option<Spanned<String>>,
    bounce_address: Option<Spanned<String>>,
    logo: Option<Spanned<crate::image::RawLogo>>,
    dkim_selector: Option<Spanned<String>>,
    dkim_domain: Option<Spanned<String>>,
    topics: Spanned<Topics>,
    members: Option<Spanned<String>>,
}

/// The `topics` table, in the order it is written.
struct Topics(Vec<(String, Spanned<String>)>);

impl<'de> Deserialize<'de> for Topics {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Topics;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a table of topic ids and their labels: { spatial = \"Spatial\" }")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Topics, A::Error> {
                let mut topics = Vec::new();
                while let Some((id, label)) = map.next_entry::<String, Spanned<String>>()? {
                    topics.push((id, label));
                }
                Ok(Topics(topics))
            }
        }
        d.deserialize_map(Visitor)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMember {
    email: Spanned<String>,
    name: Option<Spanned<String>>,
    #[serde(default)]
    interests: Vec<Spanned<String>>,
}

/// An address on the web as a list may give one: `https://` with a host
/// and no query, or `http://` on this machine (for tests and previews);
/// kept without its final slash.
pub fn web_address(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches('/');
    match url::Url::parse(text) {
        Ok(url) if url.scheme() == "https" && url.host_str().is_some() && url.query().is_none() => {
            Some(text.to_owned())
        }
        Ok(url)
            if url.scheme() == "http"
                && matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"))
                && url.query().is_none() =>
        {
            Some(text.to_owned())
        }
        _ => None,
    }
}

/// The consent sentence of `list`, checked: one a subscription form
/// shows must be written, on one line, and not too long to read.
fn consent(list: &RawList, file: &Arc<SourceFile>, problems: &mut Problems) -> Option<String> {
    let at = |span: Range<usize>| file.locate(span);
    match (&list.consent, &list.subscribe_url) {
        (None, Some(url)) => {
            problems.push(
                Problem::error(ProblemKind::InvalidValue {
                    field: "subscribe_url".into(),
                    reason: "a subscription form needs the sentence readers tick to consent".into(),
                })
                .at(at(url.span()))
                .hint("add to [list]: consent = \"J’accepte de recevoir cette lettre à l’adresse indiquée.\""),
            );
            None
        }
        (None, None) => None,
        (Some(text), _) => {
            let sentence = text
                .get_ref()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if sentence.is_empty() || sentence.chars().count() > MAX_CONSENT {
                problems.push(
                    Problem::error(ProblemKind::InvalidValue {
                        field: "consent".into(),
                        reason: format!(
                            "the consent sentence is written in 1 to {MAX_CONSENT} characters"
                        ),
                    })
                    .at(at(text.span())),
                );
                return None;
            }
            Some(sentence)
        }
    }
}

/// The longest consent sentence.
const MAX_CONSENT: usize = 500;

/// The address of an issue's page in the web archive at `base` (written
/// without a final slash): a folder, `BASE/ISSUE-ID/`.
pub fn archive_page(base: &str, issue_id: &str) -> String {
    format!("{base}/{issue_id}/")
}

/// A name safe to put in a header: control characters (line breaks above
/// all, which could smuggle in a header) become spaces.
fn clean_name(name: &str) -> (String, bool) {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let changed = cleaned != name.trim();
    (cleaned, changed)
}

/// Most errors a members file is read for: past them, reading stops (a
/// file of a million rows in the wrong shape would otherwise list a million).
pub const MAX_ERRORS: usize = 1_000;

/// Most rows that repeat a member written before: past them, the list is
/// refused (it is not the list it should be), so that the rows left out
/// stay few.
pub const MAX_REPEATS: usize = 10_000;

/// How many keys the check of the members gathers before it first keeps
/// only two of each (the memory of a list of distinct members is spent
/// anyway; a file of repeats is brought back to its distinct members).
const COMPACT_AT: usize = 1 << 20;

/// A compact stand-in for a member's [`Key`]: the check keeps one per
/// member (8 bytes), never the members themselves. Two keys with the same
/// hash are compared as keys before anything is said about them. (Mutation
/// testing: a constant hash makes every member a suspect, compared as keys
/// in a second reading: the same problems, found at the cost of the memory
/// this saves, which no test measures.)
fn key_hash(key: &Key) -> u64 {
    std::hash::BuildHasher::hash_one(
        &std::hash::BuildHasherDefault::<std::hash::DefaultHasher>::default(),
        key,
    )
}

/// Checks one member as written (address, interests, name), pushing what
/// is wrong to `problems`; the member, unless their address is wrong (an
/// unknown interest is left out, so that the member is still checked for
/// duplicates).
fn check_member(
    topics: &[Topic],
    email: &str,
    email_at: At<'_>,
    name: Option<(&str, At<'_>)>,
    interests: Vec<(String, At<'_>)>,
    origin: Location,
    problems: &mut Problems,
) -> Option<Member> {
    let address = match parse_address(email) {
        Ok(a) => a,
        Err(reason) => {
            problems.push(
                Problem::error(ProblemKind::InvalidAddress {
                    address: email.trim().to_owned(),
                    reason,
                })
                .at(email_at.of(email)),
            );
            return None;
        }
    };
    if !address.user().is_ascii() {
        problems.push(
            Problem::warning(ProblemKind::NeedsSmtpUtf8 {
                address: email.trim().to_owned(),
            })
            .at(email_at.of(email))
            .hint("ask the member for an ASCII address, or make sure the relay offers SMTPUTF8"),
        );
    }
    let interests = choose_interests(topics, interests, problems);
    let name = name.and_then(|(name, at)| {
        let (cleaned, changed) = clean_name(name);
        if changed && name.chars().any(char::is_control) {
            problems.push(
                Problem::warning(ProblemKind::InvalidValue {
                    field: "name".into(),
                    reason: format!(
                        "the name of {} contains line breaks or control characters, replaced by spaces",
                        address
                    ),
                })
                .at(at.of(name)),
            );
        }
        (!cleaned.is_empty()).then_some(cleaned)
    });
    Some(Member {
        email: address,
        name,
        interests,
        origin: Some(origin),
    })
}

/// The interests a member chose, as the list's ids: one in another case is
/// that id, with a warning; an unknown one is left out, with a warning and
/// the closest id offered. A member whose every interest is unknown keeps
/// them as written, so that they receive no section rather than all of
/// them (no interest at all means every section).
fn choose_interests(
    topics: &[Topic],
    interests: Vec<(String, At<'_>)>,
    problems: &mut Problems,
) -> Vec<String> {
    let mut chosen: Vec<String> = Vec::new();
    let mut unknown: Vec<(String, At<'_>)> = Vec::new();
    for (interest, at) in interests {
        let id = match topics.iter().find(|t| t.id == interest) {
            Some(t) => t.id.clone(),
            None => match topics
                .iter()
                .find(|t| t.id.to_lowercase() == interest.to_lowercase())
            {
                Some(t) => {
                    problems.push(
                        Problem::warning(ProblemKind::InterestCase {
                            written: interest.clone(),
                            id: t.id.clone(),
                        })
                        .at(at.of(&interest)),
                    );
                    t.id.clone()
                }
                None => {
                    unknown.push((interest, at));
                    continue;
                }
            },
        };
        if !chosen.contains(&id) {
            chosen.push(id);
        }
    }
    let offered: Vec<&str> = topics.iter().map(|t| t.id.as_str()).collect();
    let outcome = if chosen.is_empty() {
        "they receive nothing: none of their interests is offered".to_owned()
    } else {
        format!("they receive {}", chosen.join(", "))
    };
    for (interest, at) in &unknown {
        let closest = offered
            .iter()
            .map(|id| {
                (
                    strsim::normalized_damerau_levenshtein(&interest.to_lowercase(), id),
                    id,
                )
            })
            .filter(|(score, _)| *score >= 0.5)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let mut problem = Problem::warning(ProblemKind::UnknownInterest {
            interest: interest.as_str().into(),
            offered: offered.join(", ").into(),
            outcome: outcome.as_str().into(),
        })
        .at(at.clone().of(interest));
        if let Some((_, id)) = closest {
            problem = problem.hint(format!("did you mean `{id}`?"));
        }
        problems.push(problem);
    }
    if chosen.is_empty() && !unknown.is_empty() {
        return unknown.into_iter().map(|(i, _)| i).collect();
    }
    chosen
}

/// A member of the TOML file, checked.
fn inline_member(
    file: &Arc<SourceFile>,
    topics: &[Topic],
    member: &Spanned<RawMember>,
    problems: &mut Problems,
) -> Option<Member> {
    let at = |span: Range<usize>| At::Known(file.locate(span));
    let m = member.get_ref();
    check_member(
        topics,
        m.email.get_ref(),
        at(m.email.span()),
        m.name
            .as_ref()
            .map(|n| (n.get_ref().as_str(), at(n.span()))),
        m.interests
            .iter()
            .map(|i| (i.get_ref().trim().to_owned(), at(i.span())))
            .collect(),
        file.locate(member.span()),
        problems,
    )
}

/// A row of the members file, checked.
fn row_member(topics: &[Topic], row: &rows::Row, problems: &mut Problems) -> Option<Member> {
    check_member(
        topics,
        &row.email,
        At::InRow(row),
        row.name.as_deref().map(|n| (n, At::InRow(row))),
        row.interests
            .iter()
            .map(|i| (i.clone(), At::InRow(row)))
            .collect(),
        row.start(),
        problems,
    )
}

/// Where a member's value stands, for a problem with it: known (a span of
/// the list file), or found in the row when a problem needs it (looking
/// for every value of every row, read again for every send, cost more
/// than checking it).
#[derive(Clone)]
enum At<'a> {
    Known(Location),
    InRow(&'a rows::Row),
}

impl At<'_> {
    /// Where `value`, the value this is the place of, stands.
    fn of(self, value: &str) -> Location {
        match self {
            At::Known(at) => at,
            At::InRow(row) => row.locate(value),
        }
    }
}

/// The members file of a list, as it was when the list was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MembersFile {
    path: PathBuf,
    identity: rows::Identity,
    digest: u64,
}

/// Where a list's members are: inline ones (few, read with the TOML), and
/// the members file, read again each time the members are needed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Roster {
    inline: Vec<Member>,
    file: Option<MembersFile>,
    /// The lines of the members file that repeat an earlier member, who
    /// is mailed once (sorted).
    left_out_rows: Vec<usize>,
}

/// The check of every member: one pass that keeps 8 bytes a member.
struct Roll<'a> {
    topics: &'a [Topic],
    inline: Vec<Member>,
    keys: Vec<u64>,
    /// How many keys make the next compaction of `keys`.
    compact_at: usize,
    problems: Problems,
    /// The errors of members written wrong, each in one member.
    member_errors: Problems,
    /// The lines of the members file whose row is written wrong.
    invalid_rows: Vec<usize>,
}

impl Roll<'_> {
    fn add(&mut self, member: Option<Member>) -> Option<Member> {
        let member = member?;
        self.keys.push(key_hash(&Key::of(&member.email)));
        if self.keys.len() >= self.compact_at {
            // Two of each hash are enough to know it repeats: a file that
            // writes one member over and over keeps two, not one per row.
            self.keys.sort_unstable();
            let mut kept = 0;
            for i in 0..self.keys.len() {
                if kept < 2 || self.keys[i] != self.keys[kept - 2] {
                    self.keys[kept] = self.keys[i];
                    kept += 1;
                }
            }
            self.keys.truncate(kept);
            self.keys.shrink_to(kept * 2);
            self.compact_at = (kept * 2).max(COMPACT_AT);
        }
        Some(member)
    }

    /// Checks one member with `check`: its warnings are the list's, its
    /// errors the member's; the member, if it is written right.
    fn member(&mut self, check: impl FnOnce(&mut Problems) -> Option<Member>) -> Option<Member> {
        let mut found = Problems::new();
        let member = check(&mut found);
        let wrong = found.has_errors();
        for problem in found.into_iter() {
            match problem.is_error() {
                true => self.member_errors.push(problem),
                false => self.problems.push(problem),
            }
        }
        if wrong { None } else { self.add(member) }
    }

    fn error_count(&self) -> usize {
        self.problems.error_count() + self.member_errors.error_count()
    }

    /// Reads and checks the members file; what it was, if it could be read
    /// to its end.
    fn read_file(&mut self, path: &Path) -> std::io::Result<Option<MembersFile>> {
        let mut opened = match rows::Rows::open(path)? {
            Ok(opened) => opened,
            Err(problem) => {
                self.problems.push(problem);
                return Ok(None);
            }
        };
        for warning in opened.warnings {
            self.problems.push(warning);
        }
        while let Some(row) = opened.rows.next_row() {
            if self.error_count() >= MAX_ERRORS {
                self.problems
                    .push(Problem::error(ProblemKind::Other(format!(
                        "{} has more than {MAX_ERRORS} errors: the rest of it was not read",
                        path.display()
                    ))));
                return Ok(None);
            }
            let topics = self.topics;
            match row {
                Ok(row) => {
                    if self.member(|p| row_member(topics, &row, p)).is_none() {
                        self.invalid_rows.push(row.start().line());
                    }
                }
                Err(problem) => {
                    if let Some(at) = &problem.location {
                        self.invalid_rows.push(at.line());
                    }
                    self.member_errors.push(problem);
                }
            }
        }
        Ok(Some(MembersFile {
            path: path.to_path_buf(),
            identity: opened.rows.identity().clone(),
            digest: opened.rows.digest(),
        }))
    }

    /// The keys seen more than once (as hashes: perhaps, rarely, two keys
    /// that share one).
    fn repeated(&mut self) -> std::collections::HashSet<u64> {
        self.keys.sort_unstable();
        self.keys
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect()
    }
}

/// Where a member was written: inline in the list (the line and column
/// where its table starts), or on a line of the members file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Place {
    Inline(usize, usize),
    Row(usize),
}

impl Place {
    fn of(origin: &Location, inline: bool) -> Place {
        match inline {
            true => Place::Inline(origin.line(), origin.column()),
            false => Place::Row(origin.line()),
        }
    }
}

/// A member as written, for reporting duplicates.
struct Written {
    address: Address,
    at: Location,
    /// Their interests as the list's ids, sorted.
    interests: Vec<String>,
    place: Place,
}

/// Every member as written, with its place: the inline members', then the
/// members file's (read once more). For reporting duplicates only.
fn addresses_written<'a>(
    file: &Arc<SourceFile>,
    topics: &'a [Topic],
    raw: &[Spanned<RawMember>],
    members_file: Option<&Path>,
) -> impl Iterator<Item = Written> + 'a {
    let interests_of = move |written: Vec<(String, At<'_>)>| {
        let mut ids = choose_interests(topics, written, &mut Problems::new());
        ids.sort();
        ids
    };
    let inline: Vec<Written> = raw
        .iter()
        .filter_map(|m| {
            let email = &m.get_ref().email;
            let address = parse_address(email.get_ref()).ok()?;
            let interests = m
                .get_ref()
                .interests
                .iter()
                .map(|i| {
                    (
                        i.get_ref().trim().to_owned(),
                        At::Known(file.locate(i.span())),
                    )
                })
                .collect();
            Some(Written {
                address,
                at: file.locate(email.span()),
                interests: interests_of(interests),
                place: Place::of(&file.locate(m.span()), true),
            })
        })
        .collect();
    let mut rows = members_file
        .and_then(|path| rows::Rows::open(path).ok()?.ok())
        .map(|opened| opened.rows);
    let from_file = std::iter::from_fn(move || {
        loop {
            let row = rows.as_mut()?.next_row()?;
            let Ok(row) = row else { continue };
            if let Ok(address) = parse_address(&row.email) {
                let interests = row
                    .interests
                    .iter()
                    .map(|i| (i.clone(), At::InRow(&row)))
                    .collect();
                return Some(Written {
                    address,
                    at: row.locate(&row.email),
                    interests: interests_of(interests),
                    place: Place::of(&row.start(), false),
                });
            }
        }
    });
    inline.into_iter().chain(from_file)
}

/// Reports each member written again, with where they were first: one more
/// reading, keeping only the members whose key's hash was seen twice. The
/// same member with the same interests (an address in another case, a row
/// pasted twice) is a warning, mailed once, as first written. With other
/// interests it is an error: which ones they want is theirs to say. The
/// places of every member written again come back, to be left out.
fn report_duplicates(
    written: impl Iterator<Item = Written>,
    repeated: &std::collections::HashSet<u64>,
    problems: &mut Problems,
    member_errors: &mut Problems,
) -> Vec<Place> {
    let mut first: HashMap<Key, (Location, Vec<String>)> = HashMap::new();
    let mut left_out = Vec::new();
    for w in written {
        let key = Key::of(&w.address);
        if !repeated.contains(&key_hash(&key)) {
            continue;
        }
        let Some((earlier, interests)) = first.get(&key) else {
            first.insert(key, (w.at, w.interests));
            continue;
        };
        if left_out.len() >= MAX_REPEATS {
            member_errors.push(
                Problem::error(ProblemKind::Other(format!(
                    "more than {MAX_REPEATS} members are written again: the rest of the list was not checked"
                )))
                .at(w.at)
                .hint("is it the right file? Remove the repeated rows"),
            );
            break;
        }
        let kind = ProblemKind::DuplicateMember {
            address: w.address.to_string(),
            first: earlier.to_string(),
        };
        if *interests == w.interests {
            problems.push(
                Problem::warning(kind)
                    .at(w.at)
                    .hint("the same member with the same interests: mailed once, as first written; delete this one"),
            );
            left_out.push(w.place);
        } else {
            member_errors.push(
                Problem::error(kind)
                    .at(w.at)
                    .hint("keep one of the two, with the interests this member wants"),
            );
            left_out.push(w.place);
        }
    }
    left_out.sort_unstable();
    left_out
}

/// The settings of a list's `[list]` table that are checked one by one,
/// each problem at its place.
struct Settings {
    from: Option<Mailbox>,
    reply_to: Option<Mailbox>,
    unsubscribe: Option<Address>,
    bounce_address: Option<Address>,
    unsubscribe_url: Option<String>,
    subscribe_url: Option<String>,
    archive_url: Option<String>,
    consent: Option<String>,
    logo: Option<crate::image::Logo>,
}

impl Settings {
    fn check(file: &Arc<SourceFile>, l: &RawList, problems: &mut Problems) -> Settings {
        let at = |span: Range<usize>| file.locate(span);
        if !is_slug(l.id.get_ref()) {
            problems.push(
                Problem::error(ProblemKind::InvalidValue {
                    field: "id".into(),
                    reason: "use lowercase letters, digits and hyphens".into(),
                })
                .at(at(l.id.span())),
            );
        }
        let mut mailbox = |value: &Spanned<String>, field: &str| -> Option<Mailbox> {
            match value.get_ref().parse::<Mailbox>() {
                Ok(m) if m.email.domain().contains('.') => Some(m),
                Ok(_) | Err(_) => {
                    problems.push(
                        Problem::error(ProblemKind::InvalidValue {
                            field: field.into(),
                            reason: format!("`{}` is not an address", value.get_ref()),
                        })
                        .at(at(value.span()))
                        .hint(
                            "write it as \"Name <address@example.org>\" or \"address@example.org\"",
                        ),
                    );
                    None
                }
            }
        };
        let from = mailbox(&l.from, "from");
        let reply_to = l.reply_to.as_ref().and_then(|r| mailbox(r, "reply_to"));
        let unsubscribe = l
            .unsubscribe
            .as_ref()
            .and_then(|u| mail_address(file, u, problems));
        let bounce_address = l
            .bounce_address
            .as_ref()
            .and_then(|u| mail_address(file, u, problems));
        if let (Some(address), Some(raw)) = (&bounce_address, &l.bounce_address)
            && (address.user().contains('+')
                || address.user().len() > crate::address::VERP_USER_MAX)
        {
            problems.push(
                Problem::error(ProblemKind::InvalidValue {
                    field: "bounce_address".into(),
                    reason: format!(
                        "breves adds `+` and the recipient's code to `{address}`: its part before the `@` must have no `+` and at most {} characters",
                        crate::address::VERP_USER_MAX
                    ),
                })
                .at(at(raw.span())),
            );
        }
        let mut web = |field: &str, value: &Option<Spanned<String>>, hint: &str| {
            let value = value.as_ref()?;
            let address = web_address(value.get_ref());
            if address.is_none() {
                problems.push(
                    Problem::error(ProblemKind::InvalidValue {
                        field: field.into(),
                        reason: format!(
                            "`{}` is not an https:// address without a query",
                            value.get_ref().trim()
                        ),
                    })
                    .at(at(value.span()))
                    .hint(hint),
                );
            }
            address
        };
        let unsubscribe_url = web(
            "unsubscribe_url",
            &l.unsubscribe_url,
            "the address of the unsubscription server, such as https://breves.example.fr/desabonnement",
        );
        let subscribe_url = web(
            "subscribe_url",
            &l.subscribe_url,
            "the address of the subscription form of `breves serve`, such as https://breves.example.fr/abonnement",
        );
        let archive_url = web(
            "archive_url",
            &l.archive_url,
            "the address where `breves archive` is published, such as https://breves.example.fr/archives",
        );
        let consent = consent(l, file, problems);
        let logo = l
            .logo
            .as_ref()
            .and_then(|raw| crate::image::logo(file, raw, problems));
        Settings {
            from,
            reply_to,
            unsubscribe,
            bounce_address,
            unsubscribe_url,
            subscribe_url,
            archive_url,
            consent,
            logo,
        }
    }
}

/// An address of the list's own (`unsubscribe`, `bounce_address`), with
/// or without `mailto:`; checked at its place.
fn mail_address(
    file: &Arc<SourceFile>,
    value: &Spanned<String>,
    problems: &mut Problems,
) -> Option<Address> {
    let text = value.get_ref().trim();
    let text = text.strip_prefix("mailto:").unwrap_or(text);
    match parse_address(text) {
        Ok(a) => Some(a),
        Err(reason) => {
            problems.push(
                Problem::error(ProblemKind::InvalidAddress {
                    address: text.to_owned(),
                    reason,
                })
                .at(file.locate(value.span())),
            );
            None
        }
    }
}

/// The topics a list offers, in its order; each id checked at its place.
fn topics(file: &Arc<SourceFile>, l: &RawList, problems: &mut Problems) -> Vec<Topic> {
    let mut topics = Vec::new();
    for (id, label) in &l.topics.get_ref().0 {
        if !is_slug(id) {
            problems.push(
                Problem::error(ProblemKind::InvalidValue {
                    field: format!("topics.{id}"),
                    reason: "a topic id is lowercase letters, digits and hyphens".into(),
                })
                .at(file.locate(label.span())),
            );
        }
        topics.push(Topic {
            id: id.clone(),
            label: label.get_ref().trim().to_owned(),
        });
    }
    if topics.is_empty() {
        problems.push(
            Problem::error(ProblemKind::InvalidValue {
                field: "topics".into(),
                reason: "the list offers no topic".into(),
            })
            .at(file.locate(l.topics.span())),
        );
    }
    topics
}

/// A list's members, inline and in its members file, checked in one pass.
struct Checked {
    roster: Roster,
    /// How many there are, each address once.
    size: usize,
    /// The problems of the list as a whole (a file that cannot be read,
    /// a repeated address).
    problems: Problems,
    /// The errors of members written wrong, each at its place.
    errors: Problems,
}

impl Checked {
    fn read(file: &Arc<SourceFile>, raw: &RawFile, topics: &[Topic]) -> Checked {
        let l = &raw.list;
        let mut roll = Roll {
            topics,
            inline: Vec::new(),
            keys: Vec::new(),
            compact_at: COMPACT_AT,
            problems: Problems::new(),
            member_errors: Problems::new(),
            invalid_rows: Vec::new(),
        };
        for member in &raw.member {
            if let Some(member) = roll.member(|p| inline_member(file, topics, member, p)) {
                roll.inline.push(member);
            }
        }
        let mut members_file = None;
        let csv_path = l
            .members
            .as_ref()
            .map(|m| resolve(file.path(), m.get_ref()));
        if let (Some(members), Some(csv_path)) = (&l.members, &csv_path) {
            match roll.read_file(csv_path) {
                Ok(read) => members_file = read,
                Err(e) => roll.problems.push(
                    Problem::error(ProblemKind::InvalidValue {
                        field: "members".into(),
                        reason: format!("cannot read {}: {e}", csv_path.display()),
                    })
                    .at(file.locate(members.span()))
                    .hint("the path is relative to this file"),
                ),
            }
        }
        let repeated = roll.repeated();
        let mut left_out = Vec::new();
        if !repeated.is_empty() {
            let written = addresses_written(file, topics, &raw.member, csv_path.as_deref());
            left_out = report_duplicates(
                written,
                &repeated,
                &mut roll.problems,
                &mut roll.member_errors,
            );
        }
        roll.inline.retain(|m| {
            m.origin
                .as_ref()
                .is_none_or(|o| left_out.binary_search(&Place::of(o, true)).is_err())
        });
        let size = roll.keys.len() - left_out.len();
        let mut left_out_rows: Vec<usize> = left_out
            .iter()
            .filter_map(|p| match p {
                Place::Row(line) => Some(*line),
                Place::Inline(..) => None,
            })
            .chain(roll.invalid_rows)
            .collect();
        left_out_rows.sort_unstable();
        left_out_rows.dedup();
        Checked {
            roster: Roster {
                inline: roll.inline,
                file: members_file,
                left_out_rows,
            },
            size,
            problems: roll.problems,
            errors: roll.member_errors,
        }
    }
}

impl List {
    /// Reads and checks a list file and the CSV file it names. On success,
    /// the list and its warnings; on problems, every one of them.
    pub fn load(path: &Path) -> Result<(List, Problems)> {
        load_file(path, List::parse)
    }

    /// The same, with the members written wrong left out ([`Invalid`]).
    pub fn load_with(path: &Path, invalid: Invalid) -> Result<(List, Problems)> {
        load_file(path, |file| List::parse_with(file, invalid))
    }

    /// Checks a list's text (reading the CSV file it names, relative to it).
    /// The list comes back only when there is no error.
    pub fn parse(file: &Arc<SourceFile>) -> (Option<List>, Problems) {
        List::parse_with(file, Invalid::Stop)
    }

    /// The same, doing `invalid` with the members written wrong.
    pub fn parse_with(file: &Arc<SourceFile>, invalid: Invalid) -> (Option<List>, Problems) {
        let mut problems = Problems::new();
        let raw: RawFile = match parse_toml(file) {
            Ok(raw) => raw,
            Err(p) => {
                problems.push(p.hint(
                    "compare with subscribers/londres.toml, and see \"The subscriber list\" in README.md",
                ));
                return (None, problems);
            }
        };
        let l = &raw.list;
        let settings = Settings::check(file, l, &mut problems);
        let topics = topics(file, l, &mut problems);
        let members = Checked::read(file, &raw, &topics);
        problems.extend(members.problems);
        let left_out = match invalid {
            Invalid::Stop => {
                problems.extend(members.errors);
                Problems::new()
            }
            Invalid::Skip => members.errors,
        };
        if members.size == 0 && !problems.has_errors() {
            problems.push(
                Problem::warning(ProblemKind::Other("the list has no member".into()))
                    .at(file.locate(l.id.span())),
            );
        }
        let trimmed =
            |s: &Option<Spanned<String>>| s.as_ref().map(|s| s.get_ref().trim().to_owned());
        match settings.from {
            Some(from) if !problems.has_errors() => (
                Some(List {
                    id: l.id.get_ref().clone(),
                    name: trimmed(&l.name),
                    from,
                    reply_to: settings.reply_to,
                    unsubscribe: settings.unsubscribe,
                    unsubscribe_url: settings.unsubscribe_url,
                    subscribe_url: settings.subscribe_url,
                    consent: settings.consent,
                    archive_url: settings.archive_url,
                    bounce_address: settings.bounce_address,
                    logo: settings.logo,
                    dkim_selector: trimmed(&l.dkim_selector),
                    dkim_domain: trimmed(&l.dkim_domain),
                    topics,
                    size: members.size,
                    left_out,
                    roster: members.roster,
                }),
                problems,
            ),
            _ => (None, problems),
        }
    }

    /// A stand-in list for previews made without one: example.org sender,
    /// every topic of nothing (interests are given directly).
    pub fn preview() -> List {
        List {
            id: "apercu".into(),
            name: None,
            from: Mailbox::new(
                Some("Aperçu breves".into()),
                Address::new("apercu", "example.org").expect("a valid constant address"),
            ),
            reply_to: None,
            unsubscribe: None,
            unsubscribe_url: None,
            subscribe_url: None,
            consent: None,
            archive_url: None,
            bounce_address: None,
            logo: None,
            dkim_selector: None,
            dkim_domain: None,
            topics: Vec::new(),
            size: 0,
            left_out: Problems::new(),
            roster: Roster::default(),
        }
    }

    /// The address of `issue_id`'s page in the web archive, when the list
    /// gives the archive's (`archive_url`).
    pub fn archive_page(&self, issue_id: &str) -> Option<String> {
        self.archive_url
            .as_ref()
            .map(|base| archive_page(base, issue_id))
    }

    /// The members file, when the list names one.
    pub fn members_file(&self) -> Option<&Path> {
        self.roster.file.as_ref().map(|f| f.path.as_path())
    }

    /// The reader of a preview made from interests alone.
    pub fn preview_reader() -> Mailbox {
        Mailbox::new(
            Some("Lecteur".into()),
            Address::new("lecteur", "example.org").expect("a valid constant address"),
        )
    }

    /// The members, inline ones first, then those of the members file,
    /// read as they are asked for: each is checked again, and a file that
    /// changed since the list was checked ends the reading with
    /// [`Error::ListChanged`].
    pub fn members(&self) -> Members<'_> {
        Members {
            list: self,
            inline: self.roster.inline.iter(),
            rows: None,
            done: false,
        }
    }

    /// The members with these addresses (compared as mail systems do), in
    /// one reading of the list.
    pub fn find(&self, wanted: &[Key]) -> Result<HashMap<Key, Member>> {
        let wanted: std::collections::HashSet<&Key> = wanted.iter().collect();
        let mut found = HashMap::new();
        for member in self.members() {
            let member = member?;
            let key = Key::of(&member.email);
            if wanted.contains(&key) {
                found.insert(key, member);
            }
        }
        Ok(found)
    }

    /// The member with this address (compared as mail systems do).
    pub fn member(&self, email: &str) -> Result<Option<Member>> {
        let key = Key::from_text(email);
        Ok(self.find(std::slice::from_ref(&key))?.remove(&key))
    }
}

/// A list's members, read as they are asked for ([`List::members`]).
pub struct Members<'a> {
    list: &'a List,
    inline: std::slice::Iter<'a, Member>,
    rows: Option<rows::Rows>,
    done: bool,
}

impl Members<'_> {
    /// The members file's next member.
    fn next_in_file(&mut self, file: &MembersFile) -> Result<Option<Member>> {
        let changed = || Error::ListChanged {
            path: file.path.clone(),
        };
        if self.rows.is_none() {
            let opened = rows::Rows::open(&file.path)
                .map_err(|source| Error::Read {
                    path: file.path.clone(),
                    source,
                })?
                .map_err(|_| changed())?;
            if *opened.rows.identity() != file.identity {
                return Err(changed());
            }
            self.rows = Some(opened.rows);
        }
        let Some(rows) = self.rows.as_mut() else {
            return Ok(None);
        };
        let left_out = |line: usize| self.list.roster.left_out_rows.binary_search(&line).is_ok();
        let mut next = rows.next_row();
        while let Some(row) = &next {
            let line = match row {
                Ok(row) => Some(row.start().line()),
                Err(problem) => problem.location.as_ref().map(Location::line),
            };
            if !line.is_some_and(left_out) {
                break;
            }
            next = rows.next_row();
        }
        match next {
            None if rows.digest() == file.digest => Ok(None),
            None | Some(Err(_)) => Err(changed()),
            Some(Ok(row)) => {
                let mut problems = Problems::new();
                match row_member(&self.list.topics, &row, &mut problems) {
                    Some(member) if !problems.has_errors() => Ok(Some(member)),
                    _ => Err(changed()),
                }
            }
        }
    }
}

impl Iterator for Members<'_> {
    type Item = Result<Member>;

    fn next(&mut self) -> Option<Result<Member>> {
        if self.done {
            return None;
        }
        if let Some(member) = self.inline.next() {
            return Some(Ok(member.clone()));
        }
        let list = self.list;
        let next = match &list.roster.file {
            Some(file) => self.next_in_file(file).transpose(),
            None => None,
        };
        // After an error or the last member, nothing more.
        self.done = !matches!(next, Some(Ok(_)));
        next
    }
}

fn resolve(list_path: &Path, member_file: &str) -> PathBuf {
    let rel = Path::new(member_file);
    if rel.is_absolute() {
        return rel.to_path_buf();
    }
    list_path
        .parent()
        .map_or_else(|| rel.to_path_buf(), |dir| dir.join(rel))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::check_file;

    const HEAD: &str =
        "[list]\nid = \"l\"\nfrom = \"X <x@example.org>\"\ntopics = { a = \"A\", b = \"B\" }\n";

    fn parse(text: &str) -> (Option<List>, Problems) {
        List::parse(&Arc::new(SourceFile::new("l.toml", text)))
    }

    fn first(list: &List) -> Member {
        list.members().next().expect("a member").expect("readable")
    }

    #[test]
    fn a_subscription_form_needs_its_consent_sentence_written() {
        let head = "[list]\nid = \"l\"\nfrom = \"X <x@example.org>\"\n";
        let topics = "topics = { a = \"A\" }\n[[member]]\nemail = \"a@example.org\"\n";
        let render = |text: &str| {
            let (_, problems) = parse(text);
            problems
                .sorted()
                .iter()
                .map(|p| p.render(false))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(
            render(&format!(
                "{head}subscribe_url = \"https://breves.example.fr/abonnement\"\n{topics}"
            )),
            "error: subscribe_url: a subscription form needs the sentence readers tick to consent\n \
             --> l.toml:4:17\n  |\n4 | subscribe_url = \"https://breves.example.fr/abonnement\"\n  \
             |                 ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n  |\nhelp: add to [list]: consent = \
             \"J’accepte de recevoir cette lettre à l’adresse indiquée.\""
        );
        let (list, problems) = parse(&format!(
            "{head}subscribe_url = \"https://breves.example.fr/abonnement\"\nconsent = \"  J’accepte\\n de la recevoir. \"\n{topics}"
        ));
        assert!(!problems.has_errors(), "{problems:?}");
        let list = list.expect("a list");
        assert_eq!(list.consent.as_deref(), Some("J’accepte de la recevoir."));
        assert!(
            render(&format!("{head}consent = \" \"\n{topics}"))
                .contains("the consent sentence is written in 1 to 500 characters")
        );
    }

    #[test]
    fn duplicates_are_errors_and_unknown_interests_warnings() {
        let text = format!(
            "{HEAD}[[member]]\nemail = \"a@example.org\"\n[[member]]\nemail = \"A@Example.ORG\"\ninterests = [\"a\", \"zz\"]\n"
        );
        let (list, problems) = parse(&text);
        assert!(list.is_none());
        let shown: Vec<String> = problems.sorted().iter().map(|p| p.to_string()).collect();
        assert!(
            shown[0].starts_with(
                "l.toml:8:9: error: `A@Example.ORG` is already a member (first at l.toml:6:9)"
            ),
            "{shown:#?}"
        );
        assert_eq!(
            shown[1],
            "l.toml:9:19: warning: unknown interest `zz` (the list offers: a, b); they receive a",
            "{shown:#?}"
        );
    }

    #[test]
    fn interests_as_spreadsheets_write_them_are_read_kindly() {
        let head = "[list]\nid = \"l\"\nfrom = \"X <x@example.org>\"\ntopics = { spatial = \"S\", cybersecurite = \"C\", ia = \"IA\" }\n";
        let text = format!(
            "{head}[[member]]\nemail = \"a@example.org\"\ninterests = [\"SPATIAL\", \"Cybersecurite\"]\n\
             [[member]]\nemail = \"b@example.org\"\ninterests = [\"spatail\", \"ia\"]\n\
             [[member]]\nemail = \"c@example.org\"\ninterests = [\"espace\"]\n\
             [[member]]\nemail = \"jérôme@example.fr\"\nname = \"Jérôme\\nBcc\"\n"
        );
        let (list, problems) = parse(&text);
        let list = list.expect("warnings only");
        let shown: Vec<String> = problems.sorted().iter().map(|p| p.render(false)).collect();
        insta::assert_snapshot!(shown.join("\n"));
        let members: Vec<Member> = list.members().map(|m| m.expect("readable")).collect();
        let interests: Vec<&[String]> = members.iter().map(|m| m.interests.as_slice()).collect();
        assert_eq!(
            interests,
            vec![
                &["spatial".to_owned(), "cybersecurite".to_owned()][..],
                &["ia".to_owned()][..],
                // None offered: kept as written, so that they receive no
                // section rather than every one.
                &["espace".to_owned()][..],
                &[][..],
            ]
        );
    }

    #[test]
    fn the_unsubscription_address_must_be_https_or_local() {
        let with = |url: &str| {
            let text = HEAD.replacen(
                "topics =",
                &format!("unsubscribe_url = \"{url}\"\ntopics ="),
                1,
            );
            let (list, problems) = parse(&text);
            let shown: Vec<String> = problems
                .sorted()
                .iter()
                .filter(|p| p.is_error())
                .map(|p| p.render(false))
                .collect();
            (list.and_then(|l| l.unsubscribe_url), shown.join("\n"))
        };
        for (good, kept) in [
            (
                "https://breves.example.fr/desabonnement/",
                "https://breves.example.fr/desabonnement",
            ),
            ("http://127.0.0.1:8025", "http://127.0.0.1:8025"),
            ("http://localhost:8025/d", "http://localhost:8025/d"),
            ("http://[::1]:8025", "http://[::1]:8025"),
        ] {
            assert_eq!(with(good), (Some(kept.to_owned()), String::new()), "{good}");
        }
        for bad in [
            "http://breves.example.fr/d",
            "https://breves.example.fr/d?x=1",
            "ftp://breves.example.fr/d",
            "breves.example.fr/d",
            "https://",
        ] {
            let (url, shown) = with(bad);
            assert_eq!(url, None, "{bad}");
            assert!(
                shown.contains(&format!(
                    "`{bad}` is not an https:// address without a query"
                )),
                "{bad}: {shown}"
            );
        }
    }

    #[test]
    fn names_cannot_carry_headers() {
        let text = format!(
            "{HEAD}[[member]]\nemail = \"eve@example.org\"\nname = \"Eve\\r\\nBcc: x@example.org\"\n"
        );
        let (list, problems) = parse(&text);
        let list = list.expect("valid");
        assert_eq!(first(&list).name.as_deref(), Some("Eve Bcc: x@example.org"));
        assert_eq!(problems.warning_count(), 1);
    }

    #[test]
    fn names_lose_their_extra_spaces_without_a_warning() {
        let text =
            format!("{HEAD}[[member]]\nemail = \"m@example.org\"\nname = \"  Marc   Dupont \"\n");
        let (list, problems) = parse(&text);
        let list = list.expect("valid");
        assert_eq!(first(&list).name.as_deref(), Some("Marc Dupont"));
        assert_eq!(problems.warning_count(), 0, "{problems:?}");
    }

    /// A list whose members file says `rows`.
    fn with_file(rows: &str) -> (tempfile::TempDir, List) {
        let dir = tempfile::tempdir().expect("a folder");
        std::fs::write(dir.path().join("m.csv"), rows).expect("the members file");
        let path = dir.path().join("l.toml");
        let text = HEAD.replacen("topics =", "members = \"m.csv\"\ntopics =", 1);
        std::fs::write(&path, text).expect("the list");
        let (list, problems) = List::load(&path).expect("a valid list");
        assert!(problems.is_empty(), "{problems:?}");
        (dir, list)
    }

    #[test]
    fn the_same_member_written_again_with_the_same_interests_is_mailed_once() {
        let dir = tempfile::tempdir().expect("a folder");
        std::fs::write(
            dir.path().join("m.csv"),
            "email,name,interests\nb@example.org,B,b\nA@EXAMPLE.org,A bis,A\nc@example.org,C,\nB@example.org,B,b\nd@example.org,D,\n",
        )
        .expect("the members file");
        let path = dir.path().join("l.toml");
        let text = format!(
            "{}[[member]]\nemail = \"a@example.org\"\ninterests = [\"a\"]\n[[member]]\nemail = \"a@Example.org\"\ninterests = [\"a\"]\n",
            HEAD.replacen("topics =", "members = \"m.csv\"\ntopics =", 1)
        );
        std::fs::write(&path, text).expect("the list");
        let (list, problems) = List::load(&path).expect("a valid list");
        let shown: Vec<String> = problems
            .sorted()
            .iter()
            .map(|p| {
                p.to_string()
                    .replace(&dir.path().display().to_string(), "DIR")
            })
            .collect();
        assert_eq!(
            shown,
            vec![
                "DIR/l.toml:10:9: warning: `a@Example.org` is already a member (first at DIR/l.toml:7:9) (the same member with the same interests: mailed once, as first written; delete this one)",
                "DIR/m.csv:3:1: warning: the interest `A` is taken as `a`",
                "DIR/m.csv:3:1: warning: `A@EXAMPLE.org` is already a member (first at DIR/l.toml:7:9) (the same member with the same interests: mailed once, as first written; delete this one)",
                "DIR/m.csv:5:1: warning: `B@example.org` is already a member (first at DIR/m.csv:2:1) (the same member with the same interests: mailed once, as first written; delete this one)",
            ]
        );
        let emails: Vec<String> = list
            .members()
            .map(|m| m.expect("readable").email.to_string())
            .collect();
        assert_eq!(
            emails,
            [
                "a@example.org",
                "b@example.org",
                "c@example.org",
                "d@example.org"
            ]
        );
        assert_eq!(list.size, 4);
        let found = list.member("A@example.ORG").expect("readable").expect("A");
        assert_eq!(found.email.to_string(), "a@example.org", "as first written");
    }

    #[test]
    fn members_are_read_again_as_they_were_checked() {
        let rows = "email,name,interests\r\na@example.org,A,a\r\n\r\n\"b@example.org\",\"B, dit \"\"Bé\"\"\",a;b\r\n";
        let (_dir, list) = with_file(rows);
        assert_eq!(list.size, 2);
        let members: Vec<Member> = list.members().collect::<Result<_>>().expect("readable");
        let shown: Vec<(String, Option<String>, Vec<String>, String)> = members
            .iter()
            .map(|m| {
                (
                    m.email.to_string(),
                    m.name.clone(),
                    m.interests.clone(),
                    m.origin
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                )
            })
            .collect();
        let path = |line: usize| {
            format!(
                "{}:{line}:1",
                list.roster
                    .file
                    .as_ref()
                    .map(|f| f.path.display().to_string())
                    .unwrap_or_default()
            )
        };
        assert_eq!(
            shown,
            vec![
                (
                    "a@example.org".into(),
                    Some("A".into()),
                    vec!["a".into()],
                    path(2)
                ),
                (
                    "b@example.org".into(),
                    Some("B, dit \"Bé\"".into()),
                    vec!["a".into(), "b".into()],
                    path(4)
                ),
            ]
        );
    }

    #[test]
    fn a_members_file_saved_again_since_its_check_is_not_read() {
        let rows = "email,name,interests\na@example.org,A,a\nb@example.org,B,b\n";
        for changed in [
            // Another member in place of one, the same size.
            "email,name,interests\na@example.org,A,a\nc@example.org,C,b\n",
            // One more.
            "email,name,interests\na@example.org,A,a\nb@example.org,B,b\nc@example.org,C,b\n",
        ] {
            let (dir, list) = with_file(rows);
            std::fs::write(dir.path().join("m.csv"), changed).expect("saved again");
            let read: Vec<Result<Member>> = list.members().collect();
            let Some(Err(Error::ListChanged { path })) = read.last() else {
                panic!("{changed:?}: {read:?}");
            };
            assert_eq!(path, &dir.path().join("m.csv"));
            assert!(read.len() <= 2, "nothing after the error: {read:?}");
        }
    }

    #[test]
    fn a_members_file_changed_behind_the_same_size_and_time_is_not_trusted() {
        // Rewritten in place, the same length, its time set back: only what
        // it says can tell. A row that no longer passes the check stops the
        // reading there; rows that pass, at the end (the hash of the bytes).
        let rows = "email,name,interests\na@example.org,A,a\nb@example.org,B,b\n";
        for (changed, read_before) in [
            (
                "email,name,interests\na.example.org,A,a\nb@example.org,B,b\n",
                0,
            ),
            (
                "email,name,interests\nc@example.org,C,a\nb@example.org,B,b\n",
                2,
            ),
        ] {
            let (dir, list) = with_file(rows);
            let path = dir.path().join("m.csv");
            let modified = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .expect("a time");
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .expect("the file");
            std::io::Write::write_all(&mut file, changed.as_bytes()).expect("rewritten");
            file.set_modified(modified).expect("the time set back");
            drop(file);
            let read: Vec<Result<Member>> = list.members().collect();
            assert_eq!(read.len(), read_before + 1, "{changed:?}: {read:?}");
            assert!(
                read[..read_before].iter().all(Result::is_ok)
                    && matches!(read.last(), Some(Err(Error::ListChanged { .. }))),
                "{changed:?}: {read:?}"
            );
        }
    }

    #[test]
    fn a_member_written_twice_is_found_wherever_they_are() {
        let dir = tempfile::tempdir().expect("a folder");
        std::fs::write(
            dir.path().join("m.csv"),
            // Each written again with other interests: which they want is
            // theirs to say.
            "email,name,interests\nb@example.org,B,\nA@EXAMPLE.org,A,a\nB@example.org,B2,b\n",
        )
        .expect("the members file");
        let path = dir.path().join("l.toml");
        let text = format!(
            "{}[[member]]\nemail = \"a@example.org\"\n",
            HEAD.replacen("topics =", "members = \"m.csv\"\ntopics =", 1)
        );
        std::fs::write(&path, text).expect("the list");
        let (_, problems) = check_file(&path, List::parse).expect("readable");
        let csv = dir.path().join("m.csv").display().to_string();
        let toml = path.display().to_string();
        let shown: Vec<String> = problems.sorted().iter().map(|p| p.to_string()).collect();
        assert_eq!(
            shown,
            vec![
                format!(
                    "{csv}:3:1: error: `A@EXAMPLE.org` is already a member (first at {toml}:7:9) (keep one of the two, with the interests this member wants)"
                ),
                format!(
                    "{csv}:4:1: error: `B@example.org` is already a member (first at {csv}:2:1) (keep one of the two, with the interests this member wants)"
                ),
            ]
        );
    }
}
