import Logging
import PostgresNIO

/// The PostgreSQL schema, the same tables as `SQLiteSchema` where the semantics are shared.
///
/// Differences, and why:
/// - No `lane` and `bot_status_count` counter tables: with several nodes writing, one counter row per bot
///   would serialize every transaction of that bot. Pending lanes and counts are read from the partial
///   indexes over non-final messages instead.
/// - `message.seq` comes from a sequence. Two accepts in the same lane that run concurrently have no order
///   between them anyway; an accept that returned before another began always has the smaller seq.
/// - The ledger's `ok` and `ambiguous` stay integers, as in SQLite, so a row reads and hashes the same.
/// - Migrations run in one transaction under an advisory lock, so nodes starting together migrate once.
enum PostgresSchema {
    static let pending = "('queued', 'sending', 'waiting')"
    /// Key of the advisory lock that serializes migrations between nodes.
    static let migrationLock: Int64 = 0x7467_7265_6c61_7901

    /// Each migration is a list of statements (the extended protocol runs one statement per query).
    static let migrations: [(name: String, statements: [String])] = [
        ("v1", messages + chats + ledger),
        ("v2-callbacks", callbacks),
        ("v3-outbox", outbox),
        ("v4-proxy", proxy),
        ("v5-inbox", inbox),
        ("v6-leases", leases),
        ("v7-inbox-consumer", inboxConsumer),
        ("v8-update-numbering", updateNumbering),
        ("v9-nodes", [#"CREATE TABLE relay_node (node TEXT COLLATE "C" PRIMARY KEY, seen_at BIGINT NOT NULL)"#]),
        // A message row is rewritten twice after its insert (`sending`, then its outcome): room on its own
        // page keeps each new version there instead of extending the table.
        ("v10-message-fillfactor", ["ALTER TABLE message SET (fillfactor = 70)"]),
        ("v11-default-callback-trigger", defaultCallbackTrigger),
        ("v12-sending-since", sendingSince),
    ]

    /// The claim marks a message `sending` in a column of its own, leaving `status` and `updated_at` (which
    /// indexes cover) as they were: PostgreSQL then rewrites the row in place on its page (a HOT update)
    /// instead of adding an entry to every index, which made the claim half of the drain's statement time.
    /// Reads show such a message as `sending` (`PostgresRows.messageColumns`); its outcome, a transition and
    /// crash recovery clear the mark; a cancel skips marked messages. Rows an older version left with status
    /// `sending` become marked `waiting` ones (the status recovery gives them anyway).
    static let sendingSince = [
        "ALTER TABLE message ADD COLUMN sending_since BIGINT",
        "UPDATE message SET status = 'waiting', sending_since = updated_at WHERE status = 'sending'",
        "DROP INDEX message_sending",
    ]

    /// The final-callback trigger split in two, so that a message with no callback URL of its own runs no
    /// trigger function at all unless a default URL is configured (it cost as much as the rest of the
    /// outcome update): the second trigger is enabled only while `callback_setting` has a default URL
    /// (`setDefaultCallbackURL`).
    static let defaultCallbackTrigger = [
        "DROP TRIGGER message_final_callback ON message",
        """
        CREATE TRIGGER message_final_callback AFTER UPDATE OF status ON message FOR EACH ROW
        WHEN (OLD.status IN \(pending) AND NEW.status NOT IN \(pending) AND NEW.callback_url IS NOT NULL)
        EXECUTE FUNCTION message_final_callback()
        """,
        """
        CREATE TRIGGER message_final_default_callback AFTER UPDATE OF status ON message FOR EACH ROW
        WHEN (OLD.status IN \(pending) AND NEW.status NOT IN \(pending) AND NEW.callback_url IS NULL)
        EXECUTE FUNCTION message_final_callback()
        """,
        "ALTER TABLE message DISABLE TRIGGER message_final_default_callback",
        "UPDATE callback_setting SET default_url = NULL WHERE id = 1",
    ]

    /// Records the default callback URL for every node, and runs the default-URL trigger only while there
    /// is one. The trigger is switched only when it must change (`ALTER TABLE` waits for the message
    /// table's open transactions), before the setting's row is locked.
    static func setDefaultCallbackURL(_ url: String?, _ connection: PostgresConnection, logger: Logger) async throws {
        let enabled: Bool = try await connection.query(
            """
            SELECT tgenabled <> 'D' FROM pg_trigger
            WHERE tgrelid = 'message'::regclass AND tgname = 'message_final_default_callback'
            """, logger: logger
        ).all().first?.at(0) ?? false
        if enabled != (url != nil) {
            let action = url != nil ? "ENABLE" : "DISABLE"
            try await connection.query(
                PostgresQuery(unsafeSQL: "ALTER TABLE message \(action) TRIGGER message_final_default_callback"), logger: logger)
        }
        try await connection.query("UPDATE callback_setting SET default_url = \(url) WHERE id = 1", logger: logger)
    }

    /// Uploads kept until the message is final, and the proxy's payload index (see `SQLiteSchema`).
    static let proxy = [
        "ALTER TABLE message ADD COLUMN uploads INTEGER NOT NULL DEFAULT 0",
        """
        CREATE TABLE message_upload (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, message_id BIGINT NOT NULL, field TEXT NOT NULL,
            file_name TEXT, content_type TEXT, data BYTEA NOT NULL
        )
        """,
        "CREATE INDEX message_upload_message ON message_upload (message_id)",
        """
        CREATE FUNCTION message_upload_release() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM message_upload WHERE message_id = NEW.id;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE TRIGGER message_upload_release AFTER UPDATE OF status ON message FOR EACH ROW
        WHEN (NEW.uploads > 0 AND NEW.status IN ('delivered', 'cancelled', 'expired'))
        EXECUTE FUNCTION message_upload_release()
        """,
        """
        CREATE TABLE proxy_payload (
            bot TEXT COLLATE "C" NOT NULL, payload_hash TEXT NOT NULL, message_id BIGINT NOT NULL,
            PRIMARY KEY (bot, payload_hash)
        )
        """,
    ]

    /// Fallbacks and alerts share the callback outbox (see `SQLiteSchema`).
    static let outbox = [
        "ALTER TABLE callback ADD COLUMN payload TEXT",
        "ALTER TABLE callback ADD COLUMN cancel_on_fallback BOOLEAN NOT NULL DEFAULT false",
    ]

    /// Inbound updates and per-bot inbox settings (see `SQLiteSchema`), without the counter table.
    static let inbox = [
        """
        CREATE TABLE inbox_update (
            bot TEXT COLLATE "C" NOT NULL,
            update_id BIGINT NOT NULL,
            type TEXT NOT NULL,
            chat TEXT COLLATE "C",
            json TEXT NOT NULL,
            received_at BIGINT NOT NULL,
            state TEXT NOT NULL,
            push_tries INTEGER NOT NULL DEFAULT 0,
            next_push_at BIGINT NOT NULL,
            push_owed_since BIGINT NOT NULL,
            last_push_error TEXT,
            completed_at BIGINT,
            PRIMARY KEY (bot, update_id)
        )
        """,
        "CREATE INDEX inbox_pending ON inbox_update (bot, update_id) WHERE state = 'pending'",
        "CREATE INDEX inbox_pending_chat ON inbox_update (bot, chat, update_id) WHERE state = 'pending'",
        "CREATE INDEX inbox_failed ON inbox_update (bot, completed_at) WHERE state = 'failed'",
        "CREATE INDEX inbox_received ON inbox_update (received_at)",
        "CREATE INDEX inbox_bot_state ON inbox_update (bot, state)",
        """
        CREATE TABLE inbox_bot (
            bot TEXT COLLATE "C" PRIMARY KEY, last_update_id BIGINT, webhook_secret TEXT, push_url TEXT,
            push_secret_token TEXT, push_allowed_updates TEXT
        )
        """,
    ]

    /// setWebhook's `max_connections` and the app's sticky getUpdates `allowed_updates` (see `SQLiteSchema`).
    static let inboxConsumer = [
        "ALTER TABLE inbox_bot ADD COLUMN push_max_connections INTEGER",
        "ALTER TABLE inbox_bot ADD COLUMN consumer_allowed_updates TEXT",
    ]

    /// The relay's numbering of updates (see `SQLiteSchema`, `UpdateNumbering`).
    static let updateNumbering = [
        "ALTER TABLE inbox_bot ADD COLUMN update_id_shift BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE inbox_bot ADD COLUMN last_received_at BIGINT",
        "UPDATE inbox_bot SET last_received_at = (SELECT max(received_at) FROM inbox_update u WHERE u.bot = inbox_bot.bot)",
    ]

    /// One row per bot that a node ever dispatched for (see `LeaseStore`).
    static let leases = [
        """
        CREATE TABLE bot_lease (
            bot TEXT COLLATE "C" PRIMARY KEY, node TEXT NOT NULL, expires_at BIGINT NOT NULL, epoch BIGINT NOT NULL
        )
        """,
    ]

    private static let messages = [
        """
        CREATE TABLE message (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            seq BIGINT NOT NULL,
            bot TEXT COLLATE "C" NOT NULL,
            chat TEXT COLLATE "C" NOT NULL,
            method TEXT NOT NULL,
            params TEXT NOT NULL,
            payload_hash TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            not_before BIGINT,
            deadline BIGINT,
            idempotency_key TEXT,
            at_most_once BOOLEAN NOT NULL,
            callback_url TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            result TEXT,
            telegram_message_ids TEXT NOT NULL DEFAULT '',
            last_error TEXT,
            ambiguous BOOLEAN NOT NULL DEFAULT false
        )
        """,
        "CREATE SEQUENCE message_seq",
        "CREATE UNIQUE INDEX message_idempotency ON message (bot, idempotency_key) WHERE idempotency_key IS NOT NULL",
        "CREATE INDEX message_lane ON message (bot, chat, seq) WHERE status IN \(pending)",
        "CREATE INDEX message_pending_age ON message (bot, created_at) WHERE status IN \(pending)",
        "CREATE INDEX message_sending ON message (bot) WHERE status = 'sending'",
        "CREATE INDEX message_failed ON message (updated_at, id) WHERE status = 'failed'",
        "CREATE INDEX message_bot_status ON message (bot, status)",
    ]

    private static let chats = [
        """
        CREATE TABLE chat_migration (
            bot TEXT COLLATE "C" NOT NULL, from_chat TEXT NOT NULL, to_chat TEXT NOT NULL, migrated_at BIGINT NOT NULL,
            PRIMARY KEY (bot, from_chat)
        )
        """,
        """
        CREATE TABLE inactive_chat (
            bot TEXT COLLATE "C" NOT NULL, chat TEXT COLLATE "C" NOT NULL, reason TEXT NOT NULL, since BIGINT NOT NULL,
            PRIMARY KEY (bot, chat)
        )
        """,
    ]

    /// `ledger_chain` holds the anchor and the head, as in SQLite. Appending locks its one row (`FOR UPDATE`)
    /// in the appending transaction, which serializes appends from every node: each row links to the head
    /// that was committed before it.
    private static let ledger = [
        """
        CREATE TABLE ledger (
            seq BIGINT PRIMARY KEY,
            at BIGINT NOT NULL,
            message_id BIGINT NOT NULL,
            bot TEXT COLLATE "C" NOT NULL,
            chat TEXT COLLATE "C" NOT NULL,
            method TEXT NOT NULL,
            payload_hash TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            http_status INTEGER,
            ok INTEGER NOT NULL,
            error_code INTEGER,
            description TEXT,
            retry_after INTEGER,
            telegram_message_ids TEXT NOT NULL,
            duration_us BIGINT NOT NULL,
            response_body TEXT,
            outcome TEXT NOT NULL,
            ambiguous INTEGER NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )
        """,
        "CREATE INDEX ledger_message ON ledger (message_id)",
        "CREATE INDEX ledger_chat ON ledger (chat, bot)",
        "CREATE INDEX ledger_at ON ledger (at)",
        """
        CREATE TABLE ledger_chain (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            anchor_seq BIGINT NOT NULL, anchor_hash TEXT NOT NULL,
            head_seq BIGINT NOT NULL, head_hash TEXT NOT NULL
        )
        """,
        """
        INSERT INTO ledger_chain (id, anchor_seq, anchor_hash, head_seq, head_hash)
            VALUES (1, 0, '\(LedgerHash.genesis)', 0, '\(LedgerHash.genesis)')
        """,
    ]

    /// Status callbacks, enqueued by a trigger in the statement that makes a message final (see `SQLiteSchema`).
    private static let callbacks = [
        """
        CREATE TABLE callback (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            message_id BIGINT NOT NULL,
            url TEXT NOT NULL,
            event TEXT NOT NULL,
            bot TEXT COLLATE "C" NOT NULL,
            chat TEXT COLLATE "C" NOT NULL,
            message_attempts INTEGER NOT NULL,
            telegram_message_ids TEXT NOT NULL,
            last_error TEXT,
            ambiguous BOOLEAN NOT NULL,
            at BIGINT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            tries INTEGER NOT NULL DEFAULT 0,
            next_attempt_at BIGINT NOT NULL,
            last_attempt_error TEXT,
            completed_at BIGINT
        )
        """,
        "CREATE INDEX callback_due ON callback (next_attempt_at, id) WHERE state = 'pending'",
        "CREATE INDEX callback_state ON callback (state, id)",
        "CREATE INDEX callback_message ON callback (message_id)",
        "CREATE TABLE callback_setting (id INTEGER PRIMARY KEY CHECK (id = 1), default_url TEXT)",
        "INSERT INTO callback_setting (id, default_url) VALUES (1, NULL)",
        """
        CREATE FUNCTION message_final_callback() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO callback (
                message_id, url, event, bot, chat, message_attempts, telegram_message_ids, last_error, ambiguous,
                at, next_attempt_at)
            SELECT NEW.id, coalesce(NEW.callback_url, s.default_url), NEW.status, NEW.bot, NEW.chat, NEW.attempts,
                NEW.telegram_message_ids, NEW.last_error, NEW.ambiguous, NEW.updated_at, NEW.updated_at
            FROM callback_setting s WHERE s.id = 1 AND coalesce(NEW.callback_url, s.default_url) IS NOT NULL;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE TRIGGER message_final_callback AFTER UPDATE OF status ON message FOR EACH ROW
        WHEN (OLD.status IN \(pending) AND NEW.status NOT IN \(pending))
        EXECUTE FUNCTION message_final_callback()
        """,
    ]

    /// Applies the migrations not applied yet, in one transaction; returns the names applied.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> [String] {
        try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
        try await connection.query(
            "CREATE TABLE IF NOT EXISTS schema_migration (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            logger: logger)
        var applied: Set<String> = []
        for try await name in try await connection.query("SELECT name FROM schema_migration", logger: logger).decode(String.self) {
            applied.insert(name)
        }
        var done: [String] = []
        for migration in migrations where !applied.contains(migration.name) {
            for statement in migration.statements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await connection.query("INSERT INTO schema_migration (name) VALUES (\(migration.name))", logger: logger)
            done.append(migration.name)
        }
        return done
    }
}
