using System.Collections.Concurrent;
using MailCluster.Outbound.TlsRpt;
using Microsoft.Extensions.Logging;

namespace MailCluster.Outbound.MtaSts;

/// <summary>The policy to apply to one delivery, or why there is none. <paramref name="FetchFailure"/> is what TLS-RPT
/// records when a published policy could not be obtained (fetch error, invalid policy, policy host certificate).</summary>
public sealed record MtaStsLookup(MtaStsPolicy? Policy, TlsRptResult? FetchFailure, string? Reason)
{
    public static readonly MtaStsLookup NotPublished = new(null, null, null);
}

/// <summary>
/// The MTA-STS policy of a recipient domain (RFC 8461 §3.3, §5.1), cached in memory and in the cluster's table
/// (<see cref="IMtaStsStore"/>). Per delivery: the <c>_mta-sts</c> TXT id is looked up (DnsClient caches it for its
/// TTL); a cached, unexpired policy with the same id is used as is — from this node's memory, else from the table
/// (another node's fetch, or this node's before a restart); otherwise the policy is fetched, parsed and stored. A
/// policy is refetched ahead of expiry when less than a quarter of its max_age remains. A failed fetch keeps an
/// unexpired cached policy (§5.1: "continue to use the cached policy"); so does a TXT record that disappeared
/// (§3.3: the record is only a hint of change). Concurrent deliveries to one domain share one fetch.
/// </summary>
public sealed partial class MtaStsPolicies(TxtLookup txt, MtaStsFetcher fetcher, IMtaStsStore store, TimeProvider clock, ILogger<MtaStsPolicies> logger)
{
    /// <summary>A failed refresh of a still-valid policy is not retried sooner than this.</summary>
    private static readonly TimeSpan RefreshRetry = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, Cached> _memory = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.OrdinalIgnoreCase);

    private sealed record Cached(StoredMtaStsPolicy Stored, MtaStsPolicy Policy, DateTimeOffset NextRefresh);

    public async Task<MtaStsLookup> GetAsync(string domain, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(domain);
        string name = domain.TrimEnd('.').ToLowerInvariant();
        var answer = await txt.QueryAsync("_mta-sts." + name, cancellationToken).ConfigureAwait(false);
        var (id, _) = answer.Records is { } records ? MtaStsRecord.FindId(records) : (null, null);
        var now = clock.GetUtcNow();
        if (Usable(_memory.GetValueOrDefault(name), id, now) is { } fresh)
        {
            return new MtaStsLookup(fresh.Policy, null, null);
        }

        var gate = _locks.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            now = clock.GetUtcNow();
            var cached = _memory.GetValueOrDefault(name);
            if (Usable(cached, id, now) is { } raced)
            {
                return new MtaStsLookup(raced.Policy, null, null);
            }

            // Another node may have fetched it (or this node, before a restart).
            if (await LoadAsync(name, cancellationToken).ConfigureAwait(false) is { } loaded)
            {
                cached = loaded with { NextRefresh = cached?.Stored.Id == loaded.Stored.Id ? Max(cached.NextRefresh, loaded.NextRefresh) : loaded.NextRefresh };
                _memory[name] = cached;
                if (Usable(cached, id, now) is { } shared)
                {
                    return new MtaStsLookup(shared.Policy, null, null);
                }
            }

            bool valid = cached is not null && cached.Stored.ExpiresAt > now;
            if (id is null)
            {
                // No (valid) TXT record, or the lookup failed: a cached policy still applies until it expires.
                return valid ? new MtaStsLookup(cached!.Policy, null, null) : MtaStsLookup.NotPublished;
            }

            var fetched = await FetchAsync(name, id, now, cancellationToken).ConfigureAwait(false);
            if (fetched.Policy is not null || !valid)
            {
                return fetched;
            }

            LogRefreshFailed(name, fetched.Reason);
            _memory[name] = cached! with { NextRefresh = now + RefreshRetry };
            return new MtaStsLookup(cached!.Policy, null, null);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The cached entry when it may be used without fetching: same TXT id (or no id published now),
    /// unexpired, and not yet due for its early refresh.</summary>
    private static Cached? Usable(Cached? cached, string? id, DateTimeOffset now) =>
        cached is not null && cached.Stored.ExpiresAt > now && now < cached.NextRefresh && (id is null || id == cached.Stored.Id)
            ? cached
            : null;

    private async Task<MtaStsLookup> FetchAsync(string domain, string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var fetch = await fetcher.FetchAsync(domain, cancellationToken).ConfigureAwait(false);
        if (fetch.Body is null)
        {
            LogFetchFailed(domain, fetch.Error);
            return new MtaStsLookup(null, fetch.WebPkiInvalid ? TlsRptResult.StsWebPkiInvalid : TlsRptResult.StsPolicyFetchError, fetch.Error);
        }

        var (policy, error) = MtaStsPolicyParser.Parse(fetch.Body);
        if (policy is null)
        {
            LogFetchFailed(domain, error);
            return new MtaStsLookup(null, TlsRptResult.StsPolicyInvalid, error);
        }

        var stored = new StoredMtaStsPolicy(domain, id, fetch.Body, now, now + policy.MaxAge);
        try
        {
            await store.PutAsync(stored, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The policy still applies on this node; other nodes fetch it themselves.
            LogStoreFailed(domain, e.Message);
        }

        _memory[domain] = new Cached(stored, policy, RefreshAt(stored, policy));
        LogFetched(domain, id, policy);

        return new MtaStsLookup(policy, null, null);
    }

    private async Task<Cached?> LoadAsync(string domain, CancellationToken cancellationToken)
    {
        StoredMtaStsPolicy? stored;
        try
        {
            stored = await store.GetAsync(domain, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogStoreFailed(domain, e.Message);
            return null;
        }

        return stored is not null && MtaStsPolicyParser.Parse(stored.Text).Policy is { } policy
            ? new Cached(stored, policy, RefreshAt(stored, policy))
            : null;
    }

    /// <summary>Refresh ahead of expiry: when three quarters of max_age have passed.</summary>
    private static DateTimeOffset RefreshAt(StoredMtaStsPolicy stored, MtaStsPolicy policy) => stored.FetchedAt + policy.MaxAge * 0.75;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    [LoggerMessage(Level = LogLevel.Information, Message = "MTA-STS policy of {Domain} fetched (id {Id}): {Policy}")]
    private partial void LogFetched(string domain, string id, MtaStsPolicy policy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MTA-STS policy of {Domain} not fetched: {Reason}")]
    private partial void LogFetchFailed(string domain, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MTA-STS policy of {Domain} not refreshed ({Reason}); the cached policy stays in force")]
    private partial void LogRefreshFailed(string domain, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MTA-STS policy table unavailable for {Domain}: {Reason}")]
    private partial void LogStoreFailed(string domain, string reason);
}
