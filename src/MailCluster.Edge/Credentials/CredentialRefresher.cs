using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailCluster.Edge.Credentials;

/// <summary>
/// Keeps <see cref="CredentialSet"/> in step with the database, like the ops tokens' refresher: creates the tables at
/// start (retrying while the database is unreachable), then reads every user and key every <see cref="Interval"/>, so
/// a change made on any node is in force on this one within about 2 s (the bound is 5 s). While the database
/// cannot be read, the last set read stays in force and a warning is logged once per outage.
/// </summary>
public sealed partial class CredentialRefresher(ICredentialStore store, CredentialSet credentials, ILogger<CredentialRefresher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim refreshing = new(1, 1);
    private bool failing;

    /// <summary>Reads the database now; called after this node changed a user or key, so it is in force here at once.</summary>
    /// <remarks>One refresh at a time, so an older read never replaces a newer one.</remarks>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var users = await store.ListUsersAsync(cancellationToken).ConfigureAwait(false);
            var keys = await store.ListKeysAsync(cancellationToken).ConfigureAwait(false);
            credentials.Replace(users, keys);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot create the credential tables yet; retrying")]
    private static partial void LogInitRetry(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot read runtime SMTP users and API keys; the last set read stays in force")]
    private static partial void LogReadFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Runtime SMTP users and API keys are readable again")]
    private static partial void LogRecovered(ILogger logger);
}
