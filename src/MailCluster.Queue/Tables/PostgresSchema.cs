using Npgsql;

namespace MailCluster.Queue.Tables;

/// <summary>
/// Creates a store's tables in the cluster's shared PostgreSQL: the schema text runs in one transaction, so that its
/// first statement, <c>SELECT pg_advisory_xact_lock(hashtext('...'))</c>, serialises nodes starting together
/// (concurrent <c>CREATE TABLE IF NOT EXISTS</c> can fail in the catalog otherwise) until the commit. The text is a
/// storage format: each store keeps its own.
/// </summary>
public static class PostgresSchema
{
    public static async Task CreateAsync(NpgsqlDataSource dataSource, string schema, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                await using var command = new NpgsqlCommand(schema, connection, transaction);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
