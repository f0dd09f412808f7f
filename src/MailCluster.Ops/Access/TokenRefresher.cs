using MailCluster.Queue.Tables;
using Microsoft.Extensions.Logging;

namespace MailCluster.Ops.Access;

/// <summary>Where this node's admin token file is, and whether the node makes one (see <see cref="AdminTokenFile"/>).</summary>
public sealed record AdminTokenSource(string? Path, bool Generate);

/// <summary>
/// Keeps <see cref="TokenSet"/> in step with the database (<see cref="PeriodicTableRefresher{TSnapshot}"/>): every token
/// in force is read every <see cref="Interval"/>, so a token created or revoked on any node is in force, or refused,
/// on this one within about 2 s (the bound is 5 s). While the database cannot be read the last set read stays
/// in force (an operator can still see and drain a node during an outage). The admin token file is read at start and
/// before every read of the database, whether or not the database answers.
/// </summary>
public sealed partial class TokenRefresher(ITokenStore store, TokenSet tokens, AdminTokenSource file, ILogger<TokenRefresher> logger)
    : PeriodicTableRefresher<IReadOnlyList<StoredToken>>(TimeProvider.System, DefaultInterval)
{
    private string? lastFileProblem;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (file is { Path: { } path, Generate: true } && AdminTokenFile.CreateIfMissing(path))
        {
            LogGenerated(logger, path);
        }

        if (file.Path is null)
        {
            LogNoFile(logger);
        }

        RefreshFile();
        return base.StartAsync(cancellationToken);
    }

    protected override Task InitializeStoreAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

    protected override Task<IReadOnlyList<StoredToken>> ReadAsync(CancellationToken cancellationToken)
    {
        RefreshFile();
        return store.ListAsync(cancellationToken);
    }

    protected override void Publish(IReadOnlyList<StoredToken> snapshot) => tokens.ReplaceStored(snapshot);

    protected override void LogInitRetry(Exception exception) => LogInitRetry(logger, exception);

    protected override void LogReadFailed(Exception exception) => LogReadFailed(logger, exception);

    protected override void LogRecovered() => LogRecovered(logger);

    private void RefreshFile()
    {
        if (file.Path is not { } path)
        {
            return;
        }

        var (token, problem) = AdminTokenFile.Read(path);
        tokens.ReplaceFileToken(token is null ? null : ApiTokens.Hash(token));
        if (problem is not null && problem != lastFileProblem)
        {
            LogFileProblem(logger, problem);
        }

        lastFileProblem = problem;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generated the first admin token into {Path} (mode 0600); send its content as 'Authorization: Bearer <token>' to the ops API")]
    private static partial void LogGenerated(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "No admin token file (MailCluster:Ops:AdminTokenFile is not set): only tokens in the cluster database are accepted")]
    private static partial void LogNoFile(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Admin token file (MailCluster:Ops:AdminTokenFile) not used: {Problem}")]
    private static partial void LogFileProblem(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "API token store not reachable; retrying")]
    private static partial void LogInitRetry(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot read the API tokens; the set read last stays in force until the database answers")]
    private static partial void LogReadFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "API tokens read again from the database")]
    private static partial void LogRecovered(ILogger logger);
}
