using System.Globalization;
using MailCluster.Outbound.MtaSts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailCluster.Outbound.TlsRpt;

/// <summary>
/// Adds this node's counts to the cluster's table, and sends the reports of ended periods (RFC 8460 §4.1: one UTC
/// day, sent after <see cref="TlsRptOptions.SendHourUtc"/> of the next). Every node runs it; the claim row of
/// <see cref="TlsRptStore"/> makes one of them send each domain's report. A domain without a <c>_smtp._tls</c>
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
            foreach (var (period, domain) in due)
            {
                if (await store.TryClaimAsync(period, domain, node, clock.GetUtcNow().ToUnixTimeMilliseconds(), ct).ConfigureAwait(false))
                {
                    string? state = await SendAsync(period, domain, ct).ConfigureAwait(false);
                    await store.FinishAsync(period, domain, state, clock.GetUtcNow().ToUnixTimeMilliseconds(), ct).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogStoreFailed(e.Message);
        }
    }

    /// <returns>The final state of the claim ("sent", "no-rua"), or null to release it for another try.</returns>
    private async Task<string?> SendAsync(long period, string domain, CancellationToken ct)
    {
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS-RPT table unavailable: {Reason}")]
    private partial void LogStoreFailed(string reason);
}
