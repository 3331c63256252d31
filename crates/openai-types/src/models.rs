//! `GET /v1/models`: the model list.

use serde::{Deserialize, Serialize};

/// `{"object":"list","data":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelList {
    /// Always `"list"`.
    pub object: String,
    /// The models.
    pub data: Vec<Model>,
}

impl ModelList {
    /// A list of models.
    pub fn new(data: Vec<Model>) -> Self {
        Self {
            object: "list".to_owned(),
            data,
        }
    }
}

/// One model: `{"id","object":"model","created","owned_by"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    /// The model id, as clients send it in `model`.
    pub id: String,
    /// Always `"model"`.
    pub object: String,
    /// Unix seconds; 0 when unknown.
    pub created: u64,
    /// The model's provider (e.g. `anthropic`, `amazon`).
    pub owned_by: String,
}

impl Model {
    /// A model owned by `owned_by`.
    pub fn new(id: impl Into<String>, owned_by: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            object: "model".to_owned(),
            created: 0,
            owned_by: owned_by.into(),
        }
    }
}
