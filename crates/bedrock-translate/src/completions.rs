//! The legacy text-completions front door (`POST /v1/completions`), as pure functions over the
//! chat path: a completion request becomes the chat request of one user turn (and so the same
//! Converse request), and the chat answer and stream chunks become `text_completion` shapes.
//!
//! The rules, each tested by value below:
//! - `prompt`: a string, or a list of one string, is the one user turn; an empty prompt, several
//!   prompts and token arrays are a 400 on `prompt`.
//! - `max_tokens`, `temperature`, `top_p`, `stop`, `stream`, `stream_options` mean what they
//!   mean in chat. No `max_tokens` leaves the model's own default (or the gateway's per-model
//!   default), unlike OpenAI's 16.
//! - `echo: true`, `logprobs` (any value but null), `best_of` > 1, a non-empty `suffix` and
//!   `n` > 1 are a 400 naming the parameter: Bedrock cannot express them.
//! - Answers: the text, `finish_reason` (`stop`, `length`, `content_filter`; a tool call cannot
//!   happen, as no tool is declared) and usage; reasoning text is left out.
//!
//! # Example
//!
//! ```
//! use bedrock_translate::{completions::completion_to_converse, model_id::ModelId};
//!
//! let req = serde_json::from_str(r#"{"prompt":"Once upon a time","max_tokens":20,"stop":"\n"}"#).unwrap();
//! let model = ModelId::parse("anthropic.claude-3-haiku-20240307-v1:0").unwrap();
//! let converse = completion_to_converse(req, &model).unwrap();
//! assert_eq!(
//!     serde_json::to_value(&converse).unwrap(),
//!     serde_json::json!({
//!         "messages": [{"role": "user", "content": [{"text": "Once upon a time"}]}],
//!         "inferenceConfig": {"maxTokens": 20, "stopSequences": ["\n"]}
//!     })
//! );
//! ```

use openai_types::chat::{
    ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, ChatMessage, FinishReason,
    MessageContent,
};
use openai_types::completions::{
    Completion, CompletionChoice, CompletionChunk, CompletionRequest, Prompt,
};

use crate::converse::ConverseRequest;
use crate::error::TranslateError;
use crate::model_id::ModelId;
use crate::request::chat_to_converse;

/// The object of every legacy completion and chunk.
pub const OBJECT: &str = "text_completion";

/// A random `cmpl-` id, as OpenAI's legacy completions have.
pub fn completion_id() -> String {
    crate::response::random_id("cmpl-", 24)
}

/// The chat request a completion request means: its prompt as the one user turn.
pub fn completion_to_chat(req: CompletionRequest) -> Result<ChatCompletionRequest, TranslateError> {
    if req.echo == Some(true) {
        return Err(TranslateError::unsupported(
            "echo",
            "echo is not supported by Bedrock: the answer never repeats the prompt",
        ));
    }
    if req.logprobs.as_ref().is_some_and(|l| !l.is_null()) {
        return Err(TranslateError::unsupported(
            "logprobs",
            "logprobs are not supported by Bedrock",
        ));
    }
    match req.best_of {
        None | Some(1) => {}
        Some(0) => {
            return Err(TranslateError::invalid(
                "best_of",
                "best_of must be at least 1",
            ));
        }
        Some(_) => {
            return Err(TranslateError::unsupported(
                "best_of",
                "best_of > 1 is not supported by Bedrock: send separate requests",
            ));
        }
    }
    if req.suffix.as_deref().is_some_and(|s| !s.is_empty()) {
        return Err(TranslateError::unsupported(
            "suffix",
            "suffix (text insertion) is not supported by Bedrock",
        ));
    }
    let prompt = prompt_text(req.prompt)?;
    Ok(ChatCompletionRequest {
        model: req.model,
        messages: vec![ChatMessage::User {
            content: MessageContent::Text(prompt),
            name: None,
            cache_control: None,
        }],
        max_tokens: req.max_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        stop: req.stop,
        n: req.n,
        stream: req.stream,
        stream_options: req.stream_options,
        user: req.user,
        seed: req.seed,
        additional_model_request_fields: req.additional_model_request_fields,
        ..ChatCompletionRequest::default()
    })
}

