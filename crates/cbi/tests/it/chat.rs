//! `cbi chat` with its input piped: scripts of questions and commands, a session resumed by a
//! second process, and bad input that must not end the conversation.

use std::path::Path;

use serde_json::Value;

use crate::support::{
    Cbi, ambiguous_fixture, regions_fixture, regions_snapshot, sqlite_scalar, table_cells,
};

/// The transcript of a piped chat, split at the `> line` echo of each input line: the banner
/// first, then one `(line, output)` pair per line.
fn turns(stdout: &str) -> (String, Vec<(String, String)>) {
    let mut parts = stdout.split("\n> ");
    let banner = parts.next().unwrap_or_default().to_string();
    let turns = parts
        .map(|p| {
            let (line, output) = p.split_once('\n').unwrap_or((p, ""));
            (line.to_string(), output.to_string())
        })
        .collect();
    (banner, turns)
}

/// The output for one input line.
fn output_of<'a>(turns: &'a [(String, String)], line: &str) -> &'a str {
    turns
        .iter()
        .find(|(l, _)| l == line)
        .map(|(_, o)| o.as_str())
        .unwrap_or_else(|| panic!("no output for `{line}` in {turns:#?}"))
}

/// The session id in the banner's first line, `cbi chat: …, session ID (…)`.
fn session_id(banner: &str) -> String {
    let first = banner.lines().next().unwrap();
    let id = first
        .split("session ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no session id in {first}"));
    assert_eq!(id.len(), 36, "{first}");
    id.to_string()
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap();
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn a_scripted_conversation_on_the_demo() {
    let cbi = Cbi::new();
    let demo = cbi.demo_db();
    let orders_2023 = sqlite_scalar(
        &demo,
        "SELECT count(*) FROM orders WHERE order_date >= '2023-01-01' AND order_date < '2024-01-01'",
    );
    assert!(orders_2023 > 100, "{orders_2023}");
    let csv_path = cbi.dir().join("out.csv");
    let json_path = cbi.dir().join("out2.json");
    let question = "How many orders were placed in 2023?";
    let export = format!("export that to {}", csv_path.display());
    let export_json = format!(":export {}", json_path.display());
    let script = [
        question,
        ":sql",
        ":explain",
        &export,
        &export_json,
        ":history",
        ":quit",
        "this line is never read",
    ]
    .join("\n");
    let run = cbi.run_stdin(&["chat"], &script);
    let (banner, turns) = turns(run.success());
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert!(banner.starts_with("cbi chat: retail-"), "{banner}");
    assert!(banner.contains("(sqlite), session "), "{banner}");
    assert!(
        banner.contains("semantic file: ") && banner.contains(".semantic.yaml"),
        "{banner}"
    );
    session_id(&banner);

    let answer = output_of(&turns, question);
    let cells = table_cells(answer);
    assert_eq!(cells.len(), 2, "{answer}");
    assert_eq!(
        cells[1][0].replace(',', ""),
        orders_2023.to_string(),
        "{answer}"
    );
    assert!(answer.contains("\nconfidence: "), "{answer}");

    let sql = output_of(&turns, ":sql").trim();
    assert!(
        sql.starts_with("SELECT") && sql.contains("2023-01-01") && sql.contains("orders"),
        "{sql}"
    );
    assert_eq!(sql.lines().count(), 1, "{sql}");

    let explain = output_of(&turns, ":explain");
    assert!(explain.contains("\nconfidence: "), "{explain}");
    assert!(explain.contains(&format!("sql:\n    {sql}\n")), "{explain}");
    let plan = explain
        .split("\nplan:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no plan in {explain}"));
    // SQLite's plan names the table it reads.
    assert!(plan.contains("orders"), "{plan}");

    let exported = output_of(&turns, &export);
    assert!(
        exported.starts_with(&format!("exported 1 row to {} (CSV)", csv_path.display())),
        "{exported}"
    );
    let rows = csv_rows(&csv_path);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[1], [orders_2023.to_string()], "{rows:?}");

    let exported = output_of(&turns, &export_json);
    assert!(exported.starts_with("exported 1 row to "), "{exported}");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let objects = json.as_array().unwrap();
    assert_eq!(objects.len(), 1, "{json}");
    let values: Vec<&Value> = objects[0].as_object().unwrap().values().collect();
    assert_eq!(values, [&Value::from(orders_2023)], "{json}");

    let history = output_of(&turns, ":history");
    let first = history.find(question).expect("the question in the history");
    let second = history.find(&export).expect("the export in the history");
    assert!(first < second, "{history}");
    // Summaries group digits: 4016 reads as 4,016.
    assert!(
        history.replace(',', "").contains(&orders_2023.to_string()),
        "{history}"
    );

    // :quit ends the chat: the line after it is never read.
    assert!(
        !turns.iter().any(|(l, _)| l == "this line is never read"),
        "{turns:?}"
    );
    let quit = output_of(&turns, ":quit");
    assert!(
        quit.contains("resume it with: cbi chat --session "),
        "{quit}"
    );
}

