namespace MailCluster.Api;

/// <summary>
/// The OpenAPI 3.1 document of the injection listener, served at <c>GET /api/inject/v1/openapi.json</c>. Written by
/// hand: <c>content</c> is a string or an object (<c>oneOf</c>), which a schema generated from C# types would not say;
/// <c>InjectOpenApiTests</c> checks it against the fields <see cref="Requests.InjectRequestReader"/> reads.
/// </summary>
public static class InjectOpenApi
{
    public const string Document = """
    {
      "openapi": "3.1.0",
      "info": { "title": "MailCluster HTTP injection", "version": "v1",
        "description": "KumoMTA-compatible inject/v1. One message per recipient; 200 only when every message is durable." },
      "components": {
        "securitySchemes": { "key": { "type": "http", "scheme": "bearer", "description": "An API key secret (scope http)." } },
        "schemas": {
          "Address": { "type": "object", "required": ["email"],
            "properties": { "email": { "type": "string" }, "name": { "type": "string" } } },
          "Attachment": { "type": "object", "required": ["data"],
            "properties": { "data": { "type": "string" }, "base64": { "type": "boolean" }, "content_type": { "type": "string" },
              "file_name": { "type": "string" }, "content_id": { "type": "string" } } },
          "Content": { "oneOf": [
            { "type": "string", "description": "A complete RFC 5322 message; a Liquid template as a whole." },
            { "type": "object", "properties": {
                "subject": { "type": "string" }, "text_body": { "type": "string" }, "html_body": { "type": "string" },
                "headers": { "type": "object", "additionalProperties": { "type": "string" } },
                "from": { "$ref": "#/components/schemas/Address" }, "reply_to": { "$ref": "#/components/schemas/Address" },
                "attachments": { "type": "array", "items": { "$ref": "#/components/schemas/Attachment" } } } } ] },
          "Recipient": { "type": "object", "required": ["email"],
            "properties": { "email": { "type": "string" }, "name": { "type": "string" },
              "substitutions": { "type": "object", "additionalProperties": true } } },
          "InjectRequest": { "type": "object", "required": ["envelope_sender", "content", "recipients"],
            "properties": {
              "envelope_sender": { "type": "string", "description": "The envelope sender; empty for the null sender." },
              "content": { "$ref": "#/components/schemas/Content" },
              "recipients": { "type": "array", "minItems": 1, "items": { "$ref": "#/components/schemas/Recipient" } },
              "substitutions": { "type": "object", "additionalProperties": true },
              "template_dialect": { "type": "string", "enum": ["Liquid", "Static"] },
              "meta": { "type": "object", "additionalProperties": true, "description": "Carried with each message for its delivery events." } } },
          "InjectResponse": { "type": "object",
            "properties": { "success_count": { "type": "integer" }, "fail_count": { "type": "integer" },
              "failed_recipients": { "type": "array", "items": { "type": "string" } },
              "errors": { "type": "array", "items": { "type": "string" } },
              "queue_ids": { "type": "array", "items": { "type": ["string", "null"] } } } },
          "Problem": { "type": "object",
            "properties": { "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
              "detail": { "type": "string" }, "field": { "type": "string", "description": "The input to blame." } } }
        }
      },
      "security": [ { "key": [] } ],
      "paths": {
        "/api/inject/v1": {
          "post": {
            "operationId": "inject",
            "parameters": [ { "name": "Idempotency-Key", "in": "header", "required": false, "schema": { "type": "string", "maxLength": 255 },
              "description": "The same key and body within 24 hours answer the first result and queue nothing new." } ],
            "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/InjectRequest" } } } },
            "responses": {
              "200": { "description": "Every message is durable.", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/InjectResponse" } } } },
              "400": { "description": "Malformed JSON or Idempotency-Key.", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
              "401": { "description": "Missing, unknown or disabled key.", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
              "403": { "description": "A sender outside the key's senders.", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
              "409": { "description": "A request with this Idempotency-Key is in progress.", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
              "413": { "description": "Body, attachment or generated message too large.", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
              "422": { "description": "A missing, wrong-typed or invalid field, a template error, or an Idempotency-Key reused with another body.", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
              "429": { "description": "Over the key's quota; see Retry-After.", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
              "503": { "description": "Some messages could not be made durable; the problem carries the per-recipient answer (queue_ids of those queued).", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } }
            }
          }
        }
      }
    }
    """;
}
