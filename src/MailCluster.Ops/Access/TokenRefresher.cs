using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailCluster.Ops.Access;

/// <summary>Where this node's admin token file is, and whether the node makes one (see <see cref="AdminTokenFile"/>).</summary>
public sealed record AdminTokenSource(string? Path, bool Generate);

/// <summary>
/// Keeps <see cref="TokenSet"/> in step with the database: creates the schema at start (retrying while the database
/// is unreachable), then reads every token in force every <see cref="Interval"/>, so a token created or revoked on
/// any node is in force, or refused, on this one within about 2 s (the bound is 5 s). While the database
/// cannot be read the last set read stays in force (an operator can still see and drain a node during an outage)
/// and a warning is logged once per outage.
/// </summary>
public sealed partial class TokenRefresher(ITokenStore store, TokenSet tokens, AdminTokenSource file, ILogger<TokenRefresher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim refreshing = new(1, 1);
    private string? lastFileProblem;
    private bool failing;

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

    /// <summary>Reads the database's set (and the file) now; called after this node created or revoked a token.</summary>
    /// <remarks>Refreshes run one at a time, so an older read never replaces a newer one.</remarks>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RefreshOnceAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            refreshing.Release();
        }
    }

    public override void Dispose()
    {
        refreshing.Dispose();
        base.Dispose();
    }

    private async Task RefreshOnceAsync(CancellationToken cancellationToken)
    {
        RefreshFile();
        try
        {
            tokens.ReplaceStored(await store.ListAsync(cancellationToken).ConfigureAwait(false));
            if (failing)
            {
                failing = false;
                LogRecovered(logger);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (!failing)
            {
                failing = true;
                LogReadFailed(logger, ex);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                await store.InitializeAsync(stoppingToken).ConfigureAwait(false);
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogInitRetry(logger, ex);
                await Task.Delay(Interval, stoppingToken).ConfigureAwait(false);
            }
        }

        using var timer = new PeriodicTimer(Interval);
        do
        {
            await RefreshAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

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
