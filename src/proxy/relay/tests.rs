//! The relay in-process, over `tokio::io::duplex`: pass-through, refusals, routing,
//! backpressure, end of stream, and chunking.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream};
use tokio::task::JoinHandle;

use super::*;
use crate::audit::AuditLog;
use crate::secrets::SecretValue;
use crate::secrets::redact::Redactor;

const PIPE: usize = 64 * 1024;

struct Harness {
    /// What the test writes as the client.
    client: DuplexStream,
    /// What the client receives.
    to_client: BufReader<DuplexStream>,
    /// What the server receives.
    to_server: BufReader<DuplexStream>,
    /// What the test writes as the server.
    server: DuplexStream,
    signals: Arc<Signals>,
    relay: JoinHandle<Ended>,
    audit: Arc<AuditLog>,
}

fn start(limits: Limits) -> Harness {
    start_with(limits, PIPE)
}

fn start_with(limits: Limits, pipe: usize) -> Harness {
    start_audited(limits, pipe, AuditLog::off())
}

fn start_audited(limits: Limits, pipe: usize, audit: AuditLog) -> Harness {
    start_full(limits, pipe, audit, Redactor::default())
}

fn start_full(limits: Limits, pipe: usize, audit: AuditLog, redactor: Redactor) -> Harness {
    start_gated(
        limits,
        pipe,
        audit,
        redactor,
        crate::proxy::gate::Gate::allow_all(),
    )
}

fn start_gated(
    limits: Limits,
    pipe: usize,
    audit: AuditLog,
    redactor: Redactor,
    gate: crate::proxy::gate::Gate,
) -> Harness {
    let audit = Arc::new(audit);
    let (client, relay_in) = tokio::io::duplex(pipe);
    let (relay_out, to_client) = tokio::io::duplex(pipe);
    let (relay_server_in, to_server) = tokio::io::duplex(pipe);
    let (server, relay_server_out) = tokio::io::duplex(pipe);
    let signals = Arc::new(Signals::default());
    let setup = Setup {
        limits,
        audit: audit.clone(),
        redactor: Arc::new(redactor),
        signals: signals.clone(),
        gate: Arc::new(gate),
        outbox: None,
    };
    let relay = tokio::spawn(run(
        setup,
        relay_in,
        relay_out,
        relay_server_in,
        relay_server_out,
    ));
    Harness {
        client,
        to_client: BufReader::new(to_client),
        to_server: BufReader::new(to_server),
        server,
        signals,
        relay,
        audit,
    }
}

async fn line(r: &mut BufReader<DuplexStream>) -> String {
    let mut s = String::new();
    tokio::time::timeout(Duration::from_secs(5), r.read_line(&mut s))
        .await
        .expect("a line within 5 s")
        .expect("read");
    s
}

/// Asserts nothing arrives on `r` within a short wait.
async fn nothing(r: &mut BufReader<DuplexStream>) {
    let mut s = String::new();
    if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(100), r.read_line(&mut s)).await {
        assert!(n == 0, "expected nothing, got {s:?}");
    }
}

async fn send(w: &mut DuplexStream, text: &str) {
    w.write_all(text.as_bytes()).await.expect("write");
}

