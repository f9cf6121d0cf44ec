/// The REST API described for clients and tools, served at `/openapi.json`.
enum OpenAPIDocument {
    static let json = #"""
    {
      "openapi": "3.1.0",
      "info": {"title": "tgrelay", "version": "1.0.0",
               "description": "Durable, ordered, rate-exact delivery to the Telegram Bot API. Authenticate with `Authorization: Bearer <key>` when an API key is configured; without one the API answers on loopback only."},
      "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
          "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "description": "machine-readable: malformed_json, unknown_bot, unknown_method, missing_field, invalid_field, invalid_chat_id, empty_text, text_too_long, caption_too_long, body_too_large, batch_too_large, idempotency_conflict, callbacks_not_configured, not_found, malformed_update, not_cancellable, unauthorized, loopback_only, store_unavailable"},
            "message": {"type": "string"}, "field": {"type": "string", "description": "the offending field, e.g. params.text or messages[3].params.chat_id"}}}}},
          "NewMessage": {"type": "object", "description": "Full form; the shorthand {\"chat_id\":…, \"text\":…} means sendMessage on the default bot.", "properties": {
            "bot": {"type": "string", "default": "default"}, "method": {"type": "string", "default": "sendMessage"},
            "params": {"type": "object", "description": "Bot API parameters, chat_id required"},
            "idempotency_key": {"type": "string", "maxLength": 256}, "ttl_seconds": {"type": "number"},
            "deliver_by": {"type": "string", "format": "date-time"}, "callback_url": {"type": "string", "format": "uri", "description": "receives a signed POST on the final state; needs callbacks.secret"},
            "at_most_once": {"type": "boolean", "default": false, "description": "dead-letter as outcome_unknown instead of retrying an ambiguous attempt"},
            "fallback_url": {"type": "string", "format": "uri", "description": "receives the message (signed POST, event message.fallback) if it is still undelivered after fallback_after_seconds; defaults to the bot's bot.<name>.fallback_url; needs callbacks.secret"},
            "fallback_after_seconds": {"type": "number", "exclusiveMinimum": 0, "description": "defaults to the bot's bot.<name>.fallback_after_seconds"},
            "cancel_on_fallback": {"type": "boolean", "default": false, "description": "cancel the Telegram delivery when the fallback is sent (unless a send is in flight)"}}},
          "Accepted": {"type": "object", "properties": {"id": {"type": "integer"}, "status": {"type": "string"}}},
          "Message": {"type": "object", "properties": {
            "id": {"type": "integer"}, "bot": {"type": "string"}, "chat_id": {"type": "string"}, "method": {"type": "string"},
            "status": {"type": "string", "enum": ["queued", "sending", "waiting", "delivered", "failed", "expired", "cancelled"]},
            "attempts": {"type": "integer"}, "message_id": {"type": "integer"}, "last_error": {"type": "string"},
            "ambiguous": {"type": "boolean"}, "created_at": {"type": "string"}, "updated_at": {"type": "string"},
            "deliver_by": {"type": "string"}, "next_attempt_at": {"type": "string"}, "params": {"type": "object"}, "result": {}}},
          "LedgerEntry": {"type": "object", "properties": {
            "seq": {"type": "integer"}, "at": {"type": "string"}, "message_id": {"type": "integer"}, "bot": {"type": "string"},
            "chat_id": {"type": "string"}, "method": {"type": "string"}, "payload_sha256": {"type": "string"}, "endpoint": {"type": "string"},
            "http_status": {"type": "integer"}, "ok": {"type": "boolean"}, "error_code": {"type": "integer"}, "description": {"type": "string"},
            "retry_after": {"type": "integer"}, "telegram_message_ids": {"type": "array", "items": {"type": "integer"}},
            "duration_ms": {"type": "number"}, "response_body": {"type": "string"}, "outcome": {"type": "string"},
            "ambiguous": {"type": "boolean"}, "prev_hash": {"type": "string"}, "hash": {"type": "string"}}}
        },
        "responses": {"Error": {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}
      },
      "security": [{"bearer": []}],
      "paths": {
        "/v1/messages": {"post": {"summary": "Accept one message (202 only after a durable commit)",
          "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}],
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewMessage"}}}},
          "responses": {"202": {"description": "stored", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Accepted"}}}},
                        "200": {"description": "same idempotency key and payload: the existing message", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}},
                        "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"},
                        "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"},
                        "413": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/v1/messages/batch": {"post": {"summary": "Accept up to 1000 messages in one transaction",
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"messages": {"type": "array", "items": {"$ref": "#/components/schemas/NewMessage"}}}}}}},
          "responses": {"202": {"description": "one entry per message, in order; an entry is {id,status}, {id,status,existing:true} or {error}"}, "400": {"$ref": "#/components/responses/Error"}, "413": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/v1/broadcasts": {"post": {"summary": "One payload to many chats, each its own message and lane",
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["chat_ids", "params"], "properties": {
            "bot": {"type": "string"}, "method": {"type": "string"}, "params": {"type": "object"}, "chat_ids": {"type": "array", "items": {}},
            "idempotency_key": {"type": "string", "description": "per chat, the key becomes <key>:<chat_id>"}, "ttl_seconds": {"type": "number"}}}}}},
          "responses": {"202": {"description": "one entry per chat"}, "400": {"$ref": "#/components/responses/Error"}}}},
        "/v1/messages/{id}": {
          "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
          "get": {"summary": "Status, attempts, Telegram message_id, last error", "responses": {"200": {"description": "the message", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}}, "404": {"$ref": "#/components/responses/Error"}}},
          "delete": {"summary": "Cancel a message not yet sent", "responses": {"200": {"description": "cancelled"}, "404": {"$ref": "#/components/responses/Error"}, "409": {"$ref": "#/components/responses/Error"}}}},
        "/v1/dead-letters": {"get": {"summary": "Failed messages, newest first",
          "parameters": [{"name": "bot", "in": "query", "schema": {"type": "string"}}, {"name": "chat_id", "in": "query", "schema": {"type": "string"}}, {"name": "reason", "in": "query", "schema": {"type": "string"}}, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
          "responses": {"200": {"description": "{dead_letters: [Message]}"}}}},
        "/v1/dead-letters/{id}/replay": {"post": {"summary": "Queue a dead letter again at the end of its lane", "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}], "responses": {"200": {"description": "the message"}, "404": {"$ref": "#/components/responses/Error"}}}},
        "/v1/dead-letters/replay": {"post": {"summary": "Replay every dead letter matching bot / chat_id / reason", "responses": {"200": {"description": "{replayed, ids}"}}}},
        "/v1/ledger": {"get": {"summary": "Ledger rows, filtered",
          "parameters": [{"name": "message_id", "in": "query", "schema": {"type": "integer"}}, {"name": "chat_id", "in": "query", "schema": {"type": "string"}}, {"name": "bot", "in": "query", "schema": {"type": "string"}}, {"name": "since", "in": "query", "schema": {"type": "string"}}, {"name": "until", "in": "query", "schema": {"type": "string"}}, {"name": "after_seq", "in": "query", "schema": {"type": "integer"}}, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
          "responses": {"200": {"description": "{entries: [LedgerEntry]}"}}}},
        "/v1/ledger/export": {"get": {"summary": "The ledger as JSON Lines (same filters)", "responses": {"200": {"description": "application/x-ndjson"}}}},
        "/v1/chats/{bot}/{chat}/reactivate": {"post": {"summary": "Mark a chat active again after a 403",
          "parameters": [{"name": "bot", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "chat", "in": "path", "required": true, "schema": {"type": "string"}, "description": "chat id or @username"}],
          "responses": {"200": {"description": "reactivated"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
        "/v1/chats/inactive": {"get": {"summary": "Chats that answered 403", "responses": {"200": {"description": "{inactive_chats}"}}}},
        "/v1/callbacks": {"get": {"summary": "The outbox, newest first: status callbacks (POSTed on every final state), fallbacks and alerts",
          "parameters": [{"name": "status", "in": "query", "schema": {"type": "string", "enum": ["pending", "delivered", "failed", "skipped"]}}, {"name": "message_id", "in": "query", "schema": {"type": "integer"}}, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
          "responses": {"200": {"description": "{callbacks: [{id, message_id, url, event, status, tries, owed_since, next_attempt_at, last_error, completed_at}]}"}, "400": {"$ref": "#/components/responses/Error"}}}},
        "/v1/status": {"get": {"summary": "Per bot: queue depth, oldest waiting message, counts, circuit state, and `inbox` (stored, unconfirmed, oldest_unconfirmed_seconds, push_failed, last_update_id, mode, last_poll_at, last_error, polling_conflict_since); the alerts holding now", "responses": {"200": {"description": "{bots: [...], alerts: [{alert, bot, endpoint, since, detail}], time}"}}}},
        "/bot{token}/{method}": {
          "parameters": [{"name": "token", "in": "path", "required": true, "schema": {"type": "string"}, "description": "a configured bot's token; any other gets Telegram's 401"},
                         {"name": "method", "in": "path", "required": true, "schema": {"type": "string"}, "description": "a Bot API method (case-insensitive)"},
                         {"name": "X-Tgrelay-Wait", "in": "header", "schema": {"type": "number", "minimum": 0, "maximum": 600}, "description": "seconds a send waits for delivery; 0 answers at once with the queued status"},
                         {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}, "description": "sends: an explicit key instead of the payload-based dedup window"}],
          "get": {"security": [], "summary": "Bot API proxy (parameters as query string)", "responses": {"200": {"description": "Telegram's answer, unchanged"}, "401": {"description": "unknown token"}, "429": {"description": "still queued: retry after parameters.retry_after, the resend attaches to the same message"}}},
          "post": {"security": [], "summary": "Bot API proxy: sends go through the durable outbox and return Telegram's real answer; other methods pass through",
            "requestBody": {"content": {"application/json": {}, "application/x-www-form-urlencoded": {}, "multipart/form-data": {}}},
            "responses": {"200": {"description": "Telegram's answer, unchanged"}, "202": {"description": "X-Tgrelay-Wait: 0 and still queued: {ok:true, result:{relay_message_id, status}}"}, "401": {"description": "unknown token"}, "429": {"description": "still queued: retry after parameters.retry_after, the resend attaches to the same message"}}}},
        "/file/bot{token}/**": {
          "parameters": [{"name": "token", "in": "path", "required": true, "schema": {"type": "string"}}],
          "get": {"security": [], "summary": "File download, passed through (the path is getFile's file_path)", "responses": {"200": {"description": "the file"}, "401": {"description": "unknown token"}}}},
        "/v1/inbox/failed": {"get": {"summary": "Pushes of inbound updates to the app that were given up, newest first",
          "parameters": [{"name": "bot", "in": "query", "schema": {"type": "string"}}, {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
          "responses": {"200": {"description": "{failed: [{bot, update_id, type, chat_id, tries, received_at, owed_since, last_error}]}"}, "400": {"$ref": "#/components/responses/Error"}}}},
        "/v1/inbox/{bot}/replay": {"post": {"summary": "Push failed updates again, in order per chat (all of the bot's, or the update_ids given)",
          "parameters": [{"name": "bot", "in": "path", "required": true, "schema": {"type": "string"}}],
          "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "properties": {"update_ids": {"type": "array", "items": {"type": "integer"}}}}}}},
          "responses": {"200": {"description": "{replayed, update_ids}"}, "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
        "/telegram/{bot}/webhook": {"post": {"security": [], "summary": "Telegram's webhook for a bot in webhook mode (tgrelay webhook set): 200 only after the update is committed; duplicates are ignored",
          "parameters": [{"name": "bot", "in": "path", "required": true, "schema": {"type": "string"}}, {"name": "X-Telegram-Bot-Api-Secret-Token", "in": "header", "required": true, "schema": {"type": "string"}, "description": "the secret set by tgrelay webhook set, compared in constant time"}],
          "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "a Telegram Update"}}}},
          "responses": {"200": {"description": "stored (or already stored)"}, "400": {"$ref": "#/components/responses/Error"}, "401": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/healthz": {"get": {"security": [], "summary": "Process is up", "responses": {"200": {"description": "ok"}}}},
        "/readyz": {"get": {"security": [], "summary": "Store answers", "responses": {"200": {"description": "ready"}, "503": {"$ref": "#/components/responses/Error"}}}},
        "/openapi.json": {"get": {"security": [], "summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}}}}
      }
    }
    """#
}
