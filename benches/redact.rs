//! Redaction scanner throughput: a 16 MiB `tools/call` result scanned for 50 injected
//! secrets, with no hit (scan only) and with hits (scan, replace, re-serialize).
//!
//!     cargo bench --bench redact

use std::time::Duration;

const MIB: usize = 1 << 20;

fn secrets(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            (
                format!("SECRET_{i}"),
                format!("tok_{i:02}_{}", uuid_like(i)),
            )
        })
        .collect()
}

/// A 32-hex-digit value that differs per index (no randomness: reproducible runs).
fn uuid_like(i: usize) -> String {
    let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..4)
        .map(|_| {
            x ^= x >> 29;
            x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            format!("{:08x}", x as u32)
        })
        .collect()
}

/// A JSON-RPC result whose text content is `size` bytes of prose, with `hits` secret values
/// spread through it.
fn result_line(size: usize, secrets: &[(String, String)], hits: usize) -> Vec<u8> {
    let filler =
        "The quick brown fox jumps over the lazy dog; logs, paths and numbers 0123456789. ";
    let mut text = String::with_capacity(size + 1024);
    let every = size.checked_div(hits).unwrap_or(usize::MAX);
    let mut next_hit = every;
    let mut placed = 0;
    while text.len() < size {
        text.push_str(filler);
        if text.len() >= next_hit && placed < hits {
            text.push_str(&secrets[placed % secrets.len()].1);
            text.push(' ');
            placed += 1;
            next_hit += every;
        }
    }
    serde_json::to_vec(&serde_json::json!({
        "jsonrpc": "2.0", "id": 7,
        "result": {"content": [{"type": "text", "text": text}], "isError": false}
    }))
    .expect("json")
}

fn mib_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / MIB as f64 / d.as_secs_f64()
}

fn main() {
    let rounds = 7;
    println!("redaction scanner, best of {rounds} rounds, release build");
    println!(
        "{:>8} {:>8} {:>6} {:>10} {:>10}",
        "secrets", "size", "hits", "time", "MiB/s"
    );
    for (n, hits) in [(1, 0), (10, 0), (50, 0), (50, 100)] {
        let secrets = secrets(n.max(1));
        let secrets = &secrets[..n];
        let line = result_line(
            16 * MIB,
            if n == 0 { &[] } else { secrets },
            if n == 0 { 0 } else { hits },
        );
        let (best, out) = peta::bench::redact_json_line(secrets, &line, rounds);
        if hits > 0 {
            let out = out.expect("hits are replaced");
            assert!(
                !secrets
                    .iter()
                    .any(|(_, v)| memchr::memmem::find(&out, v.as_bytes()).is_some())
            );
        } else {
            assert!(out.is_none(), "nothing to replace");
        }
        println!(
            "{:>8} {:>7}M {:>6} {:>8.1}ms {:>10.0}",
            n,
            line.len() / MIB,
            hits,
            best.as_secs_f64() * 1e3,
            mib_per_s(line.len(), best)
        );
    }
}