#[tokio::test]
async fn passes_messages_through_byte_for_byte() {
    let mut h = start(Limits::default());
    let corpus = [
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{\"x-vendor\":{\"a\":[1,2]}},\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}\n",
        "{ \"jsonrpc\" : \"2.0\" , \"method\" : \"notifications/initialized\" }\r\n",
        "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"n\":9007199254740993,\"f\":1.0e2,\"z\":-0,\"s\":\"\\u00e9 é 🚀 \u{2028}\"},\"_meta\":{\"progressToken\":\"p\",\"x\":{\"y\":{}}}},\"unknown\":[null]}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"server/discover\",\"params\":{\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"vendor/unknown\",\"params\":{}}\n",
    ];
    for msg in corpus {
        send(&mut h.client, msg).await;
        assert_eq!(line(&mut h.to_server).await, msg);
    }
    let replies = [
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{\"tools\":{\"listChanged\":true},\"x-vendor-cap\":{}},\"serverInfo\":{\"name\":\"s\",\"version\":\"1\"}}}\n",
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":\"p\",\"progress\":1}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"12345678901234567890123\"}],\"structuredContent\":{\"n\":12345678901234567890123},\"x-call-extra\":true}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"resultType\":\"complete\",\"supportedVersions\":[\"2026-07-28\"],\"ttlMs\":1000}}\r\n",
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32601,\"message\":\"no\",\"data\":{\"\\u0000\":1}}}\n",
    ];
    for msg in replies {
        send(&mut h.server, msg).await;
        assert_eq!(line(&mut h.to_client).await, msg);
    }
}

#[tokio::test]
async fn refused_requests_get_an_error_and_never_reach_the_server() {
    let mut h = start(Limits::default());
    send(&mut h.client, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"name\":\"delete_file\"}}\n").await;
    let reply: serde_json::Value =
        serde_json::from_str(&line(&mut h.to_client).await).expect("json");
    assert_eq!(reply["error"]["code"], -32600);
    // A duplicated key makes the id untrustworthy too? No: only `name` was duplicated.
    assert!(reply["id"] == 9 || reply["id"].is_null(), "{reply}");
    send(
        &mut h.client,
        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"x\"}}]\n",
    )
    .await;
    let reply: serde_json::Value =
        serde_json::from_str(&line(&mut h.to_client).await).expect("json");
    assert_eq!(
        (reply["error"]["code"].clone(), reply["id"].clone()),
        (serde_json::json!(-32600), serde_json::Value::Null)
    );
    send(
        &mut h.client,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"x\"}}{}\n",
    )
    .await;
    let reply: serde_json::Value =
        serde_json::from_str(&line(&mut h.to_client).await).expect("json");
    assert_eq!(reply["error"]["code"], -32700);
    send(&mut h.client, "not json\n").await;
    let reply: serde_json::Value =
        serde_json::from_str(&line(&mut h.to_client).await).expect("json");
    assert_eq!(reply["error"]["code"], -32700);
    nothing(&mut h.to_server).await;
    // The session goes on.
    send(
        &mut h.client,
        "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"ping\"}\n",
    )
    .await;
    assert_eq!(
        line(&mut h.to_server).await,
        "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"ping\"}\n"
    );
}

#[tokio::test]
async fn the_id_of_a_refused_request_is_echoed_exactly() {
    let mut h = start(Limits::default());
    send(&mut h.client, "{\"jsonrpc\":\"2.0\",\"id\":\"r\\u0031\",\"method\":\"tools/call\",\"params\":{\"name\":7}}\n").await;
    let reply = line(&mut h.to_client).await;
    assert!(reply.contains("\"id\":\"r\\u0031\""), "{reply}");
}

#[tokio::test]
async fn oversized_lines_are_refused_whole() {
    let limits = Limits {
        max_line_bytes: 1024,
        ..Limits::default()
    };
    let mut h = start(limits);
    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{{\"name\":\"{}\"}}}}\n",
        "x".repeat(2000)
    );
    send(&mut h.client, &big).await;
    let reply = line(&mut h.to_client).await;
    assert!(reply.contains("over the limit of 1024 bytes"), "{reply}");
    nothing(&mut h.to_server).await;
    // A server line over the limit is dropped; the next one passes.
    send(
        &mut h.client,
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n",
    )
    .await;
    line(&mut h.to_server).await;
    let big = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{{\"x\":\"{}\"}}}}\n",
        "y".repeat(2000)
    );
    send(&mut h.server, &big).await;
    send(
        &mut h.server,
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}\n",
    )
    .await;
    assert_eq!(
        line(&mut h.to_client).await,
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}\n"
    );
}

#[tokio::test]
async fn malformed_or_unsolicited_server_lines_are_dropped() {
    let mut h = start(Limits::default());
    send(
        &mut h.client,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n",
    )
    .await;
    line(&mut h.to_server).await;
    for bad in [
        "garbage\n",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"result\":{\"x\":1}}\n",
        "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}]\n",
        // B3: never asked, and "1" is not 1 (B2)
        "{\"jsonrpc\":\"2.0\",\"id\":99,\"result\":{}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"result\":{}}\n",
        // B7: a server may not cancel the client's request
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":1}}\n",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{\"code\":1,\"message\":\"m\"}}\n",
    ] {
        send(&mut h.server, bad).await;
    }
    send(
        &mut h.server,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n",
    )
    .await;
    assert_eq!(
        line(&mut h.to_client).await,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"
    );
    // A second response to the same request (B3) is dropped too.
    send(
        &mut h.server,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"again\":true}}\n",
    )
    .await;
    nothing(&mut h.to_client).await;
}

#[tokio::test]
async fn reused_ids_and_a_second_initialize_are_refused() {
    let mut h = start(Limits::default());
    let call =
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"a\"}}\n";
    send(&mut h.client, call).await;
    assert_eq!(line(&mut h.to_server).await, call);
    send(
        &mut h.client,
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"b\"}}\n",
    )
    .await;
    let reply = line(&mut h.to_client).await;
    assert!(reply.contains("already in flight"), "{reply}");
    nothing(&mut h.to_server).await;
    // Once answered, the id may be used again.
    send(
        &mut h.server,
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n",
    )
    .await;
    line(&mut h.to_client).await;
    send(&mut h.client, call).await;
    assert_eq!(line(&mut h.to_server).await, call);

    let init = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}\n";
    send(&mut h.client, init).await;
    line(&mut h.to_server).await;
    send(
        &mut h.client,
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\",\"params\":{}}\n",
    )
    .await;
    let reply = line(&mut h.to_client).await;
    assert!(reply.contains("initialize was already sent"), "{reply}");
}

#[tokio::test]
async fn server_requests_and_client_responses_are_routed_per_direction() {
    let mut h = start(Limits::default());
    // B5: the server's request uses an id the client also has in flight.
    send(
        &mut h.client,
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"t\"}}\n",
    )
    .await;
    line(&mut h.to_server).await;
    let sampling = "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"sampling/createMessage\",\"params\":{\"messages\":[],\"maxTokens\":1}}\n";
    send(&mut h.server, sampling).await;
    assert_eq!(line(&mut h.to_client).await, sampling);
    let answer = "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"role\":\"assistant\",\"content\":{\"type\":\"text\",\"text\":\"hi\"}}}\n";
    send(&mut h.client, answer).await;
    assert_eq!(line(&mut h.to_server).await, answer);
    // A client response to a request the server never made is dropped.
    send(
        &mut h.client,
        "{\"jsonrpc\":\"2.0\",\"id\":6,\"result\":{}}\n",
    )
    .await;
    nothing(&mut h.to_server).await;
    // The server may cancel its own request.
    send(
        &mut h.server,
        "{\"jsonrpc\":\"2.0\",\"id\":\"s1\",\"method\":\"roots/list\"}\n",
    )
    .await;
    line(&mut h.to_client).await;
    let cancel = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":\"s1\"}}\n";
    send(&mut h.server, cancel).await;
    assert_eq!(line(&mut h.to_client).await, cancel);
    // And the tool call still gets its own answer.
    send(
        &mut h.server,
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"content\":[]}}\n",
    )
    .await;
    assert_eq!(
        line(&mut h.to_client).await,
        "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"content\":[]}}\n"
    );
}

#[tokio::test]
async fn client_cancellation_passes_and_the_late_answer_is_dropped() {
    let mut h = start(Limits::default());
    send(
        &mut h.client,
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"slow\"}}\n",
    )
    .await;
    line(&mut h.to_server).await;
    let cancel = "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":3,\"reason\":\"user\"}}\n";
    send(&mut h.client, cancel).await;
    assert_eq!(line(&mut h.to_server).await, cancel);
    send(
        &mut h.server,
        "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}\n",
    )
    .await;
    nothing(&mut h.to_client).await;
}

#[tokio::test]
async fn many_requests_in_flight_answered_in_any_order() {
    let mut h = start(Limits::default());
    for i in 0..200 {
        send(&mut h.client, &format!("{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"tools/call\",\"params\":{{\"name\":\"echo\"}}}}\n")).await;
    }
    for _ in 0..200 {
        line(&mut h.to_server).await;
    }
    for i in (0..200).rev() {
        send(
            &mut h.server,
            &format!("{{\"jsonrpc\":\"2.0\",\"id\":{i},\"result\":{{}}}}\n"),
        )
        .await;
    }
    for i in (0..200).rev() {
        assert_eq!(
            line(&mut h.to_client).await,
            format!("{{\"jsonrpc\":\"2.0\",\"id\":{i},\"result\":{{}}}}\n")
        );
    }
}

#[tokio::test]
async fn in_flight_requests_are_bounded() {
    let mut h = start(Limits {
        max_in_flight: 2,
        ..Limits::default()
    });
    for i in 0..3 {
        send(
            &mut h.client,
            &format!("{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"ping\"}}\n"),
        )
        .await;
    }
    line(&mut h.to_server).await;
    line(&mut h.to_server).await;
    let reply = line(&mut h.to_client).await;
    assert!(
        reply.contains("\"id\":2") && reply.contains("max_in_flight"),
        "{reply}"
    );
}

#[tokio::test]
async fn client_eof_closes_the_server_input_and_keeps_relaying_its_output() {
    let mut h = start(Limits::default());
    send(
        &mut h.client,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n",
    )
    .await;
    line(&mut h.to_server).await;
    h.client.shutdown().await.expect("close");
    drop(h.client);
    tokio::time::timeout(Duration::from_secs(5), h.signals.client_closed.notified())
        .await
        .expect("client_closed raised");
    let mut rest = Vec::new();
    h.to_server
        .read_to_end(&mut rest)
        .await
        .expect("server input closed");
    assert!(rest.is_empty());
    // The server may still answer what it was asked.
    send(
        &mut h.server,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n",
    )
    .await;
    assert_eq!(
        line(&mut h.to_client).await,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"
    );
    drop(h.server);
    assert_eq!(h.relay.await.expect("relay"), Ended::ServerClosed);
}

#[tokio::test]
async fn server_eof_answers_pending_requests_with_errors() {
    let mut h = start(Limits::default());
    send(&mut h.client, "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"tools/call\",\"params\":{\"name\":\"crash\"}}\n").await;
    send(
        &mut h.client,
        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n",
    )
    .await;
    line(&mut h.to_server).await;
    line(&mut h.to_server).await;
    drop(h.server);
    let first = line(&mut h.to_client).await;
    let second = line(&mut h.to_client).await;
    assert!(
        first.contains("\"id\":\"a\"") && first.contains("exited before answering tools/call"),
        "{first}"
    );
    assert!(
        second.contains("\"id\":2") && second.contains("-32603"),
        "{second}"
    );
    assert_eq!(h.relay.await.expect("relay"), Ended::ServerClosed);
}

#[tokio::test]
async fn a_vanished_client_ends_the_relay_cleanly() {
    let mut h = start(Limits::default());
    send(
        &mut h.client,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n",
    )
    .await;
    line(&mut h.to_server).await;
    drop(h.to_client);
    send(
        &mut h.server,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n",
    )
    .await;
    let ended = tokio::time::timeout(Duration::from_secs(5), h.relay)
        .await
        .expect("ends")
        .expect("relay");
    assert_eq!(ended, Ended::ClientGone);
}

#[tokio::test]
async fn stop_input_closes_the_server_input() {
    let mut h = start(Limits::default());
    h.signals.stop_input.notify_one();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), h.to_server.read_to_end(&mut rest))
        .await
        .expect("closed")
        .expect("read");
    drop(h.server);
    assert_eq!(h.relay.await.expect("relay"), Ended::Stopped);
}

