//! Who a short token names, found in constant time: an index of the list's
//! members by their keyed code, built once and built again when the list
//! file or its members file changes (their size or modification time).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use crate::address::Key;
use crate::ledger::Ledger;
use crate::subscribers::List;
use crate::unsubscribe::{MEMBER_LEN, Short, Signer, Token};

/// What a file looked like when the index was built.
type Stamp = Option<(u64, SystemTime)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// The index of one reading of the list.
struct Index {
    list: Arc<List>,
    /// Each member by code: their key and their interests in the file, as
    /// the indices of the list's topics (none for every section).
    members: HashMap<[u8; MEMBER_LEN], (Key, Box<[u16]>)>,
    stamps: Vec<(PathBuf, Stamp)>,
}

impl Index {
    fn build(path: &Path, signer: &Signer) -> crate::Result<Index> {
        let (list, _) = List::load(path)?;
        let mut members = HashMap::new();
        for member in list.members() {
            let member = member?;
            let key = Key::of(&member.email);
            let interests: Box<[u16]> = list
                .topics
                .iter()
                .enumerate()
                .filter(|(_, t)| member.interests.contains(&t.id))
                .filter_map(|(i, _)| u16::try_from(i).ok())
                .collect();
            members.insert(signer.member_code(&list.id, &key), (key, interests));
        }
        let mut stamps = vec![(path.to_owned(), stamp(path))];
        if let Some(file) = list.members_file() {
            stamps.push((file.to_owned(), stamp(file)));
        }
        Ok(Index {
            list: Arc::new(list),
            members,
            stamps,
        })
    }

    fn is_current(&self) -> bool {
        self.stamps.iter().all(|(path, was)| stamp(path) == *was)
    }
}

/// The members of a list file, by the code their short tokens carry.
pub struct Directory {
    path: PathBuf,
    signer: Signer,
    index: RwLock<Arc<Index>>,
}

impl Directory {
    /// Reads the list at `path` and indexes its members.
    pub fn open(path: &Path, signer: &Signer) -> crate::Result<Directory> {
        Ok(Directory {
            path: path.to_owned(),
            signer: signer.clone(),
            index: RwLock::new(Arc::new(Index::build(path, signer)?)),
        })
    }

    /// The list as last read.
    pub fn list(&self) -> Arc<List> {
        Arc::clone(&self.current().list)
    }

    fn current(&self) -> Arc<Index> {
        Arc::clone(&self.index.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The index, built again first if the list changed since. A list
    /// that cannot be read now is an error; the old index is kept.
    fn fresh(&self) -> crate::Result<Arc<Index>> {
        let index = self.current();
        if index.is_current() {
            return Ok(index);
        }
        let rebuilt = Arc::new(Index::build(&self.path, &self.signer)?);
        *self.index.write().unwrap_or_else(|e| e.into_inner()) = Arc::clone(&rebuilt);
        Ok(rebuilt)
    }

    /// What a genuine short token names: its member (of the list file,
    /// or a reader who joined by themselves and is in `ledger`) and
    /// section, or nothing if the list no longer has them.
    pub fn find(&self, short: &Short, ledger: &Ledger) -> crate::Result<Option<Token>> {
        let index = self.fresh()?;
        let list = &index.list;
        let section = match short.section() {
            None => None,
            Some(code) => match list
                .topics
                .iter()
                .find(|t| self.signer.section_code(&list.id, &t.id) == code)
            {
                Some(topic) => Some(topic.id.clone()),
                None => return Ok(None),
            },
        };
        let address = match index.members.get(&short.member()) {
            Some((address, _)) => Some(address.clone()),
            None => ledger.joined_by_code(&list.id, &short.code())?,
        };
        Ok(address.map(|address| Token {
            list: list.id.clone(),
            address,
            section,
        }))
    }

    /// The sections the list file gives `address` (every section when it
    /// names none), and the list's topics as (id, label), in its order;
    /// none if the list no longer has them.
    pub fn interests(&self, address: &Key) -> crate::Result<Option<Vec<String>>> {
        let index = self.fresh()?;
        let list = &index.list;
        let code = self.signer.member_code(&list.id, address);
        Ok(index.members.get(&code).map(|(_, chosen)| {
            list.topics
                .iter()
                .enumerate()
                .filter(|(i, _)| {
                    chosen.is_empty() || u16::try_from(*i).is_ok_and(|i| chosen.contains(&i))
                })
                .map(|(_, t)| t.id.clone())
                .collect()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_or_a_reader_who_joined_is_found_by_their_code_and_the_list_is_read_again_when_it_changes()
     {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("list.toml");
        let head = "[list]\nid = \"essai\"\nfrom = \"Essai <breves@example.fr>\"\ntopics = { spatial = \"Spatial\" }\n";
        std::fs::write(
            &path,
            format!("{head}[[member]]\nemail = \"a@example.org\"\n"),
        )
        .expect("list");
        let signer = Signer::new(b"a secret of at least sixteen bytes").expect("signer");
        let directory = Directory::open(&path, &signer).expect("directory");
        let ledger = Ledger::open(&dir.path().join("ledger.sqlite3")).expect("ledger");
        let token = |address: &str, section: Option<&str>| Token {
            list: "essai".into(),
            address: Key::from_text(address),
            section: section.map(str::to_owned),
        };
        let short = |t: &Token| match signer.read(&signer.sign_short(t)) {
            Ok(crate::unsubscribe::Read::Short(s)) => s,
            other => panic!("{other:?}"),
        };
        let a = token("a@example.org", Some("spatial"));
        assert_eq!(
            directory.find(&short(&a), &ledger).expect("find"),
            Some(a.clone())
        );
        assert_eq!(
            directory.interests(&a.address).expect("interests"),
            Some(vec!["spatial".to_owned()]),
            "every section, the file naming none"
        );
        let b = token("b@example.org", None);
        assert_eq!(directory.find(&short(&b), &ledger).expect("find"), None);
        // b joins (a longer file: its size changed).
        std::fs::write(
            &path,
            format!("{head}[[member]]\nemail = \"a@example.org\"\n[[member]]\nemail = \"b@example.org\"\n"),
        )
        .expect("list");
        assert_eq!(directory.find(&short(&b), &ledger).expect("find"), Some(b));
        assert_eq!(
            directory
                .find(&short(&token("a@example.org", Some("autre"))), &ledger)
                .expect("find"),
            None,
            "a section the list does not have"
        );
        // c joins by themselves: found once confirmed, by the code their
        // request was kept under.
        let c = token("c@example.org", Some("spatial"));
        let sections = ["spatial".to_owned()];
        let code = signer.request_code("essai", &c.address);
        let request = crate::ledger::subscriptions::Request {
            name: None,
            sections: &sections,
            consent: "oui",
            evidence: "le formulaire",
            code: &code,
        };
        ledger
            .request_subscription("essai", &c.address, &request)
            .expect("request");
        assert_eq!(directory.find(&short(&c), &ledger).expect("find"), None);
        ledger
            .confirm_subscription("essai", &c.address)
            .expect("confirm");
        assert_eq!(directory.find(&short(&c), &ledger).expect("find"), Some(c));
    }
}
