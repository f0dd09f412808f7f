using System.Data.Common;

namespace MailCluster.Events;

/// <summary>Webhooks, their cursors and their last attempts (tables <c>mc_webhook</c>, <c>mc_webhook_cursor</c>,
/// <c>mc_webhook_attempt</c>). A cursor is created with its webhook, at the events' end unless told otherwise.</summary>
public sealed partial class EventStore
{
    /// <summary>Attempts kept per webhook for <c>GET /api/v1/webhooks/{id}/attempts</c>.</summary>
    public const int AttemptsKept = 50;

    public async Task<IReadOnlyList<Webhooks.WebhookDefinition>> WebhooksAsync(CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT id, url, secret, events, batch_size, max_retry_seconds, origin, created_ms FROM mc_webhook ORDER BY created_ms, id");
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var hooks = new List<Webhooks.WebhookDefinition>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            hooks.Add(new Webhooks.WebhookDefinition(
                reader.GetString(0),
                reader.GetString(1),
                reader.GetString(2),
                Webhooks.WebhookDefinition.ParseEvents(reader.GetString(3)),
                reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetInt32(5),
                reader.GetString(6),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7))));
        }

        return hooks;
    }

    /// <summary>Creates the webhook, or updates it when its id exists (configured webhooks, re-read at every start);
    /// its cursor starts after <paramref name="startAfter"/>, or at the events' end when null, and is kept on update.</summary>
    public async Task UpsertWebhookAsync(Webhooks.WebhookDefinition hook, long? startAfter, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(hook);
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await ExecuteAsync(connection, tx, """
            INSERT INTO mc_webhook(id, url, secret, events, batch_size, max_retry_seconds, origin, created_ms)
            VALUES (@id, @url, @secret, @events, @batch, @retry, @origin, @created)
            ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret, events = excluded.events,
                batch_size = excluded.batch_size, max_retry_seconds = excluded.max_retry_seconds
            """, ct, ("id", hook.Id), ("url", hook.Url), ("secret", hook.Secret), ("events", string.Join(',', hook.Events)),
            ("batch", hook.BatchSize), ("retry", hook.MaxRetrySeconds), ("origin", hook.Origin), ("created", hook.Created.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        await ExecuteAsync(connection, tx, """
            INSERT INTO mc_webhook_cursor(id, event_offset) VALUES (@id, COALESCE(CAST(@after AS bigint), (SELECT COALESCE(MAX(event_offset), 0) FROM mc_event)))
            ON CONFLICT (id) DO NOTHING
            """, ct, ("id", hook.Id), ("after", startAfter)).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    public async Task<bool> DeleteWebhookAsync(string id, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        var deleted = await ExecuteAsync(connection, tx, "DELETE FROM mc_webhook WHERE id = @id", ct, ("id", id)).ConfigureAwait(false);
        await ExecuteAsync(connection, tx, "DELETE FROM mc_webhook_cursor WHERE id = @id", ct, ("id", id)).ConfigureAwait(false);
        await ExecuteAsync(connection, tx, "DELETE FROM mc_webhook_attempt WHERE webhook_id = @id", ct, ("id", id)).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
        return deleted > 0;
    }

    public async Task<Webhooks.WebhookCursor?> CursorAsync(string id, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT event_offset, failing_since_ms, failed_events FROM mc_webhook_cursor WHERE id = @id", ("id", id));
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false)
            ? new Webhooks.WebhookCursor(reader.GetInt64(0), reader.IsDBNull(1) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), reader.GetInt64(2))
            : null;
    }

    /// <summary>Moves the cursor (only forward) and records the attempt that moved it or failed, in one transaction;
    /// keeps the last <see cref="AttemptsKept"/> attempts.</summary>
    public async Task RecordAttemptAsync(string id, Webhooks.WebhookCursor cursor, Webhooks.WebhookAttempt attempt, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        ArgumentNullException.ThrowIfNull(attempt);
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await ExecuteAsync(connection, tx, """
            UPDATE mc_webhook_cursor SET event_offset = CASE WHEN event_offset > @offset THEN event_offset ELSE @offset END,
                failing_since_ms = @failing, failed_events = @failed WHERE id = @id
            """, ct, ("id", id), ("offset", cursor.Offset), ("failing", cursor.FailingSince?.ToUnixTimeMilliseconds()), ("failed", cursor.FailedEvents)).ConfigureAwait(false);
        await ExecuteAsync(connection, tx, """
            INSERT INTO mc_webhook_attempt(webhook_id, at_ms, first_offset, last_offset, events, status, answer, error, duration_ms, result)
            VALUES (@id, @at, @first, @last, @events, @status, @answer, @error, @duration, @result)
            """, ct, ("id", id), ("at", attempt.At.ToUnixTimeMilliseconds()), ("first", attempt.FirstOffset), ("last", attempt.LastOffset),
            ("events", attempt.Events), ("status", attempt.Status), ("answer", attempt.Answer), ("error", attempt.Error),
            ("duration", attempt.DurationMs), ("result", attempt.Result)).ConfigureAwait(false);
        await ExecuteAsync(connection, tx, """
            DELETE FROM mc_webhook_attempt WHERE webhook_id = @id AND seq <= (
                SELECT seq FROM mc_webhook_attempt WHERE webhook_id = @id ORDER BY seq DESC LIMIT 1 OFFSET @kept)
            """, ct, ("id", id), ("kept", AttemptsKept)).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>The webhook's last attempts, newest first.</summary>
    public async Task<IReadOnlyList<Webhooks.WebhookAttempt>> AttemptsAsync(string id, int limit, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        await using var command = Command(connection, null, """
            SELECT at_ms, first_offset, last_offset, events, status, answer, error, duration_ms, result FROM mc_webhook_attempt
            WHERE webhook_id = @id ORDER BY seq DESC LIMIT @limit
            """, ("id", id), ("limit", limit));
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var attempts = new List<Webhooks.WebhookAttempt>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            attempts.Add(new Webhooks.WebhookAttempt(
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)),
                reader.GetInt64(1),
                reader.GetInt64(2),
                reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetInt32(4),
                NullableString(reader, 5),
                NullableString(reader, 6),
                reader.GetInt64(7),
                reader.GetString(8)));
        }

        return attempts;
    }

    private static string? NullableString(DbDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
}
