//! The subscription list: its settings and its members.
//!
//! A list file is TOML. Its `[list]` table names the list, the sender, the
//! topics a subscriber can choose, and optionally a CSV file of members;
//! members can also be written inline as `[[member]]` tables. Both are read
//! into one [`List`], every address checked and every duplicate refused, so
//! that nobody is mailed twice.
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
//! assert_eq!(list.members[0].email.to_string(), "alice@example.org");
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

use crate::Result;
use crate::address::{Key, parse_address};
use crate::diagnostics::{
    Location, Problem, ProblemKind, Problems, SourceFile, load_file, parse_toml, read_source,
};
use crate::issue::is_slug;

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
    /// The DKIM selector its messages are signed under, when they are.
    pub dkim_selector: Option<String>,
    /// The DKIM signing domain (default: the sender's).
    pub dkim_domain: Option<String>,
    /// The interests a member can choose, in the list's order.
    pub topics: Vec<Topic>,
    /// The members, inline ones first, then those of the CSV file.
    pub members: Vec<Member>,
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

    /// The `To` mailbox: name and address.
    pub fn mailbox(&self) -> Mailbox {
        Mailbox::new(self.name.clone(), self.email.clone())
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

/// Gathers members from both sources, checking each.
struct Roll<'a> {
    topics: &'a [Topic],
    members: Vec<Member>,
    seen: HashMap<Key, Location>,
    problems: Problems,
}

impl Roll<'_> {
    /// Checks and records one member. `at(text)` locates a part of its row.
    fn add(
        &mut self,
        email: &str,
        email_at: Location,
        name: Option<(&str, Location)>,
        interests: Vec<(String, Location)>,
        origin: Location,
    ) {
        let address = match parse_address(email) {
            Ok(a) => a,
            Err(reason) => {
                self.problems.push(
                    Problem::error(ProblemKind::InvalidAddress {
                        address: email.trim().to_owned(),
                        reason,
                    })
                    .at(email_at),
                );
                return;
            }
        };
        let mut chosen: Vec<String> = Vec::new();
        for (interest, at) in interests {
            if !self.topics.iter().any(|t| t.id == interest) {
                let offered: Vec<&str> = self.topics.iter().map(|t| t.id.as_str()).collect();
                self.problems.push(
                    Problem::error(ProblemKind::UnknownInterest {
                        interest: interest.clone(),
                        offered: offered.join(", "),
                    })
                    .at(at),
                );
            } else if !chosen.contains(&interest) {
                chosen.push(interest);
            }
        }
        let key = Key::of(&address);
        if let Some(first) = self.seen.get(&key) {
            self.problems.push(
                Problem::error(ProblemKind::DuplicateMember {
                    address: address.to_string(),
                    first: first.to_string(),
                })
                .at(email_at)
                .hint("keep one of the two, with the interests this member wants"),
            );
            return;
        }
        self.seen.insert(key, email_at);
        let name = name.and_then(|(name, at)| {
            let (cleaned, changed) = clean_name(name);
            if changed && name.chars().any(char::is_control) {
                self.problems.push(
                    Problem::warning(ProblemKind::InvalidValue {
                        field: "name".into(),
                        reason: "it contains line breaks or control characters, replaced by spaces"
                            .into(),
                    })
                    .at(at),
                );
            }
            (!cleaned.is_empty()).then_some(cleaned)
        });
        self.members.push(Member {
            email: address,
            name,
            interests: chosen,
            origin: Some(origin),
        });
    }
}

impl List {
    /// Reads and checks a list file and the CSV file it names. On success,
    /// the list and its warnings; on problems, every one of them.
    pub fn load(path: &Path) -> Result<(List, Problems)> {
        load_file(path, List::parse)
    }

