//! Text from peers and configs, made safe to print on a terminal: control, bidi and other
//! invisible characters become `\u{…}` escapes, so a value can neither draw on the screen
//! nor hide part of itself.

use crate::wire::strict::is_format;

pub(crate) fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() || is_format(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn controls_and_bidi_become_escapes() {
        assert_eq!(
            super::visible("a\u{1b}[2K\u{202e}b\u{85}\u{200b}é"),
            "a\\u{1b}[2K\\u{202e}b\\u{85}\\u{200b}é"
        );
    }
}
