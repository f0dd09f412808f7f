using MailCluster.Queue.Spool;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace MailCluster.Storage;

/// <summary>
/// <see cref="IMessageDomains"/> over the spool's reference table (<c>mc_spool_ref</c>, primary key (message_id,
/// domain): one index range per question). Read-only, on a connection of its own: on SQLite a reader never blocks the
/// spool's writer (WAL), on PostgreSQL it is one pooled query.
/// </summary>
public sealed class SpoolReferenceReader : IMessageDomains, IAsyncDisposable
{
    private const string PostgresSql = "SELECT domain FROM mc_spool_ref WHERE message_id = $1 ORDER BY domain";
    private const string SqliteSql = "SELECT domain FROM mc_spool_ref WHERE message_id = $id ORDER BY domain";

    private readonly NpgsqlDataSource? _postgres;
    private readonly string? _sqlite;

    /// <param name="postgres">True for the cluster's PostgreSQL (<paramref name="connectionOrPath"/> is its connection
    /// string), false for the embedded SQLite spool file (its path).</param>
    public SpoolReferenceReader(bool postgres, string connectionOrPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionOrPath);
        if (postgres)
        {
            _postgres = NpgsqlDataSource.Create(connectionOrPath);
        }
        else
        {
            _sqlite = new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(connectionOrPath), Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 10 }.ToString();
        }
    }

    public async Task<IReadOnlyList<string>> DomainsOfAsync(string messageId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        var domains = new List<string>();
        if (_postgres is not null)
        {
            await using var command = _postgres.CreateCommand(PostgresSql);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = messageId });
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    domains.Add(reader.GetString(0));
                }
            }

            return domains;
        }

        var connection = new SqliteConnection(_sqlite);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            using var command = connection.CreateCommand();
            command.CommandText = SqliteSql;
            command.Parameters.AddWithValue("$id", messageId);
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    domains.Add(reader.GetString(0));
                }
            }
        }

        return domains;
    }

    public ValueTask DisposeAsync() => _postgres?.DisposeAsync() ?? ValueTask.CompletedTask;
}
