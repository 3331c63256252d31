//! Converse citations -> `output_text` annotations.
//!
//! A cited Converse block (`citationsContent`, or a streamed text block with `citation`
//! deltas) is one message item whose text is the cited text, so each citation spans the whole
//! text: `start_index` 0 to `end_index` its length, in characters (Unicode scalar values, as
//! Python counts them). A `web` location is a `url_citation`; any other location (a
//! document's characters, pages or chunks) is a `file_citation` naming the document by the
//! citation's `title` (Bedrock's document name) in `file_id` and `filename`, inserted at the
//! end of the text (`index`).

use serde_json::{Value, json};

use crate::converse::Citation;

/// The annotation of `citation` on a text of `len` characters.
pub fn annotation(citation: &Citation, len: usize) -> Value {
    let location = citation.location.as_ref();
    if let Some(web) = location.and_then(|l| l.get("web")) {
        let url = web.get("url").and_then(Value::as_str).unwrap_or_default();
        let title = citation
            .title
            .as_deref()
            .or_else(|| web.get("domain").and_then(Value::as_str))
            .unwrap_or(url);
        return json!({"type": "url_citation", "url": url, "title": title,
            "start_index": 0, "end_index": len});
    }
    let name = document_name(citation);
    json!({"type": "file_citation", "file_id": name, "filename": name, "index": len})
}

/// The cited document's name: the citation's title or source, else `document <index>`.
fn document_name(citation: &Citation) -> String {
    if let Some(name) = citation.title.as_ref().or(citation.source.as_ref()) {
        return name.clone();
    }
    let index = citation
        .location
        .as_ref()
        .and_then(Value::as_object)
        .and_then(|l| l.values().find_map(|v| v.get("documentIndex")))
        .and_then(Value::as_u64)
        .unwrap_or_default();
    format!("document {index}")
}

/// The annotations of `citations` on `text`.
pub fn annotations(citations: &[Citation], text: &str) -> Vec<Value> {
    let len = text.chars().count();
    citations.iter().map(|c| annotation(c, len)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn citation(value: Value) -> Citation {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn web_locations_are_url_citations_and_documents_file_citations() {
        let cases = [
            (
                json!({"title": "Paris weather", "location": {"web": {"url": "https://w.example/p", "domain": "w.example"}}}),
                json!({"type": "url_citation", "url": "https://w.example/p", "title": "Paris weather", "start_index": 0, "end_index": 5}),
            ),
            (
                json!({"location": {"web": {"url": "https://w.example/p", "domain": "w.example"}}}),
                json!({"type": "url_citation", "url": "https://w.example/p", "title": "w.example", "start_index": 0, "end_index": 5}),
            ),
            (
                json!({"title": "report.pdf", "sourceContent": [{"text": "x"}], "location": {"documentPage": {"documentIndex": 0, "start": 1, "end": 2}}}),
                json!({"type": "file_citation", "file_id": "report.pdf", "filename": "report.pdf", "index": 5}),
            ),
            (
                json!({"location": {"documentChar": {"documentIndex": 2, "start": 0, "end": 9}}}),
                json!({"type": "file_citation", "file_id": "document 2", "filename": "document 2", "index": 5}),
            ),
        ];
        // "Ça va": 5 characters (6 bytes).
        for (bedrock, annotation) in cases {
            let got = annotations(&[citation(bedrock.clone())], "Ça va");
            assert_eq!(got, [annotation], "{bedrock}");
        }
    }
}
