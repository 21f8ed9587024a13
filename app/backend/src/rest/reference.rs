//! The REST API's reference for people (`/api/docs`): the OpenAPI document
//! of `/api/v1` read into plain data the page renders. It reads the JSON:
//! utoipa's types are awkward to walk (references, `oneOf` for optional
//! values), its JSON is not.

use domain::Permission;
use domain::wire::{
    ApiGroup, ApiOperation, ApiParameter, ApiPermission, ApiProperty, ApiReference, ApiResponse,
    ApiSchema, ApiType,
};
use serde_json::Value;
use std::sync::OnceLock;

/// The reference, made once from the document.
pub fn reference() -> ApiReference {
    static REFERENCE: OnceLock<ApiReference> = OnceLock::new();
    REFERENCE
        .get_or_init(|| {
            serde_json::to_value(super::document())
                .map(|json| reference_from(&json))
                .unwrap_or_default()
        })
        .clone()
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn entries(value: Option<&Value>) -> impl Iterator<Item = (&String, &Value)> {
    value.and_then(Value::as_object).into_iter().flatten()
}

fn items(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.and_then(Value::as_array).into_iter().flatten()
}

fn reference_from(document: &Value) -> ApiReference {
    let info = &document["info"];
    let mut groups: Vec<ApiGroup> = items(document.get("tags"))
        .map(|tag| ApiGroup {
            name: text(tag, "name"),
            description: text(tag, "description"),
            operations: Vec::new(),
        })
        .collect();
    for (path, item) in entries(document.get("paths")) {
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let tag = items(operation.get("tags"))
                .find_map(Value::as_str)
                .unwrap_or("Other")
                .to_owned();
            let group = match groups.iter().position(|g| g.name == tag) {
                Some(index) => index,
                None => {
                    groups.push(ApiGroup {
                        name: tag,
                        ..ApiGroup::default()
                    });
                    groups.len() - 1
                }
            };
            groups[group]
                .operations
                .push(self::operation(method, path, item, operation));
        }
    }
    groups.retain(|g| !g.operations.is_empty());
    ApiReference {
        title: text(info, "title"),
        version: text(info, "version"),
        description: text(info, "description"),
        groups,
        schemas: entries(document.pointer("/components/schemas"))
            .map(|(name, schema)| self::schema(name, schema))
            .collect(),
    }
}

fn operation(method: &str, path: &str, item: &Value, operation: &Value) -> ApiOperation {
    let anchor = format!("{method}{path}")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let permission = operation
        .get("x-permission")
        .and_then(Value::as_str)
        .map(|key| ApiPermission {
            key: key.to_owned(),
            label: Permission::from_key(key)
                .map(|p| p.label().to_owned())
                .unwrap_or_default(),
        });
    let mut responses: Vec<ApiResponse> = entries(operation.get("responses"))
        .map(|(status, response)| ApiResponse {
            status: status.clone(),
            description: text(response, "description"),
            body: content_type(response.get("content")),
        })
        .collect();
    responses.sort_by(|a, b| a.status.cmp(&b.status));
    ApiOperation {
        method: method.to_uppercase(),
        path: path.to_owned(),
        anchor,
        summary: text(operation, "summary"),
        description: text(operation, "description"),
        permission,
        // Parameters of the path item apply to each of its operations.
        parameters: items(item.get("parameters"))
            .chain(items(operation.get("parameters")))
            .map(|p| ApiParameter {
                name: text(p, "name"),
                location: text(p, "in"),
                required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                kind: type_of(p.get("schema").unwrap_or(&Value::Null)),
                description: text(p, "description"),
            })
            .collect(),
        request_body: operation
            .get("requestBody")
            .and_then(|body| content_type(body.get("content"))),
        responses,
    }
}

/// The type of the first media type's schema.
fn content_type(content: Option<&Value>) -> Option<ApiType> {
    entries(content)
        .find_map(|(_, media)| media.get("schema"))
        .map(type_of)
}

