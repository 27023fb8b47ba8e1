//! Recording a chat exchange in the conversation log, after its reply was shown.

use std::time::Instant;

use super::conversation::Conversation;
use crate::api::stream::Reply;
use crate::cli::context::Context;
use crate::error::Result;
use crate::store::chatlog::{self, Exchange, Status};

/// Records `message` and `reply` in `conversation`'s logged conversation (a new one if
/// it has none yet) and returns the conversation's id; `None` when the log could not be
/// written (a warning was shown).
pub fn record<T>(
    ctx: &Context,
    conversation: &Conversation,
    message: &str,
    reply: &Reply,
    result: &Result<T>,
    started: Instant,
) -> Option<String> {
    let status = Status::of(result, reply);
    let mut exchange = Exchange::of_reply(
        ctx,
        "chat",
        &conversation.model,
        message,
        reply,
        status,
        started,
    );
    exchange.conversation.clone_from(&conversation.log_id);
    exchange.system.clone_from(&conversation.system);
    exchange.attachments = crate::api::attach::fingerprints(&conversation.pending);
    chatlog::record(&exchange)
}
