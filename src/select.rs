//! Who receives what: interests become the sections of a digest.
//!
//! A subscriber receives the highlight and the sections of the issue whose
//! ids are among their interests, in the issue's order; with no interests,
//! every section. Subscribers who receive the same sections share one
//! [`Variant`], which is rendered once: a list of thousands of members has a
//! few dozen variants.
//!
//! ```
//! # use breves::select::Selection;
//! let chosen = Selection::from_indices(vec![3, 0]);
//! assert_eq!(chosen.indices(), &[0, 3]);
//! ```

use std::collections::{HashMap, HashSet};

use crate::address::Key;
use crate::diagnostics::{Problem, ProblemKind, Problems};
use crate::issue::{Issue, Section};
use crate::subscribers::{List, Member};

/// The sections one digest holds, as indices into the issue's sections, in
/// the issue's order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Selection(Vec<usize>);

impl Selection {
    /// A selection of these sections (sorted, without repeats).
    pub fn from_indices(mut indices: Vec<usize>) -> Self {
        indices.sort_unstable();
        indices.dedup();
        Selection(indices)
    }

    /// What a subscriber with these interests receives from `issue`; no
    /// interests at all means every section.
    pub fn for_interests(issue: &Issue, interests: &[String]) -> Self {
        if interests.is_empty() {
            return Selection((0..issue.sections.len()).collect());
        }
        Selection(
            issue
                .sections
                .iter()
                .enumerate()
                .filter(|(_, s)| interests.contains(&s.id))
                .map(|(i, _)| i)
                .collect(),
        )
    }

    /// The section indices, in order.
    pub fn indices(&self) -> &[usize] {
        &self.0
    }

    /// Whether no section is selected (the subscriber is skipped).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether every section of `issue` is selected.
    pub fn is_everything(&self, issue: &Issue) -> bool {
        self.0.len() == issue.sections.len()
    }

    /// The selected sections of `issue`.
    pub fn sections<'a>(&'a self, issue: &'a Issue) -> impl Iterator<Item = &'a Section> + 'a {
        self.0.iter().filter_map(|&i| issue.sections.get(i))
    }

    /// The selected section ids.
    pub fn ids(&self, issue: &Issue) -> Vec<String> {
        self.sections(issue).map(|s| s.id.clone()).collect()
    }
}

/// The subscribers who receive the same sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The sections.
    pub selection: Selection,
    /// How many members receive it.
    pub members: usize,
}

/// Who receives which digest, worked out before anything is rendered: the
/// distinct digests and how many receive each, counted as the members go
/// by (the members themselves are not kept: a list of a million is read
/// again when it is sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    /// The distinct digests, in the order their first subscriber appears.
    pub variants: Vec<Variant>,
    index: HashMap<Selection, usize>,
    /// How many members receive something.
    pub recipients: usize,
    /// Members whose interests select no section of this issue (in list
    /// order; few, usually).
    pub skipped: Vec<Member>,
}

impl Audience {
    /// Groups the members of `list` by the sections of `issue` they receive.
    pub fn of(issue: &Issue, list: &List) -> crate::Result<Audience> {
        Audience::of_members(issue, list.members())
    }

    /// The same for any members (all of a list, or some of them), as they
    /// are read.
    pub fn of_members(
        issue: &Issue,
        members: impl IntoIterator<Item = crate::Result<Member>>,
    ) -> crate::Result<Audience> {
        let mut audience = Audience::default();
        for member in members {
            audience.add(issue, member?);
        }
        Ok(audience)
    }

    /// Counts one member in; the index of the variant they receive, if any.
    pub fn add(&mut self, issue: &Issue, member: Member) -> Option<usize> {
        let selection = Selection::for_interests(issue, &member.interests);
        if selection.is_empty() {
            self.skipped.push(member);
            return None;
        }
        self.recipients += 1;
        let v = match self.index.get(&selection) {
            Some(&v) => v,
            None => {
                self.index.insert(selection.clone(), self.variants.len());
                self.variants.push(Variant {
                    selection,
                    members: 0,
                });
                self.variants.len() - 1
            }
        };
        self.variants[v].members += 1;
        Some(v)
    }

    /// The index of the variant `member` receives, if it is one of this
    /// audience's.
    pub fn variant_of(&self, issue: &Issue, member: &Member) -> Option<usize> {
        let selection = Selection::for_interests(issue, &member.interests);
        self.index.get(&selection).copied()
    }
}

