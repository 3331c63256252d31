//! Error `param` names of the chat path, named as a Responses request spells them.
//!
//! The request goes through the chat path ([`crate::request::chat_to_converse_with`]), whose
//! errors name chat fields (`messages[3].content[1].image_url.url`). Each chat message
//! remembers the Responses field it came from ([`Origin`]), so `messages[N]…` becomes
//! `instructions`, `input[i]…` or `previous_response_id`, and the part of the path after it is
//! mapped field by field (`image_url.url` -> `image_url`, a tool message's `content` ->
//! `output`, `tool_calls[k].function.arguments` -> the `arguments` of the k-th call's item).
//! Only the `param` paths the chat path builds are parsed, never free text; a message text
//! names the same `messages[N]` only where it quotes the param.

use crate::error::TranslateError;

/// Where a chat message of the translated request came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The request's `instructions`.
    Instructions,
    /// A user, system or developer message item at this param (`input[2]`).
    Message(String),
    /// A `function_call_output` item at this param.
    Output(String),
    /// A run of assistant items: the first one's param and each function call's param.
    Assistant {
        /// The param of the run's first item.
        first: String,
        /// The param of each `function_call` item, in order.
        calls: Vec<String>,
    },
}

/// `err` with its param (and the param as its message quotes it) named for Responses.
pub(crate) fn rename(err: TranslateError, origins: &[Origin]) -> TranslateError {
    let fix = |param: Option<String>, message: String| {
        let Some(param) = param else {
            return (None, fixed_names(&message));
        };
        let renamed = responses_param(&param, origins);
        let message = match message_prefix(&param) {
            Some((quoted, n)) => message.replace(quoted, &origin_param(origins.get(n), "")),
            None => message,
        };
        (Some(renamed), fixed_names(&message))
    };
    match err {
        TranslateError::Invalid { param, message } => {
            let (param, message) = fix(param, message);
            TranslateError::Invalid { param, message }
        }
        TranslateError::Unsupported { param, message } => {
            let (param, message) = fix(param, message);
            TranslateError::Unsupported { param, message }
        }
        other => other,
    }
}

/// The `messages[N]` a chat param starts with, and `N`.
fn message_prefix(param: &str) -> Option<(&str, usize)> {
    let rest = param.strip_prefix("messages[")?;
    let close = rest.find(']')?;
    let n = rest[..close].parse().ok()?;
    Some((&param[..close + "messages[]".len()], n))
}

/// A chat param as the Responses request names it.
pub(crate) fn responses_param(param: &str, origins: &[Origin]) -> String {
    if param == "messages" {
        return "input".to_owned();
    }
    if let Some((quoted, n)) = message_prefix(param) {
        return origin_param(origins.get(n), &param[quoted.len()..]);
    }
    if let Some(rest) = param.strip_prefix("tools[") {
        // Responses function tools are flat: `tools[0].function.name` is `tools[0].name`.
        return format!("tools[{}", rest.replacen("].function", "]", 1));
    }
    fixed_names(param)
}

/// Chat's top-level request fields by their Responses names.
fn fixed_names(text: &str) -> String {
    text.replace("response_format.json_schema", "text.format")
        .replace("response_format", "text.format")
        .replace("reasoning_effort", "reasoning.effort")
        .replace("max_completion_tokens", "max_output_tokens")
}

/// The Responses param of `rest` (what follows `messages[N]`) in a message from `origin`.
fn origin_param(origin: Option<&Origin>, rest: &str) -> String {
    match origin {
        None => "input".to_owned(),
        Some(Origin::Instructions) => "instructions".to_owned(),
        Some(Origin::Message(base) | Origin::Output(base)) if base_only(base) => base.clone(),
        Some(Origin::Message(base)) => format!("{base}{}", part_path(rest)),
        Some(Origin::Output(base)) => {
            if let Some(tail) = rest.strip_prefix(".tool_call_id") {
                format!("{base}.call_id{tail}")
            } else if let Some(tail) = rest.strip_prefix(".content") {
                format!("{base}.output{}", part_path(tail))
            } else {
                base.clone()
            }
        }
        Some(Origin::Assistant { first, calls }) => call_param(calls, rest).unwrap_or_else(|| {
            if base_only(first) {
                first.clone()
            } else {
                format!("{first}{}", part_path(rest))
            }
        }),
    }
}