#[test]
fn a_session_resumes_after_a_restart() {
    let cbi = Cbi::new();
    std::fs::write(
        cbi.dir().join("cbi.yaml"),
        "session:\n  store: sqlite\n  path: chats/sessions.sqlite\n",
    )
    .unwrap();
    let question = "How many customers are there?";
    let first = cbi.run_stdin(&["chat"], &format!("{question}\n"));
    let (banner, _) = turns(first.success());
    assert!(banner.contains("(new)"), "{banner}");
    let id = session_id(&banner);
    assert!(
        cbi.dir().join("chats/sessions.sqlite").is_file(),
        "the configured store holds the session"
    );

    let second = cbi.run_stdin(&["chat", "--session", &id], ":history\n:sql\n:q\n");
    let (banner, turns) = turns(second.success());
    assert!(
        banner.contains(&format!("session {id} (resumed, 1 turn)")),
        "{banner}"
    );
    let history = output_of(&turns, ":history");
    assert!(history.contains(&format!("1. {question}")), "{history}");
    let sql = output_of(&turns, ":sql");
    assert!(sql.contains("customers"), "{sql}");

    // A session the store does not hold is an error, not a fresh chat.
    let unknown = "6c1c2a4e-7a8b-4c3d-9e0f-112233445566";
    let run = cbi.run_stdin(&["chat", "--session", unknown], ":history\n");
    let line = run.one_line_error();
    assert!(
        line.contains(unknown) && line.contains("not found"),
        "{line}"
    );
    // Nor is a session about another database.
    let other = crate::support::sqlite_fixture(cbi.dir());
    let run = cbi.run_stdin(
        &["chat", "--db", other.to_str().unwrap(), "--session", &id],
        ":history\n",
    );
    let line = run.one_line_error();
    assert!(line.contains("is about the database"), "{line}");
}

#[test]
fn bad_input_is_reported_and_the_chat_goes_on() {
    let cbi = Cbi::new();
    let db = regions_fixture(cbi.dir());
    let before = regions_snapshot(&db);
    let script = "What is the airspeed velocity of a swallow?\n\n   \nClean up the regions table\n:frobnicate\n:export\n:export regions.xlsx\nHow many regions are there?\n";
    let run = cbi.run_stdin(&["chat", "--db", db.to_str().unwrap()], script);
    let (_, turns) = turns(run.success());
    let errors: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(errors.len(), 5, "{}", run.stderr);
    assert!(
        errors.iter().all(|l| l.starts_with("error: ")),
        "{errors:?}"
    );
    assert!(errors[0].contains("could not answer"), "{}", errors[0]);
    assert!(
        errors[1].starts_with("error: refused: ") && errors[1].contains("DELETE"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].contains("unknown command `:frobnicate`"),
        "{}",
        errors[2]
    );
    assert!(errors[3].contains("no earlier answer"), "{}", errors[3]);
    assert!(
        errors[4].contains("must end in .csv or .json"),
        "{}",
        errors[4]
    );
    // Blank lines are skipped, not questions.
    assert_eq!(turns.len(), 6, "{turns:#?}");
    let answer = output_of(&turns, "How many regions are there?");
    assert_eq!(table_cells(answer)[1], ["3"], "{answer}");
    assert_eq!(
        regions_snapshot(&db),
        before,
        "the DELETE changed the database"
    );
    assert!(!cbi.dir().join("regions.xlsx").exists());
}

#[test]
fn a_clarification_is_answered_by_number() {
    let cbi = Cbi::new();
    let db = ambiguous_fixture(cbi.dir());
    let question = "What is the total amount?";
    let run = cbi.run_stdin(
        &["chat", "--db", db.to_str().unwrap()],
        &format!("{question}\n2\n:history\n"),
    );
    let (_, turns) = turns(run.success());
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let asked = output_of(&turns, question);
    assert!(
        asked.contains("Answer with the option's number or label."),
        "{asked}"
    );
    let second = asked
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("2. "))
        .unwrap_or_else(|| panic!("no option 2 in {asked}"));
    let expected = match second {
        "online_sales.amount" => "30",
        "store_sales.amount" => "6",
        other => panic!("unexpected option {other}"),
    };
    let answer = output_of(&turns, "2");
    assert_eq!(table_cells(answer)[1], [expected], "{answer}");
    assert!(
        answer.contains(second.split('.').next().unwrap()),
        "the SQL reads the chosen table: {answer}"
    );
}