    /// Checks a list's text (reading the CSV file it names, relative to it).
    /// The list comes back only when there is no error.
    pub fn parse(file: &Arc<SourceFile>) -> (Option<List>, Problems) {
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
        let at = |span: Range<usize>| file.locate(span);
        let l = &raw.list;
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
        let unsubscribe = l.unsubscribe.as_ref().and_then(|u| {
            let text = u.get_ref().trim();
            let text = text.strip_prefix("mailto:").unwrap_or(text);
            match parse_address(text) {
                Ok(a) => Some(a),
                Err(reason) => {
                    problems.push(
                        Problem::error(ProblemKind::InvalidAddress {
                            address: text.to_owned(),
                            reason,
                        })
                        .at(at(u.span())),
                    );
                    None
                }
            }
        });
        let unsubscribe_url = l.unsubscribe_url.as_ref().and_then(|u| {
            let text = u.get_ref().trim().trim_end_matches('/');
            match url::Url::parse(text) {
                Ok(url) if url.scheme() == "https" && url.host_str().is_some() && url.query().is_none() => {
                    Some(text.to_owned())
                }
                Ok(url)
                    if url.scheme() == "http"
                        && matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) =>
                {
                    Some(text.to_owned())
                }
                _ => {
                    problems.push(
                        Problem::error(ProblemKind::InvalidValue {
                            field: "unsubscribe_url".into(),
                            reason: format!(
                                "`{}` is not an https:// address without a query",
                                u.get_ref().trim()
                            ),
                        })
                        .at(at(u.span()))
                        .hint("the address of the unsubscription server, such as https://breves.example.fr/desabonnement"),
                    );
                    None
                }
            }
        });
        let mut topics = Vec::new();
        for (id, label) in &l.topics.get_ref().0 {
            if !is_slug(id) {
                problems.push(
                    Problem::error(ProblemKind::InvalidValue {
                        field: format!("topics.{id}"),
                        reason: "a topic id is lowercase letters, digits and hyphens".into(),
                    })
                    .at(at(label.span())),
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
                .at(at(l.topics.span())),
            );
        }

        let mut roll = Roll {
            topics: &topics,
            members: Vec::new(),
            seen: HashMap::new(),
            problems: Problems::new(),
        };
        for member in &raw.member {
            let m = member.get_ref();
            roll.add(
                m.email.get_ref(),
                at(m.email.span()),
                m.name
                    .as_ref()
                    .map(|n| (n.get_ref().as_str(), at(n.span()))),
                m.interests
                    .iter()
                    .map(|i| (i.get_ref().trim().to_owned(), at(i.span())))
                    .collect(),
                at(member.span()),
            );
        }
        if let Some(members) = &l.members {
            let csv_path = resolve(file.path(), members.get_ref());
            match read_source(&csv_path) {
                Ok(Ok(csv)) => read_csv(&csv, &mut roll),
                Ok(Err(problem)) => roll.problems.push(problem),
                Err(e) => roll.problems.push(
                    Problem::error(ProblemKind::InvalidValue {
                        field: "members".into(),
                        reason: e.to_string(),
                    })
                    .at(at(members.span()))
                    .hint("the path is relative to this file"),
                ),
            }
        }
        let members = roll.members;
        problems.extend(roll.problems);
        if members.is_empty() && !problems.has_errors() {
            problems.push(
                Problem::warning(ProblemKind::Other("the list has no member".into()))
                    .at(at(l.id.span())),
            );
        }
        match from {
            Some(from) if !problems.has_errors() => (
                Some(List {
                    id: l.id.get_ref().clone(),
                    name: l.name.as_ref().map(|n| n.get_ref().trim().to_owned()),
                    from,
                    reply_to,
                    unsubscribe,
                    unsubscribe_url,
                    dkim_selector: l
                        .dkim_selector
                        .as_ref()
                        .map(|s| s.get_ref().trim().to_owned()),
                    dkim_domain: l
                        .dkim_domain
                        .as_ref()
                        .map(|s| s.get_ref().trim().to_owned()),
                    topics,
                    members,
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
            dkim_selector: None,
            dkim_domain: None,
            topics: Vec::new(),
            members: Vec::new(),
        }
    }

    /// The reader of a preview made from interests alone.
    pub fn preview_reader() -> Mailbox {
        Mailbox::new(
            Some("Lecteur".into()),
            Address::new("lecteur", "example.org").expect("a valid constant address"),
        )
    }

    /// The member with this address (compared as mail systems do).
    pub fn member(&self, email: &str) -> Option<&Member> {
        let wanted = Key::from_text(email);
        self.members.iter().find(|m| Key::of(&m.email) == wanted)
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

/// Reads members from a CSV file with a header `email,name,interests`
/// (interests separated by `;`), as a spreadsheet saves it: byte-order mark,
/// CRLF line ends and quoted fields are fine.
fn read_csv(file: &Arc<SourceFile>, roll: &mut Roll<'_>) {
    let text = file.text();
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(&text.as_bytes()[bom..]);
    let at = |offset: usize| file.locate(bom + offset..bom + offset);
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            roll.problems.push(csv_problem(file, bom, &e));
            return;
        }
    };
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let Some(email_col) = column("email") else {
        roll.problems.push(
            Problem::error(ProblemKind::Syntax(
                "the first line must name the columns: email,name,interests".into(),
            ))
            .at(at(0)),
        );
        return;
    };
    let name_col = column("name");
    let interests_col = column("interests");
    for (i, header) in headers.iter().enumerate() {
        if ![Some(email_col), name_col, interests_col].contains(&Some(i)) {
            roll.problems.push(
                Problem::warning(ProblemKind::Other(format!(
                    "the column `{header}` is not used (breves reads email, name and interests)"
                )))
                .at(at(0)),
            );
        }
    }
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                roll.problems.push(csv_problem(file, bom, &e));
                continue;
            }
        };
        // csv places a record after the `\r` of a CRLF: step over line ends.
        let start = record.position().map_or(0, |p| p.byte() as usize);
        let start = start
            + text[bom + start..]
                .bytes()
                .take_while(|b| *b == b'\r' || *b == b'\n')
                .count();
        if record.iter().all(str::is_empty) {
            continue;
        }
        // Where a field stands in the file: found in the raw row.
        let row_end = text[bom + start..]
            .find('\n')
            .map_or(text.len(), |e| bom + start + e);
        let field_at = |value: &str| -> Location {
            let row = &text[bom + start..row_end];
            match (!value.is_empty()).then(|| row.find(value)).flatten() {
                Some(i) => file.locate(bom + start + i..bom + start + i + value.len()),
                None => at(start),
            }
        };
        let email = record.get(email_col).unwrap_or_default();
        let name = name_col
            .and_then(|c| record.get(c))
            .filter(|n| !n.is_empty());
        let interests: Vec<(String, Location)> = interests_col
            .and_then(|c| record.get(c))
            .unwrap_or_default()
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| (s.to_owned(), field_at(s)))
            .collect();
        roll.add(
            email,
            field_at(email),
            name.map(|n| (n, field_at(n))),
            interests,
            at(start),
        );
    }
}

