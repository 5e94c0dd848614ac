use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Identifies one conversation. Random (UUID v4), so it can be shared between processes and
/// handed to clients without revealing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(pub Uuid);

impl SessionId {
    /// A fresh random id.
    pub fn new() -> Self {
        SessionId(Uuid::new_v4())
    }
}

impl Default for SessionId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for SessionId {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim())
            .map(SessionId)
            .map_err(|_| crate::Error::Invalid(format!("`{s}` is not a session id")))
    }
}

/// What the person wanted from a turn, as the understander read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Fetch specific facts or numbers ("total sales in 2023").
    #[default]
    Query,
    /// Look around: what is there, show me some rows ("what tables are there", "show customers").
    Explore,
    /// Trends, distributions, breakdowns over time ("monthly revenue trend").
    Analyze,
    /// Put two or more things side by side ("compare West and East").
    Compare,
    /// Narrow the previous answer ("only in 2023", "just the top 5").
    Filter,
    /// The person is answering a clarifying question, or asking what something means.
    Clarify,
    /// Save or download the last result ("export that").
    Export,
}

impl Intent {
    /// The lowercase name, as serialised.
    pub fn name(self) -> &'static str {
        match self {
            Intent::Query => "query",
            Intent::Explore => "explore",
            Intent::Analyze => "analyze",
            Intent::Compare => "compare",
            Intent::Filter => "filter",
            Intent::Clarify => "clarify",
            Intent::Export => "export",
        }
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One question and what cbi did with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationTurn {
    /// 1 for the first turn of a session, counting up.
    pub turn_id: u32,
    pub timestamp: DateTime<Utc>,
    pub user_query: String,
    /// The SQL that answered it, if any.
    #[serde(default)]
    pub sql: Option<String>,
    /// A one-line summary of the result ("3 rows; West had the highest total").
    #[serde(default)]
    pub results_summary: Option<String>,
    /// Tables, columns and values the turn referred to, for resolving "that" and "those" later.
    #[serde(default)]
    pub entities_mentioned: Vec<String>,
    pub intent: Intent,
    /// The generator's structured reading of the turn (its semantic query), kept so a follow-up
    /// can refine it instead of starting over. Opaque to everything but the generator that wrote
    /// it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<serde_json::Value>,
}

/// A question cbi asked back instead of guessing, waiting for the person's pick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clarification {
    /// The question shown to the person ("Which 'revenue' do you mean?").
    pub question: String,
    pub options: Vec<ClarificationOption>,
    /// The question that was ambiguous, to be answered once an option is picked.
    pub original_query: String,
}

/// One interpretation offered in a clarifying question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClarificationOption {
    /// What the person sees ("orders.total_amount — order total").
    pub label: String,
    /// What the generator needs to continue with this choice. Opaque to everything else.
    #[serde(default)]
    pub payload: serde_json::Value,
}

/// The conversation so far, as later turns need it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ConversationContext {
    /// The most recent turns, oldest first; bounded by the session's `max_turns`.
    pub turns: VecDeque<ConversationTurn>,
    pub mentioned_tables: BTreeSet<String>,
    /// Column name → the table it was last mentioned with.
    pub mentioned_columns: BTreeMap<String, String>,
    /// The table or entity the conversation is currently about.
    pub current_focus: Option<String>,
    /// A clarifying question awaiting an answer, if the last turn asked one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_clarification: Option<Clarification>,
    /// What the conversation is about after the latest answer (measures, groupings, filters,
    /// time range, its query), as the context tracker (`cbi-context`) writes it: versioned,
    /// so a session stored by another version or before a schema change still loads, and it
    /// survives `max_turns` dropping the turns it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<serde_json::Value>,
}

impl ConversationContext {
    /// Appends a turn, dropping the oldest ones beyond `max_turns` (0 keeps none).
    pub fn push_turn(&mut self, turn: ConversationTurn, max_turns: usize) {
        self.turns.push_back(turn);
        while self.turns.len() > max_turns {
            self.turns.pop_front();
        }
    }

    /// The latest turn, if any.
    pub fn last_turn(&self) -> Option<&ConversationTurn> {
        self.turns.back()
    }

    /// The latest turn that produced SQL.
    pub fn last_sql_turn(&self) -> Option<&ConversationTurn> {
        self.turns.iter().rev().find(|t| t.sql.is_some())
    }
}

/// A conversation with one person about one database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub user_id: String,
    /// Which database the session talks to (a connection's display name, never a password).
    pub database: String,
    pub created_at: DateTime<Utc>,
    pub last_accessed: DateTime<Utc>,
    /// Turns taken in total, including those dropped from `context` by `max_turns`.
    pub turn_count: u32,
    pub context: ConversationContext,
}

impl Session {
    /// A new, empty session.
    pub fn new(user_id: impl Into<String>, database: impl Into<String>) -> Self {
        let now = Utc::now();
        Session {
            id: SessionId::new(),
            user_id: user_id.into(),
            database: database.into(),
            created_at: now,
            last_accessed: now,
            turn_count: 0,
            context: ConversationContext::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(n: u32) -> ConversationTurn {
        ConversationTurn {
            turn_id: n,
            timestamp: Utc::now(),
            user_query: format!("q{n}"),
            sql: (n % 2 == 0).then(|| "SELECT 1".to_string()),
            results_summary: None,
            entities_mentioned: vec![],
            intent: Intent::Query,
            plan: None,
        }
    }

    #[test]
    fn oldest_turns_are_dropped() {
        let mut ctx = ConversationContext::default();
        for n in 1..=5 {
            ctx.push_turn(turn(n), 3);
        }
        let ids: Vec<u32> = ctx.turns.iter().map(|t| t.turn_id).collect();
        assert_eq!(ids, [3, 4, 5]);
        assert_eq!(ctx.last_sql_turn().unwrap().turn_id, 4);
    }

    #[test]
    fn session_round_trips_through_json() {
        let mut s = Session::new("ann", "demo");
        s.context.push_turn(turn(2), 10);
        let json = serde_json::to_string(&s).unwrap();
        let back: Session = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.id.to_string().parse::<SessionId>().unwrap(), s.id);
        assert!("nope".parse::<SessionId>().is_err());
    }
}
