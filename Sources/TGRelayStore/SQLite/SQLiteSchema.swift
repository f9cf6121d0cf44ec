import GRDB

/// The SQLite schema, created and upgraded by GRDB's migrator (each migration runs once, in a transaction).
///
/// Design notes:
/// - `message.seq` orders a lane: a global counter (`sequence`) hands out increasing values at accept and
///   again at replay, which moves a replayed message to the end of its lane. Migration keeps seqs, so a
///   re-targeted lane merges with the new one in accept order.
/// - Partial indexes cover only non-final messages, so lane heads stay O(log n) however many delivered
///   messages accumulate, and they cost nothing once a message is final.
/// - `lane` and `bot_status_count` are kept exact by triggers on update and delete, so every statement that
///   changes a message keeps them right; `pendingLanes` and `counts` then read a row per lane or per
///   (bot, status). Inserts happen only in `accept`, which adds its counts once per lane and per bot
///   (`SQLiteAccept`) instead of a trigger per row, which cost about a third of the insert time.
/// - `sending` is not stored in `message.status` (since v10): marking a lane head `sending` is a row in the
///   small `sending_mark` table, and the message row keeps `queued` or `waiting` until its attempt is
///   recorded. Rewriting the row and its three status indexes for the mark, and again for the outcome,
///   cost a scattered page each; the marks of in-flight sends fit in a few pages. Reads show `sending`
///   through `MessageRow.sqliteColumns`.
/// - Times are integer milliseconds since 1970, durations integer microseconds.
enum SQLiteSchema {
    static let pending = "('queued', 'sending', 'waiting')"

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: messages + lanesAndCounts + chats + ledger)
        }
        migrator.registerMigration("v2-callbacks") { db in
            try db.execute(sql: callbacks)
        }
        migrator.registerMigration("v3-outbox") { db in
            try db.execute(sql: outbox)
        }
        migrator.registerMigration("v4-proxy") { db in
            try db.execute(sql: proxy)
        }
        migrator.registerMigration("v5-inbox") { db in
            try db.execute(sql: inbox)
        }
        migrator.registerMigration("v6-leases") { db in
            try db.execute(sql: "CREATE TABLE bot_lease (bot TEXT PRIMARY KEY, node TEXT NOT NULL, expires_at INTEGER NOT NULL, epoch INTEGER NOT NULL) WITHOUT ROWID")
        }
        migrator.registerMigration("v7-inbox-consumer") { db in
            try db.execute(sql: inboxConsumer)
        }
        migrator.registerMigration("v8-update-numbering") { db in
            try db.execute(sql: updateNumbering)
        }
        migrator.registerMigration("v9-nodes") { db in
            try db.execute(sql: "CREATE TABLE relay_node (node TEXT PRIMARY KEY, seen_at INTEGER NOT NULL) WITHOUT ROWID")
        }
        migrator.registerMigration("v10-sending-mark") { db in
            try db.execute(sql: sendingMark)
        }
        return migrator
    }

    private static let messages = """
        CREATE TABLE message (
            id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, even after old rows are deleted
            seq INTEGER NOT NULL,
            bot TEXT NOT NULL,
            chat TEXT NOT NULL,
            method TEXT NOT NULL,
            params TEXT NOT NULL,
            payload_hash TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            not_before INTEGER,
            deadline INTEGER,
            idempotency_key TEXT,
            at_most_once INTEGER NOT NULL,
            callback_url TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            result TEXT,
            telegram_message_ids TEXT NOT NULL DEFAULT '',
            last_error TEXT,
            ambiguous INTEGER NOT NULL DEFAULT 0
        );
        CREATE UNIQUE INDEX message_idempotency ON message(bot, idempotency_key) WHERE idempotency_key IS NOT NULL;
        CREATE INDEX message_lane ON message(bot, chat, seq) WHERE status IN \(pending);
        CREATE INDEX message_pending_age ON message(bot, created_at) WHERE status IN \(pending);
        CREATE INDEX message_sending ON message(id) WHERE status = 'sending';
        CREATE INDEX message_failed ON message(updated_at, id) WHERE status = 'failed';
        CREATE TABLE sequence (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO sequence (name, value) VALUES ('message_seq', 0);

        """

    private static let lanesAndCounts = """
        CREATE TABLE lane (
            bot TEXT NOT NULL, chat TEXT NOT NULL, pending INTEGER NOT NULL, PRIMARY KEY (bot, chat)
        ) WITHOUT ROWID;
        CREATE TABLE bot_status_count (
            bot TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (bot, status)
        ) WITHOUT ROWID;
        CREATE TRIGGER message_delete AFTER DELETE ON message BEGIN
            UPDATE bot_status_count SET n = n - 1 WHERE bot = OLD.bot AND status = OLD.status;
            UPDATE lane SET pending = pending - 1
                WHERE bot = OLD.bot AND chat = OLD.chat AND OLD.status IN \(pending);
            DELETE FROM lane WHERE bot = OLD.bot AND chat = OLD.chat AND pending <= 0;
        END;
        CREATE TRIGGER message_status_count AFTER UPDATE OF status ON message
        WHEN OLD.status IS NOT NEW.status BEGIN
            UPDATE bot_status_count SET n = n - 1 WHERE bot = OLD.bot AND status = OLD.status;
            INSERT INTO bot_status_count (bot, status, n) VALUES (NEW.bot, NEW.status, 1)
                ON CONFLICT (bot, status) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER message_lane_leave AFTER UPDATE OF status, chat ON message
        WHEN OLD.status IN \(pending) AND (NEW.status NOT IN \(pending) OR NEW.chat IS NOT OLD.chat) BEGIN
            UPDATE lane SET pending = pending - 1 WHERE bot = OLD.bot AND chat = OLD.chat;
            DELETE FROM lane WHERE bot = OLD.bot AND chat = OLD.chat AND pending <= 0;
        END;
        CREATE TRIGGER message_lane_enter AFTER UPDATE OF status, chat ON message
        WHEN NEW.status IN \(pending) AND (OLD.status NOT IN \(pending) OR NEW.chat IS NOT OLD.chat) BEGIN
            INSERT INTO lane (bot, chat, pending) VALUES (NEW.bot, NEW.chat, 1)
                ON CONFLICT (bot, chat) DO UPDATE SET pending = pending + 1;
        END;

        """

    /// Messages stored `sending` before v10 keep their mark; their status goes back to `queued`.
    private static let sendingMark = """
        CREATE TABLE sending_mark (message_id INTEGER PRIMARY KEY, marked_at INTEGER NOT NULL);
        INSERT INTO sending_mark (message_id, marked_at) SELECT id, updated_at FROM message WHERE status = 'sending';
        UPDATE message SET status = 'queued' WHERE status = 'sending';
        DROP INDEX message_sending;
        CREATE TRIGGER message_delete_mark AFTER DELETE ON message BEGIN
            DELETE FROM sending_mark WHERE message_id = OLD.id;
        END;

        """

    private static let chats = """
        CREATE TABLE chat_migration (
            bot TEXT NOT NULL, from_chat TEXT NOT NULL, to_chat TEXT NOT NULL, migrated_at INTEGER NOT NULL,
            PRIMARY KEY (bot, from_chat)
        ) WITHOUT ROWID;
        CREATE TABLE inactive_chat (
            bot TEXT NOT NULL, chat TEXT NOT NULL, reason TEXT NOT NULL, since INTEGER NOT NULL,
            PRIMARY KEY (bot, chat)
        ) WITHOUT ROWID;

        """

    /// `ledger_chain` holds the anchor (the last pruned row, or seq 0 with 64 zeros) and the head (the last
    /// appended row), so that verification starts from the anchor and also notices rows deleted at the end.
    private static let ledger = """
        CREATE TABLE ledger (
            seq INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            message_id INTEGER NOT NULL,
            bot TEXT NOT NULL,
            chat TEXT NOT NULL,
            method TEXT NOT NULL,
            payload_hash TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            http_status INTEGER,
            ok INTEGER NOT NULL,
            error_code INTEGER,
            description TEXT,
            retry_after INTEGER,
            telegram_message_ids TEXT NOT NULL,
            duration_us INTEGER NOT NULL,
            response_body TEXT,
            outcome TEXT NOT NULL,
            ambiguous INTEGER NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX ledger_message ON ledger(message_id);
        CREATE INDEX ledger_chat ON ledger(chat, bot);
        CREATE INDEX ledger_at ON ledger(at);
        CREATE TABLE ledger_chain (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            anchor_seq INTEGER NOT NULL, anchor_hash TEXT NOT NULL,
            head_seq INTEGER NOT NULL, head_hash TEXT NOT NULL
        );
        INSERT INTO ledger_chain (id, anchor_seq, anchor_hash, head_seq, head_hash)
            VALUES (1, 0, '\(LedgerHash.genesis)', 0, '\(LedgerHash.genesis)');

        """

    /// Status callbacks (v2). A trigger enqueues one in the very statement that makes a message final,
    /// whichever code path that is, so the callback is committed with the transition or not at all. The
    /// row keeps the message as it was then, so a later replay cannot change what an owed callback says.
    /// `callback_setting` holds the global URL the store was opened with, since a trigger cannot read the
    /// process's configuration.
    private static let callbacks = """
        CREATE TABLE callback (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            message_id INTEGER NOT NULL,
            url TEXT NOT NULL,
            event TEXT NOT NULL,
            bot TEXT NOT NULL,
            chat TEXT NOT NULL,
            message_attempts INTEGER NOT NULL,
            telegram_message_ids TEXT NOT NULL,
            last_error TEXT,
            ambiguous INTEGER NOT NULL,
            at INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            tries INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            last_attempt_error TEXT,
            completed_at INTEGER
        );
        CREATE INDEX callback_due ON callback(next_attempt_at, id) WHERE state = 'pending';
        CREATE INDEX callback_state ON callback(state, id);
        CREATE INDEX callback_message ON callback(message_id);
        CREATE TABLE callback_setting (id INTEGER PRIMARY KEY CHECK (id = 1), default_url TEXT);
        INSERT INTO callback_setting (id, default_url) VALUES (1, NULL);
        CREATE TRIGGER message_final_callback AFTER UPDATE OF status ON message
        WHEN OLD.status IN \(pending) AND NEW.status NOT IN \(pending) BEGIN
            INSERT INTO callback (
                message_id, url, event, bot, chat, message_attempts, telegram_message_ids, last_error, ambiguous,
                at, next_attempt_at)
            SELECT NEW.id, coalesce(NEW.callback_url, s.default_url), NEW.status, NEW.bot, NEW.chat, NEW.attempts,
                NEW.telegram_message_ids, NEW.last_error, NEW.ambiguous, NEW.updated_at, NEW.updated_at
            FROM callback_setting s WHERE s.id = 1 AND coalesce(NEW.callback_url, s.default_url) IS NOT NULL;
        END;

        """

    /// Fallbacks and alerts share the callback outbox (v3): one poller, one retry policy, one signature.
    /// A fallback row is inserted at accept, pending and due at the fallback time, so finding due ones reads
    /// the `callback_due` index like any callback; `payload` stays NULL until it is claimed.
    private static let outbox = """
        ALTER TABLE callback ADD COLUMN payload TEXT;
        ALTER TABLE callback ADD COLUMN cancel_on_fallback INTEGER NOT NULL DEFAULT 0;

        """

    /// The Bot API proxy (v4): files uploaded with a message, and the payload index that lets a library's
    /// resend of an identical request find the message it already created. Upload blobs live in their own
    /// table, so lane heads and listings never read them; they go away with the message's need for them
    /// (delivered, cancelled, expired; a dead letter keeps them for a replay).
    private static let proxy = """
        ALTER TABLE message ADD COLUMN uploads INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE message_upload (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL,
            field TEXT NOT NULL,
            file_name TEXT,
            content_type TEXT,
            data BLOB NOT NULL
        );
        CREATE INDEX message_upload_message ON message_upload(message_id);
        CREATE TRIGGER message_upload_release AFTER UPDATE OF status ON message
        WHEN NEW.uploads > 0 AND NEW.status IN ('delivered', 'cancelled', 'expired') BEGIN
            DELETE FROM message_upload WHERE message_id = NEW.id;
        END;
        CREATE TABLE proxy_payload (
            bot TEXT NOT NULL, payload_hash TEXT NOT NULL, message_id INTEGER NOT NULL,
            PRIMARY KEY (bot, payload_hash)
        ) WITHOUT ROWID;

        """

    /// The inbox of inbound updates (v5). The primary key (bot, update_id) is the deduplication; rows stay
    /// until retention deletes them, whatever their state, so a late re-delivery is still recognised.
    /// `inbox_count` is kept exact by triggers so status pages read one row per (bot, state).
    /// `inbox_bot` holds each bot's mode (a webhook secret means webhook mode), push target and the highest
    /// update id stored, from which the poller's offset is derived: only committed updates are confirmed.
    /// The app's side of the inbox (v7): setWebhook's `max_connections` for the push, and the app's sticky
    /// getUpdates `allowed_updates`, so a restart keeps serving (and polling Telegram for) what it asked for.
    private static let inboxConsumer = """
        ALTER TABLE inbox_bot ADD COLUMN push_max_connections INTEGER;
        ALTER TABLE inbox_bot ADD COLUMN consumer_allowed_updates TEXT;
        """

    /// The relay's numbering of updates (v8, see `UpdateNumbering`): the shift added to Telegram's ids since
    /// it last restarted them, and when the last new update was stored.
    private static let updateNumbering = """
        ALTER TABLE inbox_bot ADD COLUMN update_id_shift INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE inbox_bot ADD COLUMN last_received_at INTEGER;
        UPDATE inbox_bot SET last_received_at = (SELECT max(received_at) FROM inbox_update u WHERE u.bot = inbox_bot.bot);
        """

    private static let inbox = """
        CREATE TABLE inbox_update (
            bot TEXT NOT NULL,
            update_id INTEGER NOT NULL,
            type TEXT NOT NULL,
            chat TEXT,
            json TEXT NOT NULL,
            received_at INTEGER NOT NULL,
            state TEXT NOT NULL,
            push_tries INTEGER NOT NULL DEFAULT 0,
            next_push_at INTEGER NOT NULL,
            push_owed_since INTEGER NOT NULL,
            last_push_error TEXT,
            completed_at INTEGER,
            PRIMARY KEY (bot, update_id)
        ) WITHOUT ROWID;
        CREATE INDEX inbox_pending ON inbox_update(bot, update_id) WHERE state = 'pending';
        CREATE INDEX inbox_pending_chat ON inbox_update(bot, chat, update_id) WHERE state = 'pending';
        CREATE INDEX inbox_failed ON inbox_update(bot, completed_at) WHERE state = 'failed';
        CREATE INDEX inbox_received ON inbox_update(received_at);
        CREATE TABLE inbox_count (
            bot TEXT NOT NULL, state TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (bot, state)
        ) WITHOUT ROWID;
        CREATE TRIGGER inbox_insert AFTER INSERT ON inbox_update BEGIN
            INSERT INTO inbox_count (bot, state, n) VALUES (NEW.bot, NEW.state, 1)
                ON CONFLICT (bot, state) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER inbox_state AFTER UPDATE OF state ON inbox_update WHEN OLD.state IS NOT NEW.state BEGIN
            UPDATE inbox_count SET n = n - 1 WHERE bot = OLD.bot AND state = OLD.state;
            INSERT INTO inbox_count (bot, state, n) VALUES (NEW.bot, NEW.state, 1)
                ON CONFLICT (bot, state) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER inbox_delete AFTER DELETE ON inbox_update BEGIN
            UPDATE inbox_count SET n = n - 1 WHERE bot = OLD.bot AND state = OLD.state;
        END;
        CREATE TABLE inbox_bot (
            bot TEXT PRIMARY KEY,
            last_update_id INTEGER,
            webhook_secret TEXT,
            push_url TEXT,
            push_secret_token TEXT,
            push_allowed_updates TEXT
        ) WITHOUT ROWID;

        """
}
