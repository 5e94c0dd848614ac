//! [`ClarificationEngine`]: asks which earlier answer a follow-up refers to, and resumes with
//! the person's pick.

use cbi_nl2sql::SchemaIndex;
use cbi_nl2sql::query::SemanticQuery;
use cbi_types::{Clarification, ClarificationOption, ConversationContext};

use crate::reference::Unclear;
use crate::tracker::Focus;

/// How many earlier answers a clarifying question offers.
const OPTIONS: usize = 3;

/// Turns an unreadable reference into a question back, and a pick into the focus to resume
/// from.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClarificationEngine;

impl ClarificationEngine {
    /// A clarifying question for a follow-up the resolver could not read: which earlier
    /// answer it is about (the latest answered turns, newest first). `None` when there is no
    /// earlier answer to offer.
    pub fn ask(
        unclear: &Unclear,
        ctx: &ConversationContext,
        question: &str,
    ) -> Option<Clarification> {
        let options: Vec<ClarificationOption> = ctx
            .turns
            .iter()
            .rev()
            .filter(|t| t.sql.is_some())
            .take(OPTIONS)
            .map(|t| ClarificationOption {
                label: t.user_query.clone(),
                payload: serde_json::json!({ "kind": "turn", "turn_id": t.turn_id }),
            })
            .collect();
        if options.is_empty() {
            return None;
        }
        Some(Clarification {
            question: unclear.message.clone(),
            options,
            original_query: question.to_string(),
        })
    }

    /// The focus a picked option points at: the earlier turn's answer, if the session still
    /// holds it. `None` for payloads of other kinds (a generator's own clarifications).
    pub fn resume(
        payload: &serde_json::Value,
        ctx: &ConversationContext,
        idx: &SchemaIndex,
    ) -> Option<Focus> {
        if payload.get("kind")?.as_str()? != "turn" {
            return None;
        }
        let id = u32::try_from(payload.get("turn_id")?.as_u64()?).ok()?;
        let turn = ctx.turns.iter().find(|t| t.turn_id == id)?;
        let query = turn
            .plan
            .as_ref()
            .and_then(|p| serde_json::from_value::<SemanticQuery>(p.clone()).ok());
        let focus = Focus::of(
            turn.turn_id,
            &turn.user_query,
            query.as_ref(),
            turn.sql.as_deref(),
        );
        focus.fits(idx).then_some(focus)
    }
}