#[tokio::test]
async fn a_slow_client_slows_the_server_down() {
    // I8: with the client not reading, the relay stops reading the server instead of
    // buffering: the server's writes stall once the pipes are full.
    let mut h = start_with(Limits::default(), 4096);
    send(
        &mut h.client,
        "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n",
    )
    .await;
    line(&mut h.to_server).await;
    let note = format!(
        "{{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{{\"data\":\"{}\"}}}}\n",
        "z".repeat(1000)
    );
    let writer = tokio::spawn(async move {
        let mut written = 0usize;
        for _ in 0..1000 {
            if tokio::time::timeout(
                Duration::from_millis(200),
                h.server.write_all(note.as_bytes()),
            )
            .await
            .is_err()
            {
                break;
            }
            written += 1;
        }
        (written, h.server)
    });
    let (written, _server) = writer.await.expect("writer");
    // Two 4 KiB pipes and one line in the relay's hands: a handful of 1 KiB lines.
    assert!(written < 1000, "the server was never slowed down");
    assert!(written <= 80 + 16, "buffered {written} lines");
    let mut got = 0;
    while got < written {
        line(&mut h.to_client).await;
        got += 1;
    }
}

/// Feeds `input` to the relay in the given chunk sizes and collects what reaches the server
/// and what the client gets back.
async fn relay_chunked(input: &[u8], chunks: &[usize]) -> (Vec<u8>, Vec<u8>) {
    let h = start(Limits {
        max_line_bytes: 200,
        ..Limits::default()
    });
    let Harness {
        mut client,
        mut to_client,
        mut to_server,
        server,
        relay,
        ..
    } = h;
    let input = input.to_vec();
    let chunks = chunks.to_vec();
    let writer = tokio::spawn(async move {
        let mut at = 0;
        let mut i = 0;
        while at < input.len() {
            let n = chunks
                .get(i)
                .copied()
                .unwrap_or(7)
                .max(1)
                .min(input.len() - at);
            client.write_all(&input[at..at + n]).await.expect("write");
            client.flush().await.expect("flush");
            tokio::task::yield_now().await;
            at += n;
            i += 1;
        }
        client.shutdown().await.expect("close");
    });
    let mut forwarded = Vec::new();
    to_server
        .read_to_end(&mut forwarded)
        .await
        .expect("read forwarded");
    writer.await.expect("writer");
    drop(server);
    relay.await.expect("relay");
    let mut replies = Vec::new();
    to_client
        .read_to_end(&mut replies)
        .await
        .expect("read replies");
    (forwarded, replies)
}

