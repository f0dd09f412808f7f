using Microsoft.Data.Sqlite;

namespace MailCluster.Queue.Tables;

/// <summary>
/// One SQLite file of the embedded single node's cluster tables (tokens, tasks, suspensions and suppressions in
/// <c>access.db</c>, credentials, the MTA-STS cache), opened the same way by every store: a pooled connection string
/// whose <c>DefaultTimeout</c> (10 s) is also how long a write waits for another connection's lock (busy timeout),
/// the WAL journal set when the schema is created, and <c>synchronous=FULL</c> on every connection so that a change is
/// on disk when the call that made it returns. The schema (<c>CREATE ... IF NOT EXISTS</c>) is a storage format: each
/// store keeps its own text.
/// </summary>
public sealed class SqliteDatabase
{
    private readonly string _schema;
    private readonly bool _synchronousFull;
    private readonly string _connectionString;
    private readonly SchemaGate _created;

    /// <param name="path">The file; its directory is created with the schema.</param>
    /// <param name="schema">Statements that create the tables if missing (idempotent).</param>
    /// <param name="synchronousFull">False: no synchronous pragma, SQLite's compiled-in level stands (a cache, which
    /// never asked for one).</param>
    public SqliteDatabase(string path, string schema, bool synchronousFull = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(schema);
        (Path, _schema, _synchronousFull) = (System.IO.Path.GetFullPath(path), schema, synchronousFull);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 10,
        }.ToString();
        _created = new SchemaGate(CreateAsync);
    }

    public string Path { get; }

    /// <summary>Creates the directory, sets the WAL journal and runs the schema; idempotent (stores call it at start).</summary>
    public async Task CreateAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        await ExecuteAsync("PRAGMA journal_mode=WAL;\n" + _schema, _ => { }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates the schema once, before the first call that needs it (<see cref="SchemaGate"/>).</summary>
    public Task EnsureCreatedAsync(CancellationToken cancellationToken) => _created.EnsureAsync(cancellationToken);

    /// <summary>An open connection; the caller disposes it.</summary>
    public async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            if (_synchronousFull)
            {
                // A command of its own: ExecuteNonQuery of "PRAGMA ...; UPDATE ..." would count the pragma as changing
                // the rows of the connection's previous write (sqlite3_changes), and a second revocation would seem to
                // succeed.
                await using var pragma = connection.CreateCommand();
                pragma.CommandText = "PRAGMA synchronous=FULL;";
                await pragma.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Runs one statement on a connection of its own; returns the rows it changed.</summary>
    public async Task<int> ExecuteAsync(string sql, Action<SqliteCommand> bind, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bind);
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            bind(command);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs one query without parameters on a connection of its own and reads every row with <paramref name="read"/>.</summary>
    public Task<IReadOnlyList<T>> QueryAsync<T>(string sql, Func<SqliteDataReader, T> read, CancellationToken cancellationToken) =>
        QueryAsync(sql, _ => { }, read, cancellationToken);

    /// <summary>Runs one query on a connection of its own and reads every row with <paramref name="read"/>.</summary>
    public async Task<IReadOnlyList<T>> QueryAsync<T>(string sql, Action<SqliteCommand> bind, Func<SqliteDataReader, T> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bind);
        ArgumentNullException.ThrowIfNull(read);
        var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            bind(command);
            var rows = new List<T>();
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows.Add(read(reader));
                }
            }

            return rows;
        }
    }
}
