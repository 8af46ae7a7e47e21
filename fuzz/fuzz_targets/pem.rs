//! PEM scanning: `parse_blocks` (blocks in any text) and `parse_only` (the
//! API's strict form). What the strict form accepts, the lenient one reads
//! as the same blocks; text without a BEGIN line has no blocks; every block
//! written back with `pem::encode` reads back as itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marshal_shared::pem;

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let blocks = pem::parse_blocks(text);
    if !pem::looks_like_pem(input) {
        assert!(
            blocks.as_ref().is_ok_and(Vec::is_empty),
            "text without a BEGIN line has PEM blocks"
        );
    }
    for label in ["CERTIFICATE", "PRIVATE KEY"] {
        if let Ok(strict) = pem::parse_only(text, label) {
            assert!(
                blocks.as_ref().is_ok_and(|all| *all == strict),
                "parse_only accepts blocks parse_blocks reads otherwise"
            );
        }
    }
    for block in blocks.iter().flatten() {
        let written = pem::encode(&block.label, &block.der);
        match pem::parse_blocks(&written).as_deref() {
            Ok([again]) => assert!(
                again.label == block.label && again.der == block.der,
                "a PEM block written back reads as another block"
            ),
            _ => panic!("a PEM block written back does not read as one block"),
        }
    }
});
