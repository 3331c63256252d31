//! The Bedrock models the gateway knows by name, for `GET /v1/models`.
//!
//! Any valid model id can be used in a request, listed here or not (new models, inference
//! profiles, ARNs); this list is what clients discover.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::catalog::KNOWN_MODELS;
//! assert!(KNOWN_MODELS.iter().any(|m| m.id == "amazon.titan-text-premier-v1:0"));
//! ```

/// What a model is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Chat through Converse / ConverseStream.
    Chat,
    /// Embeddings through InvokeModel.
    Embedding,
}

/// A model the gateway lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownModel {
    /// The Bedrock model id.
    pub id: &'static str,
    /// The provider, as OpenAI's `owned_by`.
    pub provider: &'static str,
    /// Chat or embedding.
    pub kind: ModelKind,
}

const fn chat(id: &'static str, provider: &'static str) -> KnownModel {
    KnownModel {
        id,
        provider,
        kind: ModelKind::Chat,
    }
}

const fn embedding(id: &'static str, provider: &'static str) -> KnownModel {
    KnownModel {
        id,
        provider,
        kind: ModelKind::Embedding,
    }
}

/// Every model listed by `GET /v1/models`.
pub const KNOWN_MODELS: &[KnownModel] = &[
    chat("amazon.titan-text-premier-v1:0", "amazon"),
    chat("amazon.titan-text-express-v1", "amazon"),
    chat("amazon.titan-text-lite-v1", "amazon"),
    chat("amazon.nova-micro-v1:0", "amazon"),
    chat("amazon.nova-lite-v1:0", "amazon"),
    chat("amazon.nova-pro-v1:0", "amazon"),
    chat("amazon.nova-premier-v1:0", "amazon"),
    chat("anthropic.claude-v2:1", "anthropic"),
    chat("anthropic.claude-3-sonnet-20240229-v1:0", "anthropic"),
    chat("anthropic.claude-3-haiku-20240307-v1:0", "anthropic"),
    chat("anthropic.claude-3-opus-20240229-v1:0", "anthropic"),
    chat("anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic"),
    chat("anthropic.claude-3-5-sonnet-20241022-v2:0", "anthropic"),
    chat("anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic"),
    chat("anthropic.claude-3-7-sonnet-20250219-v1:0", "anthropic"),
    chat("anthropic.claude-sonnet-4-20250514-v1:0", "anthropic"),
    chat("anthropic.claude-opus-4-20250514-v1:0", "anthropic"),
    chat("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "anthropic"),
    chat("us.anthropic.claude-sonnet-4-20250514-v1:0", "anthropic"),
    chat("meta.llama2-70b-chat-v1", "meta"),
    chat("meta.llama3-8b-instruct-v1:0", "meta"),
    chat("meta.llama3-70b-instruct-v1:0", "meta"),
    chat("meta.llama3-1-8b-instruct-v1:0", "meta"),
    chat("meta.llama3-1-70b-instruct-v1:0", "meta"),
    chat("us.meta.llama3-2-11b-instruct-v1:0", "meta"),
    chat("us.meta.llama3-3-70b-instruct-v1:0", "meta"),
    chat("mistral.mistral-7b-instruct-v0:2", "mistral"),
    chat("mistral.mixtral-8x7b-instruct-v0:1", "mistral"),
    chat("mistral.mistral-large-2402-v1:0", "mistral"),
    chat("cohere.command-r-v1:0", "cohere"),
    chat("cohere.command-r-plus-v1:0", "cohere"),
    embedding("amazon.titan-embed-text-v1", "amazon"),
    embedding("amazon.titan-embed-text-v2:0", "amazon"),
    embedding("cohere.embed-english-v3", "cohere"),
    embedding("cohere.embed-multilingual-v3", "cohere"),
];

/// Whether `model` takes Converse `cachePoint` blocks in `system` and `messages` (Bedrock
/// prompt caching): Claude 3.5 Haiku, 3.7 Sonnet and the Claude 4 family; Amazon Nova.
/// Inference profiles (`us.…`) follow their model.
pub fn supports_prompt_caching(model: &crate::model_id::ModelId) -> bool {
    let base = model.base_model();
    supports_tool_cache_points(model) || base.starts_with("amazon.nova-")
}

/// Whether `model` also takes `cachePoint` entries in `toolConfig.tools` (Claude only; Nova
/// caches the system prompt and messages).
pub fn supports_tool_cache_points(model: &crate::model_id::ModelId) -> bool {
    let base = model.base_model();
    [
        "anthropic.claude-3-5-haiku",
        "anthropic.claude-3-7-sonnet",
        "anthropic.claude-sonnet-4",
        "anthropic.claude-opus-4",
        "anthropic.claude-haiku-4",
    ]
    .iter()
    .any(|prefix| base.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model_id::ModelId;

    #[test]
    fn prompt_caching_capability() {
        let caches = |id: &str| {
            let model = ModelId::parse(id).unwrap();
            (
                supports_prompt_caching(&model),
                supports_tool_cache_points(&model),
            )
        };
        assert_eq!(
            caches("anthropic.claude-3-7-sonnet-20250219-v1:0"),
            (true, true)
        );
        assert_eq!(
            caches("us.anthropic.claude-sonnet-4-20250514-v1:0"),
            (true, true)
        );
        assert_eq!(caches("amazon.nova-pro-v1:0"), (true, false));
        assert_eq!(
            caches("anthropic.claude-3-haiku-20240307-v1:0"),
            (false, false)
        );
        assert_eq!(caches("meta.llama3-8b-instruct-v1:0"), (false, false));
    }

    #[test]
    fn every_known_model_is_a_valid_id_listed_once() {
        for (i, model) in KNOWN_MODELS.iter().enumerate() {
            let id = ModelId::parse(model.id).unwrap();
            assert_eq!(id.provider(), model.provider, "{}", model.id);
            assert!(
                !KNOWN_MODELS[..i].iter().any(|m| m.id == model.id),
                "{} twice",
                model.id
            );
        }
    }
}