fn corpus_line() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..50).prop_map(|i| format!("{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"tools/call\",\"params\":{{\"name\":\"echo\",\"arguments\":{{\"t\":\"é\u{1F680}\"}}}}}}\n")),
        Just("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\r\n".to_owned()),
        Just("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"a\",\"name\":\"b\"}}\n".to_owned()),
        Just("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]\n".to_owned()),
        Just("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}{}\n".to_owned()),
        Just(format!("{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"p\":\"{}\"}}\n", "x".repeat(300))),
        Just("\u{FFFD}\n".to_owned()),
        Just("\n".to_owned()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A10 / P3: any chunking of the same byte stream gives the same forwarded bytes and
    /// the same replies as writing it in one piece.
    #[test]
    fn chunking_does_not_change_anything(
        lines in proptest::collection::vec(corpus_line(), 1..20),
        chunks in proptest::collection::vec(1usize..40, 0..200),
        invalid_utf8_at in proptest::option::of(0usize..20),
    ) {
        let mut input: Vec<u8> = lines.concat().into_bytes();
        if let Some(at) = invalid_utf8_at {
            let at = at.min(lines.len());
            let offset: usize = lines[..at].iter().map(String::len).sum();
            input.splice(offset..offset, b"{\"x\":\"\xff\xfe\"}\n".iter().copied());
        }
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let whole = runtime.block_on(relay_chunked(&input, &[input.len()]));
        let bytewise = runtime.block_on(relay_chunked(&input, &[1; 4096]));
        let random = runtime.block_on(relay_chunked(&input, &chunks));
        prop_assert_eq!(&whole, &bytewise);
        prop_assert_eq!(&whole, &random);
    }
}