fn schema(name: &str, schema: &Value) -> ApiSchema {
    let required: Vec<&str> = items(schema.get("required"))
        .filter_map(Value::as_str)
        .collect();
    let mut enum_values: Vec<String> = items(schema.get("enum")).map(value_text).collect();
    // An enumeration written as a choice of single values.
    for choice in items(schema.get("oneOf")) {
        enum_values.extend(items(choice.get("enum")).map(value_text));
    }
    ApiSchema {
        name: name.to_owned(),
        description: text(schema, "description"),
        properties: entries(schema.get("properties"))
            .map(|(property, value)| ApiProperty {
                name: property.clone(),
                kind: type_of(value),
                required: required.contains(&property.as_str()),
                description: text(value, "description"),
            })
            .collect(),
        enum_values,
    }
}

fn value_text(value: &Value) -> String {
    value
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| value.to_string())
}

/// `string`, `integer (int64)`, `array of User`, `User or null`, …
pub(crate) fn type_of(schema: &Value) -> ApiType {
    let mut names = Vec::new();
    let text = describe(schema, &mut names);
    names.dedup();
    ApiType {
        text,
        schema: (names.len() == 1).then(|| names.remove(0)),
    }
}

fn describe(schema: &Value, names: &mut Vec<String>) -> String {
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let name = target.rsplit('/').next().unwrap_or(target).to_owned();
        names.push(name.clone());
        return name;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(choices) = schema.get(key).and_then(Value::as_array) {
            // "User or null" reads better than "null or User".
            let mut texts: Vec<String> = choices
                .iter()
                .map(|choice| describe(choice, names))
                .collect();
            texts.sort_by_key(|t| t == "null");
            return texts.join(" or ");
        }
    }
    if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
        return parts
            .iter()
            .map(|part| describe(part, names))
            .collect::<Vec<_>>()
            .join(" and ");
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.is_empty() {
        return if schema.get("enum").is_some() {
            "one of the values listed".to_owned()
        } else {
            "any".to_owned()
        };
    }
    types
        .into_iter()
        .map(|kind| match kind {
            "array" => format!(
                "array of {}",
                describe(schema.get("items").unwrap_or(&Value::Null), names)
            ),
            other => match schema.get("format").and_then(Value::as_str) {
                Some(format) if other != "null" => format!("{other} ({format})"),
                _ => other.to_owned(),
            },
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_lists_every_operation_with_its_permission() {
        let json = serde_json::to_value(crate::rest::document()).expect("json");
        let reference = reference_from(&json);
        let operations: Vec<&ApiOperation> = reference
            .groups
            .iter()
            .flat_map(|g| &g.operations)
            .collect();
        assert!(operations.len() >= 13, "{}", operations.len());
        let create = operations
            .iter()
            .find(|o| o.method == "POST" && o.path == "/api/v1/users")
            .expect("POST /api/v1/users");
        assert_eq!(
            create.permission.as_ref().map(|p| p.key.as_str()),
            Some("users.manage")
        );
        assert_eq!(
            create
                .request_body
                .as_ref()
                .and_then(|t| t.schema.as_deref()),
            Some("NewUser")
        );
        assert!(create.responses.iter().any(|r| r.status == "201"));
        let anchors: std::collections::BTreeSet<&str> =
            operations.iter().map(|o| o.anchor.as_str()).collect();
        assert_eq!(anchors.len(), operations.len(), "anchors are unique");
        let problem = reference
            .schemas
            .iter()
            .find(|s| s.name == "Problem")
            .expect("Problem schema");
        assert!(
            problem
                .properties
                .iter()
                .any(|p| p.name == "type" && p.required)
        );
    }

    #[test]
    fn types_read_as_text() {
        let optional = serde_json::json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/StateFilter"}]});
        assert_eq!(
            type_of(&optional),
            ApiType {
                text: "StateFilter or null".into(),
                schema: Some("StateFilter".into())
            }
        );
        let list =
            serde_json::json!({"type": "array", "items": {"type": "integer", "format": "int64"}});
        assert_eq!(type_of(&list).text, "array of integer (int64)");
        let nullable = serde_json::json!({"type": ["string", "null"]});
        assert_eq!(type_of(&nullable).text, "string or null");
    }
}
