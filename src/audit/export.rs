//! `peta audit export`: the log for a reviewer, streamed row by row in constant memory.
//!
//! Every format starts with one `export` record stating whether the whole chain verified,
//! its head, and the filters applied; then one `event` record per row, carrying every
//! chained field plus `prev_hash` and `hash`, so a reviewer can re-verify the rows (the
//! canonical form is documented in `row.rs` and the README). Record schema, version 1:
//!
//! - `export`: `record`, `format_version`, `generated_at`, `database`, `verified`,
//!   `problem`, `rows_in_log`, `chain_head_seq`, `chain_head_hash`, `anchors_checked`,
//!   `filters` (an object; in CSV, this record's fields are a JSON object in `detail`).
//! - `event`: `record`, then the fields of [`FIELDS`] in order, then `prev_hash`, `hash`.

use std::io::{self, Write};

use rusqlite::Connection;
use serde_json::{Value, json};

use super::row::{COLUMNS, FIELDS, Row};
use super::verify::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
    Json,
}

/// Which rows to export.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub(crate) struct Filters {
    pub(crate) since: Option<String>,
    pub(crate) until: Option<String>,
    pub(crate) server: Option<String>,
    pub(crate) tool: Option<String>,
    pub(crate) decision: Option<String>,
    pub(crate) session: Option<String>,
}

impl Filters {
    /// The WHERE clause and its parameters.
    fn sql(&self) -> (String, Vec<String>) {
        let mut clauses = Vec::new();
        let mut params = Vec::new();
        let mut add = |clause: &str, value: &Option<String>| {
            if let Some(v) = value {
                params.push(v.clone());
                clauses.push(format!("{clause} ?{}", params.len()));
            }
        };
        add("ts >=", &self.since);
        add("ts <", &self.until);
        add("server =", &self.server);
        add("tool =", &self.tool);
        add("decision =", &self.decision);
        add("session =", &self.session);
        let sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        (sql, params)
    }
}

/// The `export` record's fields, in order.
pub(crate) fn header(
    report: &Report,
    database: &str,
    filters: &Filters,
) -> Vec<(&'static str, Value)> {
    vec![
        ("record", json!("export")),
        ("format_version", json!(1)),
        ("generated_at", json!(super::time::now())),
        ("database", json!(database)),
        ("verified", json!(report.ok())),
        (
            "problem",
            json!(report.problem.as_ref().map(ToString::to_string)),
        ),
        ("rows_in_log", json!(report.rows)),
        ("chain_head_seq", json!(report.head.as_ref().map(|h| h.0))),
        (
            "chain_head_hash",
            json!(report.head.as_ref().map(|h| h.1.clone())),
        ),
        ("anchors_checked", json!(report.anchors_checked)),
        (
            "filters",
            serde_json::to_value(filters).expect("filters serialize"),
        ),
    ]
}

/// Calls `f(name, value)` for each field of an `event` record, in order, without building
/// a JSON tree per row.
fn event_fields(
    row: &Row,
    f: &mut dyn FnMut(&str, &dyn erased::Field) -> io::Result<()>,
) -> io::Result<()> {
    f("record", &"event")?;
    f("seq", &row.seq)?;
    f("ts", &row.ts)?;
    f("session", &row.session)?;
    f("server", &row.server)?;
    f("direction", &row.direction)?;
    f("kind", &row.kind)?;
    f("method", &row.method)?;
    f("rpc_id", &row.rpc_id)?;
    f("tool", &row.tool)?;
    f("args", &row.args)?;
    f("args_sha256", &row.args_sha256)?;
    f("bytes_sha256", &row.bytes_sha256)?;
    f("decision", &row.decision)?;
    f("rule", &row.rule)?;
    f("channel", &row.channel)?;
    f("grant_scope", &row.grant_scope)?;
    f("latency_us", &row.latency_us)?;
    f("size", &row.size)?;
    f("is_error", &row.is_error)?;
    f("error", &row.error)?;
    f("detail", &row.detail)?;
    f("prev_hash", &row.prev_hash)?;
    f("hash", &row.hash)
}

