//! Runs one input through the validator and the invariant, for reproducing findings:
//! `cargo run --example probe -- <dialect|all> <file>` (the file's bytes, as the text target
//! reads them) or `cargo run --example probe -- <dialect|all> -e 'SQL'`; a `validate_grammar`
//! input: `cargo run --example probe -- grammar <file>` (rendered for each dialect).
use arbitrary::{Arbitrary, Unstructured};
use cbi_fuzz::grammar::Statement;
use cbi_types::SqlDialect;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("grammar") {
        let data = std::fs::read(args.get(1).expect("a file")).expect("readable file");
        let stmt = Statement::arbitrary_take_rest(Unstructured::new(&data)).expect("an input");
        for d in cbi_fuzz::DIALECTS {
            let sql = stmt.render(d);
            println!("{d}: rendered: {sql}");
            match cbi_fuzz::validator(d).validate(&sql) {
                Ok(v) => match cbi_fuzz::check_accepted(d, &v) {
                    Ok(()) => println!("{d}: ACCEPTED as: {}; invariant holds", v.sql),
                    Err(e) => println!("{d}: ACCEPTED as: {}; INVARIANT VIOLATED: {e}", v.sql),
                },
                Err(p) => println!("{d}: refused: {}", cbi_nl2sql::validate::summarize(&p)),
            }
        }
        return;
    }
    let dialects: Vec<SqlDialect> = match args.first().map(String::as_str) {
        Some("all") | None => SqlDialect::ALL.to_vec(),
        Some(d) => vec![d.parse().expect("a dialect name")],
    };
    let text = match args.get(1).map(String::as_str) {
        Some("-e") => args.get(2).cloned().unwrap_or_default(),
        Some(path) => {
            String::from_utf8_lossy(&std::fs::read(path).expect("readable file")).into_owned()
        }
        None => std::io::read_to_string(std::io::stdin()).unwrap_or_default(),
    };
    for d in dialects {
        match cbi_fuzz::validator(d).validate(&text) {
            Ok(v) => {
                println!("{d}: ACCEPTED as: {}", v.sql);
                match cbi_fuzz::check_accepted(d, &v) {
                    Ok(()) => println!("{d}: invariant holds"),
                    Err(e) => println!("{d}: INVARIANT VIOLATED: {e}"),
                }
            }
            Err(p) => println!("{d}: refused: {}", cbi_nl2sql::validate::summarize(&p)),
        }
    }
}
