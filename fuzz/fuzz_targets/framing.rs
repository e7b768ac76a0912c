//! Line framing of arbitrary bytes, read in arbitrary pieces.
//!
//! Input: a header (line cap, read buffer size, piece sizes) and then the stream. Checks that
//! the frames do not depend on the pieces, that they account for every byte, and that each
//! line is one complete line within the cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peta::fuzz::{Framed, frames};

fuzz_target!(|data: &[u8]| {
    let [cap, buffer, count, rest @ ..] = data else {
        return;
    };
    let count = usize::from(*count % 8).min(rest.len());
    let (pieces, input) = rest.split_at(count);
    let pieces: Vec<usize> = pieces.iter().map(|&b| usize::from(b % 17)).collect();
    let cap = usize::from(*cap);
    let buffer = usize::from(*buffer % 32) + 1;

    let got = frames(input, cap, &pieces, buffer);
    let whole = frames(input, cap, &[], 1 << 16);
    assert_eq!(got, whole, "framing depends on how the bytes were read");

    let mut seen = 0;
    for (i, frame) in got.iter().enumerate() {
        match frame {
            Framed::Line(line) => {
                assert_eq!(line.last(), Some(&b'\n'));
                assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
                let content = line.strip_suffix(b"\n").unwrap_or(line);
                let content = content.strip_suffix(b"\r").unwrap_or(content);
                assert!(content.len() <= cap, "a line over the cap was passed on");
                assert_eq!(&input[seen..seen + line.len()], &line[..]);
                seen += line.len();
            }
            Framed::TooLong(len) => {
                let bytes = &input[seen..seen + len];
                let terminated = bytes.last() == Some(&b'\n');
                let content = bytes.len()
                    - usize::from(terminated)
                    - usize::from(terminated && bytes.ends_with(b"\r\n"));
                assert!(content > cap, "a line within the cap was discarded");
                assert!(terminated || i == got.len() - 1);
                seen += len;
            }
            Framed::Unterminated(len) => {
                assert_eq!(i, got.len() - 1, "unterminated bytes before the end");
                assert!(!input[seen..seen + len].contains(&b'\n'));
                seen += len;
            }
        }
    }
    assert_eq!(seen, input.len(), "frames do not account for every byte");
});
