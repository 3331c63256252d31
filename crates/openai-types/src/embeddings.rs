//! `POST /v1/embeddings`: request and response.

use serde::{Deserialize, Serialize};

/// An embeddings request. Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct EmbeddingsRequest {
    /// What to embed.
    pub input: EmbeddingInput,
    /// The model; the gateway's default embedding model when absent.
    #[serde(default)]
    pub model: Option<String>,
    /// `float` (default) or `base64` (little-endian f32).
    #[serde(default)]
    pub encoding_format: Option<EncodingFormat>,
    /// Output dimensions, for models that support it.
    #[serde(default)]
    pub dimensions: Option<u32>,
    /// End-user id; accepted and ignored.
    #[serde(default)]
    pub user: Option<String>,
    /// Not OpenAI's: Cohere's `input_type` (`search_document`, the default, `search_query`,
    /// `classification`, `clustering`).
    #[serde(default)]
    pub input_type: Option<String>,
}

/// `input`: a string, a list of strings, or token arrays.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum EmbeddingInput {
    /// One text.
    Text(String),
    /// Several texts.
    Texts(Vec<String>),
    /// One token array (the gateway decodes it to text with `cl100k_base`).
    Tokens(Vec<u32>),
    /// Several token arrays (decoded likewise).
    TokenBatches(Vec<Vec<u32>>),
}

/// `encoding_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EncodingFormat {
    /// A JSON array of floats.
    Float,
    /// A base64 string of little-endian f32 values.
    Base64,
}

/// The response: `{"object":"list","data":[...],"model","usage"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingsResponse {
    /// Always `"list"`.
    pub object: String,
    /// One embedding per input, in input order.
    pub data: Vec<Embedding>,
    /// The model that answered.
    pub model: String,
    /// Token usage.
    pub usage: EmbeddingsUsage,
}

/// One embedding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    /// Always `"embedding"`.
    pub object: String,
    /// Position of the input.
    pub index: u32,
    /// The vector.
    pub embedding: EmbeddingVector,
}

/// A vector as floats or as base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingVector {
    /// `encoding_format: float`.
    Float(Vec<f32>),
    /// `encoding_format: base64`.
    Base64(String),
}

/// Embedding usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddingsUsage {
    /// Input tokens.
    pub prompt_tokens: u64,
    /// Same as `prompt_tokens`.
    pub total_tokens: u64,
}