/// Approves every question, remembering the hash each one showed.
#[derive(Default)]
struct Approving {
    shown: Mutex<Vec<String>>,
}

impl crate::approval::Channel for Approving {
    fn name(&self) -> &'static str {
        "tty"
    }
    fn available(&self) -> bool {
        true
    }
    fn ask<'a>(&'a self, request: &'a crate::approval::Request) -> crate::approval::Asking<'a> {
        self.shown
            .lock()
            .expect("shown")
            .push(request.bytes_sha256.clone());
        Box::pin(async { Some(crate::approval::Answer::Once) })
    }
}

fn approving_gate(channel: Arc<Approving>) -> crate::proxy::gate::Gate {
    crate::proxy::gate::Gate::new(
        crate::policy::Policy::default(),
        None,
        "test".into(),
        crate::approval::Approver::new(vec![channel]),
        Arc::new(crate::approval::Grants::in_memory()),
        None,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// What the person was shown (its hash) is exactly what reached the server, byte for
    /// byte, whatever the call's id, tool name and arguments.
    #[test]
    fn what_was_shown_is_what_was_forwarded(
        id in prop_oneof![any::<i64>().prop_map(|n| n.to_string()), "[a-z0-9-]{1,12}".prop_map(|s| format!("\"{s}\""))],
        tool in "[a-zA-Z_][a-zA-Z0-9_.-]{0,20}",
        text in any::<String>(),
        number in any::<f64>().prop_filter("finite", |f| f.is_finite()),
        spaced in any::<bool>(),
    ) {
        let arguments = serde_json::json!({"text": text, "n": number, "list": [text.clone(), null]});
        let sep = if spaced { " " } else { "" };
        let line = format!(
            "{{\"jsonrpc\":\"2.0\",{sep}\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":{},\"arguments\":{arguments}}}}}\n",
            serde_json::to_string(&tool).expect("name")
        );
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let (received, shown) = runtime.block_on(async {
            let channel = Arc::new(Approving::default());
            let mut h = start_gated(Limits::default(), PIPE, AuditLog::off(), Redactor::default(), approving_gate(channel.clone()));
            send(&mut h.client, &line).await;
            let received = line_of(&mut h.to_server).await;
            let shown = channel.shown.lock().expect("shown").clone();
            (received, shown)
        });
        prop_assert_eq!(&received, line.as_bytes());
        prop_assert_eq!(shown, vec![sha256_hex(line.as_bytes())]);
    }
}

async fn line_of(r: &mut BufReader<DuplexStream>) -> Vec<u8> {
    let mut bytes = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), r.read_until(b'\n', &mut bytes))
        .await
        .expect("a line within 5 s")
        .expect("read");
    bytes
}