/// Translates a completion request for `model` into a Converse request body (through
/// [`completion_to_chat`] and [`chat_to_converse`]); an error about the chat request's
/// `messages` is reported on `prompt`.
pub fn completion_to_converse(
    req: CompletionRequest,
    model: &ModelId,
) -> Result<ConverseRequest, TranslateError> {
    chat_to_converse(completion_to_chat(req)?, model).map_err(on_prompt)
}

/// An error on the chat request's `messages...` is an error on `prompt`.
pub fn on_prompt(err: TranslateError) -> TranslateError {
    match err {
        TranslateError::Invalid { param, message } => TranslateError::Invalid {
            param: param.map(prompt_param),
            message,
        },
        TranslateError::Unsupported { param, message } => TranslateError::Unsupported {
            param: param.map(prompt_param),
            message,
        },
        other => other,
    }
}

fn prompt_param(param: String) -> String {
    if param.starts_with("messages") {
        "prompt".to_owned()
    } else {
        param
    }
}

fn prompt_text(prompt: Option<Prompt>) -> Result<String, TranslateError> {
    let text = match prompt {
        None => return Err(TranslateError::invalid("prompt", "prompt is required")),
        Some(Prompt::Text(text)) => text,
        Some(Prompt::Texts(mut texts)) if texts.len() == 1 => texts.remove(0),
        Some(Prompt::Texts(texts)) if texts.is_empty() => {
            return Err(TranslateError::invalid("prompt", "prompt is empty"));
        }
        Some(Prompt::Texts(texts)) => {
            return Err(TranslateError::unsupported(
                "prompt",
                format!(
                    "a list of {} prompts is not supported: send one request per prompt",
                    texts.len()
                ),
            ));
        }
        Some(Prompt::Tokens(_) | Prompt::TokenLists(_)) => {
            return Err(TranslateError::unsupported(
                "prompt",
                "token-id prompts are not supported by Bedrock: send the text",
            ));
        }
    };
    if text.trim().is_empty() {
        return Err(TranslateError::invalid("prompt", "prompt is empty"));
    }
    Ok(text)
}

/// A legacy completion's `finish_reason`: `stop`, `length` or `content_filter`.
fn legacy_finish(reason: FinishReason) -> FinishReason {
    match reason {
        FinishReason::Length => FinishReason::Length,
        FinishReason::ContentFilter => FinishReason::ContentFilter,
        FinishReason::Stop | FinishReason::ToolCalls | FinishReason::FunctionCall => {
            FinishReason::Stop
        }
    }
}

/// A chat completion as a text completion.
pub fn chat_to_completion(chat: ChatCompletion) -> Completion {
    let choices = chat
        .choices
        .into_iter()
        .map(|choice| CompletionChoice {
            text: choice.message.content.unwrap_or_default(),
            index: choice.index,
            logprobs: None,
            finish_reason: Some(legacy_finish(choice.finish_reason)),
        })
        .collect();
    Completion {
        id: chat.id,
        object: OBJECT.to_owned(),
        created: chat.created,
        model: chat.model,
        choices,
        usage: chat.usage,
        system_fingerprint: None,
    }
}

/// A chat chunk as a `text_completion` chunk; `None` for a chunk that adds no text and ends
/// nothing (the role chunk, reasoning fragments).
pub fn chunk_to_completion(chunk: ChatCompletionChunk) -> Option<CompletionChunk> {
    let ChatCompletionChunk {
        id,
        created,
        model,
        choices,
        usage,
        ..
    } = chunk;
    let usage_only = choices.is_empty();
    let choices: Vec<CompletionChoice> = choices
        .into_iter()
        .filter_map(|choice| {
            let text = choice.delta.content.unwrap_or_default();
            if text.is_empty() && choice.finish_reason.is_none() {
                return None;
            }
            Some(CompletionChoice {
                text,
                index: choice.index,
                logprobs: None,
                finish_reason: choice.finish_reason.map(legacy_finish),
            })
        })
        .collect();
    if choices.is_empty() && !usage_only {
        return None;
    }
    Some(CompletionChunk {
        id,
        object: OBJECT.to_owned(),
        created,
        model,
        choices,
        usage,
        system_fingerprint: None,
    })
}

#[cfg(test)]
mod tests {
    use openai_types::chat::{AssistantMessage, Choice, ChunkChoice, Delta, Usage, UsageField};
    use serde_json::{Value, json};

    use super::*;

