//! `POST /v1/completions` (legacy text completions): request, response and stream chunk.
//!
//! The shapes of the OpenAI Python SDK's `Completion` and `CompletionChoice`: the streamed and
//! the complete answer share the object `text_completion`; a chunk's choice carries a text
//! fragment and `finish_reason: null` until the last one.
//!
//! ```
//! use openai_types::completions::{CompletionRequest, Prompt};
//!
//! let req: CompletionRequest =
//!     serde_json::from_str(r#"{"model":"m","prompt":"Say hi","max_tokens":5,"frobnicate":1}"#).unwrap();
//! assert_eq!(req.prompt, Some(Prompt::Text("Say hi".into())));
//! assert_eq!(req.max_tokens, Some(5));
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chat::{FinishReason, StopSequences, StreamOptions, Usage, UsageField};

/// A legacy completion request. Every documented field is accepted; unknown ones are skipped.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct CompletionRequest {
    /// The model id (or an alias). The gateway's default model when absent.
    #[serde(default)]
    pub model: Option<String>,
    /// The prompt: a string, a list of strings, a token array or a list of token arrays.
    #[serde(default)]
    pub prompt: Option<Prompt>,
    /// Upper bound of generated tokens.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default)]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default)]
    pub top_p: Option<f64>,
    /// Stop sequences.
    #[serde(default)]
    pub stop: Option<StopSequences>,
    /// Number of choices.
    #[serde(default)]
    pub n: Option<u32>,
    /// Stream the answer as server-sent events.
    #[serde(default)]
    pub stream: Option<bool>,
    /// Streaming options.
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    /// Echo the prompt before the completion.
    #[serde(default)]
    pub echo: Option<bool>,
    /// Log probabilities of the most likely tokens.
    #[serde(default)]
    pub logprobs: Option<Value>,
    /// Candidates generated server-side, the best returned.
    #[serde(default)]
    pub best_of: Option<u32>,
    /// Text after the completion (insertion).
    #[serde(default)]
    pub suffix: Option<String>,
    /// End-user id (ignored).
    #[serde(default)]
    pub user: Option<String>,
    /// Seed (ignored).
    #[serde(default)]
    pub seed: Option<Value>,
    /// Provider-specific fields passed through to Bedrock's `additionalModelRequestFields`.
    #[serde(default)]
    pub additional_model_request_fields: Option<Value>,
}

impl CompletionRequest {
    /// Whether the client asked for a stream.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }
}

/// `prompt`: what OpenAI accepts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Prompt {
    /// One prompt.
    Text(String),
    /// Several prompts (one choice each in OpenAI).
    Texts(Vec<String>),
    /// One prompt as token ids.
    Tokens(Vec<u32>),
    /// Several prompts as token ids.
    TokenLists(Vec<Vec<u32>>),
}

/// A text completion: the complete answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// `cmpl-...`.
    pub id: String,
    /// Always `"text_completion"`.
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    /// The model that answered.
    pub model: String,
    /// The choices (one).
    pub choices: Vec<CompletionChoice>,
    /// Token usage.
    pub usage: Usage,
    /// Always null.
    pub system_fingerprint: Option<String>,
}

/// One `text_completion` chunk of a streamed answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionChunk {
    /// Same for every chunk of one answer.
    pub id: String,
    /// Always `"text_completion"`.
    pub object: String,
    /// Same for every chunk of one answer.
    pub created: u64,
    /// Same for every chunk of one answer.
    pub model: String,
    /// One choice, or none in the final usage chunk.
    pub choices: Vec<CompletionChoice>,
    /// Null except in the final usage chunk; absent unless usage was asked for.
    #[serde(default, skip_serializing_if = "UsageField::is_absent")]
    pub usage: UsageField,
    /// Always null.
    pub system_fingerprint: Option<String>,
}

/// A choice of a text completion or chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionChoice {
    /// The text (a fragment, in a chunk).
    pub text: String,
    /// Always 0.
    pub index: u32,
    /// Always null (no logprobs on Bedrock).
    pub logprobs: Option<Value>,
    /// Why generation stopped: `stop`, `length` or `content_filter`; null in a chunk until the
    /// last one.
    pub finish_reason: Option<FinishReason>,
}
