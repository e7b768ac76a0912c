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

/// An `event` record's fields, in order.
fn event_record(row: &Row) -> Vec<(&'static str, Value)> {
    let mut v = serde_json::to_value(row).expect("rows serialize");
    let map = v.as_object_mut().expect("object");
    std::iter::once(("record", json!("event")))
        .chain(
            FIELDS
                .iter()
                .chain(&["prev_hash", "hash"])
                .map(|f| (*f, map.remove(*f).unwrap_or(Value::Null))),
        )
        .collect()
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
    while let Some(r) = rows.next().map_err(io::Error::other)? {
        let row = Row::from_sql(r).map_err(io::Error::other)?;
        let record = event_record(&row);
        match format {
            Format::Jsonl => writeln!(out, "{}", object(&record))?,
            Format::Json => write!(
                out,
                "{}{}",
                if count == 0 { "" } else { "," },
                object(&record)
            )?,
            Format::Csv => {
                csv_line(
                    out,
                    record.iter().map(|(_, v)| match v {
                        Value::Null => None,
                        Value::String(s) => Some(s.clone()),
                        other => Some(other.to_string()),
                    }),
                )?;
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
