//! The cost of checking a 500-tool `tools/list` against the pins: canonical hashing, the
//! hygiene checks and the database, first sight (everything pinned) and afterwards (everything
//! compared).
//!
//!     cargo bench --bench pins

fn main() {
    let rounds = 7;
    println!(
        "pinning a tools/list of 500 tools, median of {rounds} fresh databases, release build"
    );
    let (mut first, mut again) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let dir = tempfile::tempdir().expect("dir");
        let (f, a) = peta::bench::pin_tools(&dir.path().join("audit.db"), 500);
        first.push(f);
        again.push(a);
    }
    first.sort();
    again.sort();
    println!(
        "  first sight (pin 500):      {:>8.2} ms",
        first[rounds / 2].as_secs_f64() * 1e3
    );
    println!(
        "  later lists (compare 500):  {:>8.2} ms",
        again[rounds / 2].as_secs_f64() * 1e3
    );
}
