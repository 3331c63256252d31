//! `POST /v1/embeddings` <-> Bedrock InvokeModel, as pure functions.
//!
//! - Titan Text Embeddings v1 and v2 embed one text per call: a list of inputs becomes one
//!   InvokeModel body per text (sent concurrently by the Layer, results kept in input order).
//!   v2 takes `dimensions` (256, 512 or 1024) and is asked to normalise, like OpenAI's vectors.
//! - Cohere Embed v3 embeds up to 96 texts per call: inputs are batched; `input_type` defaults
//!   to `search_document` (a request may set another with the non-standard `input_type` field).
//! - `encoding_format: base64` returns the little-endian f32 bytes in base64, as OpenAI does.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::embeddings::plan;
//! use bedrock_translate::model_id::ModelId;
//!
//! let req = serde_json::from_str(r#"{"input":["a","b"],"model":"amazon.titan-embed-text-v2:0","dimensions":256}"#).unwrap();
//! let plan = plan(req, &ModelId::parse("amazon.titan-embed-text-v2:0").unwrap()).unwrap();
//! assert_eq!(plan.bodies.len(), 2);
//! assert_eq!(
//!     serde_json::from_slice::<serde_json::Value>(&plan.bodies[0]).unwrap(),
//!     serde_json::json!({"inputText": "a", "dimensions": 256, "normalize": true})
//! );
//! ```

use base64::Engine as _;
use bytes::Bytes;
use openai_types::embeddings::{
    Embedding, EmbeddingInput, EmbeddingVector, EmbeddingsRequest, EmbeddingsResponse,
    EmbeddingsUsage, EncodingFormat,
};
use serde::Deserialize;
use serde_json::json;

use crate::error::TranslateError;
use crate::model_id::ModelId;

/// Cohere's limit of texts per call.
pub const COHERE_BATCH: usize = 96;

/// The embedding model families the gateway speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `amazon.titan-embed-text-v1`.
    TitanV1,
    /// `amazon.titan-embed-text-v2:0`.
    TitanV2,
    /// `cohere.embed-english-v3`, `cohere.embed-multilingual-v3`.
    CohereV3,
}

impl Family {
    /// The family of `model`, if it is an embedding model the gateway speaks.
    pub fn of(model: &ModelId) -> Option<Self> {
        let base = model.base_model();
        if base.starts_with("amazon.titan-embed-text-v1")
            || base.starts_with("amazon.titan-embed-g1-text")
        {
            Some(Self::TitanV1)
        } else if base.starts_with("amazon.titan-embed-text-v2") {
            Some(Self::TitanV2)
        } else if base.starts_with("cohere.embed-english-v3")
            || base.starts_with("cohere.embed-multilingual-v3")
        {
            Some(Self::CohereV3)
        } else {
            None
        }
    }
}

/// The InvokeModel calls an embeddings request needs.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingPlan {
    /// The model family.
    pub family: Family,
    /// One body per InvokeModel call, in input order.
    pub bodies: Vec<Bytes>,
    /// How to encode the vectors.
    pub encoding: EncodingFormat,
}