fn csv_problem(file: &Arc<SourceFile>, bom: usize, e: &csv::Error) -> Problem {
    // (Mutation testing: the text is UTF-8 already and rows may have any
    // number of fields, so csv reports no error a test can cause; this is
    // the defensive path, and its mutants are equivalent.)
    let offset = e.position().map_or(0, |p| p.byte() as usize);
    Problem::error(ProblemKind::Syntax(e.to_string())).at(file.locate(bom + offset..bom + offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str =
        "[list]\nid = \"l\"\nfrom = \"X <x@example.org>\"\ntopics = { a = \"A\", b = \"B\" }\n";

    fn parse(text: &str) -> (Option<List>, Problems) {
        List::parse(&Arc::new(SourceFile::new("l.toml", text)))
    }

    #[test]
    fn duplicates_and_unknown_interests_are_errors() {
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
        assert!(
            shown[1]
                .starts_with("l.toml:9:19: error: unknown interest `zz` (the list offers: a, b)"),
            "{shown:#?}"
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
        assert_eq!(
            list.members[0].name.as_deref(),
            Some("Eve Bcc: x@example.org")
        );
        assert_eq!(problems.warning_count(), 1);
    }

    #[test]
    fn names_lose_their_extra_spaces_without_a_warning() {
        let text =
            format!("{HEAD}[[member]]\nemail = \"m@example.org\"\nname = \"  Marc   Dupont \"\n");
        let (list, problems) = parse(&text);
        let list = list.expect("valid");
        assert_eq!(list.members[0].name.as_deref(), Some("Marc Dupont"));
        assert_eq!(problems.warning_count(), 0, "{problems:?}");
    }
}