/// What subscribers asked for since they subscribed, as the ledger records
/// it: to leave the list, or to stop some sections. Every send applies it
/// to the members as the list writes them ([`Preferences::apply`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    /// Addresses never to mail again.
    pub suppressed: HashSet<Key>,
    /// The sections each address no longer wants.
    pub opted_out: HashMap<Key, Vec<String>>,
    /// The sections readers chose themselves (the manage page): they
    /// replace the interests the list file gives them.
    pub chosen: HashMap<Key, Vec<String>>,
    /// The readers who joined by themselves and confirmed, with their
    /// name: every send serves them after the list file's members (their
    /// sections are in `chosen`).
    pub joined: Vec<(Key, Option<String>)>,
    /// The readers forgotten at their request: only keyed hashes of them
    /// ([`Key::keyed_hash`]) under `forget_key`, never mailed again.
    pub forgotten: HashSet<[u8; 16]>,
    /// The key of those hashes, and the list they are of.
    pub forget_key: Vec<u8>,
    /// The list's id, which the hashes are of.
    pub list: String,
}

impl Preferences {
    /// Whether `key` is a reader forgotten at their request.
    pub fn is_forgotten(&self, key: &Key) -> bool {
        !self.forgotten.is_empty()
            && self
                .forgotten
                .contains(&key.keyed_hash(&self.forget_key, &self.list))
    }

    /// The member if they are still to be mailed, with the sections they
    /// stopped taken out of their interests; `None` for a member left out:
    /// unsubscribed, or with every topic of the list stopped.
    pub fn apply(&self, list: &List, mut member: Member) -> Option<Member> {
        let key = Key::of(&member.email);
        if self.suppressed.contains(&key) || self.is_forgotten(&key) {
            return None;
        }
        if let Some(chosen) = self.chosen.get(&key) {
            member.interests = list
                .topics
                .iter()
                .filter(|t| chosen.contains(&t.id))
                .map(|t| t.id.clone())
                .collect();
            if member.interests.is_empty() {
                return None;
            }
        }
        if let Some(stopped) = self.opted_out.get(&key) {
            if member.interests.is_empty() {
                // Every section, less those stopped.
                member.interests = list.topics.iter().map(|t| t.id.clone()).collect();
            }
            member.interests.retain(|i| !stopped.contains(i));
            if member.interests.is_empty() {
                return None;
            }
        }
        Some(member)
    }
}

/// The list file's members, read as they are asked for, then the readers
/// who `joined` by themselves that the file does not name.
pub fn with_joined<'l>(
    list: &'l List,
    joined: &'l [(Key, Option<String>)],
) -> Box<dyn Iterator<Item = crate::Result<Member>> + Send + 'l> {
    if joined.is_empty() {
        return Box::new(list.members());
    }
    Box::new(WithJoined {
        file: Box::new(list.members()),
        wanted: joined.iter().map(|(k, _)| k.clone()).collect(),
        joined: joined.iter(),
        seen: HashSet::new(),
        file_done: false,
    })
}

/// The list file's members, then the readers who joined by themselves
/// that the file does not name.
struct WithJoined<'l> {
    file: Box<dyn Iterator<Item = crate::Result<Member>> + Send + 'l>,
    wanted: HashSet<Key>,
    joined: std::slice::Iter<'l, (Key, Option<String>)>,
    seen: HashSet<Key>,
    file_done: bool,
}

impl Iterator for WithJoined<'_> {
    type Item = crate::Result<Member>;

    fn next(&mut self) -> Option<crate::Result<Member>> {
        if !self.file_done {
            match self.file.next() {
                Some(Ok(member)) => {
                    let key = Key::of(&member.email);
                    if self.wanted.contains(&key) {
                        self.seen.insert(key);
                    }
                    return Some(Ok(member));
                }
                Some(Err(e)) => return Some(Err(e)),
                None => self.file_done = true,
            }
        }
        for (key, name) in self.joined.by_ref() {
            if self.seen.contains(key) {
                continue;
            }
            if let Ok(email) = crate::address::parse_address(key.as_str()) {
                return Some(Ok(Member {
                    email,
                    name: name.clone(),
                    interests: Vec::new(),
                    origin: None,
                }));
            }
        }
        None
    }
}
/// What [`export`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exported {
    /// Members written.
    pub written: usize,
    /// Members of the file left out: they left the list, were forgotten,
    /// or stopped every section.
    pub left_out: usize,
}