#[test]
fn help_and_schema_inside_the_chat() {
    let cbi = Cbi::new();
    let db = crate::support::spider_db("concert_singer");
    let run = cbi.run_stdin(&["chat", "--db", db.to_str().unwrap()], ":help\n:schema\n");
    let (_, turns) = turns(run.success());
    let help = output_of(&turns, ":help");
    for command in [
        ":sql", ":explain", ":schema", ":export", ":history", ":quit",
    ] {
        assert!(help.contains(command), "{command} missing from\n{help}");
    }
    let schema = output_of(&turns, ":schema");
    assert!(
        schema.starts_with("Database concert_singer (sqlite): 4 tables"),
        "{schema}"
    );
    assert!(schema.contains("\nsinger (~6 rows)\n"), "{schema}");
    assert!(!schema.contains("values"), "no samples: {schema}");
    // EOF ends the chat like :quit.
    assert!(run.stdout.contains("resume it with"), "{}", run.stdout);
}

#[test]
fn sessions_are_listed_and_ended() {
    let cbi = Cbi::new();
    let mut ids = Vec::new();
    for q in [
        "How many customers are there?",
        "How many stores are there?",
    ] {
        let run = cbi.run_stdin(&["chat", "--user", "ann"], &format!("{q}\n:q\n"));
        let banner = run.success().lines().next().unwrap_or("").to_string();
        ids.push(session_id(&banner));
    }
    let list = cbi.run(&["sessions", "--user", "ann"]);
    let text = list.success();
    for id in &ids {
        assert!(text.contains(id.as_str()), "{text}");
    }
    assert!(text.contains("How many stores are there?"), "{text}");
    assert!(text.contains("2 of 10 allowed"), "{text}");
    // Another user sees none of them, and cannot end them.
    assert!(
        cbi.run(&["sessions", "--user", "bob"])
            .success()
            .contains("bob has no open conversations")
    );
    let refused = cbi.run(&["sessions", "--user", "bob", "--end", &ids[0]]);
    assert!(
        refused.one_line_error().contains("not found"),
        "{}",
        refused.one_line_error()
    );

    let ended = cbi.run(&["sessions", "--user", "ann", "--end", &ids[0]]);
    assert!(ended.success().contains(&format!("ended {}", ids[0])));
    let json = cbi.run(&["sessions", "--user", "ann", "--json"]);
    let v: serde_json::Value = serde_json::from_str(json.success()).unwrap();
    let left: Vec<&str> = v["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(left, [ids[1].as_str()]);
    assert!(
        cbi.run(&["sessions", "--user", "ann", "--end-all"])
            .success()
            .contains("ended 1 conversation")
    );
    assert!(
        cbi.run(&["sessions", "--user", "ann"])
            .success()
            .contains("no open conversations")
    );
}

#[test]
fn an_answer_asked_again_says_it_came_from_the_cache_and_fresh_reads_the_database() {
    let cbi = Cbi::new();
    cbi.demo_db();
    let question = "how many regions are there";
    let fresh = format!(":fresh {question}");
    let script = [question, question, &fresh, ":fresh", ":quit"].join("\n");
    let run = cbi.run_stdin(&["chat"], &script);
    let (_, turns) = turns(&run.stdout);
    let outputs: Vec<&str> = turns
        .iter()
        .filter(|(l, _)| l == question)
        .map(|(_, o)| o.as_str())
        .collect();
    assert_eq!(outputs.len(), 2, "{turns:#?}");
    assert!(!outputs[0].contains("from cache"), "{}", outputs[0]);
    // The second time the conversation has a turn more, so the SQL is read again; the same
    // SQL's rows are reused.
    assert!(outputs[1].contains("from cache"), "{}", outputs[1]);
    let fresh_out = output_of(&turns, &fresh);
    assert!(!fresh_out.contains("from cache"), "{fresh_out}");
    assert_eq!(
        table_cells(fresh_out),
        table_cells(outputs[1]),
        "the same count either way"
    );
    assert!(
        run.stderr.contains("`:fresh` needs a question"),
        "{}",
        run.stderr
    );
}
