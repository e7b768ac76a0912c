//! `peta audit verify|export|tail|show` (`forward` is in `forward.rs`): reading the log as a reviewer or a person at a
//! terminal. These commands only read; `peta run` is the only writer.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use crate::audit::export::{self, Filters};
use crate::audit::row::{COLUMNS, Row};
use crate::audit::{db, log, time, verify};
use crate::cli::{AuditCommand, DbArgs, ExportArgs};
use crate::config;
use crate::display::visible;
use crate::error::Error;
use crate::exit_code;

pub(crate) fn run(command: AuditCommand) -> Result<u8, Error> {
    match command {
        AuditCommand::Verify { db } => verify_cmd(&db),
        AuditCommand::Export(args) => export_cmd(args),
        AuditCommand::Tail { db, lines, follow } => tail(&db, lines, follow),
        AuditCommand::Show { db, seq } => show(&db, seq),
        AuditCommand::Forward(args) => super::forward::run(args),
    }
}

pub(crate) fn db_path(args: &DbArgs) -> Result<PathBuf, Error> {
    if let Some(path) = &args.db {
        return Ok(path.clone());
    }
    Ok(config::load(args.config.as_deref())?.audit.path)
}

fn open(args: &DbArgs) -> Result<(PathBuf, Connection), Error> {
    let path = db_path(args)?;
    let conn = db::open_read(&path)?;
    Ok((path, conn))
}

fn verify_cmd(args: &DbArgs) -> Result<u8, Error> {
    let path = db_path(args)?;
    let report = verify::verify_path(&path)?;
    let head = report.head.as_ref().map_or_else(
        || "empty".to_owned(),
        |(seq, hash)| format!("head {seq} {hash}"),
    );
    match &report.problem {
        None => {
            println!(
                "ok: {} rows, {head}, {} anchors checked ({})",
                report.rows,
                report.anchors_checked,
                path.display()
            );
            Ok(exit_code::OK)
        }
        Some(problem) => {
            println!("FAILED: {problem}");
            println!(
                "({} rows verified before it; {})",
                report.rows,
                path.display()
            );
            Ok(exit_code::CHECK_FAILED)
        }
    }
}

fn export_cmd(args: ExportArgs) -> Result<u8, Error> {
    let (path, conn) = open(&args.db)?;
    let report = verify::verify(&conn, &log::anchor_path(&path));
    let point = |t: &Option<String>| {
        t.as_deref()
            .map(time::parse_point)
            .transpose()
            .map_err(Error::Usage)
    };
    let filters = Filters {
        since: point(&args.since)?,
        until: point(&args.until)?,
        server: args.server,
        tool: args.tool,
        decision: args.decision,
        session: args.session,
    };
    let header = export::header(&report, &path.display().to_string(), &filters);
    let written = match &args.output {
        Some(file) => {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let out = options
                .open(file)
                .map_err(|e| Error::io(format!("cannot write {}", file.display()), e))?;
            let mut out = std::io::BufWriter::new(out);
            export::write(&conn, args.format, &header, &filters, &mut out)
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            export::write(&conn, args.format, &header, &filters, &mut out)
        }
    }
    .map_err(|e| Error::io("cannot write the export", e))?;
    match &report.problem {
        None => {
            eprintln!(
                "exported {written} rows; the whole chain verified ({} rows, {} anchors checked)",
                report.rows, report.anchors_checked
            );
            Ok(exit_code::OK)
        }
        Some(problem) => {
            eprintln!(
                "warning: exported {written} rows, but the log FAILED verification: {problem}"
            );
            Ok(exit_code::CHECK_FAILED)
        }
    }
}