/// Writes the list as the next send would take it, as CSV in the members
/// file's own columns (`email,name,interests`, the interests separated by
/// `;`, none for every section): each member of the file with the
/// sections they stopped taken out, less those who left, so that an
/// editor can fold the readers' own choices back into the file. `path`
/// names `out` in errors.
pub fn export(
    list: &List,
    preferences: &Preferences,
    out: impl std::io::Write,
    path: &std::path::Path,
) -> crate::Result<Exported> {
    let write_error = |source: std::io::Error| crate::Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let csv_error = |e: csv::Error| write_error(std::io::Error::other(e));
    let mut writer = csv::Writer::from_writer(out);
    writer
        .write_record(["email", "name", "interests"])
        .map_err(csv_error)?;
    let mut exported = Exported::default();
    for member in with_joined(list, &preferences.joined) {
        let Some(member) = preferences.apply(list, member?) else {
            exported.left_out += 1;
            continue;
        };
        let email = member.email.to_string();
        writer
            .write_record([
                email.as_str(),
                member.name.as_deref().unwrap_or_default(),
                member.interests.join(";").as_str(),
            ])
            .map_err(csv_error)?;
        exported.written += 1;
    }
    writer.flush().map_err(write_error)?;
    Ok(exported)
}

/// [`export`] to `file`, made anew and readable by its owner only (it
/// holds addresses); a link planted at its name is replaced.
pub fn export_file(
    list: &List,
    preferences: &Preferences,
    file: &std::path::Path,
) -> crate::Result<Exported> {
    let created =
        crate::folder::create_fresh(file, true).map_err(|source| crate::Error::Write {
            path: file.to_path_buf(),
            source,
        })?;
    export(list, preferences, std::io::BufWriter::new(created), file)
}

/// Parses `--interests id,id,…` against an issue's sections; nothing
/// named means every section.
pub fn parse_interests(issue: &Issue, text: &str) -> crate::Result<Selection> {
    let mut indices = Vec::new();
    for id in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match issue.sections.iter().position(|s| s.id == id) {
            Some(i) => indices.push(i),
            None => {
                let ids: Vec<&str> = issue.sections.iter().map(|s| s.id.as_str()).collect();
                return Err(crate::Error::NoSuchSection {
                    id: id.to_owned(),
                    sections: ids.join(", "),
                });
            }
        }
    }
    if indices.is_empty() {
        Ok(Selection((0..issue.sections.len()).collect()))
    } else {
        Ok(Selection::from_indices(indices))
    }
}

