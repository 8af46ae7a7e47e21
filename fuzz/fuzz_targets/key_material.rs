//! `find_key_material` over any text (lossily decoded bytes, as the API's
//! body extractor hands it): it must not panic, and its cost is bounded by
//! libFuzzer's per-input timeout. The keys it must catch are checked by
//! every other target (`check_key`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use marshal_shared::find_key_material;

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    if let Some(found) = find_key_material(&text) {
        assert!(!found.describe().is_empty());
    }
});
