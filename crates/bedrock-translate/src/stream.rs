//! ConverseStream events -> OpenAI `chat.completion.chunk`s, as a pure state machine.
//!
//! [`ChunkTranslator::on_event`] takes one decoded Bedrock event and returns the chunks it
//! produces, in order:
//! - the first chunk carries `delta.role = "assistant"` (from `messageStart`, or before the first
//!   delta if Bedrock skipped it);
//! - text deltas become `delta.content`, reasoning deltas `delta.reasoning_content`;
//! - a `toolUse` start becomes `delta.tool_calls[{index, id, type, function{name, arguments:""}}]`
//!   and its input fragments `delta.tool_calls[{index, function{arguments}}]`, where `index` is
//!   the ordinal of the tool call (not Bedrock's content-block index);
//! - `messageStop` gives the chunk with `finish_reason`;
//! - `metadata` gives, when usage was asked for, a last chunk with empty `choices` and `usage`
//!   (held back until after the finish chunk if Bedrock sends it first).
//!
//! Unknown event types and unknown fields (Bedrock pads events with `p`) are ignored.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::response::ResponseContext;
//! use bedrock_translate::stream::{ChunkTranslator, StreamOptions};
//!
//! let ctx = ResponseContext { id: "chatcmpl-1".into(), created: 1, model: "m".into(), json_output_tool: false };
//! let mut t = ChunkTranslator::new(ctx, StreamOptions { include_usage: false });
//! let chunks = t.on_event("contentBlockDelta", br#"{"contentBlockIndex":0,"delta":{"text":"Hi"},"p":"abc"}"#).unwrap();
//! assert_eq!(chunks[0].choices[0].delta.role.as_deref(), Some("assistant"));
//! assert_eq!(chunks[1].choices[0].delta.content.as_deref(), Some("Hi"));
//! ```

use openai_types::chat::{
    ChatCompletionChunk, ChunkChoice, Delta, FinishReason, FunctionCallDelta, ToolCallDelta, Usage,
    UsageField,
};
use serde::Deserialize;

use crate::converse::TokenUsage;
use crate::request::JSON_OUTPUT_TOOL;
use crate::response::{ResponseContext, finish_reason, usage};

