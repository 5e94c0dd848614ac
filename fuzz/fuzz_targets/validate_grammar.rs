//! Statements drawn from `cbi_fuzz::grammar` (demo tables, joins, CTEs, hostile literals,
//! allowed and dangerous functions), rendered for each dialect and validated; whatever is
//! accepted must satisfy the invariant in `cbi_fuzz::check_accepted`.
#![no_main]

use cbi_fuzz::grammar::Statement;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|stmt: Statement| {
    for d in cbi_fuzz::DIALECTS {
        let sql = stmt.render(d);
        cbi_fuzz::validate_and_check(d, &sql);
    }
});