    fn haiku() -> ModelId {
        ModelId::parse("anthropic.claude-3-haiku-20240307-v1:0").unwrap()
    }

    fn converse(body: Value) -> Result<Value, TranslateError> {
        let req: CompletionRequest = serde_json::from_value(body).unwrap();
        completion_to_converse(req, &haiku()).map(|c| serde_json::to_value(c).unwrap())
    }

    fn refused(body: Value) -> (Option<String>, String) {
        match converse(body).unwrap_err() {
            TranslateError::Invalid { param, message }
            | TranslateError::Unsupported { param, message } => (param, message),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn the_prompt_is_one_user_turn_with_the_sampling_parameters() {
        let body = json!({
            "model": "m", "prompt": ["Write a haiku"], "max_tokens": 30, "temperature": 0.5,
            "top_p": 0.9, "stop": ["\n\n", "END"], "user": "u1", "seed": 7,
            "frequency_penalty": 0.1, "presence_penalty": 0.2, "logit_bias": {"1": 2},
            "echo": false, "logprobs": null, "best_of": 1, "suffix": "", "n": 1
        });
        assert_eq!(
            converse(body).unwrap(),
            json!({
                "messages": [{"role": "user", "content": [{"text": "Write a haiku"}]}],
                "inferenceConfig": {
                    "maxTokens": 30, "temperature": 0.5, "topP": 0.9,
                    "stopSequences": ["\n\n", "END"]
                }
            })
        );
        // No max_tokens: none sent (the model's default), not OpenAI's 16.
        assert_eq!(
            converse(json!({"prompt": "Hi"})).unwrap(),
            json!({"messages": [{"role": "user", "content": [{"text": "Hi"}]}]})
        );
    }

    #[test]
    fn the_chat_request_keeps_the_stream_settings() {
        let req: CompletionRequest = serde_json::from_value(json!({
            "prompt": "Hi", "stream": true, "stream_options": {"include_usage": true}
        }))
        .unwrap();
        let chat = completion_to_chat(req).unwrap();
        assert!(chat.is_stream());
        assert!(chat.include_usage());
    }

    #[test]
    fn what_bedrock_cannot_express_is_a_400_naming_the_parameter() {
        let cases = [
            (json!({"prompt": "Hi", "echo": true}), "echo"),
            (json!({"prompt": "Hi", "logprobs": 2}), "logprobs"),
            (json!({"prompt": "Hi", "logprobs": 0}), "logprobs"),
            (json!({"prompt": "Hi", "best_of": 3}), "best_of"),
            (json!({"prompt": "Hi", "best_of": 0}), "best_of"),
            (json!({"prompt": "Hi", "suffix": "end"}), "suffix"),
            (json!({"prompt": "Hi", "n": 2}), "n"),
            (json!({"prompt": ["a", "b"]}), "prompt"),
            (json!({"prompt": []}), "prompt"),
            (json!({"prompt": [1, 2, 3]}), "prompt"),
            (json!({"prompt": [[1], [2]]}), "prompt"),
            (json!({"prompt": ""}), "prompt"),
            (json!({"prompt": "  "}), "prompt"),
            (json!({}), "prompt"),
            (json!({"prompt": null}), "prompt"),
            (json!({"prompt": "Hi", "temperature": 1.5}), "temperature"),
            (json!({"prompt": "Hi", "max_tokens": 0}), "max_tokens"),
            (json!({"prompt": "Hi", "stop": [""]}), "stop"),
        ];
        for (body, param) in cases {
            let (got, message) = refused(body.clone());
            assert_eq!(got.as_deref(), Some(param), "{body}: {message}");
        }
        let (_, message) = refused(json!({"prompt": ["a", "b"]}));
        assert_eq!(
            message,
            "a list of 2 prompts is not supported: send one request per prompt"
        );
    }

    #[test]
    fn errors_about_messages_are_reported_on_prompt() {
        let err = on_prompt(TranslateError::invalid("messages[0].content", "empty"));
        assert_eq!(err, TranslateError::invalid("prompt", "empty"));
        let err = on_prompt(TranslateError::invalid("top_p", "x"));
        assert_eq!(err, TranslateError::invalid("top_p", "x"));
    }

    fn chat(content: Option<&str>, finish_reason: FinishReason) -> ChatCompletion {
        ChatCompletion {
            id: "cmpl-1".into(),
            object: "chat.completion".into(),
            created: 7,
            model: "m".into(),
            choices: vec![Choice {
                index: 0,
                message: AssistantMessage {
                    role: "assistant".into(),
                    content: content.map(str::to_owned),
                    refusal: None,
                    tool_calls: None,
                    reasoning_content: Some("thinking".into()),
                },
                logprobs: None,
                finish_reason,
            }],
            usage: Usage {
                prompt_tokens: 3,
                completion_tokens: 2,
                total_tokens: 5,
                ..Usage::default()
            },
            system_fingerprint: None,
        }
    }

    #[test]
    fn the_answer_is_a_text_completion() {
        let completion = chat_to_completion(chat(Some("Hello there"), FinishReason::Length));
        assert_eq!(
            serde_json::to_value(&completion).unwrap(),
            json!({
                "id": "cmpl-1", "object": "text_completion", "created": 7, "model": "m",
                "choices": [{"text": "Hello there", "index": 0, "logprobs": null, "finish_reason": "length"}],
                "usage": {
                    "prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5,
                    "prompt_tokens_details": {"cached_tokens": 0},
                    "completion_tokens_details": {"reasoning_tokens": 0}
                },
                "system_fingerprint": null
            })
        );
        let empty = chat_to_completion(chat(None, FinishReason::ToolCalls));
        assert_eq!(empty.choices[0].text, "");
        assert_eq!(empty.choices[0].finish_reason, Some(FinishReason::Stop));
        let filtered = chat_to_completion(chat(Some(""), FinishReason::ContentFilter));
        assert_eq!(
            filtered.choices[0].finish_reason,
            Some(FinishReason::ContentFilter)
        );
    }

    fn chunk(
        delta: Delta,
        finish_reason: Option<FinishReason>,
        usage: UsageField,
    ) -> ChatCompletionChunk {
        ChatCompletionChunk {
            id: "cmpl-1".into(),
            object: "chat.completion.chunk".into(),
            created: 7,
            model: "m".into(),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                logprobs: None,
                finish_reason,
            }],
            usage,
            system_fingerprint: None,
        }
    }

