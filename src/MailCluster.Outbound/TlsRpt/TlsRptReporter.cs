using System.Globalization;
using MailCluster.Outbound.MtaSts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailCluster.Outbound.TlsRpt;

/// <summary>
/// Adds this node's counts to the cluster's table, and sends the reports of ended periods (RFC 8460 §4.1: one UTC
/// day, sent after <see cref="TlsRptOptions.SendHourUtc"/> of the next). Every node runs it; the claim row of
/// <see cref="TlsRptStore"/> makes one of them send each domain's report, and its lease (<see cref="TlsRptClaim"/>)
/// lets another send it when that node dies while sending. A domain without a <c>_smtp._tls</c>
/// record gets none; a report that reached no rua is released and tried again at the next pass.
/// </summary>
public sealed partial class TlsRptReporter(TlsRptCounters counters, TlsRptStore store, TxtLookup txt, TlsRptDelivery delivery,
    TlsRptOptions options, string node, TimeProvider clock, ILogger<TlsRptReporter> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var tick = TimeSpan.FromSeconds(Math.Min(options.FlushSeconds, options.CheckSeconds));
        var nextCheck = clock.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(tick, clock, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            await FlushAsync(stoppingToken).ConfigureAwait(false);
            if (clock.GetUtcNow() >= nextCheck)
            {
                nextCheck = clock.GetUtcNow().AddSeconds(options.CheckSeconds);
                await ReportAsync(stoppingToken).ConfigureAwait(false);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task FlushAsync(CancellationToken ct)
    {
        var counts = counters.Drain();
        if (counts.Count == 0)
        {
            return;
        }

        try
        {
            await store.AddAsync(counts, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            counters.Restore(counts);
            LogStoreFailed(e.Message);
        }
    }

    /// <summary>The end (unix seconds) before which periods are due: for daily reports the last midnight once the
    /// send hour has passed, else the one before; for shorter (test) periods, now.</summary>
    public static long DueBefore(DateTimeOffset now, TlsRptOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.PeriodSeconds != 86_400)
        {
            return now.ToUnixTimeSeconds();
        }

        var midnight = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero);
        return (now.UtcDateTime.Hour >= options.SendHourUtc ? midnight : midnight.AddDays(-1)).ToUnixTimeSeconds();
    }

    private async Task ReportAsync(CancellationToken ct)
    {
        try
        {
            var due = await store.UnreportedAsync(DueBefore(clock.GetUtcNow(), options), options.PeriodSeconds, ct).ConfigureAwait(false);
            foreach (var (period, domain, row) in due)
            {
                long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
                var decision = TlsRptClaim.Decide(row, now, options.ClaimLeaseSeconds * 1000L);
                if (decision == TlsRptClaimDecision.Leave || !await store.TryClaimAsync(period, domain, node, now, row, ct).ConfigureAwait(false))
                {
                    continue;
                }

                if (decision == TlsRptClaimDecision.TakeOver)
                {
                    LogTakenOver(domain, row!.Node, DateTimeOffset.FromUnixTimeMilliseconds(row.At));
                }

                var claim = new Claim(period, domain, now);
                string? state = await SendAsync(claim, ct).ConfigureAwait(false);
                await store.FinishAsync(period, domain, node, claim.At, state, clock.GetUtcNow().ToUnixTimeMilliseconds(), ct).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogStoreFailed(e.Message);
        }
    }

    /// <summary>This node's claim on a report; <see cref="At"/> is when it was made or last renewed (unix ms).</summary>
    private sealed class Claim(long period, string domain, long at)
    {
        public long Period { get; } = period;

        public string Domain { get; } = domain;

        public long At { get; set; } = at;
    }

    /// <returns>The final state of the claim ("sent", "no-rua"), or null to release it for another try.</returns>
    private async Task<string?> SendAsync(Claim claim, CancellationToken ct)
    {
        long period = claim.Period;
        string domain = claim.Domain;
        var answer = await txt.QueryAsync("_smtp._tls." + domain, ct).ConfigureAwait(false);
        if (answer.Records is null)
        {
            LogNotSent(domain, $"TXT lookup failed: {answer.Error}");
            return null;
        }

        var rua = TlsRptRecord.FindRua(answer.Records);
        if (rua.Count == 0)
        {
            return "no-rua";
        }

        var start = DateTimeOffset.FromUnixTimeSeconds(period);
        var end = start.AddSeconds(options.PeriodSeconds);
        string reportId = string.Create(CultureInfo.InvariantCulture, $"{start:yyyyMMddHHmmss}.{domain}.{Guid.NewGuid():N}");
        var counts = await store.CountsAsync(period, domain, ct).ConfigureAwait(false);
        var json = TlsRptReport.Build(domain, start, end, reportId, options.OrganizationName ?? node, options.ContactInfo ?? $"postmaster@{node}", counts);
        var document = new TlsRptDocument(domain, reportId, start, end, TlsRptReport.Gzip(json));
        int sent = 0;
        foreach (var uri in rua)
        {
            // Renewed before each rua: a node whose claim was taken over (it stalled past the lease) stops here.
            long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            if (!await store.RenewAsync(period, domain, node, claim.At, now, ct).ConfigureAwait(false))
            {
                LogClaimLost(domain);
                return null;
            }

            claim.At = now;
            string? error = await delivery.SendAsync(uri, document, ct).ConfigureAwait(false);
            if (error is null)
            {
                sent++;
                LogSent(domain, uri, reportId);
            }
            else
            {
                LogNotSent(domain, error);
            }
        }

        return sent > 0 ? "sent" : null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS-RPT report for {Domain} sent to {Rua} ({ReportId})")]
    private partial void LogSent(string domain, Uri rua, string reportId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS-RPT report for {Domain} not sent: {Reason}")]
    private partial void LogNotSent(string domain, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS-RPT report for {Domain} taken over from {Node}, whose claim of {ClaimedAt:o} expired")]
    private partial void LogTakenOver(string domain, string node, DateTimeOffset claimedAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS-RPT report for {Domain} no longer claimed by this node (taken over after its lease expired); not sending")]
    private partial void LogClaimLost(string domain);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS-RPT table unavailable: {Reason}")]
    private partial void LogStoreFailed(string reason);
}
