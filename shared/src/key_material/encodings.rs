//! Lenient decoding of the text forms a key can take: base64 (standard or
//! URL-safe, split, escaped, glued to words, misaligned) and hex (with or
//! without separators), and the printable text inside decoded bytes.
//!
//! Nothing here fails: every run decodes to some bytes, and whether they
//! hold a key is [`super::embedded`]'s question.

use zeroize::Zeroizing;

use super::embedded::MIN_KEY_DER;

/// Fewer base64 characters than this cannot hold the smallest key.
const MIN_BASE64_CHARS: usize = MIN_KEY_DER * 4 / 3;

/// Fewer hex digits than this cannot hold the smallest key.
const MIN_HEX_DIGITS: usize = MIN_KEY_DER * 2;

/// Printable text inside decoded bytes shorter than this is not looked into:
/// it is too short to hold a key in any text form (a P-256 JWK is about 60).
const MIN_NESTED_TEXT: usize = 48;

/// The base64 characters of `text`, every other character dropped: a key
/// split by separators (`.` every 60 characters, `", "`, written-out `\n`)
/// is whole again. One run where a key sits whole also holds it: decoding
/// from each of four offsets and finding keys at any offset of the bytes
/// make text before and after it harmless. Written-out `\n`, `\r`, `\t`
/// escapes (any number of backslashes: JSON in JSON) are dropped whole,
/// or their letter would join the run.
pub(super) fn base64_run(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut run = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&c) = bytes.get(at) {
        at += 1;
        if is_base64(c) {
            run.push(c);
        } else if c == b'\\' {
            // Past every backslash at once: one at a time would be quadratic.
            at += bytes[at..].iter().take_while(|&&b| b == b'\\').count();
            if matches!(bytes.get(at), Some(b'n' | b'r' | b't')) {
                at += 1;
            }
        }
    }
    run
}

/// Every way a run may decode: each stretch between padding characters
/// (which end one encoding; another may follow), from each of its first
/// four characters, so that a key glued to a word or following other
/// base64 still decodes in step. Standard and URL-safe alphabets at once.
pub(super) fn base64_decodings(run: &[u8]) -> impl Iterator<Item = Zeroizing<Vec<u8>>> + '_ {
    run.split(|&c| c == b'=')
        .filter(|stretch| stretch.len() >= MIN_BASE64_CHARS)
        .flat_map(|stretch| (0..4).map(move |skip| decode_base64(&stretch[skip..])))
}

fn is_base64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_' | b'=')
}

/// Each base64 character's six bits, standard and URL-safe alphabets alike.
const SEXTETS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 26 {
        table[b'A' as usize + i] = i as u8;
        table[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut digit = 0;
    while digit < 10 {
        table[b'0' as usize + digit] = 52 + digit as u8;
        digit += 1;
    }
    table[b'+' as usize] = 62;
    table[b'-' as usize] = 62;
    table[b'/' as usize] = 63;
    table[b'_' as usize] = 63;
    table
};

/// Decodes base64 characters, a final partial group as far as it goes.
fn decode_base64(chars: &[u8]) -> Zeroizing<Vec<u8>> {
    let bits = |group: &[u8]| {
        group.iter().fold(0u32, |acc, &c| {
            (acc << 6) | u32::from(SEXTETS[usize::from(c)])
        })
    };
    let mut out = Zeroizing::new(Vec::with_capacity(chars.len() / 4 * 3 + 2));
    let mut groups = chars.chunks_exact(4);
    for group in &mut groups {
        let [_, a, b, c] = bits(group).to_be_bytes();
        out.extend_from_slice(&[a, b, c]);
    }
    let rest = groups.remainder();
    if rest.len() > 1 {
        let [_, a, b, _] = (bits(rest) << (6 * (4 - rest.len()))).to_be_bytes();
        out.extend_from_slice(&[a, b][..rest.len() - 1]);
    }
    out
}

/// Runs of hex digits (as nibbles) long enough to hold a key. Whitespace,
/// `:`, `-`, `,`, `;` and `\` between digits continue a run (`30:82:01`,
/// `30 82 01`), and so do `0x` and `\x` prefixes (`0x30, 0x82`).
pub(super) fn hex_runs(text: &str) -> Vec<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut runs = Vec::new();
    let mut current = Vec::new();
    let mut at = 0;
    while let Some(&c) = bytes.get(at) {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        at += 1;
        let prefix_x = matches!(c, b'x' | b'X')
            && (before == Some(b'\\')
                || (before == Some(b'0')
                    && current.last() == Some(&0)
                    && !at
                        .checked_sub(3)
                        .is_some_and(|i| bytes[i].is_ascii_hexdigit())));
        if prefix_x {
            if before == Some(b'0') {
                current.pop();
            }
            continue;
        }
        if let Some(nibble) = (c as char).to_digit(16) {
            current.push(nibble as u8); // below 16
        } else if !(c.is_ascii_whitespace() || matches!(c, b':' | b'-' | b',' | b';' | b'\\')) {
            if current.len() >= MIN_HEX_DIGITS {
                runs.push(std::mem::take(&mut current));
            }
            current.clear();
        }
    }
    if current.len() >= MIN_HEX_DIGITS {
        runs.push(current);
    }
    runs
}

/// A run of nibbles as bytes, in step and one nibble on (a stray digit before).
pub(super) fn hex_decodings(nibbles: &[u8]) -> impl Iterator<Item = Zeroizing<Vec<u8>>> + '_ {
    (0..2).map(|skip| {
        Zeroizing::new(
            nibbles[skip..]
                .chunks_exact(2)
                .map(|pair| (pair[0] << 4) | pair[1])
                .collect(),
        )
    })
}

/// Stretches of printable ASCII (and line breaks) inside decoded bytes,
/// long enough to hold a key in some text form: base64 of base64, of a
/// PEM key or of a JWK decodes to such text.
pub(super) fn text_stretches(bytes: &[u8]) -> impl Iterator<Item = &str> {
    bytes
        .split(|&b| !(b == b' ' || b.is_ascii_graphic() || matches!(b, b'\t' | b'\n' | b'\r')))
        .filter(|stretch| stretch.len() >= MIN_NESTED_TEXT)
        // Printable ASCII is UTF-8.
        .filter_map(|stretch| std::str::from_utf8(stretch).ok())
}