fn audit_settings(path: std::path::PathBuf) -> crate::audit::Settings {
    crate::audit::Settings {
        enabled: true,
        path,
        sync: crate::audit::Sync::Normal,
        retain: None,
        forward: None,
    }
}

#[tokio::test]
async fn a_tool_call_that_cannot_be_audited_is_denied_and_the_session_goes_on() {
    // A database path that cannot exist: the log is unavailable from the start.
    let audit = AuditLog::open(
        &audit_settings("/dev/null/peta/audit.db".into()),
        "s",
        None,
        Arc::default(),
    );
    let mut h = start_audited(Limits::default(), PIPE, audit);
    send(&mut h.client, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"delete_file\",\"arguments\":{}}}\n").await;
    let reply: serde_json::Value =
        serde_json::from_str(&line(&mut h.to_client).await).expect("json");
    assert_eq!(reply["id"], 1);
    assert_eq!(reply["result"]["isError"], true, "{reply}");
    assert!(
        reply["result"].get("resultType").is_none(),
        "legacy request, legacy reply"
    );
    let text = reply["result"]["content"][0]["text"]
        .as_str()
        .expect("text");
    assert!(
        text.contains("could not be recorded in the audit log")
            && text.contains("Nothing was sent"),
        "{text}"
    );
    nothing(&mut h.to_server).await;
    // A 2026-07-28 request gets a 2026-07-28 reply.
    send(&mut h.client, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"x\",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}\n").await;
    let reply: serde_json::Value =
        serde_json::from_str(&line(&mut h.to_client).await).expect("json");
    assert_eq!(reply["result"]["resultType"], "complete", "{reply}");
    // Ungated traffic still flows, and the denied id is free again.
    send(
        &mut h.client,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}\n",
    )
    .await;
    assert_eq!(
        line(&mut h.to_server).await,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}\n"
    );
}