fn rows(conn: &Connection, path: &Path, sql: &str, param: i64) -> Result<Vec<Row>, Error> {
    let db_err = |e: rusqlite::Error| {
        Error::Audit(crate::audit::AuditError::Db {
            path: path.to_owned(),
            source: e,
        })
    };
    let mut stmt = conn.prepare(sql).map_err(db_err)?;
    let rows = stmt.query_map([param], Row::from_sql).map_err(db_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
}

fn tail(args: &DbArgs, lines: u32, follow: bool) -> Result<u8, Error> {
    let (path, conn) = open(args)?;
    let mut last = rows(
        &conn,
        &path,
        &format!(
            "SELECT {COLUMNS} FROM (SELECT {COLUMNS} FROM events ORDER BY seq DESC LIMIT ?1) ORDER BY seq"
        ),
        i64::from(lines),
    )?;
    let widths = Widths::fit(&last);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let print = |out: &mut dyn Write, rows: &[Row]| -> std::io::Result<()> {
        for row in rows {
            writeln!(out, "{}", widths.line(row))?;
        }
        out.flush()
    };
    let _ = writeln!(out, "{}", widths.header());
    if print(&mut out, &last).is_err() {
        return Ok(exit_code::OK);
    }
    let mut seq = last.pop().map_or(0, |r| r.seq);
    if !follow {
        return Ok(exit_code::OK);
    }
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let new = rows(
            &conn,
            &path,
            &format!("SELECT {COLUMNS} FROM events WHERE seq > ?1 ORDER BY seq LIMIT 1000"),
            seq,
        )?;
        if let Some(row) = new.last() {
            seq = row.seq;
        }
        if print(&mut out, &new).is_err() {
            break;
        }
    }
    Ok(exit_code::OK)
}

fn show(args: &DbArgs, seq: i64) -> Result<u8, Error> {
    let (path, conn) = open(args)?;
    let Some(row) = rows(
        &conn,
        &path,
        &format!("SELECT {COLUMNS} FROM events WHERE seq = ?1"),
        seq,
    )?
    .pop() else {
        return Err(Error::Usage(format!("there is no audit row {seq}")));
    };
    let value = serde_json::to_value(&row).expect("rows serialize");
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for field in crate::audit::row::FIELDS
        .iter()
        .chain(&["prev_hash", "hash"])
    {
        let text = match &value[*field] {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => visible(s),
            other => other.to_string(),
        };
        let _ = writeln!(out, "{field:>12}  {text}");
    }
    Ok(exit_code::OK)
}

/// Column widths for `tail`.
struct Widths {
    seq: usize,
    server: usize,
    method: usize,
    tool: usize,
}

impl Widths {
    fn fit(rows: &[Row]) -> Widths {
        let w = |f: &dyn Fn(&Row) -> usize, min: usize| {
            rows.iter().map(f).max().unwrap_or(0).clamp(min, 32)
        };
        Widths {
            seq: w(&|r| r.seq.to_string().len(), 3),
            server: w(&|r| r.server.as_deref().map_or(1, |s| s.chars().count()), 6),
            method: w(&|r| r.method.as_deref().map_or(1, |s| s.chars().count()), 6),
            tool: w(&|r| r.tool.as_deref().map_or(1, |s| s.chars().count()), 4),
        }
    }

    fn header(&self) -> String {
        format!(
            "{:>sw$}  {:<23}  {:<svw$}  {:<3}  {:<13}  {:<mw$}  {:<tw$}  {:<8}  NOTE",
            "SEQ",
            "TIME (UTC)",
            "SERVER",
            "DIR",
            "KIND",
            "METHOD",
            "TOOL",
            "DECISION",
            sw = self.seq,
            svw = self.server,
            mw = self.method,
            tw = self.tool
        )
    }

    fn line(&self, r: &Row) -> String {
        let dir = match r.direction.as_str() {
            "c2s" => "→",
            "s2c" => "←",
            _ => "·",
        };
        let fit = |s: Option<&str>, w: usize| {
            let s = visible(s.unwrap_or("-"));
            if s.chars().count() > w {
                format!("{}…", s.chars().take(w - 1).collect::<String>())
            } else {
                s
            }
        };
        let note = r
            .error
            .as_deref()
            .map(visible)
            .or_else(|| {
                r.latency_us
                    .map(|us| format!("{:.1} ms", us as f64 / 1000.0))
            })
            .unwrap_or_default();
        format!(
            "{:>sw$}  {:<23}  {:<svw$}  {:<3}  {:<13}  {:<mw$}  {:<tw$}  {:<8}  {note}",
            r.seq,
            r.ts.replace('T', " ")
                .trim_end_matches('Z')
                .get(..23)
                .unwrap_or(&r.ts),
            fit(r.server.as_deref(), self.server),
            dir,
            r.kind,
            fit(r.method.as_deref(), self.method),
            fit(r.tool.as_deref(), self.tool),
            r.decision.as_deref().unwrap_or("-"),
            sw = self.seq,
            svw = self.server,
            mw = self.method,
            tw = self.tool
        )
    }
}
