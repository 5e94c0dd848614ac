//! How many inputs of a corpus each dialect accepts (so the invariant was exercised), with
//! the invariant checked on each: `cargo run --release --example corpus_stats -- text DIR`
//! or `… -- grammar DIR`.
use arbitrary::{Arbitrary, Unstructured};
use cbi_fuzz::grammar::Statement;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let grammar = args.first().map(String::as_str) == Some("grammar");
    let dir = args.get(1).expect("a corpus directory");
    let mut files = 0;
    let mut accepted = [0usize; 4];
    for entry in std::fs::read_dir(dir).expect("a readable directory") {
        let data = std::fs::read(entry.expect("an entry").path()).expect("a readable file");
        files += 1;
        for (i, d) in cbi_fuzz::DIALECTS.into_iter().enumerate() {
            let sql = if grammar {
                match Statement::arbitrary_take_rest(Unstructured::new(&data)) {
                    Ok(s) => s.render(d),
                    Err(_) => continue,
                }
            } else {
                String::from_utf8_lossy(&data).into_owned()
            };
            if cbi_fuzz::validate_and_check(d, &sql) {
                accepted[i] += 1;
            }
        }
    }
    println!("{files} inputs; accepted (sqlite, postgresql, mysql, oracle): {accepted:?}");
}