#[tokio::test]
async fn every_line_is_audited_and_the_gated_row_is_bound_to_the_forwarded_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.db");
    let audit = AuditLog::open(
        &audit_settings(path.clone()),
        "sess",
        Some("srv"),
        Arc::default(),
    );
    let mut h = start_audited(Limits::default(), PIPE, audit);
    let call = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"t\":\"x\"}}}\n";
    send(&mut h.client, call).await;
    assert_eq!(line(&mut h.to_server).await, call);
    send(&mut h.client, "bad\n").await;
    line(&mut h.to_client).await;
    send(
        &mut h.server,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[],\"isError\":true}}\n",
    )
    .await;
    line(&mut h.to_client).await;
    send(
        &mut h.server,
        "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":{}}\n",
    )
    .await;
    drop(h.client);
    drop(h.server);
    let relay_end = h.relay.await.expect("relay");
    assert_eq!(relay_end, Ended::ServerClosed);
    h.audit.close();
    let conn = rusqlite::Connection::open(&path).expect("open");
    type Summary = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<bool>,
    );
    let rows: Vec<Summary> = conn
        .prepare("SELECT direction, kind, tool, decision, bytes_sha256, is_error FROM events ORDER BY seq")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let summary: Vec<(&str, &str, Option<&str>)> = rows
        .iter()
        .map(|r| (r.0.as_str(), r.1.as_str(), r.3.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            ("c2s", "request", Some("allow")),
            ("c2s", "invalid", Some("refused")),
            ("s2c", "response", Some("pass")),
            ("s2c", "invalid", Some("dropped")),
        ]
    );
    assert_eq!(
        rows[0].4.as_deref(),
        Some(crate::audit::row::sha256_hex(call.as_bytes()).as_str())
    );
    assert_eq!(rows[2].2.as_deref(), Some("echo"));
    assert_eq!(
        rows[2].5,
        Some(true),
        "isError of the tool result is recorded"
    );
}

#[tokio::test]
async fn injected_secrets_are_redacted_from_server_messages_only_when_present() {
    let secret = SecretValue::new("canary-7f3a9b2c1d".into());
    let (redactor, _) = Redactor::new([("API_TOKEN", &secret)]);
    let mut h = start_full(Limits::default(), PIPE, AuditLog::off(), redactor);
    for i in 1..=2 {
        send(&mut h.client, &format!("{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"tools/call\",\"params\":{{\"name\":\"get_env\"}}}}\n")).await;
        line(&mut h.to_server).await;
    }
    send(&mut h.server, "{\"jsonrpc\":\"2.0\", \"id\":1,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"API_TOKEN=canary-7f3a9b2c1d\"}],\"n\":1.50}}\n").await;
    assert_eq!(
        line(&mut h.to_client).await,
        "{\"jsonrpc\":\"2.0\", \"id\":1,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"API_TOKEN=[REDACTED:API_TOKEN]\"}],\"n\":1.50}}\n"
    );
    let clean = "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"content\":[],\"t\":\"\\u00e9\"}}\n";
    send(&mut h.server, clean).await;
    assert_eq!(
        line(&mut h.to_client).await,
        clean,
        "a message without a secret passes as read"
    );
}