/// Plans the InvokeModel calls for `req` on `model`.
pub fn plan(req: EmbeddingsRequest, model: &ModelId) -> Result<EmbeddingPlan, TranslateError> {
    let family = Family::of(model).ok_or_else(|| {
        TranslateError::unsupported(
            "model",
            format!("'{model}' is not an embedding model this gateway supports: use amazon.titan-embed-text-v1, amazon.titan-embed-text-v2:0, cohere.embed-english-v3 or cohere.embed-multilingual-v3"),
        )
    })?;
    let texts = match req.input {
        EmbeddingInput::Text(text) => vec![text],
        EmbeddingInput::Texts(texts) => texts,
        EmbeddingInput::Tokens(_) | EmbeddingInput::TokenBatches(_) => {
            return Err(TranslateError::unsupported(
                "input",
                "token-array input is not supported by Bedrock embedding models: send text",
            ));
        }
    };
    if texts.is_empty() {
        return Err(TranslateError::invalid(
            "input",
            "input must hold at least one text",
        ));
    }
    if let Some(i) = texts.iter().position(|t| t.trim().is_empty()) {
        return Err(TranslateError::invalid(
            "input",
            format!("input[{i}] is empty"),
        ));
    }
    let bodies = match family {
        Family::TitanV1 => {
            check_dimensions(req.dimensions, &[1536])?;
            texts
                .into_iter()
                .map(|text| to_bytes(&json!({ "inputText": text })))
                .collect()
        }
        Family::TitanV2 => {
            let dimensions = req.dimensions.unwrap_or(1024);
            check_dimensions(Some(dimensions), &[256, 512, 1024])?;
            texts
                .into_iter()
                .map(|text| {
                    to_bytes(
                        &json!({ "inputText": text, "dimensions": dimensions, "normalize": true }),
                    )
                })
                .collect()
        }
        Family::CohereV3 => {
            check_dimensions(req.dimensions, &[1024])?;
            let input_type = req.input_type.as_deref().unwrap_or("search_document");
            if !matches!(
                input_type,
                "search_document" | "search_query" | "classification" | "clustering"
            ) {
                return Err(TranslateError::invalid(
                    "input_type",
                    "input_type must be search_document, search_query, classification or clustering",
                ));
            }
            texts
                .chunks(COHERE_BATCH)
                .map(|batch| to_bytes(&json!({ "texts": batch, "input_type": input_type, "embedding_types": ["float"] })))
                .collect()
        }
    };
    Ok(EmbeddingPlan {
        family,
        bodies,
        encoding: req.encoding_format.unwrap_or(EncodingFormat::Float),
    })
}

fn check_dimensions(dimensions: Option<u32>, allowed: &[u32]) -> Result<(), TranslateError> {
    match dimensions {
        Some(d) if !allowed.contains(&d) => Err(TranslateError::invalid(
            "dimensions",
            format!("dimensions {d} is not supported by this model: use one of {allowed:?}"),
        )),
        _ => Ok(()),
    }
}

