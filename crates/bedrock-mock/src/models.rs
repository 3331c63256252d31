//! The models the mock knows, and model ids as they travel in the path.

/// Foundation models the mock answers for.
pub const KNOWN_MODELS: &[&str] = &[
    "amazon.titan-text-premier-v1:0",
    "amazon.titan-text-express-v1",
    "amazon.titan-text-lite-v1",
    "amazon.titan-embed-text-v1",
    "amazon.titan-embed-text-v2:0",
    "amazon.nova-micro-v1:0",
    "amazon.nova-lite-v1:0",
    "amazon.nova-pro-v1:0",
    "amazon.nova-premier-v1:0",
    "anthropic.claude-v2:1",
    "anthropic.claude-3-sonnet-20240229-v1:0",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "anthropic.claude-3-opus-20240229-v1:0",
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-5-sonnet-20241022-v2:0",
    "anthropic.claude-3-5-haiku-20241022-v1:0",
    "anthropic.claude-3-7-sonnet-20250219-v1:0",
    "anthropic.claude-sonnet-4-20250514-v1:0",
    "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "anthropic.claude-opus-4-20250514-v1:0",
    "meta.llama2-70b-chat-v1",
    "meta.llama3-8b-instruct-v1:0",
    "meta.llama3-70b-instruct-v1:0",
    "meta.llama3-1-8b-instruct-v1:0",
    "meta.llama3-1-70b-instruct-v1:0",
    "meta.llama3-2-11b-instruct-v1:0",
    "meta.llama3-3-70b-instruct-v1:0",
    "mistral.mistral-7b-instruct-v0:2",
    "mistral.mixtral-8x7b-instruct-v0:1",
    "mistral.mistral-large-2402-v1:0",
    "cohere.command-r-v1:0",
    "cohere.command-r-plus-v1:0",
    "cohere.embed-english-v3",
    "cohere.embed-multilingual-v3",
];

/// What kind of model an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Converse-capable text model.
    Text,
    /// Titan embeddings v1.
    TitanEmbedV1,
    /// Titan embeddings v2.
    TitanEmbedV2,
    /// Cohere embed v3.
    CohereEmbed,
}

/// The geography prefixes of inference-profile ids (`us.anthropic.claude-…`).
const PROFILE_PREFIXES: &[&str] = &["us", "eu", "apac", "global", "us-gov", "ca", "jp", "au"];

/// Whether an id names an inference profile (`us.…`, or an `inference-profile/` ARN) rather
/// than a foundation model.
pub fn is_inference_profile(id: &str) -> bool {
    let base = id.rsplit('/').next().unwrap_or(id);
    id.contains(":inference-profile/")
        || base
            .split_once('.')
            .is_some_and(|(prefix, _)| PROFILE_PREFIXES.contains(&prefix))
}

/// Whether a known model id is an Anthropic Claude model (InvokeModel takes Anthropic bodies).
pub fn is_anthropic(known: &str) -> bool {
    known.starts_with("anthropic.claude")
}

/// The foundation model behind an id, inference-profile id or ARN, if the mock knows it.
pub fn resolve(id: &str) -> Option<(&'static str, Kind)> {
    let base = id.rsplit('/').next().unwrap_or(id);
    let base = match base.split_once('.') {
        Some((prefix, rest)) if PROFILE_PREFIXES.contains(&prefix) => rest,
        _ => base,
    };
    if id.starts_with("arn:")
        && !(id.contains(":inference-profile/") || id.contains(":foundation-model/"))
    {
        return None;
    }
    let known = KNOWN_MODELS.iter().find(|m| **m == base)?;
    let kind = if known.starts_with("amazon.titan-embed-text-v1") {
        Kind::TitanEmbedV1
    } else if known.starts_with("amazon.titan-embed-text-v2") {
        Kind::TitanEmbedV2
    } else if known.starts_with("cohere.embed") {
        Kind::CohereEmbed
    } else {
        Kind::Text
    };
    Some((known, kind))
}

/// `/model/{id}/{operation}` with the id percent-decoded.
pub fn parse_path(path: &str) -> Option<(String, &str)> {
    let rest = path.strip_prefix("/model/")?;
    let (id, operation) = rest.rsplit_once('/')?;
    if id.contains('/') {
        // A bare `/` in the id: Bedrock sees extra path segments and no such operation.
        return None;
    }
    let id = percent_encoding::percent_decode_str(id)
        .decode_utf8()
        .ok()?
        .into_owned();
    Some((id, operation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_ids_profiles_and_arns() {
        let (id, op) = parse_path("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-3-haiku-20240307-v1%3A0/converse").unwrap();
        assert_eq!(op, "converse");
        assert_eq!(
            resolve(&id),
            Some(("anthropic.claude-3-haiku-20240307-v1:0", Kind::Text))
        );
        assert_eq!(
            resolve("amazon.titan-embed-text-v2:0").unwrap().1,
            Kind::TitanEmbedV2
        );
        assert!(resolve("acme.unknown-v1:0").is_none());
        assert!(parse_path("/model/arn:aws:x/inference-profile/y/converse").is_none());
        assert!(is_inference_profile(
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
        ));
        assert!(is_inference_profile(&id));
        assert!(!is_inference_profile(
            "anthropic.claude-3-haiku-20240307-v1:0"
        ));
        assert!(is_anthropic("anthropic.claude-v2:1") && !is_anthropic("amazon.nova-pro-v1:0"));
    }
}
