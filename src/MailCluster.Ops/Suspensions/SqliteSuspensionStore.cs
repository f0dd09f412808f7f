using MailCluster.Queue.Suspensions;
using MailCluster.Queue.Tables;
using Microsoft.Data.Sqlite;

namespace MailCluster.Ops.Suspensions;

/// <summary>
/// Suspensions in the embedded node's access database (<c>{DataDir}/access.db</c>, a table of its own beside
/// <c>mc_api_token</c>). WAL with <c>synchronous=FULL</c>: a suspension is on disk when the API answers. Times are Unix
/// milliseconds.
/// </summary>
public sealed class SqliteSuspensionStore(string path) : ISuspensionStore
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS mc_destination_suspension(
            domain TEXT PRIMARY KEY NOT NULL,
            reason TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            until_at INTEGER NOT NULL);
        """;

    private readonly SqliteDatabase _db = new(path, Schema);

    public Task InitializeAsync(CancellationToken cancellationToken) => _db.CreateAsync(cancellationToken);

    public async Task<IReadOnlyList<DestinationSuspension>> ListAsync(CancellationToken cancellationToken)
    {
        var connection = await _db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT domain, reason, created_at, until_at FROM mc_destination_suspension ORDER BY domain";
            var list = new List<DestinationSuspension>();
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    list.Add(new DestinationSuspension(
                        reader.GetString(0), reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
                }
            }

            return list;
        }
    }

    public async Task<bool> PutAsync(DestinationSuspension suspension, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(suspension);
        var connection = await _db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                long at = now.ToUnixTimeMilliseconds();
                await ExecuteAsync(connection, transaction, "DELETE FROM mc_destination_suspension WHERE until_at <= $now", c => c.Parameters.AddWithValue("$now", at), cancellationToken).ConfigureAwait(false);
                int active = await ExecuteAsync(connection, transaction, "DELETE FROM mc_destination_suspension WHERE domain = $domain", c => c.Parameters.AddWithValue("$domain", suspension.Domain), cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(
                    connection,
                    transaction,
                    "INSERT INTO mc_destination_suspension(domain, reason, created_at, until_at) VALUES ($domain, $reason, $created, $until)",
                    c =>
                    {
                        c.Parameters.AddWithValue("$domain", suspension.Domain);
                        c.Parameters.AddWithValue("$reason", suspension.Reason);
                        c.Parameters.AddWithValue("$created", suspension.CreatedAt.ToUnixTimeMilliseconds());
                        c.Parameters.AddWithValue("$until", suspension.Until.ToUnixTimeMilliseconds());
                    },
                    cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return active > 0;
            }
        }
    }

    public async Task<bool> DeleteAsync(string domain, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var connection = await _db.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            long at = now.ToUnixTimeMilliseconds();
            await ExecuteAsync(connection, null, "DELETE FROM mc_destination_suspension WHERE until_at <= $now", c => c.Parameters.AddWithValue("$now", at), cancellationToken).ConfigureAwait(false);
            return await ExecuteAsync(connection, null, "DELETE FROM mc_destination_suspension WHERE domain = $domain", c => c.Parameters.AddWithValue("$domain", domain), cancellationToken).ConfigureAwait(false) > 0;
        }
    }

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }

    private static async Task<int> ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, Action<SqliteCommand> bind, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        bind(command);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
