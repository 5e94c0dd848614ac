//! The input bytes as text (lossy UTF-8), validated in every dialect; whatever is accepted
//! must satisfy the invariant in `cbi_fuzz::check_accepted`, and nothing may panic.
#![no_main]

use cbi_types::SqlDialect;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for d in cbi_fuzz::DIALECTS {
        cbi_fuzz::validate_and_check(d, &text);
    }
    // Generic has no lexer model, but (a)–(d) still hold.
    cbi_fuzz::validate_and_check(SqlDialect::Generic, &text);
});