/// What the client asked of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamOptions {
    /// `stream_options.include_usage`.
    pub include_usage: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BlockStart {
    #[serde(default)]
    pub(crate) content_block_index: u32,
    #[serde(default)]
    pub(crate) start: StartMember,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StartMember {
    #[serde(default)]
    pub(crate) tool_use: Option<ToolUseStart>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolUseStart {
    pub(crate) tool_use_id: String,
    pub(crate) name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BlockDelta {
    #[serde(default)]
    pub(crate) content_block_index: u32,
    #[serde(default)]
    pub(crate) delta: DeltaMember,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeltaMember {
    #[serde(default)]
    pub(crate) text: Option<String>,
    #[serde(default)]
    pub(crate) tool_use: Option<ToolUseDelta>,
    #[serde(default)]
    pub(crate) reasoning_content: Option<ReasoningDelta>,
    #[serde(default)]
    pub(crate) citation: Option<crate::converse::Citation>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ToolUseDelta {
    #[serde(default)]
    pub(crate) input: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReasoningDelta {
    #[serde(default)]
    pub(crate) text: Option<String>,
    #[serde(default)]
    pub(crate) signature: Option<String>,
    #[serde(default, rename = "redactedContent")]
    pub(crate) redacted_content: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessageStop {
    #[serde(default)]
    pub(crate) stop_reason: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Metadata {
    #[serde(default)]
    pub(crate) usage: Option<TokenUsage>,
}

/// The state of one streamed answer.
#[derive(Debug)]
pub struct ChunkTranslator {
    ctx: ResponseContext,
    options: StreamOptions,
    role_sent: bool,
    /// Content-block index -> tool-call ordinal, for the tool calls seen so far.
    tool_blocks: Vec<(u32, u32)>,
    /// The content block of the forced JSON-output tool, whose input is streamed as content.
    json_block: Option<u32>,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
    usage_sent: bool,
}

impl ChunkTranslator {
    /// A translator for one answer.
    pub fn new(ctx: ResponseContext, options: StreamOptions) -> Self {
        Self {
            ctx,
            options,
            role_sent: false,
            tool_blocks: Vec::new(),
            json_block: None,
            finish: None,
            usage: None,
            usage_sent: false,
        }
    }

    /// Whether `messageStop` has been seen.
    pub fn is_finished(&self) -> bool {
        self.finish.is_some()
    }

    /// The usage reported by `metadata`, once seen.
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// Translates one event. Malformed JSON in a known event is an error.
    pub fn on_event(
        &mut self,
        event_type: &str,
        payload: &[u8],
    ) -> Result<Vec<ChatCompletionChunk>, serde_json::Error> {
        let mut out = Vec::with_capacity(2);
        match event_type {
            "messageStart" => self.ensure_role(&mut out),
            "contentBlockStart" => {
                let start: BlockStart = serde_json::from_slice(payload)?;
                if let Some(tool) = start.start.tool_use {
                    self.ensure_role(&mut out);
                    if self.ctx.json_output_tool && tool.name == JSON_OUTPUT_TOOL {
                        self.json_block = Some(start.content_block_index);
                        return Ok(out);
                    }
                    let ordinal = self.tool_blocks.len() as u32;
                    self.tool_blocks.push((start.content_block_index, ordinal));
                    out.push(self.chunk(tool_call_delta(ordinal, Some(tool), String::new()), None));
                }
            }
            "contentBlockDelta" => {
                let delta: BlockDelta = serde_json::from_slice(payload)?;
                self.on_delta(delta, &mut out);
            }
            "messageStop" => {
                let stop: MessageStop = serde_json::from_slice(payload)?;
                self.ensure_role(&mut out);
                let reason = match finish_reason(&stop.stop_reason) {
                    FinishReason::ToolCalls if self.tool_blocks.is_empty() => FinishReason::Stop,
                    reason => reason,
                };
                self.finish = Some(reason);
                out.push(self.chunk(Delta::default(), Some(reason)));
                self.flush_usage(&mut out);
            }
            "metadata" => {
                let metadata: Metadata = serde_json::from_slice(payload)?;
                self.usage = metadata.usage.as_ref().map(usage);
                if self.finish.is_some() {
                    self.flush_usage(&mut out);
                }
            }
            _ => {}
        }
        Ok(out)
    }

    /// The chunks still owed when upstream ends: the usage chunk, if held back.
    pub fn on_end(&mut self) -> Vec<ChatCompletionChunk> {
        let mut out = Vec::new();
        self.flush_usage(&mut out);
        out
    }

    fn on_delta(&mut self, delta: BlockDelta, out: &mut Vec<ChatCompletionChunk>) {
        self.ensure_role(out);
        let DeltaMember {
            text,
            tool_use,
            reasoning_content,
            ..
        } = delta.delta;
        if let Some(text) = text {
            out.push(self.chunk(
                Delta {
                    content: Some(text),
                    ..Delta::default()
                },
                None,
            ));
        } else if let Some(tool_use) = tool_use {
            if self.json_block == Some(delta.content_block_index) {
                out.push(self.chunk(
                    Delta {
                        content: Some(tool_use.input),
                        ..Delta::default()
                    },
                    None,
                ));
                return;
            }
            let ordinal = self.tool_ordinal(delta.content_block_index);
            out.push(self.chunk(tool_call_delta(ordinal, None, tool_use.input), None));
        } else if let Some(text) = reasoning_content.and_then(|r| r.text) {
            out.push(self.chunk(
                Delta {
                    reasoning_content: Some(text),
                    ..Delta::default()
                },
                None,
            ));
        }
    }

    /// The ordinal of the tool call in `block`; a block that never had a start event gets the
    /// next ordinal.
    fn tool_ordinal(&mut self, block: u32) -> u32 {
        if let Some((_, ordinal)) = self.tool_blocks.iter().find(|(b, _)| *b == block) {
            return *ordinal;
        }
        let ordinal = self.tool_blocks.len() as u32;
        self.tool_blocks.push((block, ordinal));
        ordinal
    }

    fn ensure_role(&mut self, out: &mut Vec<ChatCompletionChunk>) {
        if !self.role_sent {
            self.role_sent = true;
            let delta = Delta {
                role: Some("assistant".to_owned()),
                content: Some(String::new()),
                ..Delta::default()
            };
            out.push(self.chunk(delta, None));
        }
    }

    fn flush_usage(&mut self, out: &mut Vec<ChatCompletionChunk>) {
        if !self.options.include_usage || self.usage_sent {
            return;
        }
        if let Some(usage) = self.usage {
            self.usage_sent = true;
            let mut chunk = self.chunk(Delta::default(), None);
            chunk.choices.clear();
            chunk.usage = UsageField::Present(usage);
            out.push(chunk);
        }
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<FinishReason>) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: self.ctx.id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.ctx.created,
            model: self.ctx.model.clone(),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                logprobs: None,
                finish_reason,
            }],
            usage: if self.options.include_usage {
                UsageField::Null(())
            } else {
                UsageField::Absent
            },
            system_fingerprint: None,
        }
    }
}

fn tool_call_delta(index: u32, start: Option<ToolUseStart>, arguments: String) -> Delta {
    let (id, kind, name) = match start {
        Some(start) => (
            Some(start.tool_use_id),
            Some("function".to_owned()),
            Some(start.name),
        ),
        None => (None, None, None),
    };
    Delta {
        tool_calls: Some(vec![ToolCallDelta {
            index,
            id,
            kind,
            function: FunctionCallDelta {
                name,
                arguments: Some(arguments),
            },
        }]),
        ..Delta::default()
    }
}
