//! The OpenAPI document the API describes itself with.

use super::*;

both_backends!(
    async fn the_openapi_document_is_served_without_a_token(app: TestApp) {
        let response = app
            .api(Method::GET, "/api/v1/openapi.json", None)
            .send()
            .await
            .expect("request");
        let document = api_json(response, StatusCode::OK).await;
        assert_eq!(document["openapi"], "3.1.0");
        assert_eq!(
            document,
            serde_json::to_value(backend::rest::document()).expect("json"),
            "the document served is the one the routes make"
        );
    }
);