/// A field value that can be written as JSON or as a CSV cell.
mod erased {
    pub(super) trait Field {
        fn json(&self, out: &mut Vec<u8>);
        /// The CSV cell: `None` for null.
        fn cell(&self) -> Option<String>;
    }

    macro_rules! field {
        ($($t:ty),*) => {$(
            impl Field for $t {
                fn json(&self, out: &mut Vec<u8>) {
                    serde_json::to_writer(out, self).expect("plain values serialize");
                }
                fn cell(&self) -> Option<String> {
                    Some(self.to_string())
                }
            }
            impl Field for Option<$t> {
                fn json(&self, out: &mut Vec<u8>) {
                    serde_json::to_writer(out, self).expect("plain values serialize");
                }
                fn cell(&self) -> Option<String> {
                    self.as_ref().map(ToString::to_string)
                }
            }
        )*};
    }
    field!(&str, String, i64, bool);
}

/// A JSON object with its keys in the given order.
fn object(fields: &[(&str, Value)]) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&Value::from(*k).to_string());
        s.push(':');
        s.push_str(&v.to_string());
    }
    s.push('}');
    s
}

/// Writes the export; returns the number of event records.
pub(crate) fn write(
    conn: &Connection,
    format: Format,
    header: &[(&str, Value)],
    filters: &Filters,
    out: &mut dyn Write,
) -> io::Result<u64> {
    let (clause, params) = filters.sql();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM events {clause} ORDER BY seq"
        ))
        .map_err(io::Error::other)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(io::Error::other)?;
    let mut count = 0;
    match format {
        Format::Jsonl => writeln!(out, "{}", object(header))?,
        Format::Json => write!(out, "{{\"export\":{},\"events\":[", object(header))?,
        Format::Csv => {
            let columns: Vec<&str> = std::iter::once("record")
                .chain(FIELDS.iter().copied())
                .chain(["prev_hash", "hash"])
                .collect();
            csv_line(out, columns.iter().map(|c| Some(c.to_string())))?;
            let info = object(&header[1..]);
            let mut cells: Vec<Option<String>> = vec![None; columns.len()];
            cells[0] = Some("export".into());
            cells[columns
                .iter()
                .position(|c| *c == "detail")
                .expect("detail column")] = Some(info);
            csv_line(out, cells.into_iter())?;
        }
    }
    let mut line = Vec::with_capacity(1024);
    while let Some(r) = rows.next().map_err(io::Error::other)? {
        let row = Row::from_sql(r).map_err(io::Error::other)?;
        line.clear();
        match format {
            Format::Jsonl | Format::Json => {
                if format == Format::Json && count > 0 {
                    line.push(b',');
                }
                line.push(b'{');
                let mut first = true;
                event_fields(&row, &mut |name, value| {
                    if !first {
                        line.push(b',');
                    }
                    first = false;
                    serde_json::to_writer(&mut line, name).expect("names serialize");
                    line.push(b':');
                    value.json(&mut line);
                    Ok(())
                })?;
                line.push(b'}');
                if format == Format::Jsonl {
                    line.push(b'\n');
                }
                out.write_all(&line)?;
            }
            Format::Csv => {
                let mut cells = Vec::with_capacity(24);
                event_fields(&row, &mut |_, value| {
                    cells.push(value.cell());
                    Ok(())
                })?;
                csv_line(out, cells.into_iter())?;
            }
        }
        count += 1;
    }
    if format == Format::Json {
        writeln!(out, "]}}")?;
    }
    out.flush()?;
    Ok(count)
}

/// One RFC 4180 line: fields quoted when they hold a comma, quote or line break.
fn csv_line(out: &mut dyn Write, cells: impl Iterator<Item = Option<String>>) -> io::Result<()> {
    let mut first = true;
    for cell in cells {
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        let cell = cell.unwrap_or_default();
        if cell.contains([',', '"', '\n', '\r']) {
            write!(out, "\"{}\"", cell.replace('"', "\"\""))?;
        } else {
            out.write_all(cell.as_bytes())?;
        }
    }
    out.write_all(b"\r\n")
}
