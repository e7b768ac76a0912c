//! Pins in the audit database: the trusted definition of each (server, tool), the change a
//! server made to it and nobody approved yet, and the server's instructions.
//!
//! Pins are kept in their own tables (schema step 2, `audit::db`), not in the hash-chained
//! `events`: a pin is state that changes, the chain records the events that changed it.
//! Each write is one `BEGIN IMMEDIATE` transaction, so peta processes sharing the file
//! never both pin the same tool differently.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::definition::{ToolDef, instructions_hash};
use super::hygiene::{Flag, hygiene, skeleton};
use crate::audit::{AuditError, Sync, db, time};

/// What peta knows of a listed tool's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State {
    /// The definition is the pinned one.
    Pinned,
    /// First sight: pinned now (trust on first use).
    New,
    /// Different from the pin, which stays until a person approves the change.
    Changed { pinned: String },
    /// The list this tool came in was refused as a whole (look-alike names).
    Blocked { reason: String },
}

/// One pinned tool, and its waiting change if any.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PinRow {
    pub(crate) server: String,
    pub(crate) tool: String,
    pub(crate) hash: String,
    pub(crate) definition: Value,
    pub(crate) first_seen: String,
    /// When a person approved this definition; `None` while it is trusted on first use only.
    pub(crate) approved_at: Option<String>,
    pub(crate) pending: Option<Pending>,
}

/// A definition a server listed that differs from the pin.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pending {
    pub(crate) hash: String,
    pub(crate) definition: Value,
    pub(crate) seen_at: String,
}

/// What is pinned of a server as a whole.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ServerRow {
    pub(crate) server: String,
    /// `None` until the server's instructions were seen.
    pub(crate) instructions_hash: Option<String>,
    pub(crate) instructions: Option<String>,
    pub(crate) approved_at: Option<String>,
    /// Different instructions waiting for approval: their hash and text.
    pub(crate) pending: Option<(String, Option<String>)>,
    /// Why the server's last tool list was refused, if it was.
    pub(crate) blocked: Option<String>,
}

/// The pin tables of one audit database.
pub(crate) struct Pins {
    conn: Connection,
    path: PathBuf,
}

impl Pins {
    /// Opens (creating and migrating if needed) the database with the default durability.
    pub(crate) fn open(db: &Path) -> Result<Pins, AuditError> {
        Self::open_with(db, Sync::default())
    }

    /// Opens the database with the audit log's durability setting (`audit.sync`).
    pub(crate) fn open_with(db: &Path, sync: Sync) -> Result<Pins, AuditError> {
        Ok(Pins {
            conn: db::open(db, sync)?,
            path: db.to_owned(),
        })
    }

