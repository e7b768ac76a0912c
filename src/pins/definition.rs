//! The canonical form of a tool's definition: the fields a model reads, nothing else, so
//! that what is pinned is exactly what could steer the model, and a server cannot change
//! the hash by reordering keys or re-indenting.

use serde_json::{Map, Value};

use crate::audit::row::sha256_hex;

/// The fields of a tool the model sees (MCP `Tool`); `icons` and `_meta` are for clients.
const FIELDS: [&str; 6] = [
    "name",
    "title",
    "description",
    "inputSchema",
    "outputSchema",
    "annotations",
];

/// One tool of a `tools/list` result, canonical.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ToolDef {
    pub(crate) name: String,
    /// SHA-256 (hex) of `definition` serialized compactly with sorted keys.
    pub(crate) hash: String,
    /// Only name, title, description, inputSchema, outputSchema and annotations; a field
    /// that is `null` counts as absent.
    pub(crate) definition: Value,
}

impl ToolDef {
    /// The canonical definition of one listed tool; `None` when it has no string name
    /// (nothing could call it).
    pub(crate) fn from_tool(tool: &Value) -> Option<ToolDef> {
        let object = tool.as_object()?;
        let name = object.get("name")?.as_str()?.to_owned();
        let definition: Map<String, Value> = FIELDS
            .iter()
            .filter_map(|&k| {
                object
                    .get(k)
                    .filter(|v| !v.is_null())
                    .map(|v| (k.to_owned(), v.clone()))
            })
            .collect();
        let definition = Value::Object(definition);
        Some(ToolDef {
            name,
            hash: hash(&definition),
            definition,
        })
    }

    /// A stored definition, its hash recomputed.
    pub(crate) fn from_definition(name: String, definition: Value) -> ToolDef {
        ToolDef {
            name,
            hash: hash(&definition),
            definition,
        }
    }
}

/// The definitions of the tools of a `tools/list` result (the `tools` arrays of every page,
/// concatenated), in the order listed. Entries without a string name are skipped.
pub(crate) fn definitions(tools: &[Value]) -> Vec<ToolDef> {
    tools.iter().filter_map(ToolDef::from_tool).collect()
}

/// SHA-256 (hex) of the server's `instructions` from `initialize`; no instructions hash as
/// JSON `null`, so they differ from empty ones.
pub(crate) fn instructions_hash(instructions: Option<&str>) -> String {
    // Without serde_json's preserve_order feature a Value's maps are BTreeMaps, so this
    // serialization is canonical; the unit tests check that.
    hash(&instructions.map_or(Value::Null, |t| Value::String(t.to_owned())))
}

fn hash(value: &Value) -> String {
    sha256_hex(value.to_string().as_bytes())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).expect("json")
    }

    #[test]
    fn key_order_and_whitespace_do_not_change_the_hash() {
        let a = parse(
            r#"{"name":"echo","description":"Send the text back.","inputSchema":{"type":"object","properties":{"text":{"type":"string","description":"t"}},"required":["text"]},"annotations":{"readOnlyHint":true,"openWorldHint":false}}"#,
        );
        let b = parse(
            r#"{
                "annotations": { "openWorldHint": false, "readOnlyHint": true },
                "inputSchema": {
                    "required": [ "text" ],
                    "properties": { "text": { "description": "t", "type": "string" } },
                    "type": "object"
                },
                "description": "Send the text back.",
                "name": "echo"
            }"#,
        );
        let (a, b) = (&definitions(&[a])[0], &definitions(&[b])[0]);
        assert_eq!(a.hash, b.hash);
        assert_eq!(a.definition, b.definition);
        assert_eq!(a.hash.len(), 64);
    }

    #[test]
    fn only_model_visible_fields_count() {
        let plain = json!({"name": "t", "description": "d", "inputSchema": {"type": "object"}});
        let dressed = json!({
            "name": "t", "description": "d", "inputSchema": {"type": "object"},
            "icons": [{"src": "https://x/i.png"}], "_meta": {"x": 1}, "title": null
        });
        let defs = definitions(&[plain, dressed]);
        assert_eq!(defs[0].hash, defs[1].hash);
        assert!(defs[1].definition.get("_meta").is_none());
    }

    #[test]
    fn every_model_visible_field_counts() {
        let base = json!({"name": "t", "description": "d", "inputSchema": {"type": "object"}});
        let hash = |v: Value| definitions(&[v])[0].hash.clone();
        let h = hash(base.clone());
        for (key, value) in [
            ("title", json!("T")),
            ("description", json!("d ")),
            (
                "inputSchema",
                json!({"type": "object", "properties": {"x": {}}}),
            ),
            ("outputSchema", json!({"type": "object"})),
            ("annotations", json!({"readOnlyHint": true})),
        ] {
            let mut changed = base.clone();
            changed[key] = value;
            assert_ne!(hash(changed), h, "{key}");
        }
    }

    #[test]
    fn nameless_entries_are_skipped() {
        let defs = definitions(&[json!({"description": "x"}), json!(3), json!({"name": "a"})]);
        assert_eq!(defs.len(), 1);
        assert_eq!(defs[0].name, "a");
    }

    #[test]
    fn instructions_hash_tells_none_from_empty() {
        assert_ne!(instructions_hash(None), instructions_hash(Some("")));
        assert_eq!(instructions_hash(Some("x")), instructions_hash(Some("x")));
        assert_ne!(instructions_hash(Some("x")), instructions_hash(Some("x ")));
    }
}
