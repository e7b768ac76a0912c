//! `installs.json` beside the audit log: for every file peta edited, the entries it wrote and
//! what they were before (with credentials left out; those are in the keyring).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::clients::{Client, Scope};
use super::plan::Entry;
use crate::files::{self, Privacy};

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) version: u32,
    pub(crate) files: Vec<FileRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FileRecord {
    pub(crate) path: PathBuf,
    pub(crate) client: Client,
    pub(crate) scope: Scope,
    /// Where the servers are inside the file.
    pub(crate) servers_path: Vec<String>,
    pub(crate) entries: Vec<Entry>,
}

const VERSION: u32 = 1;

/// Where the record is kept, beside the audit log.
pub(crate) fn default_path() -> Option<PathBuf> {
    Some(crate::audit::db::default_path()?.with_file_name("installs.json"))
}

impl Record {
    /// The record, or an empty one when there is none yet.
    pub(crate) fn read(path: &Path) -> Result<Record, String> {
        if !path.exists() {
            return Ok(Record {
                version: VERSION,
                files: Vec::new(),
            });
        }
        let bytes = files::read_checked(path, Privacy::NotWritable).map_err(|e| e.to_string())?;
        let record: Record = serde_json::from_slice(&bytes)
            .map_err(|e| format!("{} is not a record peta wrote: {e}", path.display()))?;
        if record.version != VERSION {
            return Err(format!(
                "{} has version {}, which this peta does not know",
                path.display(),
                record.version
            ));
        }
        Ok(record)
    }

    pub(crate) fn write(&self, path: &Path) -> Result<(), String> {
        let mut text = serde_json::to_string_pretty(self).expect("the record serialises");
        text.push('\n');
        files::write_atomic(path, text.as_bytes()).map_err(|e| e.to_string())
    }

    /// Adds entries written into `file`, replacing older ones of the same name.
    pub(crate) fn add(&mut self, file: FileRecord) {
        match self
            .files
            .iter_mut()
            .find(|f| f.path == file.path && f.servers_path == file.servers_path)
        {
            Some(known) => {
                known
                    .entries
                    .retain(|e| !file.entries.iter().any(|n| n.name == e.name));
                known.entries.extend(file.entries);
            }
            None => self.files.push(file),
        }
    }

    /// Drops the named entries of a file, and the file once it has none.
    pub(crate) fn forget(&mut self, path: &Path, servers_path: &[String], names: &[String]) {
        for file in &mut self.files {
            if file.path == path && file.servers_path == servers_path {
                file.entries.retain(|e| !names.contains(&e.name));
            }
        }
        self.files.retain(|f| !f.entries.is_empty());
        self.version = VERSION;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::install::plan::Part;

    fn entry(name: &str) -> Entry {
        Entry {
            name: name.into(),
            original: vec![Part::Text("{}".into())],
            written: "{\"command\": \"peta\"}".into(),
        }
    }

    fn file(entries: Vec<Entry>) -> FileRecord {
        FileRecord {
            path: "/c.json".into(),
            client: Client::Cursor,
            scope: Scope::User,
            servers_path: vec!["mcpServers".into()],
            entries,
        }
    }

    #[test]
    fn adds_replace_by_name_and_forgetting_empties() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state").join("installs.json");
        let mut record = Record::read(&path).expect("empty");
        record.add(file(vec![entry("a"), entry("b")]));
        record.add(file(vec![entry("b")]));
        assert_eq!(record.files.len(), 1);
        assert_eq!(record.files[0].entries.len(), 2);
        record.write(&path).expect("write");
        let mut back = Record::read(&path).expect("read");
        assert_eq!(back.files[0].entries, record.files[0].entries);
        back.forget(
            Path::new("/c.json"),
            &["mcpServers".into()],
            &["a".into(), "b".into()],
        );
        assert!(back.files.is_empty());
        std::fs::write(&path, "{\"version\": 9, \"files\": []}").expect("write");
        assert!(
            Record::read(&path)
                .expect_err("unknown")
                .contains("version 9")
        );
    }
}