    /// Opens an existing database for reading; `None` when it has no pin tables yet (written
    /// by an older peta, or never by `peta run`).
    pub(crate) fn open_read(db: &Path) -> Result<Option<Pins>, AuditError> {
        let conn = db::open_read(db)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| AuditError::db(db, e))?;
        Ok((version >= db::PINS_VERSION).then(|| Pins {
            conn,
            path: db.to_owned(),
        }))
    }

    fn err(&self, e: rusqlite::Error) -> AuditError {
        AuditError::db(&self.path, e)
    }

    /// Runs `f` in one write transaction.
    fn write<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, AuditError> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        match f(&self.conn) {
            Ok(value) => {
                self.conn.execute_batch("COMMIT").map_err(|e| self.err(e))?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(self.err(e))
            }
        }
    }

    /// Checks a server's tool list against its pins. A tool seen for the first time is
    /// pinned (`New`), one with the pinned hash is `Pinned`, one with another hash is
    /// `Changed` and its definition is kept for review. A list that `hygiene` blocks makes
    /// every tool `Blocked` and pins nothing.
    pub(crate) fn observe(
        &self,
        server: &str,
        defs: &[ToolDef],
    ) -> Result<Vec<(String, State)>, AuditError> {
        let now = time::now();
        let (_, blocked) = hygiene(defs);
        self.write(|conn| {
            conn.execute(
                "INSERT INTO pin_servers (server, first_seen, blocked) VALUES (?1, ?2, ?3)
                 ON CONFLICT (server) DO UPDATE SET blocked = excluded.blocked",
                params![server, now, blocked],
            )?;
            if let Some(reason) = blocked {
                return Ok(defs
                    .iter()
                    .map(|d| {
                        let reason = reason.clone();
                        (d.name.clone(), State::Blocked { reason })
                    })
                    .collect());
            }
            let mut states = Vec::with_capacity(defs.len());
            for def in defs {
                let pinned = pinned_hash(conn, server, &def.name)?;
                let waiting: bool = conn
                    .query_row(
                        "SELECT 1 FROM pin_changes WHERE server = ?1 AND tool = ?2",
                        params![server, def.name],
                        |_| Ok(true),
                    )
                    .optional()?
                    .unwrap_or(false);
                let state = match pinned {
                    // Held back when it first appeared (strict pinning): it waits for a person.
                    None if waiting => {
                        conn.execute(
                            "UPDATE pin_changes SET hash = ?3, definition = ?4
                             WHERE server = ?1 AND tool = ?2",
                            params![server, def.name, def.hash, def.definition.to_string()],
                        )?;
                        State::Changed {
                            pinned: String::new(),
                        }
                    }
                    None => {
                        conn.execute(
                            "INSERT INTO pins (server, tool, hash, definition, first_seen)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                            params![server, def.name, def.hash, def.definition.to_string(), now],
                        )?;
                        State::New
                    }
                    Some(pinned) if pinned == def.hash => {
                        // Back to the pinned definition: a change seen before is moot.
                        conn.execute(
                            "DELETE FROM pin_changes WHERE server = ?1 AND tool = ?2",
                            params![server, def.name],
                        )?;
                        State::Pinned
                    }
                    Some(pinned) => {
                        conn.execute(
                            "INSERT INTO pin_changes (server, tool, hash, definition, seen_at)
                             VALUES (?1, ?2, ?3, ?4, ?5)
                             ON CONFLICT (server, tool) DO UPDATE SET hash = excluded.hash,
                               definition = excluded.definition, seen_at = excluded.seen_at
                             WHERE hash != excluded.hash",
                            params![server, def.name, def.hash, def.definition.to_string(), now],
                        )?;
                        State::Changed { pinned }
                    }
                };
                states.push((def.name.clone(), state));
            }
            Ok(states)
        })
    }

    /// Un-pins a tool that was just pinned on first sight and keeps it waiting for a person
    /// instead (a server pinned strictly that added a tool mid-session): until `approve`,
    /// every list reports it `Changed` with an empty pinned hash.
    pub(crate) fn hold_new(&self, server: &str, tool: &str) -> Result<(), AuditError> {
        self.write(|conn| {
            conn.execute(
                "INSERT INTO pin_changes (server, tool, hash, definition, seen_at)
                 SELECT server, tool, hash, definition, first_seen FROM pins
                 WHERE server = ?1 AND tool = ?2
                 ON CONFLICT (server, tool) DO UPDATE SET hash = excluded.hash,
                   definition = excluded.definition, seen_at = excluded.seen_at",
                params![server, tool],
            )?;
            conn.execute(
                "DELETE FROM pins WHERE server = ?1 AND tool = ?2",
                params![server, tool],
            )?;
            Ok(())
        })
    }

    /// Checks a server's `instructions` (from `initialize`) the same way as a tool.
    pub(crate) fn observe_instructions(
        &self,
        server: &str,
        instructions: Option<&str>,
    ) -> Result<State, AuditError> {
        let now = time::now();
        let hash = instructions_hash(instructions);
        self.write(|conn| {
            let pinned: Option<Option<String>> = conn
                .query_row(
                    "SELECT instructions_hash FROM pin_servers WHERE server = ?1",
                    [server],
                    |r| r.get(0),
                )
                .optional()?;
            match pinned.flatten() {
                None => {
                    conn.execute(
                        "INSERT INTO pin_servers (server, instructions_hash, instructions, first_seen)
                         VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (server) DO UPDATE SET
                           instructions_hash = excluded.instructions_hash,
                           instructions = excluded.instructions",
                        params![server, hash, instructions, now],
                    )?;
                    Ok(State::New)
                }
                Some(pinned) if pinned == hash => {
                    conn.execute(
                        "UPDATE pin_servers SET pending_hash = NULL, pending_instructions = NULL,
                           seen_at = NULL WHERE server = ?1",
                        [server],
                    )?;
                    Ok(State::Pinned)
                }
                Some(pinned) => {
                    conn.execute(
                        "UPDATE pin_servers SET pending_hash = ?2, pending_instructions = ?3,
                           seen_at = ?4 WHERE server = ?1",
                        params![server, hash, instructions, now],
                    )?;
                    Ok(State::Changed { pinned })
                }
            }
        })
    }

    /// The state of one tool definition, without recording anything.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "the unit tests read pins through it")
    )]
    pub(crate) fn state(&self, server: &str, tool: &str, hash: &str) -> Result<State, AuditError> {
        Ok(
            match pinned_hash(&self.conn, server, tool).map_err(|e| self.err(e))? {
                None => State::New,
                Some(pinned) if pinned == hash => State::Pinned,
                Some(pinned) => State::Changed { pinned },
            },
        )
    }

    /// A person approves a server's tool (or, with `None`, every tool and its
    /// instructions): a waiting change becomes the pin, and a definition trusted on first
    /// use becomes approved. Returns how many definitions were approved.
    pub(crate) fn approve(&self, server: &str, tool: Option<&str>) -> Result<usize, AuditError> {
        let now = time::now();
        self.write(|conn| {
            let changes = conn.execute(
                "INSERT INTO pins (server, tool, hash, definition, first_seen, approved_at)
                 SELECT server, tool, hash, definition, seen_at, ?3 FROM pin_changes
                 WHERE server = ?1 AND (?2 IS NULL OR tool = ?2)
                 ON CONFLICT (server, tool) DO UPDATE SET hash = excluded.hash,
                   definition = excluded.definition, approved_at = excluded.approved_at",
                params![server, tool, now],
            )?;
            conn.execute(
                "DELETE FROM pin_changes WHERE server = ?1 AND (?2 IS NULL OR tool = ?2)",
                params![server, tool],
            )?;
            let first_use = conn.execute(
                "UPDATE pins SET approved_at = ?3
                 WHERE server = ?1 AND (?2 IS NULL OR tool = ?2) AND approved_at IS NULL",
                params![server, tool, now],
            )?;
            let mut instructions = 0;
            if tool.is_none() {
                instructions += conn.execute(
                    "UPDATE pin_servers SET instructions_hash = pending_hash,
                       instructions = pending_instructions, approved_at = ?2,
                       pending_hash = NULL, pending_instructions = NULL, seen_at = NULL
                     WHERE server = ?1 AND pending_hash IS NOT NULL",
                    params![server, now],
                )?;
                instructions += conn.execute(
                    "UPDATE pin_servers SET approved_at = ?2 WHERE server = ?1
                       AND instructions_hash IS NOT NULL AND approved_at IS NULL",
                    params![server, now],
                )?;
            }
            Ok(changes + first_use + instructions)
        })
    }

    /// Forgets every pin of a server: its next list is trusted on first use again. Returns
    /// how many tool pins were removed.
    pub(crate) fn reset(&self, server: &str) -> Result<usize, AuditError> {
        self.write(|conn| {
            let pins = conn.execute("DELETE FROM pins WHERE server = ?1", [server])?;
            conn.execute("DELETE FROM pin_changes WHERE server = ?1", [server])?;
            let servers = conn.execute("DELETE FROM pin_servers WHERE server = ?1", [server])?;
            Ok(pins.max(servers))
        })
    }

    /// Every pinned tool (of one server, or of all), by server and tool name.
    pub(crate) fn list(&self, server: Option<&str>) -> Result<Vec<PinRow>, AuditError> {
        let run = || -> rusqlite::Result<Vec<PinRow>> {
            let mut stmt = self.conn.prepare(
                "SELECT p.server, p.tool, p.hash, p.definition, p.first_seen, p.approved_at,
                        c.hash, c.definition, c.seen_at
                 FROM pins p LEFT JOIN pin_changes c ON c.server = p.server AND c.tool = p.tool
                 WHERE ?1 IS NULL OR p.server = ?1
                 UNION ALL
                 SELECT c.server, c.tool, '', 'null', c.seen_at, NULL, c.hash, c.definition,
                        c.seen_at
                 FROM pin_changes c
                 WHERE (?1 IS NULL OR c.server = ?1) AND NOT EXISTS
                   (SELECT 1 FROM pins p WHERE p.server = c.server AND p.tool = c.tool)
                 ORDER BY 1, 2",
            )?;
            stmt.query_map([server], |r| {
                let pending = match r.get::<_, Option<String>>(6)? {
                    Some(hash) => Some(Pending {
                        hash,
                        definition: json_column(r, 7)?,
                        seen_at: r.get(8)?,
                    }),
                    None => None,
                };
                Ok(PinRow {
                    server: r.get(0)?,
                    tool: r.get(1)?,
                    hash: r.get(2)?,
                    definition: json_column(r, 3)?,
                    first_seen: r.get(4)?,
                    approved_at: r.get(5)?,
                    pending,
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// What is pinned of each server as a whole (instructions, a blocked list).
    pub(crate) fn servers(&self, server: Option<&str>) -> Result<Vec<ServerRow>, AuditError> {
        let run = || -> rusqlite::Result<Vec<ServerRow>> {
            let mut stmt = self.conn.prepare(
                "SELECT server, instructions_hash, instructions, approved_at, pending_hash,
                        pending_instructions, blocked
                 FROM pin_servers WHERE ?1 IS NULL OR server = ?1 ORDER BY server",
            )?;
            stmt.query_map([server], |r| {
                Ok(ServerRow {
                    server: r.get(0)?,
                    instructions_hash: r.get(1)?,
                    instructions: r.get(2)?,
                    approved_at: r.get(3)?,
                    pending: r.get::<_, Option<String>>(4)?.map(|h| (h, None)),
                    blocked: r.get(6)?,
                })
                .and_then(|mut row| {
                    if let Some((_, text)) = &mut row.pending {
                        *text = r.get(5)?;
                    }
                    Ok(row)
                })
            })?
            .collect()
        };
        run().map_err(|e| self.err(e))
    }

    /// The pinned and the waiting definition of a tool, when a change waits.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "the unit tests read pins through it")
    )]
    pub(crate) fn diff(
        &self,
        server: &str,
        tool: &str,
    ) -> Result<Option<(Value, Value)>, AuditError> {
        let run = || {
            self.conn
                .query_row(
                    "SELECT COALESCE(p.definition, 'null'), c.definition FROM pin_changes c
                     LEFT JOIN pins p ON p.server = c.server AND p.tool = c.tool
                     WHERE c.server = ?1 AND c.tool = ?2",
                    [server, tool],
                    |r| Ok((json_column(r, 0)?, json_column(r, 1)?)),
                )
                .optional()
        };
        run().map_err(|e| self.err(e))
    }

    /// Tools of other servers whose names are, or look like, names in `defs` (threat row
    /// G4: a second server shadowing `send_email`). Flags, not a block: servers do share
    /// plain names like `search`.
    pub(crate) fn shadowing(
        &self,
        server: &str,
        defs: &[ToolDef],
    ) -> Result<Vec<Flag>, AuditError> {
        let others: Vec<(String, String)> = (|| {
            let mut stmt = self.conn.prepare(
                "SELECT server, tool FROM pins WHERE server != ?1 ORDER BY server, tool",
            )?;
            stmt.query_map([server], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()
        })()
        .map_err(|e| self.err(e))?;
        let mut flags = Vec::new();
        for def in defs {
            let mine = skeleton(&def.name);
            for (other, tool) in &others {
                if skeleton(tool) != mine {
                    continue;
                }
                let what = if *tool == def.name {
                    format!("server {other:?} has a tool of the same name")
                } else {
                    format!("looks like {tool:?} of server {other:?}")
                };
                flags.push(Flag {
                    tool: def.name.clone(),
                    what,
                });
            }
        }
        Ok(flags)
    }

    /// Whether a tool has a pin, a change waiting, or neither (for the command line).
    pub(crate) fn known(&self, server: &str, tool: &str) -> Result<bool, AuditError> {
        pinned_hash(&self.conn, server, tool)
            .map(|h| h.is_some())
            .map_err(|e| self.err(e))
    }
}

fn pinned_hash(conn: &Connection, server: &str, tool: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT hash FROM pins WHERE server = ?1 AND tool = ?2",
        [server, tool],
        |r| r.get(0),
    )
    .optional()
}

fn json_column(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Value> {
    let text: String = r.get(i)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    // Through the module's re-exports, the paths the relay uses.
    use crate::pins::{Flag, State, definitions, instructions_hash};

    fn temp() -> (tempfile::TempDir, Pins) {
        let dir = tempfile::tempdir().expect("tempdir");
        let pins = Pins::open(&dir.path().join("audit.db")).expect("open");
        (dir, pins)
    }

    fn echo(description: &str) -> ToolDef {
        definitions(&[json!({"name": "echo", "description": description})]).remove(0)
    }

    fn add() -> ToolDef {
        definitions(&[json!({"name": "add", "inputSchema": {"type": "object"}})]).remove(0)
    }

    #[test]
    fn new_then_pinned_then_changed_then_approved() {
        let (_dir, pins) = temp();
        let (v1, v2) = (echo("Send the text back."), echo("Send it. <IMPORTANT>"));
        assert_eq!(
            pins.observe("demo", &[v1.clone(), add()]).expect("observe"),
            [("echo".into(), State::New), ("add".into(), State::New)]
        );
        assert_eq!(
            pins.observe("demo", &[v1.clone(), add()]).expect("observe"),
            [
                ("echo".into(), State::Pinned),
                ("add".into(), State::Pinned)
            ]
        );
        let changed = State::Changed {
            pinned: v1.hash.clone(),
        };
        for _ in 0..2 {
            assert_eq!(
                pins.observe("demo", std::slice::from_ref(&v2))
                    .expect("observe"),
                [("echo".into(), changed.clone())]
            );
        }
        // The old pin stays until a person approves.
        assert_eq!(
            pins.state("demo", "echo", &v1.hash).expect("state"),
            State::Pinned
        );
        assert_eq!(
            pins.state("demo", "echo", &v2.hash).expect("state"),
            changed
        );
        assert_eq!(
            pins.diff("demo", "echo").expect("diff"),
            Some((v1.definition.clone(), v2.definition.clone()))
        );
        assert_eq!(pins.diff("demo", "add").expect("diff"), None);
        let rows = pins.list(Some("demo")).expect("list");
        assert_eq!(rows.len(), 2);
        let echo_row = rows.iter().find(|r| r.tool == "echo").expect("echo row");
        assert_eq!(echo_row.hash, v1.hash);
        assert_eq!(
            echo_row.pending.as_ref().map(|p| p.hash.as_str()),
            Some(v2.hash.as_str())
        );
        assert_eq!(echo_row.approved_at, None);

        assert_eq!(pins.approve("demo", Some("echo")).expect("approve"), 1);
        assert_eq!(pins.diff("demo", "echo").expect("diff"), None);
        assert_eq!(
            pins.state("demo", "echo", &v2.hash).expect("state"),
            State::Pinned
        );
        assert_eq!(
            pins.observe("demo", std::slice::from_ref(&v2))
                .expect("observe"),
            [("echo".into(), State::Pinned)]
        );
        let rows = pins.list(Some("demo")).expect("list");
        let echo_row = rows.iter().find(|r| r.tool == "echo").expect("echo row");
        assert!(echo_row.approved_at.is_some());
        assert_eq!(echo_row.pending, None);
        // `add`, trusted on first use, is approved by --all; nothing is left after that.
        assert_eq!(pins.approve("demo", None).expect("approve"), 1);
        assert_eq!(pins.approve("demo", None).expect("approve"), 0);
    }

    #[test]
    fn serving_the_pinned_definition_again_drops_the_waiting_change() {
        let (_dir, pins) = temp();
        let (v1, v2) = (echo("a"), echo("b"));
        pins.observe("s", std::slice::from_ref(&v1))
            .expect("observe");
        pins.observe("s", std::slice::from_ref(&v2))
            .expect("observe");
        assert!(pins.diff("s", "echo").expect("diff").is_some());
        pins.observe("s", std::slice::from_ref(&v1))
            .expect("observe");
        assert_eq!(pins.diff("s", "echo").expect("diff"), None);
    }

    #[test]
    fn servers_are_kept_apart_and_reset_forgets_one() {
        let (_dir, pins) = temp();
        pins.observe("a", &[echo("x")]).expect("observe");
        pins.observe("b", &[echo("y")]).expect("observe");
        assert_eq!(
            pins.observe("a", &[echo("x")]).expect("observe")[0].1,
            State::Pinned
        );
        pins.observe("a", &[echo("z")]).expect("observe");
        assert_eq!(pins.reset("a").expect("reset"), 1);
        assert_eq!(pins.reset("a").expect("reset"), 0);
        assert!(pins.list(Some("a")).expect("list").is_empty());
        assert_eq!(pins.list(None).expect("list").len(), 1);
        assert_eq!(
            pins.observe("a", &[echo("z")]).expect("observe")[0].1,
            State::New
        );
        assert_eq!(
            pins.state("b", "echo", &echo("y").hash).expect("state"),
            State::Pinned
        );
    }

    #[test]
    fn a_blocked_list_pins_nothing() {
        let (_dir, pins) = temp();
        let tools = definitions(&[json!({"name": "send_email"}), json!({"name": "Send_Email"})]);
        let states = pins.observe("s", &tools).expect("observe");
        assert!(
            states
                .iter()
                .all(|(_, s)| matches!(s, State::Blocked { reason } if reason.contains("differ only by case")))
        );
        assert!(pins.list(None).expect("list").is_empty());
        let servers = pins.servers(Some("s")).expect("servers");
        assert!(servers[0].blocked.is_some());
        // A clean list later clears the block.
        pins.observe("s", &tools[..1]).expect("observe");
        assert_eq!(pins.servers(Some("s")).expect("servers")[0].blocked, None);
    }

    #[test]
    fn instructions_are_pinned_and_approved_with_all() {
        let (_dir, pins) = temp();
        assert_eq!(
            pins.observe_instructions("s", Some("hi")).expect("obs"),
            State::New
        );
        assert_eq!(
            pins.observe_instructions("s", Some("hi")).expect("obs"),
            State::Pinned
        );
        assert_eq!(
            pins.observe_instructions("s", None).expect("obs"),
            State::Changed {
                pinned: instructions_hash(Some("hi"))
            }
        );
        let row = &pins.servers(Some("s")).expect("servers")[0];
        assert_eq!(row.pending, Some((instructions_hash(None), None)));
        assert_eq!(pins.approve("s", Some("echo")).expect("approve"), 0);
        assert_eq!(pins.approve("s", None).expect("approve"), 1);
        assert_eq!(
            pins.observe_instructions("s", None).expect("obs"),
            State::Pinned
        );
    }

    #[test]
    fn shadowing_names_tools_of_other_servers() {
        let (_dir, pins) = temp();
        let mail = |name: &str| definitions(&[json!({"name": name})]);
        pins.observe("gmail", &mail("send_email")).expect("observe");
        let flags: Vec<Flag> = pins
            .shadowing("evil", &mail("send_emaіl"))
            .expect("shadowing");
        assert_eq!(flags.len(), 1);
        assert!(
            flags[0]
                .what
                .contains("looks like \"send_email\" of server \"gmail\"")
        );
        assert_eq!(
            pins.shadowing("gmail", &mail("send_email")).expect("own"),
            []
        );
        assert_eq!(pins.shadowing("x", &mail("fetch")).expect("other"), []);
    }

    #[test]
    fn pins_live_beside_the_chain_which_still_verifies() {
        use crate::audit::{AuditLog, Event, Settings};
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.db");
        // A database from before pinning: schema step 1 only.
        {
            let conn = Connection::open(&path).expect("open");
            conn.execute_batch("PRAGMA journal_mode=WAL").expect("wal");
            conn.execute_batch(db::MIGRATIONS[0]).expect("v1");
            conn.pragma_update(None, "user_version", 1)
                .expect("version");
        }
        assert!(Pins::open_read(&path).expect("read").is_none());
        let settings = Settings {
            enabled: true,
            path: path.clone(),
            sync: Sync::Normal,
            retain: None,
            forward: None,
        };
        let log_some = |session: &str| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let log = AuditLog::open(&settings, session, Some("s"), Default::default());
                for kind in ["request", "response"] {
                    log.commit(Event {
                        ts: time::now(),
                        direction: "c2s",
                        kind,
                        ..Event::default()
                    })
                    .expect("commit");
                }
                log.close();
            });
        };
        log_some("one");
        let pins = Pins::open(&path).expect("open");
        pins.observe("s", &[echo("x")]).expect("observe");
        pins.observe("s", &[echo("y")]).expect("observe");
        log_some("two");
        pins.approve("s", None).expect("approve");
        drop(pins);
        let read = Pins::open_read(&path).expect("read").expect("has pins");
        assert_eq!(read.list(None).expect("list").len(), 1);
        let report = crate::audit::verify::verify_path(&path).expect("verify");
        assert!(report.problem.is_none(), "{:?}", report.problem);
        assert_eq!(report.rows, 4);
    }
}