    #[test]
    fn chunks_become_text_completion_chunks() {
        let role = Delta {
            role: Some("assistant".into()),
            content: Some(String::new()),
            ..Delta::default()
        };
        assert_eq!(
            chunk_to_completion(chunk(role, None, UsageField::Absent)),
            None
        );
        let reasoning = Delta {
            reasoning_content: Some("hmm".into()),
            ..Delta::default()
        };
        assert_eq!(
            chunk_to_completion(chunk(reasoning, None, UsageField::Absent)),
            None
        );
        let text = Delta {
            content: Some("Hel".into()),
            ..Delta::default()
        };
        assert_eq!(
            serde_json::to_value(
                chunk_to_completion(chunk(text, None, UsageField::Null(()))).unwrap()
            )
            .unwrap(),
            json!({
                "id": "cmpl-1", "object": "text_completion", "created": 7, "model": "m",
                "choices": [{"text": "Hel", "index": 0, "logprobs": null, "finish_reason": null}],
                "usage": null, "system_fingerprint": null
            })
        );
        let finish = chunk_to_completion(chunk(
            Delta::default(),
            Some(FinishReason::Stop),
            UsageField::Absent,
        ))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&finish).unwrap(),
            json!({
                "id": "cmpl-1", "object": "text_completion", "created": 7, "model": "m",
                "choices": [{"text": "", "index": 0, "logprobs": null, "finish_reason": "stop"}],
                "system_fingerprint": null
            })
        );
        let mut usage_chunk = chunk(
            Delta::default(),
            None,
            UsageField::Present(Usage {
                prompt_tokens: 1,
                completion_tokens: 1,
                total_tokens: 2,
                ..Usage::default()
            }),
        );
        usage_chunk.choices.clear();
        let usage = chunk_to_completion(usage_chunk).unwrap();
        assert!(usage.choices.is_empty());
        assert_eq!(
            serde_json::to_value(&usage).unwrap()["usage"]["total_tokens"],
            2
        );
    }

    #[test]
    fn ids_look_like_openais() {
        let id = completion_id();
        assert!(id.starts_with("cmpl-") && id.len() == 29, "{id}");
    }
}
