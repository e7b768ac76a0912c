//! Table tests for the envelope: rows A1–A18 and B8 of the threat catalogue that the
//! relay's parser decides on its own.

use super::*;

fn ok(line: &str) -> Message<'_> {
    parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: rejected: {}", e.why))
}

fn refused(line: &[u8]) -> Rejected<'_> {
    match parse(line) {
        Ok(m) => panic!(
            "{}: accepted as {:?}",
            String::from_utf8_lossy(line),
            m.kind
        ),
        Err(e) => e,
    }
}

#[test]
fn accepts_every_kind_of_message() {
    let m = ok(
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":1}}}"#,
    );
    assert!(
        matches!(m.kind, Kind::Request { ref id, ref method } if *id == Id::Num("1".into()) && method == "tools/call")
    );
    let m = ok(r#"{"jsonrpc":"2.0","id":"a\"b","method":"x/y"}"#);
    assert!(matches!(m.kind, Kind::Request { ref id, .. } if *id == Id::Str("a\"b".into())));
    let m = ok(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    assert!(matches!(m.kind, Kind::Notification { .. }));
    let m = ok(r#"{"jsonrpc":"2.0","id":7,"result":{}}"#);
    assert!(matches!(
        m.kind,
        Kind::Response {
            id: Some(_),
            failed: false
        }
    ));
    let m = ok(r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"x"}}"#);
    assert!(matches!(
        m.kind,
        Kind::Response {
            id: None,
            failed: true
        }
    ));
    // Unknown fields, unknown methods and `_meta` are not the envelope's business.
    ok(
        r#"{"jsonrpc":"2.0","id":2,"method":"vendor/x","params":{"_meta":{"a":{"b":[1,{"c":null}]}}},"x-extra":[1]}"#,
    );
    ok(
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"n\":9007199254740993,\"s\":\"\\u2028\u{2028}\"}}\r\n",
    );
}

#[test]
fn escaped_method_names_are_decoded() {
    // A3: classification reads decoded values, never raw bytes.
    for line in [
        r#"{"jsonrpc":"2.0","id":1,"method":"tools\u002fcall","params":{"name":"x"}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"\u0074ools/call","params":{"name":"x"}}"#,
    ] {
        assert_eq!(ok(line).method(), Some("tools/call"));
    }
    let m = ok(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"del\u0065te"}}"#);
    let call = ToolCall::read(m.params).expect("tool call");
    assert_eq!(call.name, "delete");
}

#[test]
fn rejects_ambiguous_or_malformed_lines() {
    let cases: &[(&[u8], i64)] = &[
        // A4 duplicate keys at every level
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"ping"}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","jsonrpc":"2.0","id":1,"method":"ping"}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"b"}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"p":"/tmp","p":"/"}}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"},"params":{"name":"b"}}"#, INVALID_REQUEST),
        // A5 case-folded and look-alike keys
        (br#"{"jsonrpc":"2.0","id":1,"method":"ping","Method":"tools/call"}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","Name":"b"}}"#, INVALID_REQUEST),
        ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"param\u{17f}\":{}}".as_bytes(), INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name\u0000":"b"}}"#, INVALID_REQUEST),
        // A6 batches, however prefixed
        (br#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}}]"#, INVALID_REQUEST),
        (b"[]", INVALID_REQUEST),
        (b"  [[]]", INVALID_REQUEST),
        (b"\x0b[]", PARSE_ERROR),
        ("\u{feff}[]".as_bytes(), PARSE_ERROR),
        // A7 requests disguised as notifications
        (br#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"a"}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"a"}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#, INVALID_REQUEST),
        // A8 two values on one line
        (br#"{"jsonrpc":"2.0","id":1,"method":"ping"}{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"a"}}"#, PARSE_ERROR),
        (br#"{"jsonrpc":"2.0","id":1,"method":"ping"} {}"#, PARSE_ERROR),
        (b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r{}", PARSE_ERROR),
        // A11 invalid UTF-8 and lone surrogates
        (b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":\"\xc0\xaf\"}", PARSE_ERROR),
        (b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":\"\xed\xa0\x80\"}", PARSE_ERROR),
        (b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"x\":\"\xff\"}", PARSE_ERROR),
        (br#"{"jsonrpc":"2.0","id":1,"method":"ping","x":"\ud800"}"#, PARSE_ERROR),
        // A12 malformed envelopes
        ("\u{feff}{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}".as_bytes(), PARSE_ERROR),
        (b"\0{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", PARSE_ERROR),
        (br#""tools/call""#, INVALID_REQUEST),
        (b"42", INVALID_REQUEST),
        (b"true", INVALID_REQUEST),
        (b"", PARSE_ERROR),
        (br#"{"jsonrpc":"2.1","id":1,"method":"ping"}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":2.0,"id":1,"method":"ping"}"#, INVALID_REQUEST),
        (br#"{"id":1,"method":"ping"}"#, INVALID_REQUEST),
        // A14 deep nesting
        (format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"a","arguments":{{"x":{}}}}}}}"#, "[".repeat(100_000)).as_bytes().to_vec().leak(), PARSE_ERROR),
        // A16 wrong field types
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":["a"]}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":{"a":1}}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":"{}"}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":["a"]}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":7}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1e3,"method":"ping"}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":[1],"method":"ping"}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"error":{"code":"x","message":"m"}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"error":{"code":1}}"#, INVALID_REQUEST),
        // A17 ambiguous envelopes
        (br#"{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","result":{}}"#, INVALID_REQUEST),
        // A18 method spelling tricks around gated methods
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call ","params":{"name":"a"}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":" tools/call","params":{"name":"a"}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools//call","params":{"name":"a"}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"TOOLS/CALL","params":{"name":"a"}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call\u0000","params":{"name":"a"}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"Initialize","params":{}}"#, INVALID_REQUEST),
        // A2 tool names with control or invisible characters
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_file\u0000"}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete\u200bfile"}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"delete_file\u202e"}}"#, INVALID_REQUEST),
        (br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":""}}"#, INVALID_REQUEST),
    ];
    for (line, code) in cases {
        let e = refused(line);
        assert_eq!(
            e.why.code(),
            *code,
            "{}: {}",
            String::from_utf8_lossy(line),
            e.why
        );
        let text = String::from_utf8_lossy(line);
        let response = !text.contains("\"method\"")
            && (text.contains("\"result\"") || text.contains("\"error\""));
        assert_eq!(
            e.answer, !response,
            "{text}: requests are answered, responses never"
        );
    }
}

#[test]
fn lookalike_tool_names_are_not_refused_here_but_never_equal() {
    // A1/A2: `Delete_File` or a Cyrillic look-alike is a different tool; exact matching in
    // the gate (not the envelope) decides. The envelope only has to keep the name exact.
    for name in [
        "Delete_File",
        "DELETE_FILE",
        "d\u{0435}lete_file",
        "ｄｅｌｅｔｅ",
    ] {
        let line = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"{name}"}}}}"#
        );
        let m = ok(&line);
        let call = ToolCall::read(m.params).expect("tool call");
        assert_eq!(call.name, name);
        assert_ne!(call.name, "delete_file");
    }
}

#[test]
fn replies_go_to_the_request_id_when_it_is_readable() {
    let e = refused(br#"{"jsonrpc":"2.0","id":"r-1","method":"tools/call","params":{"name":7}}"#);
    assert_eq!(e.raw_id.map(RawValue::get), Some(r#""r-1""#));
    let e = refused(br#"{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}"#);
    assert!(e.raw_id.is_none(), "a duplicated id is not trusted");
    // Responses are never answered.
    let e = refused(br#"{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}}"#);
    assert!(!e.answer);
}