/// What is worth knowing when an issue meets a list: sections nobody can
/// choose, and members of `audience` (the list's, already counted) who
/// will receive nothing.
pub fn check_pairing(issue: &Issue, list: &List, audience: &Audience) -> Problems {
    let mut problems = Problems::new();
    for section in &issue.sections {
        if !list.topics.iter().any(|t| t.id == section.id) {
            problems.push(
                Problem::warning(ProblemKind::SectionNotOffered(section.id.clone()))
                    .hint("add it to [list] topics, or use one of the list's topic ids"),
            );
        }
    }
    for member in &audience.skipped {
        let mut problem = Problem::warning(ProblemKind::Other(format!(
            "{} receives nothing from this issue: none of their interests ({}) is a section of it",
            member.email,
            member.interests.join(", ")
        )));
        if let Some(origin) = &member.origin {
            problem = problem.at(origin.clone());
        }
        problems.push(problem);
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::SourceFile;
    use std::sync::Arc;

    fn issue() -> Issue {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        Issue::load(&root.join("tests/fixtures/small/issue.toml"))
            .expect("the small issue")
            .0
    }

    fn list(topics: &str, members: &str) -> List {
        let text = format!(
            "[list]\nid = \"l\"\nfrom = \"L <l@example.fr>\"\ntopics = {{ {topics} }}\n{members}"
        );
        let (list, problems) = List::parse(&Arc::new(SourceFile::new("l.toml", text)));
        list.unwrap_or_else(|| panic!("{problems:?}"))
    }

    fn audience(issue: &Issue, list: &List) -> Audience {
        Audience::of(issue, list).expect("readable")
    }

    fn messages(problems: &Problems) -> Vec<String> {
        problems.sorted().iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn a_section_the_list_does_not_offer_and_a_member_served_nothing_are_told() {
        let issue = issue();
        let list = list(
            "spatial = \"S\", agenda = \"A\"",
            "[[member]]\nemail = \"a@example.org\"\ninterests = [\"agenda\"]\n[[member]]\nemail = \"b@example.org\"\ninterests = [\"spatial\"]\n",
        );
        assert_eq!(
            messages(&check_pairing(&issue, &list, &audience(&issue, &list))),
            vec![
                "warning: the section `economie-numerique` is not a topic of the list: only members with no interests will receive it (add it to [list] topics, or use one of the list's topic ids)".to_owned(),
                "l.toml:5:1: warning: a@example.org receives nothing from this issue: none of their interests (agenda) is a section of it".to_owned(),
            ]
        );
        let matching = list_of_every_section(&issue);
        assert!(check_pairing(&issue, &matching, &audience(&issue, &matching)).is_empty());
    }

    fn list_of_every_section(issue: &Issue) -> List {
        let topics: Vec<String> = issue
            .sections
            .iter()
            .map(|s| format!("{} = \"{}\"", s.id, s.id))
            .collect();
        list(
            &topics.join(", "),
            "[[member]]\nemail = \"a@example.org\"\n",
        )
    }

    #[test]
    fn preferences_take_out_the_unsubscribed_and_the_stopped_sections() {
        let issue = issue();
        let list = list_of_every_section(&issue);
        let member = |email: &str, interests: &[&str]| Member {
            interests: interests.iter().map(|s| (*s).to_owned()).collect(),
            ..Member::outsider(crate::address::parse_address(email).expect("address"))
        };
        let members = [
            member("gone@example.org", &[]),
            member("all@example.org", &[]),
            member("one@example.org", &["spatial"]),
            member("some@example.org", &["spatial", "economie-numerique"]),
        ];
        let mut prefs = Preferences::default();
        prefs.suppressed.insert(Key::from_text("GONE@example.org"));
        prefs
            .opted_out
            .insert(Key::from_text("all@example.org"), vec!["spatial".into()]);
        prefs
            .opted_out
            .insert(Key::from_text("one@example.org"), vec!["spatial".into()]);
        prefs
            .opted_out
            .insert(Key::from_text("some@example.org"), vec!["spatial".into()]);
        let kept: Vec<Member> = members
            .iter()
            .filter_map(|m| prefs.apply(&list, m.clone()))
            .collect();
        let left_out = members.len() - kept.len();
        assert_eq!(
            left_out, 2,
            "the unsubscribed, and who stopped their only section"
        );
        let kept: Vec<(String, Vec<String>)> = kept
            .iter()
            .map(|m| (m.email.to_string(), m.interests.clone()))
            .collect();
        assert_eq!(
            kept,
            vec![
                (
                    "all@example.org".to_owned(),
                    vec!["economie-numerique".to_owned()]
                ),
                (
                    "some@example.org".to_owned(),
                    vec!["economie-numerique".to_owned()]
                ),
            ],
            "every section less the stopped one, for a member who chose none"
        );
    }

    #[test]
    fn interests_name_sections_of_the_issue() {
        let issue = issue();
        assert!(
            parse_interests(&issue, "")
                .expect("all")
                .is_everything(&issue)
        );
        assert_eq!(
            parse_interests(&issue, " spatial , spatial")
                .expect("one")
                .ids(&issue),
            vec!["spatial".to_owned()]
        );
        let Err(crate::Error::NoSuchSection { id, sections }) =
            parse_interests(&issue, "spatial,espace")
        else {
            panic!("an unknown section is refused");
        };
        assert_eq!(
            (id.as_str(), sections.as_str()),
            ("espace", "economie-numerique, spatial")
        );
    }

    #[test]
    fn the_export_is_the_file_as_the_readers_left_it() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("list.toml");
        std::fs::write(
            &path,
            "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\ntopics = { spatial = \"Spatial\", cyber = \"Cyber\" }\n\
             [[member]]\nemail = \"a@example.org\"\nname = \"Anne, A.\"\n\
             [[member]]\nemail = \"b@example.org\"\ninterests = [\"spatial\"]\n\
             [[member]]\nemail = \"c@example.org\"\ninterests = [\"cyber\", \"spatial\"]\n",
        )
        .expect("list");
        let (list, _) = List::load(&path).expect("list");
        let mut prefs = Preferences::default();
        prefs.suppressed.insert(Key::from_text("b@example.org"));
        prefs
            .opted_out
            .insert(Key::from_text("a@example.org"), vec!["cyber".into()]);
        let mut out = Vec::new();
        let exported = export(&list, &prefs, &mut out, std::path::Path::new("-")).expect("export");
        assert_eq!(
            exported,
            Exported {
                written: 2,
                left_out: 1
            }
        );
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "email,name,interests\na@example.org,\"Anne, A.\",spatial\nc@example.org,,cyber;spatial\n"
        );
    }
}
