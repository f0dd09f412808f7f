using MailCluster.Queue.Tables;
using Microsoft.Extensions.Logging;

namespace MailCluster.Edge.Credentials;

/// <summary>
/// Keeps <see cref="CredentialSet"/> in step with the database (<see cref="PeriodicTableRefresher{TSnapshot}"/>):
/// every user and key is read every <see cref="Interval"/>, so a change made on any node is in force on this one within
/// about 2 s (the bound is 5 s). While the database cannot be read, the last set read stays in force.
/// </summary>
public sealed partial class CredentialRefresher(ICredentialStore store, CredentialSet credentials, ILogger<CredentialRefresher> logger)
    : PeriodicTableRefresher<(IReadOnlyList<RuntimeUser> Users, IReadOnlyList<ApiKey> Keys)>(TimeProvider.System, DefaultInterval)
{
    protected override Task InitializeStoreAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

    protected override async Task<(IReadOnlyList<RuntimeUser> Users, IReadOnlyList<ApiKey> Keys)> ReadAsync(CancellationToken cancellationToken) =>
        (await store.ListUsersAsync(cancellationToken).ConfigureAwait(false), await store.ListKeysAsync(cancellationToken).ConfigureAwait(false));

    protected override void Publish((IReadOnlyList<RuntimeUser> Users, IReadOnlyList<ApiKey> Keys) snapshot) => credentials.Replace(snapshot.Users, snapshot.Keys);

    protected override void LogInitRetry(Exception exception) => LogInitRetry(logger, exception);

    protected override void LogReadFailed(Exception exception) => LogReadFailed(logger, exception);

    protected override void LogRecovered() => LogRecovered(logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot create the credential tables yet; retrying")]
    private static partial void LogInitRetry(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot read runtime SMTP users and API keys; the last set read stays in force")]
    private static partial void LogReadFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Information, Message = "Runtime SMTP users and API keys are readable again")]
    private static partial void LogRecovered(ILogger logger);
}