/// The param of a conversation item from the stored previous response: it names
/// `previous_response_id`, with nothing after it.
pub(crate) const PREVIOUS: &str = "previous_response_id";

fn base_only(base: &str) -> bool {
    base == PREVIOUS
}

/// `.tool_calls[k]…` of an assistant message as the field of the k-th `function_call` item.
fn call_param(calls: &[String], rest: &str) -> Option<String> {
    let rest = rest.strip_prefix(".tool_calls[")?;
    let close = rest.find(']')?;
    let call = calls.get(rest[..close].parse::<usize>().ok()?)?;
    if base_only(call) {
        return Some(call.clone());
    }
    let field = match &rest[close + 1..] {
        ".id" => ".call_id",
        ".function.name" => ".name",
        ".function.arguments" => ".arguments",
        _ => "",
    };
    Some(format!("{call}{field}"))
}

/// The fields of a content part path (`.content[2].image_url.url`) by their Responses names.
fn part_path(rest: &str) -> String {
    const FIELDS: [(&str, &str); 4] = [
        (".image_url.url", ".image_url"),
        (".file.", "."),
        (".cache_control.ttl", ".prompt_cache_breakpoint.ttl"),
        (".cache_control.type", ".prompt_cache_breakpoint"),
    ];
    let Some(start) = rest.find("].").map(|i| i + 1) else {
        return rest.to_owned();
    };
    let (head, tail) = rest.split_at(start);
    let tail = FIELDS
        .iter()
        .find_map(|(chat, responses)| {
            tail.strip_prefix(chat)
                .map(|after| format!("{responses}{after}"))
        })
        .unwrap_or_else(|| tail.to_owned());
    format!("{head}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> Vec<Origin> {
        vec![
            Origin::Instructions,
            Origin::Message("input[0]".to_owned()),
            Origin::Assistant {
                first: "input[1]".to_owned(),
                calls: vec!["input[2]".to_owned(), "input[4]".to_owned()],
            },
            Origin::Output("input[5]".to_owned()),
            Origin::Message("previous_response_id".to_owned()),
        ]
    }

    #[test]
    fn chat_params_name_the_responses_fields_they_came_from() {
        let cases = [
            ("messages", "input"),
            ("messages[0]", "instructions"),
            ("messages[0].content[1]", "instructions"),
            ("messages[1].content", "input[0].content"),
            (
                "messages[1].content[2].image_url.url",
                "input[0].content[2].image_url",
            ),
            (
                "messages[1].content[0].file.file_data",
                "input[0].content[0].file_data",
            ),
            (
                "messages[1].content[0].file.filename",
                "input[0].content[0].filename",
            ),
            ("messages[1].content[0]", "input[0].content[0]"),
            (
                "messages[1].content[3].cache_control.ttl",
                "input[0].content[3].prompt_cache_breakpoint.ttl",
            ),
            (
                "messages[2].tool_calls[1].function.arguments",
                "input[4].arguments",
            ),
            ("messages[2].tool_calls[0].function.name", "input[2].name"),
            ("messages[2].tool_calls[0].id", "input[2].call_id"),
            ("messages[2].content", "input[1].content"),
            ("messages[3].tool_call_id", "input[5].call_id"),
            ("messages[3].content", "input[5].output"),
            (
                "messages[3].content[1].image_url.url",
                "input[5].output[1].image_url",
            ),
            ("messages[4].content[0]", "previous_response_id"),
            ("messages[9].content", "input"),
            ("tools[2].function.name", "tools[2].name"),
            ("tools[1]", "tools[1]"),
            ("response_format.json_schema.schema", "text.format.schema"),
            ("reasoning_effort", "reasoning.effort"),
            ("max_completion_tokens", "max_output_tokens"),
        ];
        for (chat, responses) in cases {
            assert_eq!(responses_param(chat, &origins()), responses, "{chat}");
        }
    }

    #[test]
    fn the_message_names_the_same_field_where_it_quotes_the_param() {
        let err = TranslateError::invalid(
            "messages[2].content",
            "messages[2] has no content: Bedrock needs at least one non-empty block per turn",
        );
        match rename(err, &origins()) {
            TranslateError::Invalid { param, message } => {
                assert_eq!(param.as_deref(), Some("input[1].content"));
                assert!(message.starts_with("input[1] has no content"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