fn to_bytes(value: &serde_json::Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("JSON values serialise"))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TitanAnswer {
    embedding: Vec<f32>,
    #[serde(default)]
    input_text_token_count: u64,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum CohereEmbeddings {
    Floats(Vec<Vec<f32>>),
    ByType { float: Vec<Vec<f32>> },
}

#[derive(Debug, Deserialize)]
struct CohereAnswer {
    embeddings: CohereEmbeddings,
}

/// The vectors and input tokens of one InvokeModel answer. `header_tokens` is the
/// `x-amzn-bedrock-input-token-count` header, used when the body has no count.
pub fn parse_answer(
    family: Family,
    body: &[u8],
    header_tokens: Option<u64>,
) -> Result<(Vec<Vec<f32>>, u64), serde_json::Error> {
    match family {
        Family::TitanV1 | Family::TitanV2 => {
            let answer: TitanAnswer = serde_json::from_slice(body)?;
            let tokens = if answer.input_text_token_count > 0 {
                answer.input_text_token_count
            } else {
                header_tokens.unwrap_or(0)
            };
            Ok((vec![answer.embedding], tokens))
        }
        Family::CohereV3 => {
            let answer: CohereAnswer = serde_json::from_slice(body)?;
            let vectors = match answer.embeddings {
                CohereEmbeddings::Floats(v) | CohereEmbeddings::ByType { float: v } => v,
            };
            Ok((vectors, header_tokens.unwrap_or(0)))
        }
    }
}

/// The OpenAI response from the vectors of every call, in input order.
pub fn assemble(
    vectors: Vec<Vec<f32>>,
    prompt_tokens: u64,
    encoding: EncodingFormat,
    model: &str,
) -> EmbeddingsResponse {
    let data = vectors
        .into_iter()
        .enumerate()
        .map(|(index, vector)| Embedding {
            object: "embedding".to_owned(),
            index: index as u32,
            embedding: match encoding {
                EncodingFormat::Float => EmbeddingVector::Float(vector),
                EncodingFormat::Base64 => EmbeddingVector::Base64(base64_f32(&vector)),
            },
        })
        .collect();
    EmbeddingsResponse {
        object: "list".to_owned(),
        data,
        model: model.to_owned(),
        usage: EmbeddingsUsage {
            prompt_tokens,
            total_tokens: prompt_tokens,
        },
    }
}

/// Little-endian f32 bytes in standard base64, as OpenAI's `encoding_format: base64`.
pub fn base64_f32(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector.iter().flat_map(|f| f.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(json: &str) -> EmbeddingsRequest {
        serde_json::from_str(json).unwrap()
    }

    fn model(id: &str) -> ModelId {
        ModelId::parse(id).unwrap()
    }

    #[test]
    fn titan_v1_one_body_per_text() {
        let plan = plan(
            req(r#"{"input":["x","y","z"]}"#),
            &model("amazon.titan-embed-text-v1"),
        )
        .unwrap();
        assert_eq!(plan.family, Family::TitanV1);
        assert_eq!(
            plan.bodies,
            vec![
                Bytes::from(r#"{"inputText":"x"}"#),
                Bytes::from(r#"{"inputText":"y"}"#),
                Bytes::from(r#"{"inputText":"z"}"#)
            ]
        );
    }

    #[test]
    fn cohere_batches_of_96_with_default_input_type() {
        let texts: Vec<String> = (0..200).map(|i| format!("t{i}")).collect();
        let body = serde_json::json!({ "input": texts }).to_string();
        let plan = plan(req(&body), &model("cohere.embed-english-v3")).unwrap();
        assert_eq!(plan.bodies.len(), 3);
        let first: serde_json::Value = serde_json::from_slice(&plan.bodies[0]).unwrap();
        assert_eq!(first["texts"].as_array().unwrap().len(), 96);
        assert_eq!(first["input_type"], "search_document");
        let last: serde_json::Value = serde_json::from_slice(&plan.bodies[2]).unwrap();
        assert_eq!(last["texts"].as_array().unwrap().len(), 8);
        assert_eq!(last["texts"][7], "t199");
    }

    #[test]
    fn rejects_what_bedrock_cannot_do() {
        let cases = [
            (
                r#"{"input":[1,2,3]}"#,
                "amazon.titan-embed-text-v1",
                "input",
            ),
            (r#"{"input":[]}"#, "amazon.titan-embed-text-v1", "input"),
            (r#"{"input":" "}"#, "amazon.titan-embed-text-v1", "input"),
            (
                r#"{"input":"x","dimensions":300}"#,
                "amazon.titan-embed-text-v2:0",
                "dimensions",
            ),
            (
                r#"{"input":"x","dimensions":256}"#,
                "amazon.titan-embed-text-v1",
                "dimensions",
            ),
            (
                r#"{"input":"x","input_type":"poetry"}"#,
                "cohere.embed-english-v3",
                "input_type",
            ),
            (
                r#"{"input":"x"}"#,
                "anthropic.claude-3-haiku-20240307-v1:0",
                "model",
            ),
        ];
        for (body, id, param) in cases {
            let err = crate::ApiError::from(plan(req(body), &model(id)).unwrap_err());
            assert_eq!(err.error.param.as_deref(), Some(param), "{body}");
        }
    }

    #[test]
    fn parses_both_cohere_shapes_and_titan() {
        let (v, t) = parse_answer(
            Family::CohereV3,
            br#"{"embeddings":[[1.0,2.0]],"id":"x","response_type":"embeddings_floats"}"#,
            Some(4),
        )
        .unwrap();
        assert_eq!((v, t), (vec![vec![1.0, 2.0]], 4));
        let (v, _) = parse_answer(
            Family::CohereV3,
            br#"{"embeddings":{"float":[[3.0]]},"response_type":"embeddings_by_type"}"#,
            None,
        )
        .unwrap();
        assert_eq!(v, vec![vec![3.0]]);
        let (v, t) = parse_answer(
            Family::TitanV2,
            br#"{"embedding":[0.5],"inputTextTokenCount":7,"embeddingsByType":{"float":[0.5]}}"#,
            None,
        )
        .unwrap();
        assert_eq!((v, t), (vec![vec![0.5]], 7));
    }

    #[test]
    fn base64_is_little_endian_f32() {
        // 1.0f32 = 00 00 80 3f; -2.0f32 = 00 00 00 c0.
        assert_eq!(
            base64_f32(&[1.0, -2.0]),
            base64::engine::general_purpose::STANDARD.encode([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0])
        );
        let response = assemble(vec![vec![1.0], vec![2.0]], 5, EncodingFormat::Base64, "m");
        assert_eq!(response.data[1].index, 1);
        assert_eq!(response.usage.total_tokens, 5);
    }
}
