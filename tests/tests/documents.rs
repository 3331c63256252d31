//! End to end: OpenAI `file` content parts become Converse `document` blocks, and Bedrock's
//! document limits are enforced before anything is sent.

use e2e_tests::{Gateway, Mock};
use http::StatusCode;
use serde_json::{Value, json};

const HAIKU: &str = "anthropic.claude-3-haiku-20240307-v1:0";

/// `%PDF-1.4 a tiny mock document` (29 bytes), base64.
const PDF: &str = "JVBERi0xLjQgYSB0aW55IG1vY2sgZG9jdW1lbnQ=";
/// `a,b\n1,2\n` (8 bytes), base64.
const CSV: &str = "YSxiCjEsMgo=";

fn file(data: &str, media_type: &str, filename: &str) -> Value {
    json!({"type": "file", "file": {"file_data": format!("data:{media_type};base64,{data}"), "filename": filename}})
}

#[tokio::test]
async fn a_pdf_file_part_reaches_bedrock_as_a_document_block() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let (status, _, body) = gateway
        .chat(
            json!({"model": HAIKU, "messages": [{"role": "user", "content": [
                {"type": "text", "text": "Summarise"},
                file(PDF, "application/pdf", "Q3 report_final.pdf"),
                file(CSV, "text/csv", "Q3 report_final.csv"),
            ]}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "You said: Summarise [document pdf 'Q3 report-final' 29 bytes] [document csv 'Q3 report-final (2)' 8 bytes]"
    );
    let requests = mock.requests().await;
    let sent: Value = serde_json::from_str(requests[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        sent["messages"][0]["content"][1]["document"],
        json!({"format": "pdf", "name": "Q3 report-final",
               "source": {"bytes": PDF}})
    );
}

#[tokio::test]
async fn bedrocks_document_limits_are_400s_before_any_call() {
    let mock = Mock::start();
    let gateway = Gateway::start(&mock, &[], &[]);
    let pdf = file(PDF, "application/pdf", "a.pdf");
    let mut six = vec![json!({"type": "text", "text": "Read"})];
    six.extend(std::iter::repeat_n(pdf.clone(), 6));
    // 4,500,001 bytes of `x`: one over Bedrock's 4.5 MB.
    let big = file(
        &format!("{}eA==", "eHh4".repeat(1_500_000)),
        "text/plain",
        "big.txt",
    );
    let cases = [
        (json!(six), "messages[0].content[6]", "at most 5 documents"),
        (
            json!([{"type": "text", "text": "Read"}, big]),
            "messages[0].content[1].file.file_data",
            "at most 4500000 bytes",
        ),
        (
            json!([{"type": "text", "text": "Read"}, file(PDF, "application/pdf", "a.docx")]),
            "messages[0].content[1].file.filename",
            "says 'docx'",
        ),
        (json!([pdf]), "messages", "needs a text part"),
    ];
    for (content, param, needle) in cases {
        let (status, _, body) = gateway
            .chat(json!({"model": HAIKU, "messages": [{"role": "user", "content": content}]}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["param"], param, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{message}");
    }
    assert!(mock.requests().await.is_empty());
}
